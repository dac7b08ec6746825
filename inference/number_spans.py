"""The character state machine that finds guarded spans (numbers, emails) in text, one char at a time.

One machine serves three callers so they can never disagree: ``allowed_values`` collects the spans
of the retrieved facts, ``unverified_numbers`` checks a finished reply, and the decode-time mask
simulates candidate tokens from a sequence's current state.

What counts as a guarded span:
- a *number*: an ASCII digit run that does not continue a word (``AX3000``, ``SmolLM2`` and
  ``team24`` are names, not quantities), with ``, . - / :`` inside it when a digit follows
  (``1,499``, ``49.99``, ``5-7``, ``24/7``, ``8:00``, ``1-800-555-0199``) and an optional leading
  ``$`` (``$1,499``); a ``$`` followed by anything but a digit is a span of its own (``$``) that
  only a fact with a lone ``$`` allows, so a reply cannot write "$XP" where a digit was masked.
  Units and words after it are not part of it: ``14-day`` -> ``14``, ``2 TB`` -> ``2``,
  ``20%`` -> ``20``. A separator followed by anything else ends the span (the comma in
  ``$50, and`` or the full stop in ``30 days.`` is punctuation).
- an *email*: an email-local run, ``@`` and a domain (``help@voltline.example``), lower-cased.
- list markers are structure, not facts: one or two digits that open a line and are followed by
  ``.`` or ``)`` (``1. Open Settings``) are never checked.
Counting words ("three", "two months") are not spans: the guard is about digits and addresses.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import NamedTuple

OUT, NUM, EMAIL = 0, 1, 2
DIGITS = frozenset(string.digits)
NUM_SEPS = ",.-/:"
CURRENCY = "$"
ALNUM = frozenset(string.ascii_lowercase + string.digits)
DOMAIN_SEPS = ".-"
EMAIL_LOCAL = frozenset(string.ascii_lowercase + string.digits + "._%+-")
LINE_SPACE = frozenset(" \t\r")
# Dashes a reply may write for a range: all read as "-" so "5–7" in a fact allows "5-7" and back.
CHAR_MAP = str.maketrans({"\u2013": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-"})
# Only ASCII letters fold: str.lower would map e.g. the Kelvin sign to "k" and let it into an address.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
MAX_LOCAL = 64  # an email's local part is at most 64 characters (RFC 5321)
MARKER_DIGITS = 2  # "1." to "99." at a line start are list markers
NEVER = 10**6  # a budget or distance that no reply reaches


class GuardState(NamedTuple):
    """Where the scanner is: outside a span, or inside a number/email span with its text so far.

    ``pending`` holds a character that is a separator if the span goes on and punctuation if it
    does not ("," after "1" in "1,499" vs "1, 2"), or a ``$`` waiting for a digit. ``line_start``
    outside a span: only blanks since the line began; inside a number: the number opened a line.
    ``glued``: the last character was a letter/digit, so a digit now belongs to a word.
    ``local``: the trailing run of email-local characters, the local part if an ``@`` comes.
    """

    mode: int = OUT
    span: str = ""
    pending: str = ""
    line_start: bool = True
    glued: bool = False
    local: str = ""


START = GuardState()
_AFTER_SPAN = GuardState(line_start=False)


class SpanEvent(NamedTuple):
    """A span grew (``end`` False: check it is still a prefix) or ended (check it is complete)."""

    mode: int
    span: str
    end: bool
    terminator: str = ""
    line_start: bool = False


def _plain(st: GuardState, c: str) -> GuardState:
    """An ordinary character outside any span."""
    low = c.translate(ASCII_LOWER)
    local = (st.local + low)[-MAX_LOCAL:] if low in EMAIL_LOCAL else ""
    line_start = c == "\n" or (st.line_start and c in LINE_SPACE)
    return GuardState(OUT, "", "", line_start, c.isalnum() or c == "_", local)


def _outside(st: GuardState, c: str) -> tuple[GuardState, tuple[SpanEvent, ...]]:
    dangling: tuple[SpanEvent, ...] = ()
    if st.pending == CURRENCY:
        if c in DIGITS:
            span = CURRENCY + c
            return GuardState(NUM, span, "", False), (SpanEvent(NUM, span, False, "", False),)
        # A "$" opens a price: one followed by anything else is a price the guard could not
        # check. With digits masked after "$", the model wrote letters instead ("Premium is
        # $XP", "$B7/year" in the factual eval), so this ends an unverifiable span.
        dangling = (SpanEvent(NUM, CURRENCY, True, c),)
        st = _plain(st._replace(pending=""), CURRENCY)
    if c in DIGITS and not st.glued:
        return GuardState(NUM, c, "", st.line_start), (SpanEvent(NUM, c, False, "", st.line_start),)
    if c == CURRENCY:
        # Checked as a prefix: "$" may only be written where an allowed price can follow.
        return st._replace(pending=CURRENCY), (*dangling, SpanEvent(NUM, CURRENCY, False))
    if c == "@":
        local = st.local.lstrip("._%+-")
        if local:
            span = local + "@"
            return GuardState(EMAIL, span), (*dangling, SpanEvent(EMAIL, span, False))
    return _plain(st, c), dangling


def _close(st: GuardState, c: str) -> tuple[GuardState, tuple[SpanEvent, ...]]:
    """End the span before ``c``; the pending separator and ``c`` are then read as plain text."""
    end = SpanEvent(st.mode, st.span, True, st.pending or c, st.line_start)
    out, after = _AFTER_SPAN, tuple[SpanEvent, ...]()
    if st.pending:
        out, after = _outside(out, st.pending)
    out, events = _outside(out, c)  # never opens a number: c is no digit ("5$" may await a price)
    return out, (end, *after, *events)


def feed(st: GuardState, c: str) -> tuple[GuardState, tuple[SpanEvent, ...]]:
    """Read one (already CHAR_MAP-ed) character; return the new state and the span events it caused."""
    if st.mode == NUM:
        if c in DIGITS:
            span = st.span + st.pending + c
            return GuardState(NUM, span, "", st.line_start), (SpanEvent(NUM, span, False, "", st.line_start),)
        if not st.pending and c in NUM_SEPS:
            return st._replace(pending=c), ()
        return _close(st, c)
    if st.mode == EMAIL:
        low = c.translate(ASCII_LOWER)
        if low in ALNUM:
            span = st.span + st.pending + low
            return GuardState(EMAIL, span), (SpanEvent(EMAIL, span, False),)
        if not st.pending and low in DOMAIN_SEPS:
            return st._replace(pending=low), ()
        return _close(st, c)
    return _outside(st, c)


def finish(st: GuardState) -> SpanEvent | None:
    """End of text: the event for a span still open (a pending separator is its terminator)."""
    if st.mode == OUT:
        # A "$" with no price after it ends unverifiable (see _outside).
        return SpanEvent(NUM, CURRENCY, True) if st.pending == CURRENCY else None
    return SpanEvent(st.mode, st.span, True, st.pending, st.line_start)


def is_list_marker(event: SpanEvent) -> bool:
    """``1.`` or ``2)`` opening a line: structure of a numbered list, not a stated number."""
    return (
        event.mode == NUM
        and event.line_start
        and event.span.isdigit()
        and len(event.span) <= MARKER_DIGITS
        and event.terminator in (".", ")")
    )


def is_email(event: SpanEvent) -> bool:
    """An email span needs a domain: ``me@`` followed by a blank is an "at", not an address."""
    return event.mode == EMAIL and not event.span.endswith("@")


def scan(text: str) -> list[SpanEvent]:
    """Every completed span in ``text`` (the end events, in order), the last one closed at the end."""
    st, ends = START, list[SpanEvent]()
    for c in text.translate(CHAR_MAP):
        st, events = feed(st, c)
        ends.extend(e for e in events if e.end)
    last = finish(st)
    if last is not None:
        ends.append(last)
    return [e for e in ends if e.mode == NUM or is_email(e)]


def _prefixes(values: frozenset[str]) -> frozenset[str]:
    return frozenset(v[:i] for v in values for i in range(1, len(v) + 1))


@dataclass(frozen=True)
class SpanRules:
    """The allowed spans (canonical strings) and all their prefixes, for O(1) checks per event."""

    numbers: frozenset[str]
    emails: frozenset[str]
    number_prefixes: frozenset[str] = field(init=False, repr=False)
    email_prefixes: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "number_prefixes", _prefixes(self.numbers))
        object.__setattr__(self, "email_prefixes", _prefixes(self.emails))

    @classmethod
    def from_values(cls, values: frozenset[str]) -> SpanRules:
        """Split allowed values into numbers and emails, canonicalised as the scanner writes spans."""
        canon = {v.translate(CHAR_MAP).strip() for v in values}
        emails = frozenset(v.translate(ASCII_LOWER) for v in canon if "@" in v)
        return cls(frozenset(v for v in canon if v and "@" not in v), emails)

    def ok(self, event: SpanEvent) -> bool:
        """Whether a span event keeps the text verifiable (prefix while open, value when ended)."""
        if event.mode == NUM:
            if event.end:
                return event.span in self.numbers or is_list_marker(event)
            could_be_marker = event.line_start and event.span.isdigit() and len(event.span) <= MARKER_DIGITS
            return event.span in self.number_prefixes or could_be_marker
        if event.end:
            return event.span in self.emails or not is_email(event)
        return event.span in self.email_prefixes

    def distance(self, st: GuardState) -> int:
        """Characters still needed to close the open span verifiably (0: it may end now; 10**6: never)."""
        last = finish(st)
        if last is None or self.ok(last):
            return 0
        base = st.span + st.pending
        values = self.emails if st.mode == EMAIL else self.numbers  # OUT: a "$" awaiting its price
        best = min((len(v) - len(base) for v in values if v.startswith(base)), default=NEVER)
        if st.mode == NUM and st.line_start and st.span.isdigit() and len(st.span) <= MARKER_DIGITS:
            best = min(best, 0 if st.pending == "." else 1)  # a "." makes it a list marker
        return best

    def text_ok(self, st: GuardState, text: str, budget: int = NEVER) -> bool:
        """Whether appending ``text`` (CHAR_MAP-ed) to a sequence at ``st`` keeps every span verifiable.

        ``budget``: tokens that may still follow; an open span must be closable within it (a
        byte-level vocabulary has a token per character, so characters bound the tokens needed).
        """
        for c in text:
            st, events = feed(st, c)
            for event in events:
                if not self.ok(event):
                    return False
        last = finish(st)
        if last is None:
            return True
        if st.pending and not self.ok(last):
            # A trailing separator must lead on into an allowed value ("$1,4" + "," is a dead end,
            # "$1,499" + "," is a comma).
            prefixes = self.email_prefixes if st.mode == EMAIL else self.number_prefixes  # OUT: "$"
            if st.span + st.pending not in prefixes:
                return False
        distance = self.distance(st)
        return distance < NEVER and distance <= budget
