"""General-intent pairs from Bitext's customer-support set, placeholders filled from store facts."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path
from typing import Any

from adapters.examples import ChatExample

SOURCE_CSV = "bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"
# Bitext intents that are not "general" for this store; the router uses them, the adapters do not.
ROUTER_ONLY: dict[str, str] = {"place_order": "sales", "registration_problems": "tech_support"}
MAX_REPLY_CHARS = 800  # longer replies would be cut at 256 tokens and cost most of the training time
_PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}|\[(Customer Support [^\]]+|Website[^\]]*|Live Chat)\]")
_UI_LABEL = re.compile(r"^[A-Z][A-Za-z/&' -]{1,40}$")


def placeholder_values(facts: dict[str, Any]) -> dict[str, str]:
    """Lower-cased Bitext placeholder names -> the store's real values."""
    s, p = facts["store"], facts["policies"]
    phone, email, hours, site = s["support_phone"], s["support_email"], s["support_hours"], s["website"]
    values = {
        "website name": site,
        "website": site,
        "website url": site,
        "website or app": f"{site} or the app",
        "website/app name": site,
        "company name": s["name"],
        "live chat": "Live Chat",
        "chat": "Live Chat",
        "customer support availability": hours,
        "customer support hours": hours,
        "customer service hours": hours,
        "customer assistance hours": hours,
        "operating hours": hours,
        "refund processing time": p["refund_days"],
        "refund timeframe": p["refund_days"],
        "refund period": f"{p['return_window_days']} days",
        "number of days": str(p["return_window_days"]),
    }
    for key in (
        "customer support phone number",
        "support phone number",
        "customer service phone number",
        "phone number",
        "customer assistance phone number",
        "complaint phone number",
        "phone",
    ):
        values[key] = phone
    for key in (
        "customer support email",
        "customer support email address",
        "customer service email",
        "customer service email address",
        "support email",
        "email address",
        "complaint email address",
    ):
        values[key] = email
    return values


def fill_placeholders(text: str, values: dict[str, str], rng: random.Random) -> str | None:
    """Replace every placeholder; None if one is a description rather than a fillable value."""
    failed = False

    def sub(match: re.Match[str]) -> str:
        nonlocal failed
        name = (match.group(1) or match.group(2)).strip()
        key = name.lower()
        if key in values:
            return values[key]
        if "anonymized" in key or name.isdigit():
            return str(rng.randrange(10**6, 10**7))
        if _UI_LABEL.match(name) and len(name.split()) <= 4:
            return f'"{name}"'  # a menu or button label: keep the words, quoted like the UI
        failed = True
        return name

    filled = _PLACEHOLDER.sub(sub, text)
    return None if failed else filled


def build_bitext(
    data_root: Path, facts: dict[str, Any], seed: int = 0
) -> tuple[list[ChatExample], list[tuple[str, str]]]:
    """General chat examples, plus (message, label) pairs of the router-only intents."""
    path = data_root / SOURCE_CSV
    if not path.is_file():
        raise ValueError(f"Bitext data not found at {path}")
    rng = random.Random(seed)
    values = placeholder_values(facts)
    examples: list[ChatExample] = []
    router_only: list[tuple[str, str]] = []
    with path.open(newline="") as fh:
        for index, row in enumerate(csv.DictReader(fh)):
            user = row["instruction"].strip()
            if row["intent"] in ROUTER_ONLY:
                router_only.append((user, ROUTER_ONLY[row["intent"]]))
                continue
            if len(row["response"]) > MAX_REPLY_CHARS:
                continue
            reply = fill_placeholders(row["response"].strip(), values, rng)
            user_filled = fill_placeholders(user, values, rng)
            if reply is None or user_filled is None:
                continue
            examples.append(
                ChatExample("general", user_filled, reply, f"bitext:{row['intent']}", f"bitext:{index}")
            )
    return examples, router_only
