"""The quantization benchmark's pieces: chat texts, targets and the markdown table."""

from __future__ import annotations

import json
from pathlib import Path

from inference.bench.quant_bench import FALLBACK_TEXT, chat_texts, render_markdown, targets


def _row(ppl: float, tok_s: float) -> dict:
    return {"memory_mb": 1.0, "tok_s": {"1": tok_s}, "ppl": ppl, "agree": 1.0, "ppl_change_pct": 0.0,
            "speedup_b1": 1.0}


def test_chat_texts_use_the_split_files_or_fall_back(tmp_path: Path, tokenizer) -> None:
    assert chat_texts(tokenizer, tmp_path, "heldout", 2) == FALLBACK_TEXT[:2]
    (tmp_path / "sales").mkdir()
    msgs = [
        {"role": "user", "content": "How much is ShieldGuard Plus?"},
        {"role": "assistant", "content": "$39."},
    ]
    (tmp_path / "sales" / "heldout.jsonl").write_text(json.dumps({"messages": msgs}) + "\n")
    (text,) = chat_texts(tokenizer, tmp_path, "heldout", 5)
    assert "ShieldGuard Plus" in text and "<|im_start|>" in text


def test_targets_measure_recovery_against_the_same_training() -> None:
    rows = {"fp32": _row(10.0, 2.0), "dynamic-int8": _row(10.2, 3.0), "rtn-int4": _row(14.0, 1.0)}
    rows["dynamic-int8"].update(speedup_b1=1.5, ppl_change_pct=2.0)
    qa = {"fp32+adapter": 8.0, "rtn-int4+adapter": 12.0, "rtn-int4+QA-adapter": 9.0}
    t = targets(rows, qa)
    assert t["dynamic-int8 speedup at batch 1 >= 1.3x"]["met"]
    assert t["QA adapter recovers >= 1/2 of the int4 loss"]["value"] == 0.75
    table = render_markdown({"modes": rows, "qa_adapter": qa, "targets": t})
    assert "| rtn-int4 |" in table and "MET" in table
