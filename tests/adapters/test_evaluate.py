"""The eval CLI on the tiny model and tiny data: table files, reductions, sample replies."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli import adapters_app
from adapters.evaluate import heldout_loss
from adapters.examples import read_jsonl
from adapters.train import TrainConfig, train


def test_eval_cli_writes_table_for_base_and_every_adapter(
    tiny_model_dir: Path, tiny_data: Path, tmp_path: Path
) -> None:
    adapters = tmp_path / "adapters"
    for intent in ("general", "sales"):
        cfg = TrainConfig(
            intent=intent,
            base=tiny_model_dir,
            out=adapters / intent,
            rank=4,
            alpha=8,
            max_steps=2,
            batch_size=4,
            max_len=64,
            data_dir=tiny_data,
        )
        train(cfg, progress=False)
    out = tmp_path / "eval"
    args = [
        "eval",
        "--base",
        str(tiny_model_dir),
        "--adapters-dir",
        str(adapters),
        "--data-dir",
        str(tiny_data),
        "--out",
        str(out),
        "--limit",
        "3",
        "--samples",
        "1",
    ]
    result = CliRunner().invoke(adapters_app, args)
    assert result.exit_code == 0, result.output
    table = json.loads((out / "heldout_loss.json").read_text())["table"]
    assert set(table) == {"base", "general", "sales"}
    assert set(table["base"]) == {"general", "tech_support", "sales"}
    assert all(cell["examples"] == 3 and cell["loss"] > 0 for row in table.values() for cell in row.values())
    assert "| base |" in (out / "heldout_loss.md").read_text()
    samples = json.loads((out / "samples.json").read_text())
    assert {s["adapter"] for s in samples} == {"general", "sales"}


def test_eval_cli_fails_clearly_without_adapters(
    tiny_model_dir: Path, tiny_data: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    args = [
        "eval",
        "--base",
        str(tiny_model_dir),
        "--adapters-dir",
        str(tmp_path / "empty"),
        "--data-dir",
        str(tiny_data),
    ]
    result = CliRunner().invoke(adapters_app, args)
    assert result.exit_code == 1
    assert "no adapters to evaluate" in result.output


def test_heldout_loss_counts_only_reply_tokens(tiny_model, tokenizer, tiny_data: Path) -> None:
    examples = read_jsonl(tiny_data / "sales" / "heldout.jsonl")
    one = heldout_loss(tiny_model, tokenizer, examples[:1])
    # Reply "Answer 0: here is how sales works." + <|im_end|>: far fewer tokens than the whole chat.
    assert 5 <= one.tokens <= 15
    both = heldout_loss(tiny_model, tokenizer, examples[:2], batch_size=1)
    batched = heldout_loss(tiny_model, tokenizer, examples[:2], batch_size=2)
    assert abs(both.loss - batched.loss) < 1e-4  # right padding must not change the loss
