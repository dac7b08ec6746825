"""Slot fillers named by the template files: each picks products, plans or codes from the store facts."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

Slots = dict[str, str]
Facts = dict[str, Any]
SlotFn = Callable[[Facts, random.Random], Slots]
ALL_KINDS = ("laptop", "phone", "headphones", "router", "smart-home")


def pick_product(facts: Facts, rng: random.Random, kinds: tuple[str, ...]) -> Slots:
    """Slots for one product of the given kinds: product, price, note, stock, kind."""
    p = rng.choice([p for p in facts["products"] if p["kind"] in kinds])
    return {
        "product": p["name"],
        "price": p["price"],
        "note": p["note"],
        "stock": p["stock"],
        "kind": p["kind"],
    }


def pick_plan(facts: Facts, rng: random.Random, service: str) -> Slots:
    """Slots for one plan of 'cloudkeep' or 'shieldguard': service, plan, plan_price, plan_note, trial."""
    svc = facts[service]
    plan = rng.choice(svc["plans"])
    return {
        "service": svc["name"],
        "plan": plan["name"],
        "plan_price": plan["price"],
        "plan_note": plan["note"],
        "trial": svc["trial"],
    }


def _products(*kinds: str) -> SlotFn:
    return lambda f, r: pick_product(f, r, kinds)


def _order(f: Facts, r: random.Random) -> Slots:
    return {"order": str(r.randrange(100000, 999999))}


def _order_product(f: Facts, r: random.Random) -> Slots:
    return {**pick_product(f, r, ALL_KINDS), **_order(f, r)}


def _cloud_issue(f: Facts, r: random.Random) -> Slots:
    return {**pick_plan(f, r, "cloudkeep"), "code": r.choice(["CK-101", "CK-204", "CK-403", "CK-500"])}


def _shield_issue(f: Facts, r: random.Random) -> Slots:
    return {**pick_plan(f, r, "shieldguard"), "code": r.choice(["SG-12", "SG-31", "SG-77", "0x80070005"])}


def _shield_plans(f: Facts, r: random.Random) -> Slots:
    plans = {p["name"]: p for p in f["shieldguard"]["plans"]}
    return {
        **pick_plan(f, r, "shieldguard"),
        "basic": plans["Basic"]["price"],
        "plus": plans["Plus"]["price"],
        "premium": plans["Premium"]["price"],
        "devices": str(r.choice([2, 3, 4, 5, 6, 8])),
        "upgrade": f["shieldguard"]["upgrade"],
    }


def _cloud_plans(f: Facts, r: random.Random) -> Slots:
    plans = {p["name"]: p for p in f["cloudkeep"]["plans"]}
    return {
        **pick_plan(f, r, "cloudkeep"),
        "personal": plans["Personal"]["price"],
        "family": plans["Family"]["price"],
        "business": plans["Business"]["price"],
        "annual": f["cloudkeep"]["annual"],
        "users": str(r.choice([2, 3, 4, 5])),
    }


def _offers(f: Facts, r: random.Random) -> Slots:
    return {**pick_product(f, r, ("laptop",)), **f["offers"]}


def _business(f: Facts, r: random.Random) -> Slots:
    return {
        **_offers(f, r),
        **pick_plan(f, r, "cloudkeep"),
        "plan_price": f["cloudkeep"]["plans"][2]["price"],
        "service": "CloudKeep",
    }


def _pair(f: Facts, r: random.Random) -> Slots:
    kind = r.choice(["laptop", "phone", "headphones", "router"])
    a, b = [p for p in f["products"] if p["kind"] == kind][:2]
    return {
        "a": a["name"],
        "a_price": a["price"],
        "a_note": a["note"],
        "kind": kind,
        "b": b["name"],
        "b_price": b["price"],
        "b_note": b["note"],
    }


SLOT_FUNCTIONS: dict[str, SlotFn] = {
    "order": _order,
    "order_product": _order_product,
    "any_product": _products(*ALL_KINDS),
    "laptop": _products("laptop"),
    "phone": _products("phone"),
    "device": _products("laptop", "phone"),
    "audio": _products("headphones"),
    "router": _products("router"),
    "home": _products("smart-home"),
    "cloud_issue": _cloud_issue,
    "shield_issue": _shield_issue,
    "cloud_plans": _cloud_plans,
    "shield_plans": _shield_plans,
    "offers": _offers,
    "business": _business,
    "pair": _pair,
}
