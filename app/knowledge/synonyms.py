"""Everyday wording -> the store's own words: a small expansion table applied before any backend searches.

Customers say "when is customer service open"; the entry says "Support hours". Neither FTS engine
knows the two are one question (both stem, neither has a thesaurus), and the stems sometimes part
words that belong together ("deliver" -> ``deliv`` but "delivery" -> ``deliveri``). So each query
term may bring a few store words along. The table is applied in Python to the term list, so
SQLite and PostgreSQL search exactly the same words.

An expansion only adds words to the OR query; the relevance gates in ``retrieval`` count a
question's own terms (a term is found when it or one of its expansions is), so an expansion cannot
make an off-topic question look more on-topic than its own words are. Keep entries to words the
store's entries really use, and never expand into product or plan names (those carry the name
bonus and must come from the customer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HOURS = ("hours",)
_SUPPORT = ("support",)
_DELIVERY = ("delivery", "shipping")
_CONTACT = ("contact", "support")
_PERSON = ("person", "agent")
# Not "phone": that word is the Nova phones' too, and would rank them for "number pls".
_PHONE = ("call", "telephone")

SYNONYMS: dict[str, tuple[str, ...]] = {
    # Opening hours: "when are you open", "are you closed on sunday", "what time do you close".
    "open": _HOURS,
    "opens": _HOURS,
    "opening": _HOURS,
    # Not "close": "close my account" is a task of its own (article.delete-account).
    "closes": _HOURS,
    "closed": _HOURS,
    "closing": _HOURS,
    "morning": _HOURS,
    "evening": _HOURS,
    # "customer service", "helpdesk", "customer care" are what the entries call support.
    "service": _SUPPORT,
    "helpdesk": _SUPPORT,
    "care": _SUPPORT,
    # The stemmers split these from "delivery"; "ship"/"postage" mean shipping.
    "deliver": _DELIVERY,
    "delivers": _DELIVERY,
    "delivered": _DELIVERY,
    "delivering": _DELIVERY,
    "deliveries": _DELIVERY,
    "ship": ("shipping",),
    "ships": ("shipping",),
    "postage": ("shipping",),
    "courier": _DELIVERY,
    "express": ("shipping",),  # "if i pay for express how fast will it come": express shipping
    # The free-delivery threshold ("if I spend 60") needs none: "delivery"/"free" already find it.
    # Reaching a person by phone or mail.
    "reach": _CONTACT,
    "contacts": _CONTACT,
    "ring": _PHONE,
    # Not "number": "tracking number" and "VAT number" are not the phone (measured on the labelled set).
    "telephone": ("call",),
    "tel": _PHONE,
    "hotline": _PHONE,
    "mail": ("email",),
    # "how fast do you reply": the email entry says "We answer within one business day".
    "reply": ("answer",),
    "replies": ("answer",),
    "respond": ("answer",),
    "response": ("answer",),
    "mailbox": ("email",),
    # A person to talk to.
    "human": _PERSON,
    "humans": _PERSON,
    "operator": _PERSON,
    "representative": _PERSON,
    "rep": _PERSON,
    "staff": _PERSON,
    "employee": _PERSON,
    # Everyday product words for the catalogue's categories.
    "computer": ("laptop",),
    "notebook": ("laptop",),
    "headset": ("headphones",),
    "earphones": ("earbuds",),
    "cellphone": ("smartphone",),
    "handset": ("smartphone",),  # and a known word, so spelling does not "correct" it to "headset"
    "powerbank": ("power", "bank"),
    "charger": ("power", "bank"),
    "webcam": ("camera",),
    "cam": ("camera",),
    "lightbulb": ("bulb",),
    "lamp": ("bulb",),
    # Money back, deals, guarantees.
    "reimburse": ("refund",),
    "reimbursed": ("refund",),
    "guarantee": ("warranty",),
    "guaranteed": ("warranty",),
    "promo": ("offer", "discount"),
    "promotion": ("offer", "discount"),
    "deals": ("offer", "discount"),
    "sale": ("offer", "discount"),
    "voucher": ("discount",),
    # A parcel in a bad state is a "damaged" delivery; a cracked or smashed screen is the warranty's
    # "accidental damage" ("damaged" is a policy word: as theirs the delivery policy tied with the
    # warranty for "i dropped my nova and cracked the screen, does the warranty cover that").
    "crushed": ("damaged",),
    "dented": ("damaged",),
    "smashed": ("damage",),
    "cracked": ("damage",),
    # The entries say "order"; letters say "purchase", shoppers "buy" (no entry uses either).
    "purchase": ("order",),
    "purchases": ("order",),
    "purchased": ("order",),
    "purchasing": ("order",),
    "buy": ("order",),
    "buying": ("order",),
    "quotation": ("quote",),
    "correspondence": ("email",),
    # "do you sell my data to advertisers": the privacy policy.
    "advertisers": ("privacy",),
    "advertising": ("privacy",),
    "marketing": ("privacy",),
    "docking": ("dock",),
    # Connecting a device is what the guides call pairing (Bluetooth) or adding a node (mesh).
    "connect": ("pair",),
    "hook": ("connect", "add"),
}


# Everyday phrases whose words, one by one, mean something else: "send it back" is a return, but
# "send" and "back" are no entry's words, and "2 step login" shares only "login" with the two-factor
# guide. Rewritten (whole words, any spacing or hyphen) before the words are searched; the value is
# the store's own wording. Phrases only: a single word goes in SYNONYMS.
PHRASES: dict[str, str] = {
    "send it back": "return it",
    "send them back": "return them",
    "send back": "return",
    "sending it back": "return it",
    "take it back": "return it",
    "sent it back": "returned it",
    "sent them back": "returned them",
    "sent back": "returned",
    "my money back": "my refund",
    "money back": "refund",
    "my money": "my refund",
    "anything back": "a refund",  # "it's cheaper now, do i get anything back?": the price match
    # A price that fell after the purchase is the price-match policy's "the price drops".
    "now its cheaper": "the price drops",
    "its now cheaper": "the price drops",
    "now cheaper": "the price drops",
    "cheaper now": "the price drops",
    "went down in price": "the price drops",
    "gone down in price": "the price drops",
    "price went down": "the price drops",
    "price has dropped": "the price drops",
    "price dropped": "the price drops",
    "now it's cheaper": "the price drops",
    "it's now cheaper": "the price drops",
    "cheaper on your": "the price drops on your",
    "the difference back": "a refund of the difference",
    "get the difference": "get a refund of the difference",
    "till what time": "until what hours",  # "till what time can i call?": support hours
    "until what time": "until what hours",
    "2 step": "two-factor",
    "two step": "two-factor",
    "2 factor": "two-factor",
    "docking station": "dock",
    "personal info": "personal data",
    "personal information": "personal data",
    "my info": "my data",
    "my details": "my data",
    "get back to me": "answer me",
    "gets back to me": "answer me",
    "getting back to me": "answer me",
    "get back to us": "answer us",
    "gets back to us": "answer us",
    "hear back": "get an answer",
    "no sound": "silent",  # "my left echobud makes no sound at all": the reset guide's fault
    # Paying: the payment policy ("what ways can i pay" carried the earlier turn's phone along).
    "ways to pay": "payment methods",
    "ways can i pay": "payment methods",
    "ways i can pay": "payment methods",
    "how can i pay": "which payment methods",
    "who do i talk to": "who do i contact",  # "we want 30 voltbooks for our school, who do i talk to"
    "who should i talk to": "who should i contact",
    "noise cancel": "noise cancelling",  # a feature, not the cancellation policy
    "in bulk": "volume",
    "bulk pricing": "volume pricing",
    "bulk order": "volume order",
}
_PHRASE = re.compile(
    r"\b(" + "|".join(re.escape(p).replace(r"\ ", r"[\s\-]+") for p in sorted(PHRASES, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)


# "we want to buy 30 voltbooks for our school": ten units or more of something is a volume order
# (the business-sales contact), whatever the product; "need 16 gb" or "order 12 days ago" is not.
_QUANTITY = re.compile(
    r"\b(?:buy|buying|order|ordering|need|get|getting|purchase|want)\s+(?:about |around |like )?"
    r"([1-9]\d{1,3})\s+"
    r"(?!gb\b|tb\b|mb\b|mah\b|hours?\b|days?\b|weeks?\b|minutes?\b|months?\b|years?\b)[a-z]",
    re.IGNORECASE,
)
VOLUME_UNITS = 10


def rephrased(text: str) -> str:
    """``text`` with the everyday phrases of PHRASES in the store's words (and "volume order" after a
    quantity of VOLUME_UNITS or more)."""
    text = _PHRASE.sub(lambda m: PHRASES[re.sub(r"[\s\-]+", " ", m.group(1).lower())], text)
    quantity = _QUANTITY.search(text)
    return f"{text} volume order" if quantity and int(quantity.group(1)) >= VOLUME_UNITS else text


# A word that, alone, has one meaning in a store's chat: "number pls" asks for the phone number. In a
# longer question it does not ("tracking number", "VAT number"), so these apply to one-term questions.
LONE_SENSES: dict[str, tuple[str, ...]] = {
    "number": _PHONE,
    "digits": _PHONE,
    "email": _CONTACT,  # "email?" wants the support address, not how to change one's own
}


def expansions(term: str) -> tuple[str, ...]:
    """The store words ``term`` also stands for (empty for most terms)."""
    return SYNONYMS.get(term, ())


def concept_groups(terms: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each query term with the words that count as finding it: itself first, then its expansions."""
    if len(terms) == 1 and terms[0] in LONE_SENSES:
        return {terms[0]: (terms[0], *LONE_SENSES[terms[0]])}
    return {t: (t, *(e for e in expansions(t) if e != t)) for t in terms}


def expanded_terms(groups: dict[str, tuple[str, ...]]) -> list[str]:
    """Every word to search for, the customer's own terms first, each once."""
    out: dict[str, None] = dict.fromkeys(groups)
    for words in groups.values():
        out.update(dict.fromkeys(words))
    return list(out)
