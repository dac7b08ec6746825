"""`switchboard bench ...`: a benchmark's bad option is one red `error:` line and exit 1, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_bad_benchmark_option_fails_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "engine", "--systems", "vllm", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: systems must include 'engine'")
    assert list(tmp_path.iterdir()) == []  # nothing ran
