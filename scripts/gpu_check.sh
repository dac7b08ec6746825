#!/usr/bin/env bash
# The one prepared script for a session lent the GPU machine (device kind nvidia-h200).
# NOT RUN YET: no session so far has had a GPU. docs/benchmarks/gpu/README.md says how to run it.
#
# It runs there as the machine is: its python3 already holds torch 2.11 (CUDA 13), transformers and
# peft, and nothing can be installed (no registry), so it never calls scripts/setup.sh or pip. The
# engine and its bench import only torch, transformers, peft, numpy, safetensors and matplotlib
# (python3 -m inference.bench.engine_main: no app, no typer/pydantic/sqlalchemy). The tokenizer
# travels in .carry/tokenizer (scripts/gpu_prepare.sh puts it there, on this side).
#
# Stages, each under its own timeout so one slow stage cannot eat the rest (~7.5 min at most):
# machine facts; python3 -m inference.bench.gpu_check (bf16 smoke, bitsandbytes if importable,
# flex + CUDA graphs vs the plain path, decode step times); the engine bench at the SmolLM2-135M
# and Llama-3-8B shapes (random weights) against merged HF generate and PEFT static batches.
# If the check fails, the bench still runs, on the eager SDPA path (its results say which path ran).
# $OUT gets three files (the device returns at most 8): README.md (the tables), run.log, results.tgz.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench-results/gpu}
TOK=${TOK:-.carry/tokenizer}
PY=${PY:-python3}
# A CPU dry run of this script's own logic: DEVICE=cpu DTYPE=float32 SHAPES=tiny BENCH_ARGS="--requests 4"
DEVICE=${DEVICE:-cuda}
DTYPE=${DTYPE:-bfloat16}
SHAPES=${SHAPES:-smollm2-135m llama-3-8b}
BENCH_ARGS=${BENCH_ARGS:-}
WORK=$(mktemp -d /tmp/sb-gpu-XXXX)
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
t0=$(date +%s)
stage() { echo "== $1 (at $(( $(date +%s) - t0 )) s)"; }
{
stage "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
$PY -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'cuda', torch.cuda.is_available())"
$PY -c "import bitsandbytes; print('bitsandbytes', bitsandbytes.__version__)" 2>/dev/null \
    || echo "bitsandbytes: not importable here; the int8/nf4 smoke rows say skipped"
[ -f "$TOK/tokenizer.json" ] || { echo "no tokenizer in $TOK: run scripts/gpu_prepare.sh here first and carry .carry"; exit 2; }

stage "checks: smoke, flex + graphs vs plain, decode step times"
timeout 150 $PY -m inference.bench.gpu_check --tokenizer-dir "$TOK" --out "$WORK" --device "$DEVICE" \
    --shapes "${SHAPES// /,}"
echo "gpu_check: exit $? (1 = equivalence failed, 124 = timed out)"
ATTN=(--attention auto --decode-graphs auto)  # flex + CUDA graphs
# The bench takes that path when every shape's equivalence check passed (a timeout in the later
# step timings does not matter); else it still gets figures from this one run on the eager SDPA path.
if ! $PY -c "import json,sys; e=json.load(open(sys.argv[1]))['equivalence']; sys.exit(not e or not all(x['ok'] for x in e) or len(e) < int(sys.argv[2]))" \
        "$WORK/gpu_check.json" "$(echo $SHAPES | wc -w)"; then
    echo "equivalence not shown for every shape: the bench falls back to SDPA, no graphs"
    ATTN=(--attention sdpa --decode-graphs off)
fi
echo "${ATTN[*]}" > "$WORK/engine_options.txt"

for shape in $SHAPES; do
    limit=$([ "$shape" = llama-3-8b ] && echo 180 || echo 120)
    stage "engine bench $shape (limit ${limit}s)"
    # shellcheck disable=SC2086  # BENCH_ARGS is a list of options
    timeout "$limit" $PY -m inference.bench.engine_main --device "$DEVICE" --dtype "$DTYPE" --dummy "$shape" \
        --tokenizer-dir "$TOK" --requests 48 --rate 8 --sequential 8 --static-batch 32 --max-batch 64 \
        --systems engine,peft_static_batch,hf_sequential "${ATTN[@]}" $BENCH_ARGS --out "$WORK/engine-$shape" \
        || echo "engine bench $shape: exit $? (124 = timed out)"
done
stage "done"
} 2>&1 | tee "$OUT/run.log"

{
echo "# GPU check run ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Made by scripts/gpu_check.sh; every number below was measured in this one run."
echo "Engine options in the bench: $(cat "$WORK/engine_options.txt" 2>/dev/null || echo unknown)."
echo
cat "$WORK/gpu_check.md" 2>/dev/null || echo "(gpu_check wrote no tables: see run.log)"
for shape in $SHAPES; do
    echo
    echo "## Engine bench, $shape shape (random weights, $DTYPE, $DEVICE)"
    echo
    cat "$WORK/engine-$shape/results.md" 2>/dev/null || echo "(no results: see run.log)"
done
} > "$OUT/README.md"
tar -czf "$OUT/results.tgz" -C "$WORK" .
echo "wrote $OUT/README.md, $OUT/run.log, $OUT/results.tgz"
