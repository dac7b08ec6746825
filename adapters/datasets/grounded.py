"""Grounded chat examples: the system turn carries retrieved facts, the reply states the right one briefly.

Each example shows the model what serving shows it (adapters/grounding.py): the intent's system
prompt, then 2-4 numbered facts — the entry that answers the question plus distractors (other
products, plans, policies), in shuffled positions — and a reply of 1-3 sentences cut from the right
entry's own text, so no reply ever holds a number the facts lack. Questions the facts cannot answer
(the customer's own order, products the store does not sell, off-topic asks, and now and then a
question whose entry was not retrieved) get a short "I don't know that" with a way to reach a person
taken from the facts, or "type 'talk to a person'" when no contact is among them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from adapters.datasets import grounded_questions as Q
from adapters.datasets.knowledge import Entry, Product, parse_product
from adapters.datasets.noise import vary
from adapters.examples import SYSTEM_PROMPTS, ChatExample
from adapters.grounding import FactSnippet, grounded_system_prompt

SOURCE = "voltline-grounded"
FACT_CHARS = 700  # facts block budget per example: keeps prompt + reply near 300 tokens (CPU time)
# Retrieval ranks the answering entry first ~93 % of the time at serving, so most examples put it
# first; the rest stay shuffled so the model still reads past the first line.
FIRST_SHARE = 0.75
OTHER_DOMAIN_SHARE = 0.35  # each adapter also learns to read the other intents' facts (routing errs)
MISSING_SHARE = 0.08  # answerable questions shown without their entry: the reply must not guess
ACCOUNT_ARTICLES = {
    "article.reset-password",
    "article.change-email",
    "article.two-factor",
    "article.download-invoice",
    "article.track-order",
    "article.start-return",
    "article.cancel-order",
    "article.cancel-subscription",
    "article.update-payment",
    "article.change-address",
    "article.delete-account",
    "article.warranty-claim",
}
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    """Content-word stems (first 4 letters of words longer than 2) for matching a question to sentences."""
    return {w[:4] for w in _WORD.findall(text.lower()) if len(w) > 2}


def short_name(name: str) -> str:
    """What a customer types for a name: 'Voltbook Pro 15' -> 'pro 15', 'EchoMax ANC' -> 'echomax'."""
    parts = name.split()
    if len(parts) >= 3:
        return " ".join(parts[1:]).lower()
    return parts[0].lower()


def pick_facts(
    right: Sequence[Entry],
    pool: Sequence[Entry],
    rng: random.Random,
    prefer: Sequence[Entry] = (),
    keep_order: bool = False,
) -> list[Entry]:
    """The right entries plus 1-3 distractors (``prefer`` first, then same kind), within FACT_CHARS.

    FIRST_SHARE of the time the right entries lead (in their given order with ``keep_order``, else
    shuffled among themselves); otherwise every position is shuffled. ``prefer`` holds the
    distractors retrieval would bring along (a help article next to a policy, say).
    """
    chosen = list(right)
    keys = {e.key for e in chosen}
    kinds = {e.kind for e in chosen}
    liked = [e for e in prefer if e.key not in keys]
    same = [e for e in pool if e.kind in kinds and e.key not in keys]
    other = [e for e in pool if e.kind not in kinds]
    want = rng.randint(1, 3)
    for i in range(want):
        if liked and i == 0 and rng.random() < 0.7:
            cand = rng.choice(liked)
        else:
            source = same if same and rng.random() < 0.6 else other
            if not source:
                break
            cand = rng.choice(source)
        if cand.key in keys or sum(len(e.text) for e in chosen) + len(cand.text) > FACT_CHARS:
            continue
        chosen.append(cand)
        keys.add(cand.key)
    head, rest = chosen[: len(right)], chosen[len(right) :]
    rng.shuffle(rest)
    if rng.random() < FIRST_SHARE:
        if not keep_order:
            rng.shuffle(head)
        return head + rest
    rng.shuffle(chosen)
    return chosen


def related(entry: Entry, text: str, candidates: Sequence[Entry], n: int = 2) -> list[Entry]:
    """The ``n`` candidates sharing most words with the entry's keywords and ``text``: likely co-hits."""
    want = words(" ".join(entry.keywords) + " " + text)
    scored = [(len(want & words(c.title + " " + " ".join(c.keywords))), c.key, c) for c in candidates]
    scored = [t for t in scored if t[0] > 0 and t[1] != entry.key]
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [c for _, _, c in scored[:n]]


def handoff(facts: Sequence[Entry]) -> str:
    """How to reach a person, stated only from contact facts that are present (no invented numbers)."""
    keys = {e.key for e in facts}
    if "contact.phone" in keys:
        return (
            "To talk to a person, call 0800 555 0142 (Monday to Saturday, 8:00-20:00 CET) "
            "or type 'talk to a person'."
        )
    if "contact.live-chat" in keys:
        return (
            "To talk to a person, use the Live Chat button at the bottom of every page "
            "or type 'talk to a person'."
        )
    if "contact.email" in keys:
        return "You can write to help@voltline.example, or type 'talk to a person' to reach our team."
    return "Type 'talk to a person' and someone from our team will help you."


def best_sentences(entry: Entry, question: str) -> str:
    """The entry's sentence sharing most words with the question (+ the next one if it is short)."""
    sentences = entry.sentences()
    q = words(question)
    scores = [len(q & words(s)) for s in sentences]
    i = max(range(len(sentences)), key=lambda j: (scores[j], -j))
    out = sentences[i]
    if len(out) < 90 and i + 1 < len(sentences):
        out = f"{out} {sentences[i + 1]}"
    return out


def dollars(price: str) -> float:
    """The first dollar amount of a price string ('$1,499' -> 1499.0)."""
    match = re.search(r"\$([\d,]+(?:\.\d+)?)", price)
    if match is None:
        raise ValueError(f"no dollar amount in {price!r}")
    return float(match.group(1).replace(",", ""))


class Builder:
    """Makes the examples of every kind; one seeded RNG so the output is deterministic."""

    def __init__(self, entries: Sequence[Entry], seed: int) -> None:
        self.entries = list(entries)
        self.by_key = {e.key: e for e in self.entries}
        self.rng = random.Random(seed)
        self.products = [parse_product(e) for e in self.entries if e.kind == "product"]
        self.articles = [e for e in self.entries if e.kind == "article"]
        self.policies = [e for e in self.entries if e.kind in ("policy", "contact", "offer")]
        self.out: list[tuple[str, ChatExample]] = []  # (domain, example with the default intent)

    def add(
        self,
        domain: str,
        group: str,
        user: str,
        facts: Sequence[Entry],
        reply: str,
        history: tuple[tuple[str, str], ...] = (),
        noisy: bool = True,
        note: FactSnippet | None = None,
    ) -> None:
        text = vary(user, self.rng, 0.5) if noisy and self.rng.random() < 0.6 else user
        snippets = ([note] if note else []) + [e.snippet() for e in facts]
        system = grounded_system_prompt(SYSTEM_PROMPTS[domain], snippets)
        example = ChatExample(domain, text, reply, SOURCE, f"grounded:{group}", system, history)
        self.out.append((domain, example))

    def answered(
        self,
        domain: str,
        group: str,
        user: str,
        right: Sequence[Entry],
        reply: str,
        prefer: Sequence[Entry] = (),
    ) -> None:
        """An answerable question; MISSING_SHARE of the time its entry is left out and the reply says so."""
        pool = [e for e in self.entries if e.key not in {r.key for r in right}]
        if self.rng.random() < MISSING_SHARE:
            facts = pick_facts([self.rng.choice(pool)], pool, self.rng)
            self.add(
                domain,
                group,
                user,
                facts,
                f"I don't know that — it is not in the facts I have. {handoff(facts)}",
            )
            return
        self.add(domain, group, user, pick_facts(right, pool, self.rng, prefer), reply)

    def product_replies(self, p: Product) -> dict[str, str]:
        stock = "in stock" if p.stock == "in stock" else p.stock
        return {
            "price": f"The {p.name} is {p.price}." + (f" It's {stock}." if self.rng.random() < 0.4 else ""),
            "stock": (
                f"Yes, the {p.name} is in stock ({p.price})."
                if p.stock == "in stock"
                else f"The {p.name} is {p.stock}."
            ),
            "spec": f"The {p.name} ({p.price}): {p.specs}.",
        }

    def products_block(self) -> None:
        for p in self.products:
            fill = {"name": p.name, "short": short_name(p.name)}
            for kind, templates in (
                ("price", Q.PRODUCT_PRICE),
                ("stock", Q.PRODUCT_STOCK),
                ("spec", Q.PRODUCT_SPEC),
            ):
                for t_index, template in enumerate(templates):
                    reply = self.product_replies(p)[kind]
                    self.answered("sales", f"{kind}:{t_index}", template.format(**fill), [p.entry], reply)

    def plans_block(self) -> None:
        for e in self.entries:
            if e.kind != "plan":
                continue
            name = e.text.split(":")[0] if e.key.count("-") else e.title.split()[0]
            templates: tuple[str, ...]
            if e.key.count("-"):  # one plan: "ShieldGuard Plus: $49.99/year, ..."
                first, *rest = e.body().split(". ")
                reply = f"{name} is {first.rstrip('.')}."
                if rest and self.rng.random() < 0.4:
                    reply += f" {rest[0].rstrip('.')}."
                templates, domain = Q.PLAN, "sales"
            else:  # the service overview: its "Plans: ..." sentence and the trial sentence
                sentences = e.sentences()
                reply = " ".join(s for s in sentences[1:3])
                templates, domain = Q.SERVICE, "sales"
            fill = {"name": name, "short": name.lower()}
            for t_index, template in enumerate(templates):
                self.answered(domain, f"plan:{t_index}", template.format(**fill), [e], reply)

    def entries_block(self) -> None:
        for key, questions in Q.ENTRY_QUESTIONS.items():
            entry = self.by_key[key]
            domain = "sales" if entry.kind == "offer" else "general"
            for q_index, question in enumerate(questions):
                # Retrieval brings the help article on the same topic along; the reply states the
                # policy sentence, not the article's steps.
                near = related(entry, question, self.articles)
                for _ in range(2):
                    self.answered(
                        domain, f"{key}:{q_index}", question, [entry], best_sentences(entry, question), near
                    )

    def articles_block(self) -> None:
        for e in self.entries:
            if e.kind != "article":
                continue
            domain = "general" if e.key in ACCOUNT_ARTICLES else "tech_support"
            task = e.title[0].lower() + e.title[1:]
            task = re.sub(r"\byour\b", "my", task)
            reply = f"Here's how: {e.text}"
            near = related(e, e.title, self.policies)
            for t_index, template in enumerate(Q.ARTICLE):
                self.answered(domain, f"article:{t_index}", template.format(task=task), [e], reply, near)
            for k_index, kw in enumerate(e.keywords[:4]):
                template = Q.ARTICLE_KEYWORD[k_index % len(Q.ARTICLE_KEYWORD)]
                user = template.format(kw=kw)
                self.answered(domain, f"article-kw:{e.key}:{k_index}", user, [e], reply, near)
