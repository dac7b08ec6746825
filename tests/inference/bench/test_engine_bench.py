"""The whole engine benchmark on the tiny model: JSON structure and self-consistent numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference.bench.engine_bench import EngineBenchConfig, run_benchmark
from inference.bench.trace import TraceSpec, make_trace

SPEC = TraceSpec(num_requests=6, rate=40.0, seed=3, prompt_tokens=(5, 24), output_tokens=(3, 9))


@pytest.fixture(scope="module")
def results(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("engine-bench")
    cfg = EngineBenchConfig(
        dummy="tiny",
        tokenizer_dir=model_dir,
        trace=SPEC,
        sequential_requests=3,
        static_batch_size=4,
        max_batch_size=8,
        out_dir=out,
    )
    return run_benchmark(cfg, log=lambda _: None), out


def test_writes_json_and_plot(results: tuple[dict, Path]) -> None:
    summary, out = results
    on_disk = json.loads((out / "results.json").read_text())
    assert (out / "engine_bench.png").stat().st_size > 0
    assert "throughput engine / peft_static_batch" in (out / "results.md").read_text()
    assert set(on_disk["systems"]) == {"engine", "peft_static_batch", "hf_sequential"}
    assert on_disk["systems"] == json.loads(json.dumps(summary["systems"]))
    assert set(on_disk["requests"]) == set(on_disk["systems"])
    assert on_disk["config"]["adapters"] == dict.fromkeys(("general", "tech_support", "sales"), "random r=16")


def test_every_system_produced_exactly_the_requested_tokens(results: tuple[dict, Path]) -> None:
    summary, out = results
    trace = make_trace(SPEC)
    requests = json.loads((out / "results.json").read_text())["requests"]
    for name, system in summary["systems"].items():
        ran = requests[name]
        assert system["requests"] == len(ran)
        assert system["output_tokens"] == system["requested_tokens"] == sum(r["output_tokens"] for r in ran)
        for r in ran:
            assert r["output_tokens"] == r["requested_tokens"] == trace[r["index"]].max_new_tokens
            assert r["arrival_s"] <= r["first_token_s"] <= r["finish_s"]
    assert summary["systems"]["engine"]["requests"] == SPEC.num_requests
    assert summary["systems"]["hf_sequential"]["requests"] == 3
    note = summary["systems"]["hf_sequential"]["note"]
    assert "merged" in note and "stratified sample of 3 of 6" in note
    # vLLM needs real weights: with a dummy shape it is skipped, and the run says so.
    assert "vllm" not in summary["systems"] and "dummy" in summary["skipped"][0]


def test_numbers_are_positive_and_consistent(results: tuple[dict, Path]) -> None:
    summary, _ = results
    for system in summary["systems"].values():
        assert system["throughput_tok_s"] > 0
        assert system["throughput_tok_s"] == pytest.approx(system["output_tokens"] / system["span_s"])
        assert 0 <= system["ttft_p50_s"] <= system["ttft_p99_s"]
        assert 0 < system["tpot_p50_s"] <= system["tpot_p99_s"]
    assert summary["roofline"]["flops_per_s"] > 0
    assert summary["flops_per_token"] > 0
    targets = summary["targets"]
    assert len(targets) == 5  # two ratios against PEFT, one against merged HF, two per-phase
    phases = summary["phases"]
    assert phases["prefill"]["flops_per_s"] > 0 and phases["decode_batch1"]["bytes_per_s"] > 0
    assert phases["bandwidth_bytes_per_s"] > 0 and phases["trace_flops"] > 0
    for t in targets.values():
        assert t["value"] > 0 and isinstance(t["met"], bool)
    eng, c = summary["systems"]["engine"], summary["systems"]["peft_static_batch"]
    ratio = targets["throughput engine / peft_static_batch"]["value"]
    assert ratio == pytest.approx(eng["throughput_tok_s"] / c["throughput_tok_s"])


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        EngineBenchConfig()
    with pytest.raises(ValueError, match="static_batch_size"):
        EngineBenchConfig(dummy="tiny", static_batch_size=0)
    with pytest.raises(ValueError, match="systems"):
        EngineBenchConfig(dummy="tiny", systems=("hf_sequential",))
