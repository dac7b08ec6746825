"""Summaries: TTFT includes queueing, TPOT excludes the first token, throughput spans the trace."""

from __future__ import annotations

import pytest

from inference.bench.report import RequestTiming, SystemResult, format_table, summarize


def _timing(index: int, arrival: float, first: float, finish: float, tokens: int) -> RequestTiming:
    return RequestTiming(index, "general", arrival, first, finish, 10, tokens, tokens)


def test_summary_math() -> None:
    result = SystemResult("x", [_timing(0, 0.0, 1.0, 4.0, 4), _timing(1, 2.0, 2.5, 2.5, 1)], note="n")
    s = summarize(result)
    assert s["span_s"] == 4.0 and s["output_tokens"] == 5
    assert s["throughput_tok_s"] == pytest.approx(5 / 4.0)
    assert s["ttft_p50_s"] == pytest.approx(0.75)  # median of 1.0 and 0.5
    assert s["tpot_p50_s"] == pytest.approx(1.0)  # (4-1)/(4-1); the 1-token answer has no TPOT
    assert s["note"] == "n"


def test_empty_system_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no finished requests"):
        summarize(SystemResult("empty", []))


def test_table_marks_targets() -> None:
    system = summarize(SystemResult("engine", [_timing(0, 0.0, 1.0, 2.0, 3)]))
    table = format_table(
        {
            "systems": {"engine": system},
            "roofline": {
                "flops_per_s": 4e10,
                "dtype": "float32",
                "matrix_size": 2048,
                "device": "cpu",
                "threads": 2,
            },
            "flops_per_token": 2.7e8,
            "targets": {
                "speed": {"value": 3.0, "target": ">= 2.5", "met": True},
                "ttft": {"value": 0.9, "target": "<= 0.5", "met": False},
            },
        }
    )
    assert "engine" in table and "40.0 GFLOP/s" in table
    assert "MET" in table.splitlines()[-2] and "MISSED" in table.splitlines()[-1]


def test_cpu_line_names_the_gpu_and_decode_path_of_a_gpu_run() -> None:
    from inference.bench.report import cpu_line

    cpu_only = {"cpu": {"label": "X"}, "dtype": "float32", "threads": 1}
    assert "GPU" not in cpu_line(cpu_only)
    gpu = {**cpu_only, "gpu": "NVIDIA H200", "engine": {"attention": "flex", "decode_graphs": True}}
    assert cpu_line(gpu).endswith("; GPU: NVIDIA H200, attention flex, decode graphs True")
