"""The catalogue entries a customer compares: "echobuds or echomax, which lasts longer?".

With both entries retrieved, the 135M adapters still answered comparisons from one of them ("The
EchoBuds Pro is the older one.") or with a verdict the facts do not hold: 4 of 8 comparisons of the
second factual eval set and 5 of 12 of the first were wrong, most with both entries in the
prompt. So when the customer's own message names two products or plans (each by a word of its key
the other lacks: "air" and "pro", "plus" and "premium") with a comparing word, and retrieval
found both, the reply quotes both entries (app.knowledge.quotes): every fact the
customer needs to compare, stated exactly, and no verdict the model could get wrong.

Kept narrow on purpose: only the current message counts (a follow-up "and the cheaper one?" names
one entry at most), only products and plans among the hits (a help article ranked between them is
skipped: "echomax or echobuds?" ranks the EchoMax pairing guide second), and each must be named by
a word no other of those hits' keys has.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.knowledge.query import (
    CATALOGUE_KINDS,
    COMPARING_WORDS,
    entity_of,
    key_words,
    model_words,
    stem,
    tokens,
)
from app.knowledge.retrieval import Hit

MAX_COMPARED = 3  # "shieldguard basic vs plus vs premium"; more would not fit max_new_tokens


def _noun(hit: Hit) -> str:
    """The entry's category noun, stemmed: its title's last word ("EchoBuds Pro earbuds" -> earbud)."""
    words = tokens(hit.title)
    return stem(words[-1]) if words else ""


def _sibling_models(words: frozenset[str], catalogue: Sequence[Hit]) -> tuple[Hit, ...]:
    """Two models of one family the message names by their own model words, with no comparing word:
    "The Nova Lite has 256 GB like the X2 right?" relates them, and each one's card is the answer
    (the X2's card alone said 256 GB under the Lite's question)."""
    products = [h for h in catalogue if h.kind == "product"]

    def own_words(hit: Hit) -> set[str]:  # its model words but its category noun ("bulb")
        others = set().union(*(model_words(o.key) for o in products if o is not hit))
        return set(model_words(hit.key)) - others - set(tokens(hit.title)[-1:])

    own = [h for h in products if words & own_words(h)]
    brands = {entity_of(h.key) for h in own}
    return tuple(own) if len(own) == 2 and len(brands) == 1 and None not in brands else ()


def compared_entries(words: frozenset[str], hits: Sequence[Hit], siblings: bool = True) -> tuple[Hit, ...]:
    """The products/plans among ``hits`` that a message of ``words`` (normalised: "echo max" and
    "sheildguard" are names) compares, best-ranked first, two or MAX_COMPARED of them; else ()."""
    catalogue = [h for h in hits if h.kind in CATALOGUE_KINDS]
    if len(catalogue) < 2:
        return ()
    if not words & COMPARING_WORDS:  # ``siblings``: not for a how-to ("hook the mini into my ax3000")
        return _sibling_models(words, catalogue) if siblings else ()
    named = []
    stems = {stem(w) for w in words}
    for hit in catalogue:
        others = set().union(*(key_words(h.key) | {_noun(h)} for h in catalogue if h is not hit))
        if words & (key_words(hit.key) - others):  # a word only this entry's key has
            named.append(hit)
        elif _noun(hit) in stems - others:  # or its category: "earbuds vs the over-ear headphones"
            named.append(hit)
        elif hit.named and not words & key_words(hit.key):  # retrieval found its category named
            named.append(hit)  # without its key's words: "mesh router vs the mini one"
    return tuple(named[:MAX_COMPARED]) if len(named) >= 2 else ()
