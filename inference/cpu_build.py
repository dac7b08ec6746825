"""Build a C++ source of ``inference/csrc`` as a torch extension for the CPU it runs on.

``-march=native`` compiles for the machine's own features (read where it runs, never assumed), and
the build is cached under a name holding the source's hash, the flags, this CPU's model and flags
and torch's version, so a cache moved to another CPU kind is rebuilt instead of reused.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import torch

from inference.cpu_features import cpu_info

log = logging.getLogger(__name__)
CSRC = Path(__file__).parent / "csrc"
# Fast math lets the compiler vectorise the kernels' sums (they keep no inf/NaN state).
CFLAGS = ("-O3", "-march=native", "-ffast-math")
# A build takes under a minute here; a lock this old belongs to a build that was killed (torch's
# loader would wait on it forever: seen when a first start was stopped mid-compile).
STALE_LOCK_S = 15 * 60


def build_name(prefix: str, source: Path) -> str:
    """The extension's cache name: source, flags and this CPU's features all in its hash."""
    digest = hashlib.sha256(source.read_bytes() + " ".join(CFLAGS).encode())
    info = cpu_info()
    digest.update(f"{info.model} {' '.join(sorted(info.flags))} {torch.__version__}".encode())
    return f"{prefix}_{digest.hexdigest()[:12]}"


def clear_stale_lock(build_dir: Path, max_age_s: float = STALE_LOCK_S) -> bool:
    """Remove ``build_dir``'s build lock when it is older than ``max_age_s``; True if it did."""
    lock = build_dir / "lock"
    try:
        if time.time() - lock.stat().st_mtime > max_age_s:
            lock.unlink()
            log.warning("removed a stale extension build lock: %s", lock)
            return True
    except FileNotFoundError:
        pass
    return False


def build(prefix: str, source: Path) -> Any | None:
    """The compiled module, or None where it cannot be built here (no compiler, no ninja)."""
    try:
        from torch.utils.cpp_extension import _get_build_directory, load

        name = build_name(prefix, source)
        clear_stale_lock(Path(_get_build_directory(name, verbose=False)))
        return load(name, [str(source)], extra_cflags=list(CFLAGS), verbose=False)
    except Exception as exc:  # the callers keep their torch path
        log.warning("CPU kernel %s unavailable: %s", source.name, exc)
        return None
