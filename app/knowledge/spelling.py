"""Misspelt everyday words -> the store's own spelling, so a typo does not hide a question's topic.

Product names have their own correction (app.knowledge.query.corrected); this is for the other
words. "is that covered under the garantee", "when will i recieve it", "subscribtion": neither full-
text engine matches a misspelt word, so the term counted as unknown, and against the relevance
gates. A word is respelt only when the knowledge base (or the synonym table, whose words a customer
uses for the store's: "guarantee" -> "warranty") has no such word and has one close to it: same
first letter, at most two letters longer or shorter, difflib ratio >= SPELLING_CUTOFF.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache

from app.knowledge.query import KIND_CUES, STOP_WORDS, by_initial, tokens
from app.knowledge.synonyms import SYNONYMS

# 0.85: one letter dropped, added or swapped in a word of 7+ letters ("garantee", "recieve"), not
# one letter changed in a 5-letter word ("carry" -> "cargo" would be 0.6; "sound"/"found" 0.8).
SPELLING_CUTOFF = 0.85
MIN_LENGTH = 6  # shorter words have too many near neighbours ("movie" is 0.89 from "move")
# ... except the words naming a store rule, which a five-letter typo must still find: "how long till
# i get my refnd" ranked the returns policy first. Only a letter dropped from one of them counts.
RULE_WORDS = KIND_CUES["policy"]


def known_words(texts: Iterable[str]) -> frozenset[str]:
    """The words a customer's term may be respelt to: those of ``texts`` (the live entries) and the
    synonym table's, stop words left out."""
    words = {w for text in texts for w in tokens(text)} | set(SYNONYMS)
    return frozenset(w for w in words if len(w) >= MIN_LENGTH - 2 and not w.isdigit() and w not in STOP_WORDS)


def _one_dropped(short: str, long: str) -> bool:
    """True if ``short`` is ``long`` with one letter left out ("refnd", "refund")."""
    return len(long) == len(short) + 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@lru_cache(maxsize=8192)
def respelt(word: str, words: frozenset[str]) -> str | None:
    """The known word ``word`` is a near miss of, or None (it is known, short, a number, or far
    from every known word)."""
    if word in words or not word.isalpha():
        return None
    if len(word) == MIN_LENGTH - 1:
        return next((w for w in sorted(RULE_WORDS) if _one_dropped(word, w)), None)
    if len(word) < MIN_LENGTH:
        return None
    near = [w for w in by_initial(words).get(word[0], ()) if abs(len(w) - len(word)) <= 2]
    close = difflib.get_close_matches(word, near, 1, SPELLING_CUTOFF)
    return close[0] if close else None
