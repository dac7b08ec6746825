#!/usr/bin/env bash
# Set up and start Switchboard on embedded defaults (SQLite file, in-process engine, no Redis)
# at http://127.0.0.1:8000 (arguments go to `switchboard serve`, e.g. --port 8001).
# Once set up, nothing is installed and no registry is asked (setup.sh compares a stamp); the
# page answers in seconds and the model loads behind it (README, "Start-up time").
set -euo pipefail
cd "$(dirname "$0")/.."
# --no-fetch: `serve` checks the model itself (and fetches it on the very first run).
bash scripts/setup.sh --no-fetch
exec .venv/bin/switchboard serve "$@"
