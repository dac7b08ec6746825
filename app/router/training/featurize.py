"""Fitting the router's TF-IDF vocabulary (serving only reads the fitted one)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from app.router.features import TextFeaturizer, ngrams


def fit_featurizer(
    texts: list[str], min_df: int = 2, max_features: int = 30000, char_range: tuple[int, int] = (2, 5)
) -> TextFeaturizer:
    """Vocabulary of features in >= min_df texts (the most frequent max_features) and their smoothed idf."""
    if not texts:
        raise ValueError("texts must not be empty")
    df: Counter[str] = Counter()
    for t in texts:
        df.update(ngrams(t, char_range).keys())
    kept = sorted((f for f, c in df.items() if c >= min_df), key=lambda f: (-df[f], f))[:max_features]
    kept.sort()
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in kept], dtype=np.float64)
    return TextFeaturizer({f: i for i, f in enumerate(kept)}, idf, char_range)
