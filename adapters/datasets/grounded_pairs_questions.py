"""Training phrasings for two-fact questions: comparisons of two products or plans, and follow-ups.

Written for training only, like grounded_questions.py; tests/adapters/test_grounded.py checks that no
eval question appears in the built data. ``{a}``/``{b}`` are the two names as written, ``{sa}``/``{sb}``
shorter forms a customer would type.
"""

from __future__ import annotations

# Two products asked together: the reply states the fact for both, in the order asked.
PAIR_PRICE = (
    "{a} or {b}, which one is cheaper?",
    "is the {a} more expensive than the {b}",
    "{a} vs {b}?",
    "should I get the {a} or the {b}? how much are they",
    "price of {sa} and {sb}",
    "how much are the {a} and the {b} each",
    "what do {sa} and {sb} cost",
    "need prices for both the {a} and the {b}",
)
PAIR_SPEC = (
    "compare the {a} and the {b}",
    "what's the difference between the {a} and the {b}?",
    "{sa} or {sb}, what sets them apart",
    "how does the {a} stack up against the {b}",
    "tell me about the {a} and the {b}",
)
PAIR_STOCK = (
    "are the {a} and the {b} both in stock?",
    "can I buy the {a} and the {b} today",
    "{sa} and {sb} available right now?",
)
# Two plans of one service asked together.
PLAN_PAIR = (
    "{a} vs {b}, what's the difference?",
    "which is cheaper, {a} or {b}?",
    "compare {a} with {b}",
    "what does {b} give me over {a}",
    "{sa} or {sb} plan - prices?",
    "how do the {a} and {b} plans differ",
)
# Asked after a first question about one product (or plan): the same question about another one.
SWITCH = (
    "and the {b}?",
    "what about the {sb}?",
    "how about the {b} then",
    "ok and for the {b}",
    "same question for the {sb}",
)
# Asked after a first question about a product: another detail of the same product.
FOLLOW_UP = {
    "price": ("and how much does it cost?", "ok, what's the price?", "how much is that one?"),
    "stock": ("is it in stock?", "can I get one now?", "do you have it available?"),
    "spec": ("what are its specs?", "tell me more about it", "what does it come with?"),
    "warranty": ("does it have a warranty?", "how long is it guaranteed for?"),
}
# Asked after a first question about a product: a store policy that applies to it.
PRODUCT_TO_POLICY = {  # (follow-up, a string of the policy sentence that answers it)
    "policy.shipping": (
        ("how fast can you deliver it?", "Standard shipping"),
        ("is delivery free for that?", "free on"),
    ),
    "policy.returns": (
        ("can I send it back if I don't like it?", "30 days"),
        ("what if I want to return it", "30 days"),
    ),
    "policy.payment": (
        ("can I pay for it with paypal?", "PayPal"),
        ("which cards can I use to buy it", "Visa"),
    ),
}
# Per policy/contact/offer entry: (first question, follow-up asking another detail of the same entry,
# a string of the sentence that answers the follow-up).
ENTRY_FOLLOW_UPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "policy.shipping": (
        ("price of the normal delivery option?", "what about express delivery then?", "express"),
        ("how long does express delivery take?", "and the regular option?", "Standard"),
        ("how much is delivery?", "is it ever free?", "free on orders"),
        ("when would my order leave the warehouse", "how much does express cost?", "express"),
    ),
    "policy.returns": (
        ("can I send an item back?", "how long have I got for that?", "30 days"),
        ("how many days to return something", "who pays for the return label?", "return label"),
        ("what's your return window", "can subscriptions be returned too?", "Software"),
    ),
    "policy.refunds": (
        ("how many days until a refund lands?", "and if I cancel before it ships?", "Cancelled orders"),
        ("when do I get my money back for a return", "which account does it go to?", "original payment"),
    ),
    "policy.warranty": (
        ("how long is your warranty", "does it cover me dropping it?", "accidental"),
        ("is accidental damage covered", "then how long is the warranty?", "2 years"),
    ),
    "policy.cancellation": (
        ("can I still cancel my order?", "and once it has shipped?", "Once it has shipped"),
        ("will it cost me to cancel an order", "where do I do that?", "Cancel in Account"),
    ),
    "policy.subscription-cancellation": (
        ("can I cancel ShieldGuard whenever I want?", "does it stop straight away?", "stays active"),
        ("how do I end my CloudKeep plan", "do I pay if I'm still in the trial?", "free trial"),
    ),
    "policy.payment": (
        ("which payment methods do you take", "and if I pay by bank transfer?", "bank transfer ship"),
        ("can I pay with amex?", "how do subscriptions get charged?", "renew"),
    ),
    "policy.damaged-delivery": (
        ("my parcel came damaged", "how many days do I have to report it?", "7 days"),
        ("something was missing from my box", "do I get a refund or a new one?", "replacement"),
    ),
    "policy.price-match": (("do you match prices?", "for how long after ordering?", "14 days"),),
    "contact.phone": (("what's the support number", "when can I call it?", "Monday"),),
    "contact.hours": (
        ("when is support open", "and on sundays?", "Closed on Sundays"),
        ("are you open on saturday", "what times?", "8:00-20:00"),
    ),
    "contact.email": (("what email can I write to", "how quickly do you reply?", "one business day"),),
    "offer.student": (
        ("is there a discount for students", "which products does it cover?", "10%"),
        ("how much do students save", "what do I need to get it?", "10%"),
    ),
    "offer.free-trials": (
        ("does CloudKeep have a free trial", "and ShieldGuard?", "30-day"),
        ("how long is the ShieldGuard trial", "what if I cancel during it?", "pay nothing"),
    ),
    "offer.cloudkeep-yearly": (("can I pay CloudKeep yearly", "what do I save that way?", "two months"),),
}
