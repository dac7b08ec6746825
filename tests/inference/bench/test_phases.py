"""The per-phase cost model counts only what the engine computes and reads."""

from __future__ import annotations

import pytest

from inference.bench.phases import ModelCost, measure_bandwidth, model_cost
from inference.bench.targets import targets
from inference.bench.vllm_system import vllm_unavailable


def _cost() -> ModelCost:
    return ModelCost(layer_flops=100.0, head_flops=1000.0, attn_width=2, weight_bytes=5000,
                     kv_bytes_per_token=10, lora_flops={"a": 7.0}, lora_bytes={"a": 30})


def test_request_flops_charge_lm_head_only_for_sampled_rows() -> None:
    prefill, decode = _cost().request_flops(prompt=3, output=4, adapter="a")
    # 3 prompt tokens x (100 + 7), attention pairs 1+2+3 = 6 at 4 x 2 FLOPs, one lm_head row.
    assert prefill == 3 * 107 + 8 * 6 + 1000
    # 3 decode-fed tokens at positions 3, 4, 5: 4+5+6 = 15 pairs; each of them samples a row.
    assert decode == 3 * (107 + 1000) + 8 * 15
    assert _cost().request_flops(3, 1, None)[1] == 0.0


def test_decode_step_bytes_grow_with_context_and_adapter() -> None:
    cost = _cost()
    assert cost.decode_step_bytes(4, None) == 5000 + 40
    assert cost.decode_step_bytes(4, "a") == 5000 + 30 + 40


def test_model_cost_of_the_tiny_model(tiny_model) -> None:
    cost = model_cost(tiny_model, {}, kv_bytes_per_token=256)
    cfg = tiny_model.config
    per_layer = 64 * 64 * 2 + 64 * 32 * 2 + 64 * 128 * 3  # q,o; k,v; gate,up,down
    assert cost.layer_flops == 2.0 * cfg.num_hidden_layers * per_layer
    assert cost.head_flops == 2.0 * 64 * cfg.vocab_size
    assert cost.attn_width == cfg.num_hidden_layers * 64


def test_bandwidth_is_measured() -> None:
    assert measure_bandwidth(megabytes=16, repeats=2) > 1e8


def test_targets_compare_every_system_that_ran() -> None:
    systems = {
        "engine": {"throughput_tok_s": 60.0, "ttft_p99_s": 1.0},
        "peft_static_batch": {"throughput_tok_s": 20.0, "ttft_p99_s": 4.0},
        "vllm": {"throughput_tok_s": 40.0, "ttft_p99_s": 0.5},
    }
    phases = {"prefill": {"flops_per_s": 30.0}, "decode_batch1": {"bytes_per_s": 4.0},
              "bandwidth_bytes_per_s": 10.0}
    out = targets(systems, phases, peak_flops=100.0)
    assert out["throughput engine / peft_static_batch"] == {"value": 3.0, "target": ">= 3", "met": True}
    vs_vllm = out["throughput engine / vllm"]
    assert vs_vllm["value"] == pytest.approx(1.5) and not vs_vllm["met"]
    assert out["p99 TTFT engine / vllm"]["value"] == 2.0 and not out["p99 TTFT engine / vllm"]["met"]
    assert out["p99 TTFT engine / peft_static_batch"]["met"]
    assert "throughput engine / hf_sequential" not in out
    assert out["prefill: fraction of matmul peak"]["value"] == pytest.approx(0.3)
    assert out["batch-1 decode: fraction of memory bandwidth"]["value"] == pytest.approx(0.4)


def test_vllm_is_skipped_with_a_reason(tmp_path, monkeypatch) -> None:
    assert "dummy" in (vllm_unavailable(None) or "")
    monkeypatch.setenv("SWITCHBOARD_VLLM_VENV", str(tmp_path / "none"))
    assert "setup_vllm.sh" in (vllm_unavailable(tmp_path) or "")
