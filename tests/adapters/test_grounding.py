from __future__ import annotations

import pytest

from adapters.grounding import (
    FACTS_HEADER,
    MAX_FACT_CHARS,
    NO_FACTS_LINE,
    FactSnippet,
    facts_block,
    grounded_system_prompt,
)


def test_facts_are_numbered_lines_after_the_system_prompt() -> None:
    facts = [
        FactSnippet("product.a", "EchoMax ANC", "Over-ear,  $299.\nIn stock."),
        FactSnippet("p.b", "B", "x"),
    ]
    prompt = grounded_system_prompt("You are helpful.", facts)
    assert prompt.startswith("You are helpful.\n\n" + FACTS_HEADER)
    assert prompt.splitlines()[-2:] == ["[1] EchoMax ANC: Over-ear, $299. In stock.", "[2] B: x"]


def test_no_facts_says_so() -> None:
    assert facts_block([]) == NO_FACTS_LINE


def test_long_text_is_cut() -> None:
    line = FactSnippet("k", "T", "word " * 400).line(1)
    assert len(line) <= MAX_FACT_CHARS + len("[1] T: ") and line.endswith("...")


@pytest.mark.parametrize("key,text", [("", "x"), ("k", "  ")])
def test_empty_key_or_text_is_refused(key: str, text: str) -> None:
    with pytest.raises(ValueError):
        FactSnippet(key, "t", text)
