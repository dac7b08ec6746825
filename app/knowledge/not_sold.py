"""A model the store does not sell: "how much is the Voltbook Pro 17?" gets a note, not the Pro 15's price.

Retrieval ranks the nearest entry first (the Voltbook Pro 15 shares "voltbook" and "pro"), and a
small model then states that entry's price as if it were the asked-for model's. So when the
customer names a model — a catalogue brand ("voltbook") followed by a designator ("pro 17",
"x3", "ax5400") — that no entry of the brand has, the grounded prompt gets a short note fact
saying the store does not sell it and naming the nearest models it does sell, and the entries of
those relatives the customer did not name outright are left out (``relatives_to_drop``).

Kept precise on purpose (a wrong "we don't sell that" is worse than none): only words right after
a brand count, a designator is a word the brand's entries use in their keys, a number or a
letter-digit code (not a quantity like "2 years", "16gb", nor a spec the brand's texts mention,
like "5g"), or a common variant word ("ultra", "max"); and the walk stops as soon as the words
name an existing entry, so "nova x2 2 year warranty" is the Nova X2.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.grounding import FactSnippet
from app.knowledge.query import entity_of, key_words, normalise, tokens

NOTE_KEY = "note.not-sold"
MAX_DESIGNATOR = 2  # "pro 17": brands are followed by one or two designator words
MAX_NEAREST = 3
# Words model lines use for their variants; one after a brand that has no such variant is a model
# the store lacks ("echobuds max"), where an ordinary word after a brand ("voltbook battery") is not.
# Not variant names that are everyday words too ("go", "note", "edge"): "will the homecam go on sale".
VARIANT_WORDS = frozenset(
    "pro max ultra mini lite plus air neo prime elite slim premium basic standard personal family "
    "business".split()
)
# A number followed by one of these is a quantity or a spec, not a model number.
UNIT_WORDS = frozenset(
    "year years yr yrs month months day days week weeks hour hours hr hrs minute minutes min mins "
    "pack packs unit units pcs piece pieces gb tb mb mah wh w hz mm cm kg g inch inches percent "
    "dollars usd eur euros bucks times x".split()
)
# A model name never spans a sentence or list break ("... choose ShieldGuard. 2. Choose ...").
_CLAUSE_END = re.compile(r"[.,;:!?]+(?:\s|$)|[()\[\]]")
_SPEC = re.compile(r"^\d+(?:gb|tb|mb|mah|wh|w|k?hz|[mg]hz|mm|cm|kg|g|in|inch|h|hrs?|mins?|fps|p|mp|nm)$")


@dataclass(frozen=True)
class CatalogueItem:
    """One live product or plan: its key, title and text (what a note may name and what it checks)."""

    key: str
    title: str
    text: str

    @property
    def brand(self) -> str | None:
        """The name its key starts with (``product.voltbook-pro-15`` -> ``voltbook``)."""
        return entity_of(self.key)

    @property
    def designator(self) -> tuple[str, ...]:
        """Its key's words after the brand (``pro``, ``15``)."""
        return tuple(self.key.partition(".")[2].split("-")[1:])


UnsoldModel = tuple[str, list[CatalogueItem]]  # (display name, nearest entries), as unsold_model finds it


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def _designator_words(
    words: Sequence[str], start: int, family: Sequence[CatalogueItem], family_words: set[str], specs: set[str]
) -> list[str]:
    """The model-designating words after the brand at ``start - 1``, stopping once they name an entry."""
    taken: list[str] = []
    for i in range(start, min(start + MAX_DESIGNATOR, len(words))):
        word, following = words[i], words[i + 1] if i + 1 < len(words) else ""
        known = word in family_words
        if not known:
            if _has_digit(word):
                quantity = word.isdigit() and following in UNIT_WORDS
                if quantity or _SPEC.match(word) or (not word.isdigit() and word in specs):
                    break
            elif word not in VARIANT_WORDS:
                break
        taken.append(word)
        if any(item.designator and set(item.designator) == set(taken) for item in family):
            break
    return taken


def families_of(catalogue: Iterable[CatalogueItem]) -> dict[str, list[CatalogueItem]]:
    """The catalogue grouped by brand (items whose key names none are left out)."""
    families: dict[str, list[CatalogueItem]] = {}
    for item in catalogue:
        if item.brand is not None:
            families.setdefault(item.brand, []).append(item)
    return families


def _nearness(taken: Sequence[str], item: CatalogueItem) -> tuple[int, float, str]:
    """Sort key: most shared designator words, then the most similar spelling ("x3" ~ "x2"), then key."""
    similar = difflib.SequenceMatcher(None, " ".join(taken), " ".join(item.designator)).ratio()
    return (-len(set(taken) & set(item.designator)), -similar, item.key)


def unsold_model(message: str, families: dict[str, list[CatalogueItem]]) -> UnsoldModel | None:
    """The model named in ``message`` that no entry has (display name) and the nearest entries, or None."""
    if not families:
        return None
    for clause in _CLAUSE_END.split(message):
        found = _unsold_in_clause(clause, families)
        if found is not None:
            return found
    return None


def _unsold_in_clause(clause: str, families: dict[str, list[CatalogueItem]]) -> UnsoldModel | None:
    words = normalise(tokens(clause), frozenset(families))
    for at, word in enumerate(words):
        family = families.get(word)
        if family is None:
            continue
        family_words = {w for item in family for w in item.designator}
        # "meshwave 3000" is the AX3000 written short, not another model.
        short = {n: d for n in words if n.isdigit() for d in family_words if d != n and d.endswith(n)}
        specs = {w for item in family for w in tokens(f"{item.title} {item.text}") if _has_digit(w)}
        spelled = [short.get(w, w) for w in words]
        taken = _designator_words(spelled, at + 1, family, family_words, specs)
        if not taken or any(set(taken) <= set(item.designator) for item in family):
            continue
        nearest = sorted(family, key=lambda item: _nearness(taken, item))
        nearest = [item for item in nearest if item.designator] or nearest
        return _display_name(word, taken, family), nearest[:MAX_NEAREST]
    return None


def _display_name(brand: str, taken: Sequence[str], family: Sequence[CatalogueItem]) -> str:
    """ "Voltbook Pro 17": the brand as the catalogue writes it, designator words capitalised like it."""
    spelled = {w.lower(): w for item in family for w in item.title.split()}
    shown = [spelled.get(brand, brand.capitalize())]
    for word in taken:
        code = _has_digit(word) and not word.isdigit()  # "x3" -> "X3", like the catalogue's "X2"
        shown.append(spelled.get(word, word.upper() if code else word.title()))
    return " ".join(shown)


def not_sold_note(message: str, families: dict[str, list[CatalogueItem]]) -> FactSnippet | None:
    """The note fact for the grounded prompt when ``message`` names a model the store lacks."""
    found = unsold_model(message, families)
    return None if found is None else note_for(found)


def note_for(found: UnsoldModel) -> FactSnippet:
    """The note fact for an unsold model ``unsold_model`` found."""
    name, nearest = found
    names = ", ".join(item.title for item in nearest)
    # Written as the reply should say it: the model copies the first fact nearly word for word.
    note = f"We do not sell the {name}; it is not in our catalogue. The nearest models we sell: {names}."
    return FactSnippet(NOTE_KEY, "Not sold", note)


def relatives_to_drop(
    message: str, found: UnsoldModel, keys: Sequence[str], families: dict[str, list[CatalogueItem]]
) -> set[str]:
    """The hits (by key) to leave out beside the note: the unsold model's relatives the customer did
    not name outright. With the Voltbook Pro 15's entry in the prompt, "how much is the Voltbook Pro
    17?" was answered "The Voltbook Pro 17 ($1,499): it isn't in our catalogue" (the real model,
    own test questions); without it, the note alone answers. "Pro 17 or Pro 15?" keeps the Pro 15.
    """
    words = set(normalise(tokens(message), frozenset(families)))
    family = {item.key for item in families.get(found[1][0].brand or "", [])}
    return {k for k in keys if k in family and not key_words(k) <= words}
