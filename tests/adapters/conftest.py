"""Fixtures for adapter tests: the tiny random Llama saved as a model folder, and a tiny chat data set."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.examples import ChatExample, write_jsonl


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model, tokenizer) -> Path:
    """The tiny model + real tokenizer as a Hugging Face folder (what the CLIs take as --base)."""
    path = tmp_path_factory.mktemp("tiny-base")
    tiny_model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


def _examples(intent: str, n: int) -> list[ChatExample]:
    return [
        ChatExample(
            intent, f"question {i} about {intent}?", f"Answer {i}: here is how {intent} works.", "t", f"g{i}"
        )
        for i in range(n)
    ]


@pytest.fixture()
def tiny_data(tmp_path: Path) -> Path:
    """A data dir with 8 train and 3 held-out examples per intent."""
    for intent in ("general", "tech_support", "sales"):
        write_jsonl(tmp_path / intent / "train.jsonl", _examples(intent, 8))
        write_jsonl(tmp_path / intent / "heldout.jsonl", _examples(intent, 3))
    return tmp_path
