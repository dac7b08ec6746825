"""Grounded prompts for `switchboard bench guard`: a small fact fixture and questions that need numbers.

Written for this benchmark (not drawn from the adapters' training templates or the knowledge seed):
each question names the facts a retriever would hand the model (the answer's fact plus a
distractor), and a quarter ask for a number the facts do not hold, which is where a model invents.
The facts block copies the serving format of ``adapters/grounding.py`` (inference/ may not import
adapters/; tests/inference/bench/test_guard_prompts.py checks the two stay the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FACTS_HEADER = "Store facts (answer only from these):"

FACTS: dict[str, tuple[str, str]] = {
    "pro15": ("Voltbook Pro 15 laptop", "Voltbook Pro 15: $1,499, in stock. 15-inch, 32 GB RAM, 1 TB SSD."),
    "air13": (
        "Voltbook Air 13 laptop",
        "Voltbook Air 13: $899, in stock. 13-inch, 16 GB RAM, 18-hour battery.",
    ),
    "echomax": (
        "EchoMax ANC headphones",
        "EchoMax ANC over-ear headphones: $299, in stock. 40-hour battery.",
    ),
    "meshwave": (
        "MeshWave AX3000 router",
        "MeshWave AX3000 Wi-Fi 6 mesh router: $199, or $449 for a 3-pack.",
    ),
    "novax2": ("Nova X2 phone", "Nova X2: $699, in stock. 6.4-inch OLED, 256 GB storage."),
    "shipping": (
        "Shipping",
        "Free shipping over $50. Standard 3-5 business days for $4.99; express 1-2 days, $12.99.",
    ),
    "returns": ("Returns", "Return any item within 30 days of delivery; start it in Account > Orders."),
    "refunds": ("Refunds", "Refunds reach the original payment method within 5-7 business days."),
    "warranty": ("Warranty", "All electronics carry a 2-year warranty."),
    "phone": ("Support phone", "Call 0800 555 0142, Monday to Saturday, 8:00-20:00 CET."),
    "email": ("Support email", "Write to help@voltline.example; we answer within one business day."),
    "shieldguard": (
        "ShieldGuard plans",
        "ShieldGuard Basic $29.99/year (1 device), Plus $49.99/year (5 devices).",
    ),
    "cloudkeep": (
        "CloudKeep plans",
        "CloudKeep Personal $3.99/month (200 GB), Family $9.99/month (2 TB, 5 users).",
    ),
    "student": ("Student discount", "Students get 10% off laptops with a verified student email."),
}


@dataclass(frozen=True)
class GuardPrompt:
    """One customer question, the adapter that answers it, and the facts retrieved for it."""

    adapter: str
    question: str
    facts: tuple[str, ...]

    def fact_texts(self) -> list[str]:
        """The retrieved facts' texts (what ``allowed_values`` reads)."""
        return [FACTS[k][1] for k in self.facts]


PROMPTS = [
    GuardPrompt("sales", "How much is the Voltbook Pro 15?", ("pro15", "air13")),
    GuardPrompt("sales", "what does the air 13 cost and is it in stock", ("air13", "pro15")),
    GuardPrompt("sales", "Price of the EchoMax headphones please", ("echomax", "warranty")),
    GuardPrompt(
        "sales", "I need mesh wifi for a big house, how much for three routers?", ("meshwave", "shipping")
    ),
    GuardPrompt("sales", "Is the Nova X2 cheaper than the Pro 15 laptop?", ("novax2", "pro15")),
    GuardPrompt("sales", "How much is ShieldGuard Plus per year?", ("shieldguard", "student")),
    GuardPrompt(
        "sales", "What's the cheapest CloudKeep plan and how much storage?", ("cloudkeep", "shieldguard")
    ),
    GuardPrompt("sales", "Do students get a discount on the Voltbook Air?", ("student", "air13")),
    GuardPrompt("sales", "How much is the Voltbook Pro 15 with 64 GB of RAM?", ("pro15", "air13")),
    GuardPrompt("sales", "What does the Nova X2 with 512 GB cost?", ("novax2", "warranty")),
    GuardPrompt(
        "general", "How long does standard shipping take and what does it cost?", ("shipping", "returns")
    ),
    GuardPrompt("general", "when is shipping free", ("shipping", "refunds")),
    GuardPrompt("general", "How many days do I have to return something?", ("returns", "refunds")),
    GuardPrompt("general", "I sent my order back. When do I get my money?", ("refunds", "returns")),
    GuardPrompt("general", "What is your phone number and when can I call?", ("phone", "email")),
    GuardPrompt("general", "Which email address do I write to for help?", ("email", "phone")),
    GuardPrompt("general", "How long is the warranty on headphones?", ("warranty", "echomax")),
    GuardPrompt("general", "Can I get same-day delivery, and how much is it?", ("shipping", "returns")),
    GuardPrompt("general", "What is your fax number?", ("phone", "email")),
    GuardPrompt(
        "tech_support", "My EchoMax battery dies fast, how long should it last?", ("echomax", "warranty")
    ),
    GuardPrompt("tech_support", "My laptop broke after 18 months, is it covered?", ("warranty", "returns")),
    GuardPrompt("tech_support", "The router drops wifi, who can I call?", ("phone", "meshwave")),
    GuardPrompt(
        "tech_support",
        "How much storage does CloudKeep Family have and for how many people?",
        ("cloudkeep", "email"),
    ),  # noqa: E501
    GuardPrompt("tech_support", "What's the error code list for the MeshWave router?", ("meshwave", "phone")),
]


def facts_block(keys: tuple[str, ...]) -> str:
    """The numbered facts block as the server sends it (see adapters/grounding.py)."""
    return "\n".join([FACTS_HEADER, *(f"[{i}] {FACTS[k][0]}: {FACTS[k][1]}" for i, k in enumerate(keys, 1))])


def prompt_ids(tokenizer: Any, system_prompt: str, prompt: GuardPrompt) -> list[int]:
    """Chat-templated ids: the adapter's system prompt + the facts block, then the question."""
    messages = [
        {"role": "system", "content": f"{system_prompt.strip()}\n\n{facts_block(prompt.facts)}"},
        {"role": "user", "content": prompt.question},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])  # as app/backends/prompting.py
