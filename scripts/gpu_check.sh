#!/usr/bin/env bash
# The one prepared script for a session that is lent a CUDA GPU (never run yet: no GPU so far).
# Checks the CUDA path (bf16 engine, bitsandbytes) and runs the engine benchmark there; the
# results land in $OUT (the device tool's folder) or bench-results/gpu/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench-results/gpu}
mkdir -p "$OUT"
TORCH_SPEC=${TORCH_SPEC:-torch} bash scripts/setup.sh
. .venv/bin/activate
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
python - <<'PY' 2>&1 | tee "$OUT/cuda_smoke.txt"
import torch
from inference.loading.dummy import build_random_llama
from inference import EngineConfig, GenerationRequest, LLMEngine, SamplingParams
from inference.quantization import quantize_model
from transformers import AutoTokenizer
from app.config import settings

tok = AutoTokenizer.from_pretrained(str(settings.model_dir))
for mode in ("none", "int8", "nf4"):
    model = build_random_llama("smollm2-135m", dtype=torch.bfloat16, device="cuda")
    model = quantize_model(model, mode) if mode != "none" else model
    engine = LLMEngine(model, tok, EngineConfig())
    engine.add_request(GenerationRequest(prompt_ids=[1, 2, 3], params=SamplingParams(max_new_tokens=8, ignore_eos=True)))
    n = 0
    while engine.has_unfinished():
        n += sum(len(e.token_ids) for e in engine.step())
    print(f"cuda bf16 {mode}: generated {n} tokens")
PY
for shape in smollm2-135m llama-3-8b; do
    switchboard bench engine --device cuda --dtype bfloat16 --dummy "$shape" --threads 0 \
        --requests 128 --rate 16 --out "$OUT/engine-$shape" 2>&1 | tail -30
done
