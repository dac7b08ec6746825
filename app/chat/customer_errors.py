"""What a customer reads when something fails: plain language, never an exception's text.

Exception text names hosts, ports and internals (``Error 111 connecting to 127.0.0.1:6391``);
customers get a sentence that says their message is kept and what to do. The detail goes to the
log (without message text) and, for staff, to the reply row's ``error`` column.
"""

from __future__ import annotations

PLANNING = "Sorry, we could not prepare a reply. Your message is saved and our team can see it."
START = "The assistant could not start a reply right now. Your message is saved; please try again shortly."
GENERATION = "Sorry, the reply could not be finished. Your message is saved; please try again."
_BY_KIND = {"planning": PLANNING, "submit": START, "generation": GENERATION}
BUSY_PREFIX = "the assistant is too busy"  # already written for customers by the service


def customer_error(kind: str, problem: str) -> str:
    """The sentence shown for a failure of ``kind``; ``problem`` only when it was written for customers."""
    if problem.startswith(BUSY_PREFIX):
        return problem
    return _BY_KIND.get(kind, GENERATION)
