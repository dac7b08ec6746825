"""The `switchboard` command: a broken model path is one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_serve_with_missing_model_fails_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SWITCHBOARD_MODEL": str(tmp_path / "missing")}
    result = _run("serve", "--port", "1", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0]


def test_serve_with_broken_model_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{broken")
    env = {**os.environ, "SWITCHBOARD_MODEL": str(tmp_path)}
    result = _run("serve", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "not valid JSON" in result.stderr


def test_help_lists_the_subcommands() -> None:
    result = _run("--help", env=dict(os.environ))
    assert result.returncode == 0
    for name in ("serve", "fetch-model", "bench"):
        assert name in result.stdout
