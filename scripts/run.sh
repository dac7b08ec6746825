#!/usr/bin/env bash
# Set up and start Switchboard on embedded defaults (SQLite file, in-process engine, no Redis)
# at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/switchboard serve "$@"
