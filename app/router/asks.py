"""Two requests the router must not confuse: "let me talk to a human" (hand-off) and "number pls" (a fact).

The classifier learned hand-off from requests for a person, and phone numbers sit close to them:
"number to call pls" scored hand-off 0.58, so the customer was put in the staff queue instead of
being told the number, which the knowledge base holds (contact.phone). And a plain request for a
person in words the training data lacked ("connect me to support staff", "get me a human now")
went to an adapter. These patterns are the explicit forms of both requests; the router applies
them as rules (router.decide) after pinning and language, before the classifier's own choice.
"""

from __future__ import annotations

import re

PERSON = "person"
CONTACT = "contact"

_WHO = (
    r"(?:a |an |the |your |some |one of your )?(?:real |actual |live |proper )?"
    r"(?:customer service |customer support |support |sales |service )?"
    r"(?:humans?(?: beings?)?|hunan|person|people|somebody|someone|agents?|representative|rep|operator|"
    r"supervisor|manager|staff|salesperson|member of (?:your )?(?:staff|team))"
)
_ASKS_FOR_PERSON = [
    re.compile(rf"\b(?:talk|speak|chat)(?:ing)?\s+(?:to|with)\s+{_WHO}\b"),
    re.compile(r"\b(?:connect|transfer|put)\s+me\s+(?:to|with|through)\b"),
    re.compile(
        r"\b(?:get|give|want|need|find)\s+(?:me\s+)?(?:a |an )?(?:real |actual |live )?"
        r"(?:human|person|agent|representative|operator)\b"
    ),  # fmt: skip
    # Not "call me": small talk says "you can call me Sam"; "can someone call me" the classifier knows.
    # A bare "human", "agent please", "real person now".
    re.compile(
        r"^\W*(?:an? )?(?:real |live |actual )?(?:human|agent|representative|operator)s?"
        r"(?:\s+(?:pls|plz|please|now|asap))*\W*$"
    ),  # fmt: skip
]
_ASKS_FOR_CONTACT = [
    re.compile(
        r"\b(?:phone|telephone|tel|support|contact|your|ur|customer service|hotline)\s*(?:number|no\b|#)"
    ),
    re.compile(
        r"^\W*(?:phone\s*)?(?:number|no)\b\W*(?:pls|plz|please|\?)?\W*$|^\W*number\s+(?:pls|plz|please)\b"
    ),
    re.compile(r"\bwhat number\b|\bnumber (?:do i|to|should i|can i) (?:call|ring|phone)\b"),
    # "ok can I just call someone, whats the number": the number, not the staff queue.
    re.compile(r"\bwhat(?:'s|s| is) (?:the|your|ur) (?:phone |support |contact )?number\b(?! of\b)"),
    re.compile(
        r"\b(?:can|could|how do|how can|may) (?:i|we) (?:call|ring|phone) (?:you|the store|support)\b"
    ),
    re.compile(r"\b(?:hotline|phone line|support line)\b|^\W*tel\W*$"),
    re.compile(
        r"\b(?:your|ur|support|customer service|contact) e-?mail(?: address)?\b|^\W*e-?mail(?: address)?\W*$"
    ),
    re.compile(r"\bcontact (?:details|info|information)\b|\bhow (?:do|can) i (?:contact|reach) you\b"),
    re.compile(r"\bnumbe?r\s+(?:pls|plz|please)\b"),  # "i need to call someone, number pls"
    # When the phone line or chat is staffed: "what hours can I call?", "when is customer service open?"
    re.compile(
        r"\b(?:what|which) (?:hours|times?|days?)\b.*\b(?:call|ring|phone|open|reach)\b"
        r"|\bwhen (?:can|could|should) i (?:call|ring|phone|reach)\b"
        r"|\b(?:opening|open|office|support|phone|call centre|call center) (?:hours|times)\b"
    ),
]
# "Is there a live chat with a human?" asks whether a channel exists (contact.live-chat answers it);
# checked before the requests for a person, which the same words would match.
# So does "what times can I talk to an actual human on the chat?": it asks when, which
# contact.live-chat and contact.hours answer; it is not yet a request to be put through.
_ASKS_ABOUT_CHANNEL = re.compile(
    r"^\W*(?:is there|are there|do you have|have you got|do you offer|do you do)\b[^.!]*"
    r"\b(?:live chat|live support|phone line|hotline|phone support|chat support)\b"
    r"|\b(?:what|which) (?:hours|times?|days?)\b[^.!?]*\b(?:talk|speak|chat|reach|contact)\b"
)

# "my phone number changed": the customer's own details (an account task), not the store's.
_OWN_DETAILS = re.compile(r"\bmy (?:new |old )?(?:phone|mobile|tel|telephone|contact|e-?mail)\b")


def asked_for(text: str) -> str | None:
    """``person`` for an explicit request for a human, ``contact`` for the store's phone/email, else None.

    A request for a person wins over contact wording ("talk to someone, what number do I call?"),
    except a question whether a channel exists ("is there a live chat with a human?").
    """
    lowered = " ".join(text.lower().split())
    if _ASKS_ABOUT_CHANNEL.search(lowered):
        return CONTACT
    if any(p.search(lowered) for p in _ASKS_FOR_PERSON):
        return PERSON
    if not _OWN_DETAILS.search(lowered) and any(p.search(lowered) for p in _ASKS_FOR_CONTACT):
        return CONTACT
    return None
