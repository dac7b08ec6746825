"""When the bot cannot know: a question about the customer's *own* order or account that no
knowledge entry answers gets the hand-off offer ("Talk to a person") under its reply.

Only people with access to the order system can answer "where is my parcel?"; the knowledge base
holds the store's facts, not the customer's. So the rule is: the message is personal (my/I/me, or
an order number) and about an order or an account, and either retrieval found nothing or it names
one order by its number (entries such as "how to track an order" match it, but none can say where
order #4411 is).
"""

from __future__ import annotations

import re

# "#4411", "order 55120", "no. 9921": an order/reference number names one customer's case.
_REFERENCE = re.compile(r"#\s?\d{3,}|\b(?:order|ref(?:erence)?|no\.?)\s?\d{3,}\b", re.IGNORECASE)
_PERSONAL = re.compile(r"\b(?:my|mine|me|i|i'm|i've|im|our|we)\b", re.IGNORECASE)
_ORDER_OR_ACCOUNT = re.compile(
    r"\b(?:orders?|ordered|package|parcel|delivery|delivered|shipment|shipped|tracking|refund(?:ed)?|"
    r"account|subscription|invoice|bill(?:ed|ing)?|charged?|charges|payment|paid|login|log in|"
    r"sign in|locked out|cancel(?:led)?)\b",
    re.IGNORECASE,
)


def is_personal_case(message: str) -> bool:
    """True for a question about the customer's own order or account (not the store's rules)."""
    if not _ORDER_OR_ACCOUNT.search(message):
        return False
    return bool(_REFERENCE.search(message) or _PERSONAL.search(message))


def offers_handoff(message: str, hits: int) -> bool:
    """The reply should offer a person: a personal order/account case no entry can answer."""
    if not is_personal_case(message):
        return False
    return hits == 0 or bool(_REFERENCE.search(message))
