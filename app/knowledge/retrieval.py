"""Retrieval per message: full-text search over the live entries, product names boosted, a relevance floor.

PostgreSQL ranks with ``ts_rank`` over the weighted tsvector (title A, keywords B, text C) that
migration 0002 keeps in a GIN index; SQLite ranks with FTS5's ``bm25`` over the same three columns.
Both read the database on every call, so an operator's edit is what the very next reply sees on
every node. Each backend's score is squashed to 0..1 so one relevance floor per backend decides
when nothing relevant was found: then no facts go into the prompt and the gap report counts it.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

from sqlalchemy.orm import Session

from adapters.grounding import FactSnippet
from app.knowledge.fulltext import best_matches, dialect_of, index_scans
from app.knowledge.query import (
    CATALOGUE_KINDS,
    COMPARING_WORDS,
    KIND_CUES,
    asks_how,
    conversation_query,
    designates,
    key_words,
    matched_terms,
    model_words,
    search_terms,
    term_patterns,
    the_designated,
    tokens,
    wanted_kinds,
)
from app.knowledge.snapshot import Snapshot, snapshot
from app.knowledge.spelling import respelt
from app.knowledge.synonyms import concept_groups, expanded_terms, expansions, rephrased

DEFAULT_K = 4
CANDIDATES = 30  # ranked by the database, re-scored here with the name boost
# One matched name is worth more than any text score (< 1), so "EchoMax ..." ranks EchoMax first;
# each further matched word of the key ("pro", "15") breaks ties between a family's members.
NAME_BONUS = 1.0
KEY_WORD_BONUS = 0.25
# Price wording favours products/plans, how-to wording help articles (query.KIND_CUES).
KIND_BONUS = 0.2
# Policy wording beside a named product ("my nova x2 cracked, is that covered under the warranty?"):
# the rule asked about ranks beside the product it is asked for, not below its name bonus.
# Level with the product's name, so a question about both ("echomax price and return policy") keeps both.
POLICY_BONUS = NAME_BONUS
# A policy whose title holds the message's policy word is the one asked about: "how long do i have
# to return it" ranked shipping ("how long" is its keyword) and refunds ("receive the item") level
# with the returns policy, and the quote took shipping. Less than a kind's bonus: it breaks ties.
TOPIC_BONUS = 0.1
# Deal words that ask about an offer beside a named product ("does the student discount also work
# on phones? want the x2", "where do i find the code for the free antivirus with my voltbook"): an
# offer holding one ranks level with the product, as a policy asked about does. Not "free": "is
# shipping free for the x2" asks no offer.
DEAL_WORDS = frozenset(
    "discount discounts deal deals offer offers promo promotion code coupon voucher bundle".split()
)
# When fewer than half of a question's terms occur in any entry, the question is about
# something the store does not cover ("write me a poem about love" shares only "write").
MIN_KNOWN_SHARE = 0.5
# Scoring cost grows with the entries a term occurs in: the rarest terms (which carry the meaning)
# are searched first and common ones are added while their postings fit this budget. On a small
# base every term fits; at 10,000 entries this keeps "price" or "battery" from scoring thousands.
POSTINGS_BUDGET = 2000
# Below these squashed scores a text-only match is noise (e.g. one common word). Chosen on the
# labelled set in app/knowledge/eval/ (see docs/benchmarks/retrieval/).
# A hit found by text alone must also contain this share of the question's terms that some entry
# holds ("saying", "since", "yesterday" in "camera keeps saying offline since yesterday" are no
# entry's words: counted, they kept the HomeCam-offline guide out).
MIN_HIT_SHARE = 0.3
# ... of at most this many terms: in a 12-term letter an entry holding 3 of its words ("purchase",
# "contact", "quotation") is the answer, not noise. The message as a whole still passes
# MIN_KNOWN_SHARE over all its terms, so a long off-topic story stays rejected.
HIT_SHARE_TERMS = 8
# An entry holding this many of the message's own words is a match whatever the backend's score:
# PostgreSQL's ts_rank gave the business-sales contact 0.11 (floor 0.12) for a 9-term letter
# asking whom to contact for a quote on 12 laptops.
FLOOR_WAIVED_AT = 3
RELEVANCE_FLOOR = {"postgresql": 0.12, "sqlite": 0.30}
# A hit scoring more than this below the best one is a distractor, not a second answer: a 135M model
# picks the wrong one of four similar help articles far more often than of one or two, so the prompt
# carries only the entries that score close to the best (two named products of a comparison both do).
# 0.3 is the largest gap that loses no relevant entry on the labelled retrieval set
# (app/knowledge/eval/questions.jsonl: 3.6 -> 2.5 facts a question, recall unchanged).
SCORE_GAP = 0.3
# Words that compare the models a shared noun names ("which of your two phones", "difference between
# the laptops"); not "cheaper": "it's cheaper on your site now" is about one laptop.
SET_COMPARING = frozenset(
    "vs versus difference differences differ compare compared comparison both between two".split()
)


@dataclass(frozen=True)
class Hit:
    """One retrieved entry at the version that was read, with its score (higher is better)."""

    key: str
    version: int
    title: str
    text: str
    kind: str
    score: float
    named: bool = False  # the query names this entry (its product/plan name), not only its words
    coverage: float = 0.0  # share of the query's terms the entry contains (a term or its synonyms)


def searched_terms(terms: Sequence[str], counts: Sequence[int], names: frozenset[str]) -> list[str]:
    """The terms worth scoring: names and the two rarest always, more while POSTINGS_BUDGET allows."""
    kept: set[str] = set()
    postings = 0
    for count, term in sorted(zip(counts, terms, strict=True)):
        if count == 0:
            continue
        if term in names or len(kept) < 2 or postings + count <= POSTINGS_BUDGET:
            kept.add(term)
            postings += count
    return [t for t in terms if t in kept]


def respell_unknown(
    groups: dict[str, tuple[str, ...]], counts: dict[str, int], words: frozenset[str]
) -> bool:
    """Add to each term no entry holds (nor any of its expansions) the known word it is a misspelling
    of, with that word's expansions ("garantee" -> guarantee, warranty), in place; True if any was."""
    changed = False
    for term, group in groups.items():
        if any(counts.get(w, 0) for w in group):
            continue
        fixed = respelt(term, words)
        if fixed is not None:
            groups[term] = tuple(dict.fromkeys((*group, fixed, *expansions(fixed))))
            changed = True
    return changed


def task_bonus(bonus: float, covered: int, asked: int, general: bool) -> float:
    """A help article's name bonus for a how-to naming a product: none for the brand's guide to
    another task ("how do i start a return for my echobuds" named the EchoBuds reset guide, which
    holds neither "start" nor "return"), and one name's worth for a ``general`` guide (naming no
    brand: the returns guide) holding more than half the task's words. Another brand's guide gets
    none: "how do i put the echomax in pairing mode" is not the EchoBuds pairing guide."""
    if covered == 0:
        return 0.0
    return max(bonus, NAME_BONUS) if general and 2 * covered > asked else bonus


def name_bonus(
    key: str,
    heading: set[str],
    terms: Sequence[str],
    vocabulary: frozenset[str],
    designated: Set[str] = frozenset(),
) -> float:
    """How strongly the query names this entry: a product/plan name in its key, title or keywords
    (a mention in the text, like a bundle offer's, does not count), then its key's other words.
    ``designated``: keys the query calls "the <model word>" (query.the_designated)."""
    words = key_words(key)
    named = {t for t in heading | (words & set(terms)) if t in vocabulary}
    # "pro 15", "the air": worth one name, its other words none
    if not named and (designates(key, terms) or key in designated):
        return NAME_BONUS
    if not named:
        return 0.0
    other = {t for t in terms if t in words} - named
    return NAME_BONUS * len(named) + KEY_WORD_BONUS * len(other)


def retrieve(session: Session, query: str, k: int = DEFAULT_K, view: Snapshot | None = None) -> list[Hit]:
    """The top ``k`` live entries for ``query`` (customer text, any shape), best first; [] if none fit.

    ``view`` is the knowledge revision's snapshot when the caller has read it already.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    view = view or snapshot(session)
    vocabulary = view.names
    query = rephrased(query)  # "send it back" -> "return it" (app.knowledge.synonyms.PHRASES)
    terms = search_terms(query, vocabulary)
    if not terms:
        return []
    # Everyday words bring the store's own along (app.knowledge.synonyms); the gates below count
    # the customer's terms, each found when it or one of its expansions is.
    groups = concept_groups(terms)
    words = expanded_terms(groups)
    floor = RELEVANCE_FLOOR.get(dialect_of(session), 0.0)
    with index_scans(session) as scans:
        counts = view.term_counts(session, words, cap=POSTINGS_BUDGET // 2)
        if respell_unknown(groups, dict(zip(words, counts, strict=True)), view.words(session)):
            words = expanded_terms(groups)
            counts = view.term_counts(session, words, cap=POSTINGS_BUDGET // 2)
        in_base = {w for w, c in zip(words, counts, strict=True) if c > 0}
        known = sum(1 for t in terms if in_base.intersection(groups[t]))
        nouns = view.category_nouns(session)
        # With their synonyms: "indoor security cam" names the "indoor security camera".
        noun_named = nouns.named(words)
        # A category noun names a product as a brand does ("camera keeps saying offline ..."): the
        # message is about the store's catalogue, whatever share of its words is chat.
        # "the pro laptop": a noun two products share and the model word of one of them.
        designated = the_designated(query, view.lone_models(session)) | nouns.model_named(words)
        named = bool(noun_named or designated) or any(t in vocabulary for t in terms)
        # "how much ram does the laptop have? i edit 4k in premiere and mine chokes": a noun of
        # several products names none, but the message is about the catalogue.
        about_catalogue = named or bool(nouns.shared_named(words))
        if known == 0 or (not about_catalogue and known < MIN_KNOWN_SHARE * len(terms)):
            return []
        matches = best_matches(session, searched_terms(words, counts, vocabulary), CANDIDATES, scans)
    kinds = wanted_kinds(query, vocabulary)
    names_any = named or any(designates(m.key, terms) for m in matches)
    said = set(tokens(query))
    comparing = bool(COMPARING_WORDS & said)
    if SET_COMPARING & said:  # "the price difference between your two laptops"
        noun_named |= set(nouns.shared_named(words))
    # "earbuds vs the over-ear headphones": two categories compared rank like two names.
    nouns_compared = len(noun_named) >= 2 and comparing
    # A how-to about a named product: its words besides the names say which guide it wants.
    task_words = [t for t in terms if t not in vocabulary] if "article" in kinds else []
    # A message of 4+ terms needs two of them in a hit: "who won the football match last night"
    # shares one word each with three entries (match, last, night).
    needed = max(MIN_HIT_SHARE * min(known, HIT_SHARE_TERMS), 2 if len(terms) >= 4 else 0)
    how_to_not_asked = not asks_how(query)  # "how do I claim the warranty on my echomax": the guide
    # With expansions and respellings ("refnd" -> refund).
    policy_words = {w for t in terms if KIND_CUES["policy"].intersection(groups[t]) for w in groups[t]}
    deal_words = {w for t in terms if t in DEAL_WORDS for w in groups[t]}
    task_groups = {w for t in task_words for w in groups[t]}
    patterns = term_patterns(words)
    scored: list[Hit] = []
    for m in matches:
        heading = matched_terms(patterns, f"{m.title} {' '.join(m.keywords)}")
        found = heading | matched_terms(patterns, m.text)
        covered = sum(1 for t in terms if found.intersection(groups[t]))
        bonus = name_bonus(m.key, heading, terms, vocabulary, designated)
        if bonus == 0 and m.kind in CATALOGUE_KINDS and _titled_whole(m.title, said):
            bonus = NAME_BONUS  # "the current price of the Voltline USB-C Dock": named by its title
        if m.kind == "article" and task_words and names_any:
            done = sum(1 for t in task_words if found.intersection(groups[t]))
            general = not vocabulary.intersection(tokens(f"{m.title} {' '.join(m.keywords)}"))
            bonus = task_bonus(bonus, done, len(task_words), general)
        bonus += NAME_BONUS if m.key in noun_named and nouns_compared else 0.0
        # A policy asked about for a named product ("is my nova x2 covered?"): the product's words
        # are most of the message, so the policy needs only one of the message's policy words.
        policy_asked = m.kind == "policy" and names_any and how_to_not_asked and bool(policy_words & found)
        policy_asked |= m.kind == "offer" and names_any and bool(deal_words & found)
        # "we want 30 voltbooks for our school, who do i contact": whom to reach, beside the name.
        policy_asked |= m.kind == "contact" and names_any and "contact" in kinds and covered >= 2
        # Its title holds the message's policy word: it stays however few of the other words it
        # holds ("has my refund gone through yet? you got the parcel on monday": Refunds, 1 of 6).
        in_title = matched_terms(patterns, m.title)
        titled = m.kind == "policy" and bool(policy_words & in_title)
        # Of a named product's guides, the one whose title names the task ("connect" -> pair: "Pair
        # EchoBuds Pro with a phone") before one that only mentions it ("Reset EchoBuds Pro ... when
        # they will not connect"). Naming nothing, a title word is often the object, not the task
        # ("how can I email support?" is not "Change your email address").
        titled |= m.kind == "article" and names_any and bool(task_groups & in_title)
        below_floor = m.score < floor and covered < FLOOR_WAIVED_AT
        weak = below_floor or covered < needed
        # Named by its category noun, it stays however few of the words it holds: "bulbs r how much
        # each? want to do my whole living room" kept nothing (the bulb held 1 of 5 terms).
        if bonus == 0 and not policy_asked and not titled and weak and m.key not in noun_named:
            continue
        # Named by its category noun ("one bulb"): no bonus (it does not reorder), but the quote and
        # the refusal ban treat it as named.
        named_entry = bonus > 0 or m.key in noun_named
        bonus += KIND_BONUS if m.kind in kinds else 0.0
        bonus += POLICY_BONUS if policy_asked else 0.0
        bonus += TOPIC_BONUS if titled else 0.0
        share = round(covered / len(terms), 4)
        scored.append(
            Hit(m.key, m.version, m.title, m.text, m.kind, round(m.score + bonus, 4), named_entry, share)
        )
    scored.sort(key=lambda h: (-h.score, h.key))
    if scored:
        floor_score = scored[0].score - SCORE_GAP
        # In a comparison each side stays, however the name bonus ranked the other, when named by a
        # model word ("mini router or the ax3000"); named by its category it always stays ("mesh
        # router vs the mini", "how many times will the power bank fill up my nova x2").
        kept = [h for h in scored if h.key in noun_named or (comparing and _model_word_in(h, terms))]
        scored = [h for h in scored if h.score >= floor_score or h in kept]
    return scored[:k]


def _titled_whole(title: str, said: set[str]) -> bool:
    """True if the message holds every word of a title of two words or more (the store's own
    products, "Voltline USB-C Dock", have no brand for the name bonus to find)."""
    words = set(tokens(title))
    return len(words) >= 2 and words <= said


def _model_word_in(hit: Hit, terms: Sequence[str]) -> bool:
    """True if a product/plan's own model word is among the terms ("mini router or the ax3000"): in a
    comparison it stays beside the other, however the name bonus ranked that one."""
    if hit.kind not in CATALOGUE_KINDS:
        return False
    return bool(model_words(hit.key) & set(terms))


def retrieve_for_message(
    session: Session,
    message: str,
    recent_customer_turns: Sequence[str] = (),
    k: int = DEFAULT_K,
    view: Snapshot | None = None,
) -> tuple[str, list[Hit]]:
    """What the chat path calls per reply: the query it searched (message + context) and the hits."""
    view = view or snapshot(session)
    models = view.model_vocabulary(session)
    # The message names a model itself ("the air", "pro 15", "x2"): the earlier turn's stays behind.
    terms = set(search_terms(message, view.names))
    own = (
        bool(the_designated(message, view.lone_models(session)))
        or _designates_any(terms, view, session)
        or _names_sibling(terms & models, recent_customer_turns, view, session)
    )
    query = conversation_query(message, recent_customer_turns, view.names, models if own else frozenset())
    return query, retrieve(session, query, k, view)


def _names_sibling(own: set[str], turns: Sequence[str], view: Snapshot, session: Session) -> bool:
    """True if the message's model words ``own`` hold one of another model of the family the
    previous named turn was about ("how big is the ssd in the voltbook air" / "and in the pro?":
    "pro" alone is the EchoBuds' word too, but of the Voltbooks only the Pro 15's)."""
    for turn in reversed(turns):
        earlier = set(search_terms(turn, view.names))
        brands = earlier & view.names
        if brands:
            family = [item for b in brands for item in view.catalogue(session).get(b, [])]
            return any(model_words(item.key) & (own - earlier) for item in family)
    return False


def _designates_any(terms: set[str], view: Snapshot, session: Session) -> bool:
    """True if the message's search terms hold some product's or plan's designation ("pro 15", "x2")."""
    index = view.designated_models(session)
    return any(words <= terms for t in terms for words in index.get(t, ()))


def hits_to_snippets(hits: Sequence[Hit]) -> list[FactSnippet]:
    """The hits as the grounded prompt's facts (adapters.grounding), in rank order."""
    return [FactSnippet(h.key, h.title, h.text) for h in hits]
