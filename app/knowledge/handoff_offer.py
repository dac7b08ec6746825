"""When the bot cannot know: a question about the customer's *own* order or account that no
knowledge entry answers gets the hand-off offer ("Talk to a person") under its reply.

Only people with access to the order system can answer "where is my parcel?"; the knowledge base
holds the store's facts, not the customer's. So the rule is: the message is personal (my/I/me, or
an order number) and about an order or an account, and either retrieval found nothing or it names
one order by its number (entries such as "how to track an order" match it, but none can say where
order #4411 is).

A stricter test, ``needs_account_lookup``, picks the questions that ask for the *state* of the
customer's own case ("has my refund gone through?", "when will my order arrive?"): the model would
only guess an answer to those, so the chat answers them with a fixed honest notice and the offer
instead of a generated reply. A how-to about one's own account ("how do I cancel my
subscription?") is not a lookup: the knowledge base answers it.
"""

from __future__ import annotations

import re

# "#4411", "order 55120", "no. 9921": an order/reference number names one customer's case.
# "order number VL-48213": a code of letters and digits after "order number" too.
_REFERENCE = re.compile(
    r"#\s?\d{3,}|\b(?:order|ref(?:erence)?|no\.?)\s?\d{3,}\b"
    r"|\border (?:number|no\.?|id)\s?[a-z]{0,4}-?\d{3,}\b",
    re.IGNORECASE,
)
# "If I pay by bank transfer, when does my order ship?" asks what the rule is, not where one order is.
_HYPOTHETICAL = re.compile(
    r"^\W*(?:so\s+|and\s+)?if\b|\bwhat if\b|\bsuppose\b|\bin case\b", re.IGNORECASE
)
_PERSONAL = re.compile(r"\b(?:my|mine|me|i|i'm|i've|im|our|we)\b", re.IGNORECASE)
_ORDER_OR_ACCOUNT = re.compile(
    r"\b(?:orders?|ordered|package|parcel|delivery|delivered|shipment|shipped|tracking|refund(?:ed)?|"
    r"account|subscription|invoice|bill(?:ed|ing)?|charged?|charges|payment|paid|login|log in|"
    r"sign in|locked out|cancel(?:led)?)\b",
    re.IGNORECASE,
)
# Things only the customer's own records hold, beyond orders and accounts.
_OWN_RECORD = re.compile(
    r"\b(?:repair|replacement|exchange|claim|points|loyalty|renew(?:s|al)?|plan|card|courier|"
    r"return(?:ed)?|sent (?:it )?back)\b",
    re.IGNORECASE,
)
# Asking for a state or a record: where/when/whether something happened, a number only records hold.
_LOOKUP = re.compile(
    r"\b(?:where(?:'s| is| are| it is| they are)|when (?:will|does|did|is|do)|status|still|yet|"
    r"has (?:my|it|the)|have you|did (?:you|i|my)|was (?:my|i|it)|why (?:was|were|did|is|has)|is my|are my|"
    r"how many (?:\w+ )*?(?:do|did) (?:i|we) (?:have|still have)\b|how many (?:\w+ )*?have (?:i|we)\b|"
    r"what did i|which courier|tracking number|approved|"
    r"gone through)\b",
    re.IGNORECASE,
)
# "How do I cancel my subscription?" asks for steps, which an entry gives.
# "Where do I find the tracking number?" asks where in the account to look, which a guide says.
_HOW_TO = re.compile(
    r"\bhow (?:do|can|should|would|to)\b|\bcan i\b|\bsteps\b"
    r"|\bwhere (?:do|can|should) (?:i|we) (?:find|see|get)\b",
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


def needs_account_lookup(message: str) -> bool:
    """True when the message asks for the state of the customer's own order, payment or account
    (only someone who can open their records can answer), not for the store's rules or steps."""
    if _HOW_TO.search(message) or not _LOOKUP.search(message):
        return False
    if _REFERENCE.search(message):
        return True
    if _HYPOTHETICAL.search(message):
        return False
    if not _PERSONAL.search(message):
        return False
    return bool(_ORDER_OR_ACCOUNT.search(message) or _OWN_RECORD.search(message))
