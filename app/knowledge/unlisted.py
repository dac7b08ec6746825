"""Asked about a detail a product's card does not list: say so before quoting the card.

"is the voltbook air waterproof?" got the laptop's card as the whole reply ($899, 16 GB RAM, ...):
every fact in it true, none of them the answer, and nothing to tell the customer that the store
does not know. Four of the five not-covered questions of the fifth factual eval set and four of
the six of the sixth were answered that way (waterproof, colours, wireless charging, the CPU, a
memory-card slot, the battery's mAh). So when a card is quoted (app.knowledge.quotes, rule 4) and
*none* of the words the customer asks about is in the card, the quote opens with UNLISTED_LEAD.

What the customer asks about: the content words of the message's question sentences (with a "?"
or opening with a question word; the whole message when none does), less the entry's own name,
the catalogue's names, the words a card answers by being the card (price, stock, specs ...) and
opinions ("is it any good": no card says). A word is in the card when the card holds it (crudely
stemmed), a word one typo from it ("stok"), or a unit that measures it: "how heavy" is answered
by "1.2 kg", "how much storage" by "2 TB" (SPEC_UNITS, the catalogue's own measures). All asked
words must be missing, not one: "whats the battery life on the echomax" finds "battery".

Besides those question shapes, a message naming a property from PROPERTIES anywhere in its questions
("what processor / cpu is in the voltbook pro 15?", "and the pro 15, how much does that one weigh",
"how many mah") asks about it: the card answers it only if it holds one of the property's answer
words (a weight in kg, a processor's name, a capacity in mAh), else the lead goes first.

The test is lexical, so a paraphrase the card answers in other words ("something to carry them
in" for a travel case) still gets the lead; the lead stays true then (the details do not say it
in those words) and the card follows it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from app.knowledge.query import KIND_CUES, matched_terms, search_terms, term_patterns, tokens

UNLISTED_LEAD = "I don't have that detail in our product listing; here is what it says: "
QUESTION_OPENERS = frozenset("is are does do did can could will would has have what which how any".split())
# A card answers these by being the card: what it costs, whether it is in stock, what it is.
CARD_WORDS = KIND_CUES["product"] | KIND_CUES["plan"] | frozenset(
    """spec specs specification specifications detail details info information feature features
    available availability sell sold order model version new get about tell charge going"""
    .split()
)  # fmt: skip
# No card says whether a thing is good: these ask for a verdict, not a listed detail.
OPINION_WORDS = frozenset("good worth best great nice recommend decent love fine better worse".split())
# The catalogue's measures and the everyday words for what they measure: a card with "kg" answers
# "how heavy", one with "GB" or "TB" "how much space".
SPEC_UNITS: dict[str, tuple[str, ...]] = {
    "kg": ("heavy", "weigh", "weighs", "weight", "light", "lightweight"),
    "gb": ("storage", "space", "memory", "ram", "capacity", "big"),
    "tb": ("storage", "space", "memory", "capacity", "big"),
    "hour": ("battery", "last", "lasts", "life", "long", "hours"),
    "inch": ("screen", "display", "size", "big", "small", "large"),
    "users": ("people", "ppl", "persons", "members", "family", "accounts"),
    "devices": ("computers", "pcs", "phones", "laptops", "many"),
}
# "do you have the power bank or is it out", "do I have to pay again": stock and obligation.
_NOT_PROPERTY = re.compile(
    r"\b(?:do|does) (?:you|u|ya) (?:guys |actually |still )?(?:have|carry|stock)\b|\bhave to\b"
)
TYPO_CUTOFF = 0.85  # as app.knowledge.spelling: one letter dropped, added or swapped
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
# The shapes of a question about one property of a thing: "does it have / support / come in X",
# "what X does it have / use / come in", "is it waterproof?" (one or two words after the name).
# Only these count: asked that way, a stock or price question ("can i buy one today or is it
# sold out?") would lose its answer under the lead for a filler word ("today") the card lacks.
ATTRIBUTE_QUESTION = re.compile(
    r"\b(?:does|do|can|will) (?:the |your |it |they |that |this |those |these )?[\w\s]{0,30}?\b"
    r"(?:have|has|support|supports|come in|come with|include|includes|work with)\b"
    r"|\b(?:what|which) (?:\w+ ){1,3}(?:does|do|is|are) (?:the |it |they |that |this )?[\w\s]{0,30}?"
    r"(?:have|has|use|come in|in)\b"
    r"|^(?:and |so )?(?:is|are) (?:the |your |it |they |those |these )?[\w\s]{1,30}?\b\w+\s*\?"
)


# Properties of an electronics product a card may or may not list: the words asking about one, and
# the words (or units) in a card that answer it. A consumer-electronics vocabulary, not this store's:
# an operator's new card answers "how heavy" as soon as it says "weighs 2 kg".
# (property, words asking about it[, words in a card answering it: the same words when left out])
_PROPERTY_WORDS: tuple[tuple[str, ...], ...] = (
    ("weight", r"weigh|weighs|weight|heavy|heavier", r"kg|g|grams|weighs|weight"),
    ("processor", r"processor|cpu|chip|chipset|intel|amd|ryzen|snapdragon"),
    ("battery capacity", r"mah|milliamp", r"mah"),
    ("water resistance",
     r"waterproof|water ?resistant|rain|shower|swim|swimming|sweat|sweatproof|splash|ip6\d|ipx\d",
     r"waterproof|water|splash|sweat|ip6\d|ipx\d"),
    ("colour", r"colou?rs?"),
    ("wireless charging", r"wireless charg\w*|qi"),
    ("screen resolution", r"refresh rate|hz|resolution|1080p|4k|pixels",
     r"hz|resolution|[248]k|1080p|pixels"),
    ("ports", r"ports?|hdmi|thunderbolt|usb|headphone jack|jack|aux", r"ports?|hdmi|thunderbolt|usb|jack"),
    ("memory card", r"micro ?sd|sd card|memory card|expandable", r"micro ?sd|sd|expandable"),
    ("touchscreen", r"touch ?screen|touch"),
    ("keyboard", r"keyboard|backlit"),
    ("dimensions", r"dimensions|thick|thickness|thin|width|height|cm|mm", r"cm|mm|dimensions|thick"),
    ("camera resolution", r"megapixels?|mp"),
    ("operating system", r"windows|macos|linux|chromebook|chrome ?os", r"windows|macos|mac|linux|chrome"),
    ("noise cancelling", r"noise cancell?ing|noise cancell?ation|anc", r"noise|anc"),
    ("night vision", r"night vision|dark|at night|lights? (?:are |is )?(?:off|out)|low light",
     r"night vision|infrared"),
    ("battery life", r"battery life|battery (?:last|lasts|go|going)|long does the battery",
     r"hours?|battery"),
    ("audio codec", r"codecs?|aptx|ldac"),
    ("brightness", r"bright|brightness|lumens?", r"lumens?|brightness"),
    ("encryption", r"encrypt\w*", r"encrypt\w*"),
    ("server location", r"servers?|data cent(?:er|re)s?|hosted", r"servers?|data cent(?:er|re)|hosted"),
)  # fmt: skip
PROPERTIES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    name: (re.compile(rf"\b(?:{asks})\b"), re.compile(rf"\b(?:{answers[0] if answers else asks})\b"))
    for name, asks, *answers in _PROPERTY_WORDS
}


def asked_properties(message: str) -> tuple[str, ...]:
    """The PROPERTIES the message's questions name ("how heavy", "what cpu"), in table order."""
    text = " ".join(asked_sentences(message)).lower()
    return tuple(name for name, (asks, _) in PROPERTIES.items() if asks.search(text))


def lacks_property(properties: Iterable[str], title: str, text: str) -> bool:
    """True if the entry holds no answer word of some asked property (a card without "kg" does not
    say how heavy the product is)."""
    body = f"{title} {text}".lower()
    return any(not PROPERTIES[name][1].search(body) for name in properties)


def asked_sentences(message: str) -> list[str]:
    """The message's questions: sentences with a "?" or opening with a question word, else all of it."""
    sentences = [s.strip() for s in _SENTENCES.split(message) if s.strip()]
    asked = [s for s in sentences if "?" in s or tokens(s)[:1] and tokens(s)[0] in QUESTION_OPENERS]
    return asked or [message]


def _asks_property(sentence: str) -> bool:
    """True for a property question that is not also a stock or price one ("do u guys have the
    homecam in stock?", "are echobuds pro avialable?") or a "do I have to" question."""
    if not ATTRIBUTE_QUESTION.search(sentence) or _NOT_PROPERTY.search(sentence):
        return False
    return not any(w in CARD_WORDS or difflib.get_close_matches(w, CARD_WORDS, 1, TYPO_CUTOFF)
                   for w in tokens(sentence) if len(w) > 3)


def asked_words(message: str, names: Iterable[str]) -> tuple[str, ...]:
    """The content words of the message's property questions (ATTRIBUTE_QUESTION), less names,
    card words and opinion words; () when it asks no property."""
    skip = CARD_WORDS | OPINION_WORDS | frozenset(names)
    asked = [s for s in asked_sentences(message) if _asks_property(s.lower())]
    words = search_terms(" ".join(asked))
    return tuple(w for w in words if w not in skip and not w.isdigit() and len(w) > 2)


def lists_none_of(words: tuple[str, ...], title: str, text: str) -> bool:
    """True if there are asked words and the entry holds none of them (nor a typo's neighbour of
    one, nor a unit measuring one)."""
    own = set(tokens(title))
    asked = [w for w in words if w not in own]
    if not asked:
        return False
    body = f"{title} {text}"
    if matched_terms(term_patterns(asked), body):
        return False
    card = set(tokens(body))
    measured = {w for unit, measures in SPEC_UNITS.items() if unit in card for w in measures}
    if measured.intersection(asked):
        return False
    return not any(difflib.get_close_matches(w, card, 1, TYPO_CUTOFF) for w in asked)
