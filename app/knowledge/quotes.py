"""What a reply quotes from its facts instead of generating it: the rules, in the order they apply.

The 135M adapters state a retrieved fact well when the answer is one short span, and badly when
they must pick or combine: with the right entry ranked first they still copied another entry
("email address for support?" got the how-to-change-your-email article), a template ("Yes, the
EchoMax ANC is in stock ($299)." to "do the echomax headphones fold up?"), or half of a
comparison. Where retrieval makes the answer plain, the reply is that entry's text, exactly, and
ends there (inference/forced_opening.py; the engine still decodes nothing the guard would not
allow, as the quote is fact text). The first rule that matches wins:

1. a contact entry ranked first (phone, email, hours, live chat, business sales): its text;
2. two or three named products or plans the message compares (app.knowledge.comparison): each;
3. a how-to or fault message whose first hit is a help article the customer named, or that
   holds ARTICLE_COVERED of the message's words: "Here's how: " and its steps;
4. a product or plan ranked first that the message names (a word of its key) when it names no
   other brand or model (query.designates) and asks no policy retrieved beside it, or that an
   earlier turn named when this message names none ("tell me about the
   echomax headphones" / "do they come with anything to carry them in"): its catalogue card,
   price, stock and specs. "and the personal one?" after CloudKeep Family names another entry
   than the first-ranked one, so the adapters answer it. When the card holds none of the words
   the customer asks about ("is the voltbook air waterproof?"), it opens with a line saying the
   store cannot confirm it (app.knowledge.unlisted). A property question that ranked a guide
   first ("are the echobuds waterproof? i sweat a lot": the reset guide) gets the named product's
   card with that line too, when the card does not answer it: the adapters said "Yes, the
   EchoBuds Pro is waterproof". When the card does list the property the message names
   (unlisted.PROPERTIES: "can the homecam see anything when the lights are off" ranked the setup
   guide first; the card says "night vision"), the card is quoted without the line;
5. a policy ranked first that the message asks about with a policy word (query.KIND_CUES) or
   that holds POLICY_COVERED of its words, when
   it does not ask for the state of the customer's own case (handoff_offer.needs_account_lookup,
   which the chat answers with its notice): the policy's text, and the next policy too when it
   scored within POLICY_TIE of it ("can i return stuff? how long do i have" ranks refunds and
   returns level). The adapters picked the wrong sentence of a policy they were given ("does the
   warranty cover a cracked screen" got the claim steps, not "not accidental damage") or refused.
   The cost: "shipping to an island, how long?" gets the shipping policy's times, which do not
   mention islands, where the adapters might have said they do not know. A policy asked about
   with a policy word is quoted too when a named product or its guide ranked above it ("my
   voltbook screen started flickering after 14 months, is that still covered?": the adapters
   answered with the battery guide's steps);
6. an offer ranked first when the message asks about a deal (OFFER_CUES: free, discount, code ...)
   and not about its own case: the offer's text, and a product, plan or offer tied with it ("any
   deals for students buying a laptop" ranks the free-ShieldGuard offer and the student discount
   level; "can i try shieldguard for free first" the offer and the plan with its trial). The
   adapters answered "heard you get free antivirus with a voltbook? where do i find the code" with
   the laptop's card.

A not-sold note (app.knowledge.not_sold) turns every rule off: the note is the answer then.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.knowledge.comparison import compared_entries
from app.knowledge.handoff_offer import needs_account_lookup
from app.knowledge.query import (
    CATALOGUE_KINDS,
    designates,
    entity_of,
    key_words,
    normalise,
    tokens,
    wanted_kinds,
)
from app.knowledge.retrieval import DEAL_WORDS, Hit
from app.knowledge.synonyms import rephrased
from app.knowledge.unlisted import UNLISTED_LEAD, asked_properties, asked_words, lacks_property, lists_none_of

# Below this the first-ranked article was as often the wrong one ("my laptop broke after 18
# months, is that still covered?" ranked the battery guide first).
ARTICLE_COVERED = 0.5
ARTICLE_LEAD = "Here's how: "  # how the grounded training replies open a how-to (adapters/datasets)
# A comparison quote this long is trimmed: digits are a token each in SmolLM2's vocabulary, so 400
# characters of catalogue text are about 130 tokens, under the smallest default max_new_tokens (160).
MAX_COMPARISON_CHARS = 400
# A second policy (or offer) this close to the first in retrieval score is quoted after it: the
# message's words did not tell the two apart.
TIE = 0.05
# A policy holding more than half of the message's words is asked about without a policy word
# ("do u sell my data to advertisers": privacy; "can i pay with amex": payment). At one word of
# two ("do you sell iphones", "do you ship to australia") the other word is what the store does
# not list, and the adapters' "I don't know" is the answer.
POLICY_COVERED = 0.6
# Words that ask about a deal. Kept out of query.KIND_CUES on purpose: there they would also move
# retrieval's ranking ("free shipping", "free trial"), which the offer quote does not need.
# Retrieval's DEAL_WORDS (which rank an offer beside a named product) and the looser words that
# only mean a deal once an offer ranked first ("free", "included").
OFFER_CUES = DEAL_WORDS | frozenset(
    "free freebie freebies perks extras promos promotions bundled included".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")  # "weighs 1.2 kg. 2-year": the space decides


@dataclass(frozen=True)
class MessageCues:
    """What the customer's current message (not the earlier turns) says, for the quote rules."""

    words: frozenset[str] = frozenset()  # its words, catalogue names normalised
    compared: tuple[Hit, ...] = ()  # the entries it compares
    how_to: bool = False  # it asks how to do something or describes a fault (query.wanted_kinds)
    asks_policy: bool = False  # it uses a policy word: warranty, refund, delivery ... (query.KIND_CUES)
    lookup: bool = False  # it asks for the state of the customer's own case (handoff_offer)
    asked: tuple[str, ...] = ()  # the words its questions ask about (app.knowledge.unlisted)
    properties: tuple[str, ...] = ()  # the product properties they name (unlisted.PROPERTIES)


def cues_of(message: str, hits: Sequence[Hit], brands: frozenset[str], context: str = "") -> MessageCues:
    """The cues of ``message`` given its hits and the catalogue's entity names. ``context``: the
    earlier turn a follow-up took its subject from; its properties count when the message names
    none ("how heavy is the voltbook air" / "and the pro 15?" still asks the weight)."""
    # As retrieval searched it: "send it back" asks about returns. The lookup test reads the
    # customer's own words, as the chat's notice does (app.chat.handoff).
    searched = rephrased(message)
    words = frozenset(normalise(tokens(searched), brands))
    kinds = wanted_kinds(searched)
    return MessageCues(
        words,
        compared_entries(words, hits, siblings="article" not in kinds),
        "article" in kinds,
        "policy" in kinds,
        needs_account_lookup(message),
        asked_words(message, brands),
        asked_properties(message) or (asked_properties(context) if context else ()),
    )


def quoted(hit: Hit) -> str:
    """The entry as a reply quotes it: its text, led by its title when the text does not name it."""
    name = hit.title.split()[0].lower() if hit.title.split() else ""
    return hit.text if hit.text.lower().startswith(name) else f"{hit.title}: {hit.text}"


def comparison_quote(entries: Sequence[Hit]) -> str:
    """The compared entries, one after the other: the whole reply to a comparison. Past
    MAX_COMPARISON_CHARS each is cut to its first two sentences (name, price, stock, main specs):
    the two Voltbook entries in full ran past 160 tokens and the reply was cut mid-sentence."""
    whole = " ".join(quoted(hit) for hit in entries)
    if len(whole) <= MAX_COMPARISON_CHARS:
        return whole
    return " ".join(" ".join(_SENTENCE_END.split(quoted(hit))[:2]) for hit in entries)


def quote_for(hits: Sequence[Hit], cues: MessageCues) -> str:
    """The reply's quote by the rules of the module docstring, or "" (the adapters answer)."""
    if not hits:
        return ""
    top = hits[0]
    if top.kind == "contact":
        return top.text
    if cues.compared:
        return comparison_quote(cues.compared)
    covering = covering_card(hits)
    if covering is not None and not _policy_asked(hits, cues):
        return quoted(covering)
    if top.kind == "article" and cues.how_to and (top.named or top.coverage >= ARTICLE_COVERED):
        return ARTICLE_LEAD + top.text
    asked_elsewhere = _policy_asked(hits, cues) or _offer_asked(hits, cues)
    if top.kind in CATALOGUE_KINDS and top.named and not asked_elsewhere:
        mentioned = [h for h in hits if h.kind in CATALOGUE_KINDS and key_words(h.key) & cues.words]
        brands = {entity_of(h.key) for h in mentioned if _names_brand(h.key, cues.words)}
        others = brands - {entity_of(top.key)}
        # "how long does the battery last?": the earlier turn named it. A word of an entry retrieval
        # did not take as named is no name ("cheapest phone ... something basic": ShieldGuard Basic).
        follow_up = not any(h.named for h in mentioned)
        if follow_up or (not others and key_words(top.key) & cues.words):
            return (UNLISTED_LEAD if _unlisted(cues, top) else "") + quoted(top)
    if top.kind == "article" and (cues.asked or cues.properties) and not cues.how_to:
        card = _named_card(hits)
        if card is not None and _unlisted(cues, card):
            return UNLISTED_LEAD + quoted(card)
        if card is not None and (cues.properties or _lists_asked(cues, card)):
            # "can the homecam see in the dark": "night vision"; "does the basic shieldguard come
            # with a vpn?" ranked the VPN guide first, and the Basic card says "No VPN".
            return quoted(card)
    if top.kind == "offer" and cues.properties and not cues.how_to:
        # "is my data encrypted on cloudkeep": an offer ranked first, and no card lists encryption.
        card = _named_card(hits)
        if card is not None and lacks_property(cues.properties, card.title, card.text):
            return UNLISTED_LEAD + quoted(card)
    if cues.lookup:
        return ""
    if quote := policy_quote(hits, cues):
        return quote
    policy = _first_of(hits, "policy")
    if cues.asks_policy and policy is not None:  # "my nova x2 screen cracked, warranty covers that?"
        return tied_quote(hits[policy:], frozenset({"policy"}))
    if top.kind == "offer" and cues.words & OFFER_CUES:
        return tied_quote(hits, CATALOGUE_KINDS | {"offer"})
    offer = _first_of(hits, "offer")
    if offer is not None and _offer_asked(hits, cues):  # "the student discount on the nova x2 too?"
        return tied_quote(hits[offer:], frozenset({"offer"}))
    return ""


def policy_quote(hits: Sequence[Hit], cues: MessageCues) -> str:
    """Rule 5: a policy ranked first that the message asks about, with a tied second one, or "".
    Also what an account-lookup notice quotes (the chat answers those with its notice, the policy
    saying what holds in general); "where is my order 48213?" has none."""
    if not hits or hits[0].kind != "policy":
        return ""
    if cues.asks_policy or hits[0].coverage >= POLICY_COVERED:
        return tied_quote(hits, frozenset({"policy"}))
    return ""


def covering_card(hits: Sequence[Hit]) -> Hit | None:
    """Of two named catalogue entries of different brands, the one whose text names the other
    ("how many times will the power bank fill up my nova x2": the PowerCell's card says "charges a
    Nova X2 about 4 times"), or None. The first-ranked entry must be one of them."""
    named = [h for h in hits if h.kind in CATALOGUE_KINDS and h.named]
    if len(named) < 2 or hits[0] not in named:
        return None
    pairs = [(a, b) for a in named for b in named if entity_of(a.key) != entity_of(b.key)]
    covering = [a for a, b in pairs if key_words(b.key) <= set(tokens(a.text))]
    return covering[0] if len({h.key for h in covering}) == 1 else None


def tied_quote(hits: Sequence[Hit], kinds: frozenset[str]) -> str:
    """The first hit's text, then the next hit of ``kinds`` when it scored within TIE of it."""
    top, rest = hits[0], [h for h in hits[1:] if h.kind in kinds]
    tied = [h for h in rest[:1] if top.score - h.score <= TIE]
    return " ".join(quoted(h) for h in [top, *tied])


def _unlisted(cues: MessageCues, card: Hit) -> bool:
    """True if the card answers none of the asked words, or lacks a property the message names."""
    return lists_none_of(cues.asked, card.title, card.text) or lacks_property(
        cues.properties, card.title, card.text
    )


def _named_card(hits: Sequence[Hit]) -> Hit | None:
    """The best-ranked product or plan the message named, or None."""
    return next((h for h in hits if h.kind in CATALOGUE_KINDS and h.named), None)


def _first_of(hits: Sequence[Hit], kind: str) -> int | None:
    """The rank (0-based) of the first hit of ``kind``, or None."""
    return next((i for i, h in enumerate(hits) if h.kind == kind), None)


def _lists_asked(cues: MessageCues, card: Hit) -> bool:
    """True if the card's text holds an asked word that is not one of its own name's words."""
    own = key_words(card.key) | set(tokens(card.title))
    return bool((set(cues.asked) - own) & set(tokens(card.text)))


def _names_brand(key: str, words: frozenset[str]) -> bool:
    """True if ``words`` name this entry's brand or model ("echobuds", "pro 15"), not only share a
    word with its key: "hw much is the pro 15" does not name the EchoBuds Pro."""
    return entity_of(key) in words or designates(key, words)


def _offer_asked(hits: Sequence[Hit], cues: MessageCues) -> bool:
    """A deal is asked about beside a named product and an offer is retrieved: "can I use the
    student discount on the Nova X2 too?" is answered by the offer, not by the phone's card."""
    return bool(cues.words & DEAL_WORDS) and any(h.kind == "offer" for h in hits)


def _policy_asked(hits: Sequence[Hit], cues: MessageCues) -> bool:
    """A policy is asked about and retrieved: "my nova x2 cracked, is that covered under the
    warranty?" is answered from the warranty, not by the phone's card."""
    return cues.asks_policy and any(h.kind == "policy" for h in hits)
