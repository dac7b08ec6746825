#!/usr/bin/env bash
# Run HERE (not on the GPU machine) before calling the device tool with scripts/gpu_check.sh:
# copies the SmolLM2 tokenizer (3.5 MB; the GPU machine has no hub access) into .carry/tokenizer,
# which git ignores locally and the device call carries (carry: [".carry"]).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${SRC:-$HOME/.cache/switchboard/smollm2-135m-instruct}
mkdir -p .carry/tokenizer
for f in tokenizer.json tokenizer_config.json special_tokens_map.json chat_template.jinja config.json generation_config.json; do
    [ -f "$SRC/$f" ] && cp "$SRC/$f" .carry/tokenizer/
done
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.carry/' "$exclude" 2>/dev/null || echo '/.carry/' >> "$exclude"
du -sh .carry
