"""LoRA on a quantized base: PEFT loads and generates, the delta is applied, the engine agrees."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.params import SamplingParams
from inference.quantization import quantize_model
from inference.request import GenerationRequest
from tests.inference.lora_factory import ALL_PROJECTIONS, make_adapter

PROMPT = [5, 300, 1200, 77, 901, 4000, 42, 17]


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random rank-4 LoRA on all seven projections of the tiny model."""
    return make_adapter(tmp_path_factory.mktemp("lora") / "a", 4, ALL_PROJECTIONS, seed=3)


def _quantized(mode: str) -> torch.nn.Module:
    return quantize_model(build_random_llama("tiny", seed=0, initializer_range=0.5), mode, group_size=32)


def _greedy(model: torch.nn.Module, n: int = 6) -> list[int]:
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        out = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False,
            pad_token_id=2, eos_token_id=None,
        )
    return out[0, len(PROMPT) :].tolist()


@pytest.mark.parametrize("mode", ["dynamic-int8", "rtn-int4"])
def test_peft_adapter_applies_its_delta_on_a_quantized_base(adapter_dir: Path, mode: str) -> None:
    from peft import PeftModel

    base = _quantized(mode)
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        plain = base(ids).logits
    model = PeftModel.from_pretrained(copy.deepcopy(base), str(adapter_dir)).eval()
    wrapped = model.base_model.model.model.layers[0].self_attn.q_proj
    assert type(wrapped.base_layer) is type(base.model.layers[0].self_attn.q_proj)
    with torch.no_grad():
        adapted = model(ids).logits
        # The LoRA output of one projection equals base output + scale * B(A(x)).
        x = torch.randn(3, wrapped.in_features)
        a, b = wrapped.lora_A["default"].weight, wrapped.lora_B["default"].weight
        want = wrapped.base_layer(x) + wrapped.scaling["default"] * (x @ a.T @ b.T)
        assert torch.allclose(wrapped(x), want, atol=1e-4)
    assert not torch.allclose(adapted, plain, atol=1e-2)
    assert len(_greedy(model)) == 6


@pytest.mark.parametrize("mode", ["dynamic-int8", "rtn-int4"])
def test_engine_matches_peft_on_a_quantized_base(tokenizer, adapter_dir: Path, mode: str) -> None:
    from peft import PeftModel

    base = _quantized(mode)
    reference = _greedy(PeftModel.from_pretrained(copy.deepcopy(base), str(adapter_dir)).eval())
    engine = LLMEngine(base, tokenizer, EngineConfig(kv_budget_tokens=256))
    engine.load_adapter("a", adapter_dir)
    params = SamplingParams.greedy(max_new_tokens=6, ignore_eos=True)
    engine.add_request(GenerationRequest(PROMPT, params, adapter="a", request_id="r"))
    tokens: list[int] = []
    while engine.has_unfinished():
        for ev in engine.step():
            tokens.extend(ev.token_ids)
    assert tokens == reference
