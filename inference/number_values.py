"""The values a reply may state and the post-check: plain text, no tensors (the app imports it).

- ``allowed_values(fact_texts)``: every number, phone number and email in the retrieved facts, with
  the forms a reply may write them in (``$1,499`` also allows ``1,499``, ``$1499`` and ``1499``;
  ``5-7`` also allows ``5`` and ``7``; ``0800 555 0142`` also ``0800-555-0142``; ``two`` allows ``2``).
- ``unverified_numbers(reply, allowed)``: the spans of a finished reply that are not allowed.

The decode-time constraint over the same rules is ``inference.number_guard``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from inference.number_spans import CHAR_MAP, NUM, SpanRules, scan

_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_UNGROUPED = re.compile(r"([1-9]\d{3,})(\.\d+)?")
_HOUR = re.compile(r"(\d{1,2}):00")
# Digit groups split by single blanks, dots or dashes, or an area code in brackets: a phone number.
_PHONE = re.compile(r"(?<![\w$])\+?(?:\(\d{2,5}\)|\d{2,5})(?:[ .-]\d{2,5}){1,4}(?![\w])")
MIN_PHONE_DIGITS = 7
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()  # noqa: E501
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}  # noqa: E501
_WORDS = {w: n for n, w in enumerate(_UNITS)} | _TENS
_NUMBER_WORD = re.compile(
    r"\b(" + "|".join(_TENS) + r")[- ](" + "|".join(_UNITS[1:10]) + r")\b|\b(" + "|".join(_WORDS) + r")\b",
    re.IGNORECASE,
)


def _forms(body: str) -> set[str]:
    """Ways to write one plain number: with or without thousands commas, ``.00``, ``:00``."""
    forms = {body}
    if _GROUPED.fullmatch(body):
        forms.add(body.replace(",", ""))
    plain = _UNGROUPED.fullmatch(body)
    if plain:
        forms.add(f"{int(plain[1]):,}{plain[2] or ''}")
    forms |= {f[:-3] for f in forms if f.endswith(".00")}
    hour = _HOUR.fullmatch(body)
    if hour:
        forms.add(hour[1])
    return forms


def span_variants(span: str) -> set[str]:
    """The forms a reply may use for one number span of a fact (money keeps and drops its ``$``)."""
    money = span.startswith("$")
    body = span.removeprefix("$")
    # Ranges, fractions, phone groups and lists split into their parts (and contiguous runs of
    # them); a thousands comma or a single decimal point does not.
    seps = "-/" + ("" if _GROUPED.fullmatch(body) else ",") + ("." if body.count(".") > 1 else "")
    pieces = re.split("([" + re.escape(seps) + "])", body)
    groups = len(pieces) // 2 + 1
    out: set[str] = set()
    for i in range(groups):
        for j in range(i, groups):
            run = "".join(pieces[2 * i : 2 * j + 1])
            for form in _forms(run):
                out.add(form)
                if money and i == 0:
                    out.add("$" + form)
                    if form.replace(",", "").isdigit():
                        out |= {f"${form}.00", f"{form}.00"}
    return {v for v in out if v}


def allowed_values(texts: Iterable[str]) -> frozenset[str]:
    """Every number/phone/email in the fact texts, in every form a faithful reply may write it."""
    values: set[str] = set()
    for raw in texts:
        text = raw.translate(CHAR_MAP)
        for event in scan(text):
            values |= span_variants(event.span) if event.mode == NUM else {event.span}
        for phone in _PHONE.finditer(text):
            groups = re.findall(r"\d+", phone[0])
            if sum(map(len, groups)) >= MIN_PHONE_DIGITS:
                values |= {"-".join(groups), ".".join(groups), "".join(groups)}
        for match in _NUMBER_WORD.finditer(text):
            if match[3]:
                values.add(str(_WORDS[match[3].lower()]))
            else:
                values.add(str(_TENS[match[1].lower()] + _WORDS[match[2].lower()]))
    return frozenset(values)


@lru_cache(maxsize=256)
def rules_for(allowed: frozenset[str]) -> SpanRules:
    """The scanner's rules for an allowed set; values given raw (``$1,499``) get their forms too."""
    expanded: set[str] = set()
    for value in allowed:
        value = value.translate(CHAR_MAP).strip()
        spans = scan(value)
        expanded.add(value)
        if len(spans) == 1 and spans[0].mode == NUM and spans[0].span == value:
            expanded |= span_variants(value)
    return SpanRules.from_values(frozenset(expanded))


def unverified_numbers(reply: str, allowed: frozenset[str]) -> list[str]:
    """The numbers/emails of ``reply`` that are not in ``allowed`` (each once, in reply order)."""
    rules = rules_for(frozenset(allowed))
    seen: dict[str, None] = {}
    for event in scan(reply):
        if not rules.ok(event):
            seen.setdefault(event.span, None)
    return list(seen)
