"""The committed adapters on the real SmolLM2: they load with PEFT as is and their eval meets the goal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from adapters.registry import load_adapter_specs

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"


def test_committed_eval_shows_each_adapter_beating_the_base_by_15_percent() -> None:
    report = json.loads((ADAPTERS / "eval" / "heldout_loss.json").read_text())
    table = report["table"]
    for name in ("general", "tech_support", "sales"):
        own, base = table[name][name]["loss"], table["base"][name]["loss"]
        assert 1 - own / base >= 0.15, (name, own, base)


@pytest.mark.real_model
def test_every_adapter_loads_and_generates_on_the_real_model(model_dir: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    specs = load_adapter_specs(ADAPTERS)
    model = PeftModel.from_pretrained(base, str(specs["sales"].path), adapter_name="sales")
    for name in ("general", "tech_support"):
        model.load_adapter(str(specs[name].path), adapter_name=name)
    for name, spec in specs.items():
        model.set_adapter(name)
        messages = [{"role": "system", "content": spec.system_prompt}, {"role": "user", "content": "hi"}]
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        out = model.generate(**ids, max_new_tokens=8, do_sample=False)
        assert tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip()
