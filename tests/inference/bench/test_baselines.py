"""The merged one-at-a-time baseline generates what unmerged PEFT does, from its own model copy."""

from __future__ import annotations

import torch

from inference.bench.adapters import write_random_adapter
from inference.bench.baselines import load_peft_adapters, merged_models, run_hf_sequential
from inference.bench.trace import TraceRequest
from inference.loading.dummy import build_random_llama

PROMPT = (5, 900, 31, 4000, 17, 222, 8)


def test_merged_copies_match_peft_and_leave_the_base_alone(tmp_path) -> None:
    base = build_random_llama("tiny", seed=0, initializer_range=0.5)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    paths = {name: write_random_adapter(base, tmp_path / name, 4, seed=i + 1) for i, name in enumerate("ab")}
    merged = merged_models(base, paths, {"a", "b"})
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())  # base untouched
    assert not any(hasattr(m, "peft_config") for m in merged.values())
    peft = load_peft_adapters(base, paths)
    ids = torch.tensor([PROMPT])
    for name, model in merged.items():
        peft.set_adapter(name)
        with torch.inference_mode():
            want = peft(input_ids=ids).logits[0, -1]
            got = model(input_ids=ids).logits[0, -1]
        assert torch.allclose(got, want, atol=1e-4)
    trace = [TraceRequest(0, 0.0, "a", PROMPT, 3), TraceRequest(1, 0.0, "b", PROMPT, 2)]
    result = run_hf_sequential(merged, trace, pad_id=2)
    assert [t.output_tokens for t in result.timings] == [3, 2]
