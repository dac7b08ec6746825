"""Realistic surface variation of customer messages: typos, short forms, casing, punctuation."""

from __future__ import annotations

import random
import re

SHORT_FORMS: dict[str, str] = {
    "please": "pls",
    "you": "u",
    "your": "ur",
    "thanks": "thx",
    "because": "cuz",
    "are": "r",
    "with": "w/",
    "doesn't": "doesnt",
    "don't": "dont",
    "can't": "cant",
    "won't": "wont",
    "isn't": "isnt",
    "i'm": "im",
    "what's": "whats",
    "how much": "how much",
    "information": "info",
    "subscription": "sub",
    "password": "pw",
    "tomorrow": "tmrw",
    "wi-fi": "wifi",
    "bluetooth": "bt",
}
KEYBOARD_NEIGHBOURS = "qwertyuiopasdfghjklzxcvbnm"


def typo(word: str, rng: random.Random) -> str:
    """One keyboard-style typo: swap, drop, double or replace a letter (words < 4 letters kept)."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(KEYBOARD_NEIGHBOURS) + word[i + 1 :]


def shorten(text: str) -> str:
    """Chat-style short forms ('please' -> 'pls'), applied word by word."""
    out = text
    for long, short in SHORT_FORMS.items():
        out = re.sub(rf"\b{re.escape(long)}\b", short, out, flags=re.IGNORECASE)
    return out


def vary(text: str, rng: random.Random, level: float = 0.5) -> str:
    """A noisy variant of ``text``; ``level`` in 0..1 is how likely each kind of noise is."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"level must be in 0..1; got {level}")
    out = text
    if rng.random() < level * 0.6:
        out = shorten(out)
    if rng.random() < level * 0.7:
        words = out.split(" ")
        n = max(1, len(words) // 6)
        for _ in range(n):
            j = rng.randrange(len(words))
            words[j] = typo(words[j], rng)
        out = " ".join(words)
    if rng.random() < level * 0.8:
        out = out.lower()
    if rng.random() < level * 0.6:
        out = out.rstrip("?.!")
    if rng.random() < level * 0.15:
        out = out + rng.choice(["??", "!!", " asap", " thx", " pls"])
    return out
