"""Customer text -> search terms: tokens, not a query language, with product names found even when misspelt.

Customer text never reaches the full-text engine as syntax: it is cut into lower-case letters and
digits, stop words are dropped, and the backends join the terms with OR themselves. Product and
plan names ("EchoMax", "ShieldGuard") are the strongest signal a question carries, so they are
recognised separately — also when written apart ("echo max") or with a typo ("sheildguard").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

TOKEN = re.compile(r"[a-z0-9]+")
MAX_TERMS = 24  # a pasted essay must not become a 500-term OR query
# Common English and chat filler: they match everything and mean nothing to a search.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don down during
    each few for from further get gets got had has have having he her here hers herself him himself his
    hey hi hello how i if in into is isn it its itself just know let like ll m may me might more most
    much must my myself need no nor not now of off ok okay on once only or other ought our ours
    ourselves out over own please pls re s same shall she should so some such t than thank thanks that
    the their theirs them themselves then there these they this those through thx to too tell under
    until up us ve very want was we were what when where which while who whom why will with would you
    your yours yourself yourselves d y u ur im ive id dont cant wont whats hows one thing things someone
    anyone something anything really still yes yeah sure continue till""".split()
)
# A letter's courtesy words: a formal email ("Good afternoon, could you kindly provide ... regarding
# a recent purchase? Yours faithfully") has more of them than of its question, and each one the
# store's entries never use counts against the relevance gates.
LETTER_WORDS = frozenset(
    """dear good afternoon kindly provide regarding recent looking around approximately right kind
    wondering wonder appreciate appreciated grateful faithfully sincerely regards best wishes advance
    obtain inform advise possible able""".split()
)
# A chat line's filler: "do you guys sell my personal info to advertisers or whatever" is two words
# of question ("sell", "personal") among four no entry uses, and the relevance gates rejected it.
CHAT_WORDS = frozenset(
    """guys guy whatever lol ugh omg btw actually basically literally honestly kinda sorta gonna wanna
    gotta plz tho though mate folks ya hmm umm um ah oh wow cool""".split()
)
# Unique to one family of entries: the store's own name is in everything, so it is no entity.
NOT_ENTITIES = frozenset({"voltline"})


def tokens(text: str) -> list[str]:
    """Lower-case letter/digit runs of ``text`` (the only shape any backend ever sees)."""
    return TOKEN.findall(text.lower())


CATALOGUE_KINDS = frozenset({"product", "plan"})  # the entries a customer names, compares and buys


def key_words(key: str) -> frozenset[str]:
    """The words of an entry's key after its kind (``product.voltbook-air-13`` -> voltbook, air, 13)."""
    return frozenset(key.partition(".")[2].split("-"))


def entity_of(key: str) -> str | None:
    """The name a product or plan key starts with (``product.echomax-anc`` -> ``echomax``)."""
    kind, _, slug = key.partition(".")
    if kind not in CATALOGUE_KINDS:
        return None
    name = slug.split("-", 1)[0]
    return None if name in NOT_ENTITIES or len(name) < 3 else name


def model_words(key: str) -> frozenset[str]:
    """A product's or plan's key words but its brand (``product.voltbook-pro-15`` -> pro, 15)."""
    return key_words(key) - {entity_of(key)}


def designates(key: str, words: Iterable[str]) -> bool:
    """True if ``words`` hold a product's or plan's model designation: all of its key's words but the
    brand, when those are two or more or one with a digit ("pro 15", "air 13", "x2", "smart bulb").
    Customers name models that way ("hw much is the pro 15") as often as by the brand."""
    if entity_of(key) is None:
        return False
    model = model_words(key)
    if not model or (len(model) == 1 and not any(c.isdigit() for c in next(iter(model)))):
        return False
    return model <= set(words)


_THE_WORD = re.compile(r"\bthe ([a-z0-9]+)\b")
# A plan's lone word names it only before a plan noun: "the family plan", "the premium one"; "the
# personal data" is no CloudKeep Personal.
_THE_PLAN = re.compile(
    r"\bthe ([a-z]+)(?: [a-z]+)? (?:plan|plans|one|tier|option|package|subscription|sub)\b"
)


def lone_model_words(products: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Model words (query.model_words) of exactly one product or plan, letters only: "air" -> the
    Voltbook Air 13, "family" -> CloudKeep Family; not "pro" (a Voltbook and the EchoBuds), "15", or a word
    its title also ends with, a category noun ("the hub inside rattles" is about a parcel, and a
    category noun names without reordering: category_nouns). ``products``: (key, title)."""
    owners: dict[str, list[str]] = {}
    for key, title in products:
        if key.startswith(("product.", "plan.")):
            noun = tokens(title)[-1:]
            for word in model_words(key) - set(noun):
                owners.setdefault(word, []).append(key)
    return {w: k[0] for w, k in owners.items() if len(k) == 1 and w.isalpha() and len(w) >= 3}


def the_designated(text: str, lone: dict[str, str]) -> set[str]:
    """Products the text calls "the <model word>" ("how heavy is the air?", "and what about the
    mini"): said with "the", a lone model word names its product as "pro 15" does; a plan's, said
    before a plan noun ("how much space on the family backup plan")."""
    lower = text.lower()
    products = {lone[w] for w in _THE_WORD.findall(lower) if w in lone and lone[w].startswith("product.")}
    return products | {lone[w] for w in _THE_PLAN.findall(lower) if w in lone and lone[w].startswith("plan.")}


@dataclass(frozen=True)
class Categories:
    """The catalogue's unique product categories (category_nouns): stemmed noun -> product key, and
    each stem -> the nouns holding it (so a message is matched against its own words' nouns, not
    every noun of a 10,000-entry catalogue)."""

    keys: dict[str, str]
    by_word: dict[str, tuple[str, ...]]
    # A noun several products end with ("laptop": both Voltbooks) -> their keys.
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def named(self, terms: Iterable[str]) -> set[str]:
        """The keys whose category is among ``terms``, every word of it: "can I pay by bank
        transfer" names no power bank."""
        stems = {stem(t) for t in terms}
        return {self.keys[n] for s in stems for n in self.by_word.get(s, ()) if set(n.split()) <= stems}

    def shared_named(self, terms: Iterable[str]) -> tuple[str, ...]:
        """The products of every shared noun among ``terms`` ("laptop": both Voltbooks)."""
        stems = {stem(t) for t in terms}
        return tuple(k for noun, keys in self.shared.items() if set(noun.split()) <= stems for k in keys)

    def model_named(self, terms: Iterable[str]) -> set[str]:
        """The product a shared noun and one of its model words name together: "the pro laptop" is
        the Voltbook Pro 15 ("pro" alone is the EchoBuds Pro's word too, "laptop" both Voltbooks')."""
        words = set(terms)
        stems = {stem(t) for t in words}
        found: set[str] = set()
        for noun, keys in self.shared.items():
            if not set(noun.split()) <= stems:
                continue
            holding = [k for k in keys if model_words(k) & words]
            found.update(holding if len(holding) == 1 else ())
        return found


def category_nouns(products: Iterable[tuple[str, str]]) -> Categories:
    """Each product's category, stemmed, where no other product has that category: the words
    ending its title after its key's ("PowerCell 20000 power bank" -> "power bank"), or the last
    word when the key holds them all ("Lumo Smart Bulb" -> "bulb"). "how much is one bulb" means
    the Lumo Smart Bulb, "the earbuds" the EchoBuds Pro; "laptop" and "phone" end two titles each
    and name neither. ``products``: (key, title)."""
    found: dict[str, list[str]] = {}
    for key, title in products:
        words = tokens(title)
        if not key.startswith("product.") or not words:
            continue
        tail: list[str] = []
        for word in reversed(words):
            if word in key_words(key):
                break
            tail.insert(0, word)
        found.setdefault(" ".join(stem(w) for w in tail or words[-1:]), []).append(key)
    holding: dict[str, list[str]] = {}
    for noun in found:
        for word in set(noun.split()):
            holding.setdefault(word, []).append(noun)

    def part_of_another(noun: str) -> bool:  # "router" is part of "mesh router": it names neither
        parts = set(noun.split())
        return any(parts < set(other.split()) for other in holding[noun.split()[0]])

    keys = {noun: k[0] for noun, k in found.items() if len(k) == 1 and not part_of_another(noun)}
    by_word: dict[str, list[str]] = {}
    for noun in keys:
        for word in set(noun.split()):
            by_word.setdefault(word, []).append(noun)
    shared = {noun: tuple(k) for noun, k in found.items() if len(k) > 1}
    return Categories(keys, {w: tuple(n) for w, n in by_word.items()}, shared)


def entity_vocabulary(keys: Iterable[str]) -> frozenset[str]:
    """Every entity name among ``keys``."""
    return frozenset(name for key in keys if (name := entity_of(key)) is not None)


@lru_cache(maxsize=16)
def by_initial(vocabulary: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """The words grouped by first letter (cached: a vocabulary lives as long as a knowledge revision)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(vocabulary):
        groups.setdefault(name[0], []).append(name)
    return {initial: tuple(names) for initial, names in groups.items()}


def normalise(words: Sequence[str], vocabulary: frozenset[str]) -> list[str]:
    """Join split names ("echo max") and correct near-miss names ("sheildguard") to the vocabulary."""
    out: list[str] = []
    i = 0
    while i < len(words):
        joined = words[i] + words[i + 1] if i + 1 < len(words) else ""
        if joined in vocabulary:
            out.append(joined)
            i += 2
            continue
        out.append(corrected(words[i], vocabulary))
        i += 1
    return out


@lru_cache(maxsize=8192)
def corrected(word: str, vocabulary: frozenset[str]) -> str:
    """``word``, or the name it is a near miss of. Cached: customers repeat the same words ("price",
    "battery"), and matching one against a 10,000-entry catalogue's names cost ~1 ms a message."""
    if word in vocabulary or len(word) < 5 or word.isdigit():
        return word
    # Only names of a similar length starting with the same letter: a typo rarely hits the
    # first letter, and scanning every name of a 10,000-entry catalogue cost ~40 ms a message.
    near = by_initial(vocabulary).get(word[0], ())
    close = difflib.get_close_matches(word, [n for n in near if abs(len(n) - len(word)) <= 2], 1, 0.8)
    return close[0] if close else word


def search_terms(text: str, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """The distinct content terms of ``text`` in order, names normalised, at most MAX_TERMS."""
    seen: dict[str, None] = {}
    for word in normalise(tokens(text), vocabulary):
        skipped = word in STOP_WORDS or word in LETTER_WORDS or word in CHAT_WORDS
        if not skipped and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


# Past this many terms a message is a letter, not a chat line: its greeting, its story and its
# sign-off outnumber the question's words and the relevance gates rejected it ("Dear Voltline team,
# ... could you kindly tell me what a single bulb costs? ... Margaret" retrieved nothing).
LONG_MESSAGE_TERMS = 12
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


def question_focus(message: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """What a long message asks: its questions, each with the sentence before it (where the letter
    says what it is about: "Our company would like 25 docks. Who should we contact?"), then the
    names the rest of it mentions. Short messages, and long ones that ask nothing with a "?", whole
    (a long story without a question must still look off-topic to the gates)."""
    if len(search_terms(message, vocabulary)) <= LONG_MESSAGE_TERMS:
        return message
    sentences = [s.strip() for s in _SENTENCES.split(message) if s.strip()]
    kept = [
        i
        for i, s in enumerate(sentences)
        if s.endswith("?") or (i + 1 < len(sentences) and sentences[i + 1].endswith("?"))
    ]
    if not any(sentences[i].endswith("?") for i in kept):
        return message
    focus = " ".join(sentences[i] for i in kept)
    names = [t for t in search_terms(message, vocabulary) if t in vocabulary]
    missing = [t for t in names if t not in search_terms(focus, vocabulary)]
    return " ".join([focus, *missing])


_NEW_TOPIC = re.compile(
    r"\b(?:different|another|other|new|separate|unrelated) (?:question|topic|thing)\b|\bunrelated\b"
    r"|\bchanging (?:the )?(?:subject|topic)\b|\bon another note\b",
    re.IGNORECASE,
)


def conversation_query(
    message: str,
    recent_customer_turns: Sequence[str],
    vocabulary: frozenset[str],
    own_model: frozenset[str] = frozenset(),
) -> str:
    """The text to search for: the message, plus context from earlier turns when it needs it.

    A follow-up like "and how much is it?" names nothing; the product the customer talked about
    a turn or two ago is what "it" means. So names from the most recent earlier turn that has
    one are carried over when the message has none, and a very short message also takes the
    previous turn's terms. Older turns never outweigh the message itself.

    ``own_model``: the catalogue's model words, given when the message names a model itself ("and
    what about the air" after "how much ram does the pro 15 have"): the previous turn's model words
    stay behind then (its "pro 15" outranked the Air), its other words ("ram") still come along.
    """
    message = question_focus(message, vocabulary)
    terms = search_terms(message, vocabulary)
    extra: list[str] = []
    if _NEW_TOPIC.search(message):  # "cool. different question - what ways can i pay"
        return message.strip()
    if not any(t in vocabulary for t in terms):
        for turn in reversed(recent_customer_turns):
            names = [t for t in search_terms(turn, vocabulary) if t in vocabulary]
            if names:
                extra += names
                break
    if len(terms) <= 2 and recent_customer_turns:
        earlier = search_terms(recent_customer_turns[-1], vocabulary)
        extra += [t for t in earlier if t not in own_model and not (own_model and t in vocabulary)]
    extra = [t for t in dict.fromkeys(extra) if t not in terms]
    return " ".join([message.strip(), *extra]) if extra else message.strip()


def stem(word: str) -> str:
    """A crude suffix strip, enough to tell which query terms an entry contains (the FTS engines stem)."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + repl
    return word


def term_patterns(terms: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    """One regex per term: a word starting with its first 5 letters, or the short word itself.

    Compiled once per query and run over each candidate in C, since a per-word Python stemmer over
    30 candidates cost more than the database search itself.
    """
    out = []
    for term in terms:
        s = stem(term)
        body = re.escape(s[:5]) if len(s) >= 5 else re.escape(s) + r"(?:s|es|ed|ing)?\b"
        out.append((term, re.compile(r"\b" + body)))
    return out


def matched_terms(patterns: Sequence[tuple[str, re.Pattern[str]]], text: str) -> set[str]:
    """The terms whose pattern occurs in ``text`` (lower-cased)."""
    lowered = text.lower()
    return {term for term, pattern in patterns if pattern.search(lowered)}


# Words that say which kind of entry a question wants: a price question wants the product or plan
# itself, a how-to question the help article, even when both name the same product.
KIND_CUES: dict[str, frozenset[str]] = {
    "product": frozenset("price prices cost costs much cheap cheapest expensive pricing stock buy".split()),
    "plan": frozenset("price prices cost costs much cheap cheapest expensive pricing plan plans".split()),
    "article": frozenset(
        "setup set install pair connect reset update restore fix change turn add move transfer "
        # "what do i need to do before updating the software on my nova x2": the task, inflected (not
        # "changing": "colour changing bulbs" is a feature).
        "setting installing pairing connecting resetting updating restoring fixing adding "
        "moving transferring upgrade upgrading downgrade "
        "working offline broke broken cant find steps "
        # A fault described rather than a task named: "left earbud has gone silent", "bulb wont show up".
        "silent wont dead stopped keeps problem issue error doesnt disconnects dropping stuck frozen".split()
    ),
    # The store's rules: "my nova x2 screen cracked, is that covered under the warranty?" asks the
    # warranty policy about a product, not the product's card.
    "policy": frozenset(
        "warranty guarantee covered refund refunds refunded return returns returning shipping delivery "
        "postage cancel cancellation damaged crushed privacy payment".split()  # not "cancelling": noise
    ),
    # Reaching the store: "the e-mail address to which I may send written correspondence" wants the
    # support email, not the how-to-change-your-email article (PostgreSQL ranked that first).
    "contact": frozenset("contact correspondence write reach hotline".split()),
}


# Words that compare ("echobuds or echomax, which lasts longer?"); app.knowledge.comparison quotes
# the compared entries. Not "and": "the x2 and the lite" is as often two questions as a comparison.
COMPARING_WORDS = frozenset(
    "vs versus or difference differences differ different compare compared comparison which better "
    "worse cheaper dearer pricier more less than each both between bigger smaller longer shorter".split()
)


def asks_how(text: str) -> bool:
    """True if ``text`` asks how to do something ("how do I", "how to", "how can I")."""
    words = tokens(text)
    return any(a == "how" and b in ("do", "to", "can") for a, b in zip(words, words[1:], strict=False))


def wanted_kinds(text: str, names: frozenset[str] = frozenset()) -> set[str]:
    """The kinds of entry the wording of ``text`` points at (see KIND_CUES); "how do/to" means
    article; two of the catalogue's ``names`` with a comparing word mean product and plan: on
    PostgreSQL "echobuds or echomax, which lasts longer?" ranked both brands' pairing guides above
    the EchoMax's own entry, so the comparison could quote only one product."""
    words = tokens(text)
    kinds = {kind for kind, cues in KIND_CUES.items() if cues.intersection(words)}
    if asks_how(text):
        kinds.add("article")
    if COMPARING_WORDS.intersection(words) and len(names.intersection(normalise(words, names))) >= 2:
        kinds |= CATALOGUE_KINDS
    return kinds
