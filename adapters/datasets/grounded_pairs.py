"""Two-fact grounded examples: comparisons (two products or plans asked together) and follow-ups.

The committed adapters stated only one of the two facts a comparison needs, and answered a follow-up
("and the Mini?") about the product of the earlier turn. Here the reply of a comparison states both
entries' facts in the order asked, and a follow-up's reply answers the last message, with the earlier
turns in the prompt and both entries among the facts (retrieval searches the earlier turns too).
"""

from __future__ import annotations

import re
from itertools import permutations

from adapters.datasets import grounded_pairs_questions as P
from adapters.datasets import grounded_questions as Q
from adapters.datasets.grounded import (
    Builder,
    best_sentences,
    dollars,
    pick_facts,
    related,
    short_name,
)
from adapters.datasets.knowledge import Entry, Product

CROSS_PAIRS = 30  # ordered pairs of products from different families, on top of every same-family pair
_WARRANTY = re.compile(r"\d+-year warranty")


def family(p: Product) -> str:
    """Products of one family share the first four letters of their key ('voltbook', 'echobuds'/'echomax')."""
    return p.entry.key.removeprefix("product.")[:4]


def short_specs(p: Product, parts: int = 3) -> str:
    """The first few comma-separated specs: enough to tell two products apart in one line."""
    return ", ".join(p.specs.split(". ")[0].split(", ")[:parts])


def stock_phrase(p: Product) -> str:
    return "in stock" if p.stock == "in stock" else p.stock


def pair_reply(kind: str, a: Product, b: Product, coin: float) -> str:
    """Both facts, in the order asked."""
    if kind == "price":
        reply = f"The {a.name} is {a.price} and the {b.name} is {b.price}."
        if coin < 0.5:
            cheaper = a if dollars(a.price) < dollars(b.price) else b
            reply += f" The {cheaper.name} is the cheaper one."
        return reply
    if kind == "spec":
        return f"The {a.name} ({a.price}): {short_specs(a)}. The {b.name} ({b.price}): {short_specs(b)}."
    if a.stock == "in stock" and b.stock == "in stock":
        return f"Yes, both are in stock: the {a.name} ({a.price}) and the {b.name} ({b.price})."
    return f"The {a.name} is {stock_phrase(a)}, and the {b.name} is {stock_phrase(b)}."


def single_reply(kind: str, p: Product, coin: float) -> str:
    """One product's fact, as the follow-up asked it."""
    if kind == "price":
        return f"The {p.name} is {p.price}." + (f" It's {stock_phrase(p)}." if coin < 0.4 else "")
    if kind == "stock":
        if p.stock == "in stock":
            return f"Yes, the {p.name} is in stock ({p.price})."
        return f"The {p.name} is {p.stock}."
    if kind == "warranty":
        match = _WARRANTY.search(p.entry.text)
        return f"The {p.name} comes with a {match.group(0)}." if match else f"The {p.name} ({p.price})."
    return f"The {p.name} ({p.price}): {p.specs}."


def plan_name(e: Entry) -> str:
    return e.text.split(":")[0]  # "ShieldGuard Plus: $49.99/year, ..." -> "ShieldGuard Plus"


def plan_line(e: Entry) -> str:
    """'ShieldGuard Plus is $49.99/year, protects 5 devices, includes VPN and password manager.'"""
    return f"{plan_name(e)} is {e.body().split('. ')[0].rstrip('.')}."


def overview_tiers(e: Entry) -> dict[str, str]:
    """A service overview's 'Plans: Basic $29.99/year (...), Plus ...' sentence, per tier name."""
    sentence = next((s for s in e.sentences() if s.startswith("Plans: ")), "")
    items = [
        i if i.endswith(")") else i + ")" for i in sentence.removeprefix("Plans: ").rstrip(".").split("), ")
    ]
    return {i.split()[0]: i for i in items if i.strip(")")}


def sentence_with(entry: Entry, needle: str) -> str:
    """The sentence holding ``needle``: the follow-up's answer, chosen when the phrasing was written."""
    for sentence in entry.sentences():
        if needle in sentence:
            return sentence
    raise ValueError(f"{entry.key}: no sentence contains {needle!r}")


class PairBlocks:
    """Adds the comparison and follow-up examples to a Builder (same RNG, same output list)."""

    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.rng = builder.rng

    def product_pairs(self) -> list[tuple[Product, Product]]:
        ordered = list(permutations(self.b.products, 2))
        same = [(a, b) for a, b in ordered if family(a) == family(b)]
        cross = [(a, b) for a, b in ordered if family(a) != family(b)]
        return same + self.rng.sample(cross, min(CROSS_PAIRS, len(cross)))

    def comparisons(self) -> None:
        for a, b in self.product_pairs():
            fill = {"a": a.name, "b": b.name, "sa": short_name(a.name), "sb": short_name(b.name)}
            for kind, templates, n in (
                ("price", P.PAIR_PRICE, 3),
                ("spec", P.PAIR_SPEC, 2),
                ("stock", P.PAIR_STOCK, 1),
            ):
                for t_index in self.rng.sample(range(len(templates)), n):
                    reply = pair_reply(kind, a, b, self.rng.random())
                    user = templates[t_index].format(**fill)
                    self.b.answered("sales", f"pair-{kind}:{t_index}", user, [a.entry, b.entry], reply)
        for service in ("plan.shieldguard", "plan.cloudkeep"):
            overview = self.b.by_key[service]
            tiers = overview_tiers(overview)
            plans = [e for e in self.b.entries if e.key.startswith(service + "-")]
            for ea, eb in permutations(plans, 2):
                na, nb = plan_name(ea), plan_name(eb)
                fill = {"a": na, "b": nb, "sa": na.split()[-1], "sb": nb.split()[-1]}
                for t_index in self.rng.sample(range(len(P.PLAN_PAIR)), 3):
                    user = P.PLAN_PAIR[t_index].format(**fill)
                    ta, tb = tiers.get(fill["sa"]), tiers.get(fill["sb"])
                    if ta and tb and self.rng.random() < 0.4:  # only the overview was retrieved
                        service_name = na.split()[0]
                        reply = f"{service_name} {ta}; {service_name} {tb}."
                        self.b.answered("sales", f"plan-pair:{t_index}", user, [overview], reply)
                    else:
                        reply = f"{plan_line(ea)} {plan_line(eb)}"
                        self.b.answered("sales", f"plan-pair:{t_index}", user, [ea, eb], reply)

    def follow(
        self, group: str, history: tuple[tuple[str, str], ...], user: str, right: list[Entry], reply: str
    ) -> None:
        """A follow-up: both turns' entries among the facts, the one the last message needs listed first."""
        pool = [e for e in self.b.entries if e.key not in {r.key for r in right}]
        near = related(right[0], user, self.b.articles, 1)
        facts = pick_facts(right, pool, self.rng, near, keep_order=self.rng.random() < 0.7)
        domain = "general" if right[0].kind in ("policy", "contact") else "sales"
        self.b.add(domain, group, user, facts, reply, history)

    def follow_ups(self) -> None:
        first_q = {"price": Q.PRODUCT_PRICE, "stock": Q.PRODUCT_STOCK, "spec": Q.PRODUCT_SPEC}
        for a, b in self.product_pairs():
            kind = self.rng.choice(("price", "stock", "spec"))
            first = self.rng.choice(first_q[kind]).format(name=a.name, short=short_name(a.name))
            history = ((first, single_reply(kind, a, self.rng.random())),)
            for t_index in self.rng.sample(range(len(P.SWITCH)), 2):
                user = P.SWITCH[t_index].format(b=b.name, sb=short_name(b.name))
                reply = single_reply(kind, b, self.rng.random())
                self.follow(f"switch-{kind}:{t_index}", history, user, [b.entry, a.entry], reply)
        for p in self.b.products:
            fill = {"name": p.name, "short": short_name(p.name)}
            for kind, follow_ups in P.FOLLOW_UP.items():
                first_kind = "spec" if kind == "price" else "price"
                first = self.rng.choice(first_q[first_kind]).format(**fill)
                history = ((first, single_reply(first_kind, p, self.rng.random())),)
                for f_index, user in enumerate(follow_ups):
                    reply = single_reply(kind, p, self.rng.random())
                    self.follow(f"follow-{kind}:{f_index}", history, user, [p.entry], reply)
            key = self.rng.choice(sorted(P.PRODUCT_TO_POLICY))
            policy = self.b.by_key[key]
            f_index = self.rng.randrange(len(P.PRODUCT_TO_POLICY[key]))
            user, needle = P.PRODUCT_TO_POLICY[key][f_index]
            first = self.rng.choice(Q.PRODUCT_PRICE).format(**fill)
            history = ((first, single_reply("price", p, self.rng.random())),)
            reply = sentence_with(policy, needle)
            self.follow(f"follow-{key}:{f_index}", history, user, [policy, p.entry], reply)
        for key, pairs in P.ENTRY_FOLLOW_UPS.items():
            entry = self.b.by_key[key]
            for f_index, (first, user, needle) in enumerate(pairs):
                for _ in range(2):
                    history = ((first, best_sentences(entry, first)),)
                    reply = sentence_with(entry, needle)
                    self.follow(f"follow-{key}:{f_index}", history, user, [entry], reply)


def add_pair_blocks(builder: Builder) -> None:
    blocks = PairBlocks(builder)
    blocks.comparisons()
    blocks.follow_ups()
