"""'The cheaper one', 'your cheapest phone', 'the most expensive tier': the lowest- or highest-priced
model of the family a message is about.

Retrieval ranks by words, and "how much is the nova x2" / "and the cheaper one?" carries "nova" and
"x2" from the earlier turn, so the X2 came first and its card was quoted; "whats ur cheapest phone"
ranked the X2 above the Lite. Price is a fact of the catalogue, not of wording: when the searched
text asks for the cheap one and the first-ranked catalogue entry belongs to a family of several
priced models, that family's cheapest model is put first (read from the live catalogue, so an
operator's price edit changes the answer at once). "The most expensive shieldguard tier", "the
priciest laptop" put the family's dearest model first the same way.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from app.knowledge.not_sold import CatalogueItem
from app.knowledge.query import CATALOGUE_KINDS, STOP_WORDS, entity_of, stem, tokens
from app.knowledge.retrieval import Hit

CHEAP_WORDS = frozenset("cheaper cheapest cheap budget affordable inexpensive".split())  # not family words
# "cheaper" asks for a model only as "the cheaper (one)": "is it cheaper to pay yearly?" compares
# ways to pay, and the CloudKeep Personal card was put before the yearly-billing offer.
_CHEAP_MODEL = re.compile(
    r"\b(?:cheapest|cheap|budget|affordable|inexpensive|the cheaper|cheaper (?:one|model|version))\b"
)
_DEAR_MODEL = re.compile(
    r"\b(?:most expensive|priciest|dearest|top tier|highest tier|top of the range|the (?:dearer|pricier)"
    r"|the more expensive)\b"
)
DEAR_WORDS = frozenset("expensive priciest dearest dearer pricier top tier highest range".split())
_PRICE = re.compile(r"\$(\d[\d,]*(?:\.\d+)?)")
# "No VPN or password manager (those come with Plus and Premium)": what a card says it lacks.
_LACKS = re.compile(r"\b(?:no|not|without)\b[^.;(]*", re.IGNORECASE)


def price_of(text: str) -> float | None:
    """The first "$N" of an entry's text (a catalogue card states its own price first)."""
    found = _PRICE.search(text)
    return float(found.group(1).replace(",", "")) if found else None


def cheapest_model(family: Sequence[CatalogueItem], dearest: bool = False) -> CatalogueItem | None:
    """The family's lowest-priced model (highest with ``dearest``; a family overview, whose key
    names only the brand, is no model); None when fewer than two models state a price."""
    priced = [(price_of(item.text), item.key, item) for item in family if item.designator]
    models = [(p, key, item) for p, key, item in priced if p is not None]
    if len(models) < 2:
        return None
    return (max(models) if dearest else min(models))[2]


def listed_words(item: CatalogueItem) -> set[str]:
    """The words of what a model's card says it has: its text without the clauses saying what it
    lacks ("No VPN or password manager")."""
    return set(tokens(_LACKS.sub(" ", item.text)))


def with_features(family: Sequence[CatalogueItem], words: set[str]) -> list[CatalogueItem]:
    """The models that list every word of ``words`` that tells the family's models apart ("the
    cheapest shieldguard that still has a password manager": Plus and Premium list "password" and
    "manager", Basic says it has none); the whole family when no word does."""
    models = [item for item in family if item.designator]
    listed = {item.key: listed_words(item) for item in models}
    telling = {w for w in words if 0 < sum(w in ws for ws in listed.values()) < len(models)}
    if not telling:
        return list(family)
    return [item for item in models if telling <= listed[item.key]]  # [] when none lists them all


def asked_family(
    words: set[str], hits: Sequence[Hit], families: dict[str, list[CatalogueItem]]
) -> str | None:
    """The brand of the best-ranked catalogue hit whose family the words point at: its brand or the
    noun its members' titles end with, else any word of a member's title ("cheapest phone" -> nova,
    not the CloudKeep plan tagged "cheapest"; "cheapest phone ... something basic for my mum" ->
    nova, not ShieldGuard Basic)."""
    stems = {stem(w) for w in words}
    brands = [b for h in hits if h.kind in CATALOGUE_KINDS and (b := entity_of(h.key)) is not None]
    for brand in brands:
        nouns = {stem(tokens(item.title)[-1]) for item in families.get(brand, []) if tokens(item.title)}
        if brand in words or stems & nouns:
            return brand
    for brand in brands:
        if words & {w for item in families.get(brand, []) for w in tokens(item.title)}:
            return brand
    return None


def cheapest_first(
    searched: str,
    message: str,
    hits: Sequence[Hit],
    families: dict[str, list[CatalogueItem]],
    hit_for: Callable[[CatalogueItem], Hit | None],
) -> list[Hit]:
    """``hits`` with the cheapest model of the family ``searched`` (the message and the context it
    took) asks about first, when it asks for the cheap one and ``message`` itself names no model of
    that family ("is the ax3000 3-pack cheaper than three single ones?" asks about the AX3000);
    ``hit_for`` retrieves a model missing from the hits."""
    searched_words = tokens(searched)
    text = " ".join(searched_words)
    dearest = bool(_DEAR_MODEL.search(text))
    if not dearest and not _CHEAP_MODEL.search(text):
        return list(hits)
    words = set(searched_words)
    brand = asked_family(words - CHEAP_WORDS - DEAR_WORDS - STOP_WORDS, hits, families)
    family = families.get(brand, []) if brand else []
    own = set(tokens(message))
    named_model = any(own & set(item.designator) for item in family)
    # Of those with the features it asks for; the family's own words (and the models' names) say
    # nothing about features.
    names = {brand or ""} | {w for item in family for w in item.designator}
    features = own - CHEAP_WORDS - DEAR_WORDS - STOP_WORDS - names
    cheapest = None if named_model else cheapest_model(family, dearest)
    fitting = with_features(family, features)
    if cheapest is not None and fitting:  # one model fits: it is the cheapest that does
        cheapest = fitting[0] if len(fitting) == 1 else cheapest_model(fitting, dearest) or cheapest
    if cheapest is None:
        return list(hits)
    found = next((h for h in hits if h.key == cheapest.key), None) or hit_for(cheapest)
    if found is None:
        return list(hits)
    # Named now: "the cheapest phone" names the Nova Lite as surely as its name would (the refusal
    # ban and the card quote follow).
    return [dataclasses.replace(found, named=True), *(h for h in hits if h.key != cheapest.key)]
