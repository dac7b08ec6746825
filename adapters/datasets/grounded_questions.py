"""How customers ask about each kind of knowledge entry: the training phrasings of the grounded builder.

Written for training only; the factual eval set (adapters/eval/facts_questions.jsonl) was written
first and separately, and tests/adapters/test_grounded.py checks that no eval question appears here.
``{name}`` is the product or plan name, ``{short}`` a shorter form a customer would type.
"""

from __future__ import annotations

PRODUCT_PRICE = (
    "How much is the {name} at the moment?",
    "what would the {name} cost me",
    "{name} price pls",
    "price for {short}?",
    "how much do you sell the {name} for",
    "can you tell me what the {name} costs?",
    "{short} cost?",
    "what are you charging for the {name} these days",
    "hi, how much for a {name}",
    "wanna buy the {short}, how much",
)
PRODUCT_STOCK = (
    "is the {name} in stock at the moment?",
    "do you have the {name} available",
    "{short} in stock",
    "can I get a {name} right away or do I have to wait?",
    "is the {name} sold out",
    "any {name} left?",
)
PRODUCT_SPEC = (
    "tell me a bit about the {name}",
    "what are the specs of the {name}?",
    "{short} specs",
    "what's the {name} like?",
    "give me the details on the {name}",
    "what features does the {name} have",
    "I'd like more info on the {short}",
)
PLAN = (
    "What is {name} priced at?",
    "{name} price?",
    "what do I get with {name}",
    "what's included in {name}?",
    "cost of {short} per month or year?",
    "tell me about the {name} plan",
    "{short} plan - what is it?",
)
SERVICE = (
    "what plans does {name} have?",
    "{name} prices",
    "how much is {name}",
    "what does {name} cost and what are the options",
    "tell me about {name}",
)
ARTICLE = (
    "how do I {task}?",
    "can you help me {task}",
    "steps to {task} please",
    "how can i {task}",
    "I need to {task}, what do I do?",
)
ARTICLE_KEYWORD = (
    "{kw} - what do I do?",
    "help with {kw}",
    "problem: {kw}",
    "{kw}, how does that work?",
)
# Questions about entries that are neither products, plans nor articles, written per entry key.
ENTRY_QUESTIONS: dict[str, tuple[str, ...]] = {
    "policy.shipping": (
        "how long will delivery take?",
        "how much is postage",
        "what are your shipping options",
        "when is shipping free?",
        "how much is next day delivery",
        "if I order today at noon when does it leave?",
    ),
    "policy.returns": (
        "can I return something?",
        "how many days do I have to return an item",
        "what's the returns policy",
        "I don't like what I bought, can I send it back?",
        "can I return a subscription?",
    ),
    "policy.refunds": (
        "how many days does a refund take?",
        "when will I get my money back",
        "where does my refund go?",
        "how fast is a refund for a cancelled order",
    ),
    "policy.warranty": (
        "what's the warranty on your products",
        "is accidental damage covered by the warranty?",
        "how long is the guarantee",
        "how do I make a warranty claim?",
    ),
    "policy.cancellation": (
        "can I cancel my order",
        "how do I cancel an order before it ships?",
        "it already shipped, can I still cancel?",
        "does it cost anything to cancel",
    ),
    "policy.subscription-cancellation": (
        "how do I cancel my subscription",
        "can I stop ShieldGuard any time?",
        "what happens when I cancel CloudKeep",
        "does cancelling during the free trial cost anything?",
    ),
    "policy.payment": (
        "how can I pay?",
        "which cards do you accept",
        "do you take paypal",
        "when does a bank transfer order ship?",
        "how do subscriptions renew?",
    ),
    "policy.price-match": (
        "do you price match?",
        "the price went down after I ordered, what now",
        "can I get money back if the price drops?",
    ),
    "policy.damaged-delivery": (
        "my package arrived broken",
        "an item is missing from my delivery",
        "the box was damaged, what should I do?",
        "I got the wrong item",
    ),
    "policy.order-tracking": (
        "how do I track an order?",
        "where do I find the tracking link",
        "how can I see my order status",
    ),
    "policy.privacy": (
        "what do you do with my data?",
        "how do I download my personal data",
        "is my data shared with anyone",
    ),
    "contact.phone": (
        "can I call you?",
        "what number do I ring for support",
        "phone support?",
        "give me your telephone number",
    ),
    "contact.email": (
        "what's your email address",
        "can I email you?",
        "where do I write to support",
        "how long do you take to answer an email?",
    ),
    "contact.business": (
        "who do I contact for a business order?",
        "I want to buy for my company, who do I write to",
        "b2b contact?",
    ),
    "contact.hours": (
        "what are your opening hours",
        "when can I reach support?",
        "are you open at the weekend",
        "when are you available",
    ),
    "contact.live-chat": (
        "can I chat with someone?",
        "where is the live chat",
        "is there a real person I can chat to",
    ),
    "offer.student": (
        "student discount?",
        "do students get money off",
        "I'm at university, any deal on a laptop?",
        "how much off for students",
    ),
    "offer.voltbook-shieldguard": (
        "any bundle deals?",
        "do I get anything free with a laptop",
        "is there an offer with the Voltbook",
    ),
    "offer.business-volume": (
        "do you do volume discounts",
        "we want to buy 15 units, any discount?",
        "bulk pricing for companies?",
    ),
    "offer.cloudkeep-yearly": (
        "is CloudKeep cheaper per year?",
        "any discount on annual CloudKeep",
        "does CloudKeep have yearly billing",
    ),
    "offer.free-trials": (
        "free trials?",
        "can I test your subscriptions for free",
        "how long are the free trials",
    ),
}
# Questions the knowledge cannot answer: about the customer's own order or account, or off-topic.
OWN_ACCOUNT = (
    "where's my package? order {n}",
    "order {n} hasn't arrived yet, what's going on?",
    "did my payment for order {n} go through",
    "when is my order {n} being delivered",
    "what's in my order {n}",
    "has my return for order {n} been received?",
    "can you check the status of my refund for order {n}",
    "is my repair for ticket {n} finished?",
    "what's my current subscription plan?",
    "how many devices have I got on my ShieldGuard account",
    "why did my CloudKeep payment fail this month?",
    "which address is on my account",
    "what was the total of my last invoice",
    "when did I buy my laptop?",
    "did you cancel my order {n}?",
)
MISSING_PRODUCTS = (
    "Voltbook Pro 17",
    "Voltbook Air 15",
    "Nova X5",
    "Nova Mini",
    "EchoMax 2",
    "MeshWave AX6000",
    "HomeCam 4K",
    "Lumo Smart Plug",
    "PowerCell 50000",
    "Voltbook Pro 13",
    "Nova X3",
    "Nova Ultra",
    "EchoBuds Lite",
    "MeshWave AX1800",
    "HomeCam Outdoor",
    "Lumo Light Strip",
    "PowerCell 10000",
)
MISSING_PRODUCT_QUESTIONS = (
    "how much will the {name} be?",
    "do you have the {name} in stock",
    "{name} price?",
    "when is the {name} coming out",
    "I'd like to order a {name}",
    "what are the specs of the {name}",
)
OFF_TOPIC = (
    "what's the weather tomorrow",
    "can you write me a poem",
    "who won the football last night?",
    "do you sell washing machines",
    "what's the best pizza place nearby",
    "do you have a physical store in Paris",
    "can you recommend a good movie",
    "how do I fix my car's engine",
)
SMALL_TALK = (
    ("hi", "Hi! How can I help you with Voltline today?"),
    ("hello there", "Hello! What can I help you with?"),
    ("thanks, that's all", "You're welcome! Have a great day."),
    ("thank you!", "Happy to help! Anything else?"),
    ("ok bye", "Goodbye, and thanks for contacting Voltline!"),
    ("good morning", "Good morning! How can I help?"),
)
