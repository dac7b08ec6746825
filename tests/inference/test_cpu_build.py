"""A build lock left by a killed extension build is cleared; a fresh one (a build running now) is not."""

from __future__ import annotations

import os
import time
from pathlib import Path

from inference.cpu_build import STALE_LOCK_S, clear_stale_lock


def test_only_a_lock_older_than_any_build_is_removed(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    lock.touch()
    assert not clear_stale_lock(tmp_path) and lock.exists()  # a build may be running
    old = time.time() - STALE_LOCK_S - 60
    os.utime(lock, (old, old))
    assert clear_stale_lock(tmp_path) and not lock.exists()
    assert not clear_stale_lock(tmp_path)  # no lock: nothing to do
