"""Text features for the intent router: TF-IDF over words, word pairs and character n-grams."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # scipy (~0.25 s to import) serves training only: serving scores one row at a time
    from scipy.sparse import csr_matrix

_WORD = re.compile(r"\w+")


def ngrams(text: str, char_range: tuple[int, int] = (2, 5)) -> Counter[str]:
    """Counts of the text's features: 'w:' words, 'b:' word pairs, 'c:' character n-grams per word."""
    words = _WORD.findall(text.lower())
    out: Counter[str] = Counter()
    for w in words:
        out["w:" + w] += 1
    for a, b in zip(words, words[1:], strict=False):
        out[f"b:{a} {b}"] += 1
    lo, hi = char_range
    # Character n-grams inside padded words survive typos: "refnud" still shares " re", "ref", "nd ".
    for w in words:
        padded = f" {w} "
        for n in range(lo, min(hi, len(padded)) + 1):
            for i in range(len(padded) - n + 1):
                out["c:" + padded[i : i + n]] += 1
    return out


@dataclass
class TextFeaturizer:
    """A fitted vocabulary with idf weights (fitted by app.router.training.featurize); texts -> unit rows."""

    vocab: dict[str, int] = field(default_factory=dict)
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    char_range: tuple[int, int] = (2, 5)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero (indices, values) of one text's normalised feature row."""
        counts = ngrams(text, self.char_range)
        idx = [self.vocab[f] for f in counts if f in self.vocab]
        if not idx:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        tf = np.array([1.0 + math.log(c) for f, c in counts.items() if f in self.vocab])
        indices = np.array(idx, dtype=np.int64)
        values = tf * self.idf[indices]
        return indices, values / np.linalg.norm(values)

    def transform(self, texts: list[str]) -> csr_matrix:
        """A sparse matrix with one feature row per text (training and evaluation)."""
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for r, t in enumerate(texts):
            idx, v = self.vector(t)
            rows.extend([r] * len(idx))
            cols.extend(idx.tolist())
            vals.extend(v.tolist())
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)))

    def to_json(self) -> dict[str, Any]:
        """Portable form: features in index order and their idf."""
        features = sorted(self.vocab, key=self.vocab.__getitem__)
        return {
            "features": features,
            "idf": [round(float(x), 6) for x in self.idf],
            "char_range": list(self.char_range),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TextFeaturizer:
        """Inverse of to_json."""
        features = data["features"]
        if len(features) != len(data["idf"]):
            raise ValueError("router model: features and idf differ in length")
        lo, hi = data.get("char_range", (2, 5))
        return cls(
            vocab={f: i for i, f in enumerate(features)}, idf=np.array(data["idf"]), char_range=(lo, hi)
        )
