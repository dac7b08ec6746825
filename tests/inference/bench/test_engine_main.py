"""The app-free bench entry point builds the same config `switchboard bench engine` would."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.bench.engine_main import main, parse_args
from inference.bench.gpu_check import to_markdown


def test_parse_args_maps_every_option() -> None:
    cfg = parse_args([
        "--dummy", "llama-3-8b", "--tokenizer-dir", "/tok", "--device", "cuda", "--dtype", "bfloat16",
        "--requests", "48", "--rate", "8", "--sequential", "8", "--block-size", "32",
        "--attention", "flex", "--decode-graphs", "off", "--systems", "engine,hf_sequential", "--out", "/o",
    ])
    assert cfg.dummy == "llama-3-8b" and cfg.model_dir is None and cfg.tokenizer_dir == Path("/tok")
    assert cfg.trace.num_requests == 48 and cfg.trace.rate == 8.0
    assert (cfg.sequential_requests, cfg.block_size, cfg.attention) == (8, 32, "flex")
    assert cfg.decode_graphs is False and cfg.systems == ("engine", "hf_sequential")
    assert parse_args(["--dummy", "tiny"]).decode_graphs is None  # auto: on for CUDA + flex


def test_bad_combination_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dummy", "tiny", "--model-dir", "/m"]) == 2  # weights named twice
    assert "exactly one" in capsys.readouterr().err


def test_gpu_check_tables() -> None:
    report = {
        "gpu": "G", "torch": "T", "smoke": {"none": "ok: 8 tokens"},
        "equivalence": [{"shape": "s", "max_rel_logit_diff": 0.01, "argmax_agreement": 1.0,
                         "graphs_captured": 3, "ok": True}],
        "step_times": [{"shape": "s", "batch": 8, "plain_ms": 10.0, "flex_graphs_ms": 4.0, "speedup": 2.5}],
    }
    text = to_markdown(report)
    assert "| s | 1.00e-02 | 1.000 | 3 | True |" in text
    assert "| s | 8 | 10.00 | 4.00 | 2.50x |" in text
