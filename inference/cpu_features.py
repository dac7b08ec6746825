"""What this CPU can do, detected at run time: model name, ISA flags, usable cores, fast dtypes.

Machines of one kind differ from session to session (AVX-512 VNNI/BF16 on one, AVX2 only on the
next), so nothing CPU-specific is assumed: defaults are chosen from what is detected or measured
here, and every benchmark writes ``describe()`` into its results so a figure names its CPU.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

log = logging.getLogger(__name__)

# The flags that change which kernels run (int8 dot products, bf16 matmuls, vector width).
RELEVANT_FLAGS = (
    "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16",
    "amx_bf16", "amx_int8", "asimd", "asimddp", "bf16", "i8mm", "sve",
)  # fmt: skip
# bf16 must beat fp32 by this margin to become the default: a tie is not worth +0.6 % perplexity.
BF16_MIN_SPEEDUP = 1.2
PROBE_FILE = "cpu-probes.json"


@dataclass(frozen=True)
class CpuInfo:
    """The processor as the OS reports it, plus the vector ISA torch dispatches to."""

    model: str
    arch: str
    flags: frozenset[str]
    usable_cores: int
    torch_capability: str

    @property
    def has_int8_dot(self) -> bool:
        """Int8 dot products accumulating straight into int32 (VNNI, AMX or Arm dotprod)."""
        return bool(self.flags & {"avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm"})

    def label(self) -> str:
        """One line for a results table: ``AMD EPYC (avx2 fma avx512f ...)``."""
        shown = [f for f in RELEVANT_FLAGS if f in self.flags]
        return f"{self.model} ({' '.join(shown) or 'no SIMD flags found'})"

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary that every benchmark writes into its results."""
        return {
            "model": self.model,
            "arch": self.arch,
            "flags": [f for f in RELEVANT_FLAGS if f in self.flags],
            "usable_cores": self.usable_cores,
            "torch_capability": self.torch_capability,
            "label": self.label(),
        }


def _read_cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, frozenset[str]]:
    try:
        text = path.read_text()
    except OSError:
        return platform.processor() or platform.machine(), frozenset()
    model, flags = "", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model or platform.processor() or platform.machine(), frozenset(flags)


def usable_cores() -> int:
    """CPUs this process may run on (affinity and cgroup pinning included), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@cache
def cpu_info() -> CpuInfo:
    """The detected CPU, read once per process."""
    model, flags = _read_cpuinfo()
    capability = torch.backends.cpu.get_cpu_capability()
    return CpuInfo(model, platform.machine(), flags, usable_cores(), capability)


def default_threads() -> int:
    """Torch threads for the engine: every usable core (the step loop is the process's hot path)."""
    return usable_cores()


def _best_seconds(a: torch.Tensor, b: torch.Tensor) -> float:
    start = time.perf_counter()
    torch.mm(a, b)
    return time.perf_counter() - start


@cache
def bf16_speedup(m: int = 32, k: int = 576, n: int = 1536, repeats: int = 10) -> float:
    """fp32 time / bf16 time of one decode-sized matmul (SmolLM2's MLP shape at batch 32), measured.

    AVX-512-BF16 or AMX CPUs run bf16 faster than fp32; AVX2-only CPUs emulate it and were seen
    ~12x slower, so the answer must come from this machine, not from its flags. ~20 ms once.
    """
    a, b = torch.randn(m, k), torch.randn(k, n)
    pairs = {torch.float32: (a, b), torch.bfloat16: (a.bfloat16(), b.bfloat16())}
    best = {dtype: float("inf") for dtype in pairs}
    for _ in range(2):  # warm-up: the first calls pack weights and pick kernels
        for x, y in pairs.values():
            torch.mm(x, y)
    for _ in range(repeats):  # interleaved, so a burst of load from elsewhere hits both alike
        for dtype, (x, y) in pairs.items():
            best[dtype] = min(best[dtype], _best_seconds(x, y))
    fp32, bf16 = best[torch.float32], best[torch.bfloat16]
    return fp32 / max(bf16, 1e-9)


def probe_key() -> str:
    """What a cached probe result depends on: the CPU, the cores this process gets, torch's build."""
    info = cpu_info()
    return f"{info.label()}|{info.usable_cores} cores|torch {torch.__version__}|{info.torch_capability}"


def cached_bf16_speedup(cache_dir: Path | None) -> float:
    """``bf16_speedup()``, measured once per CPU and kept in ``cache_dir/cpu-probes.json``.

    The probe costs ~1 s on a loaded machine at every start otherwise; a different CPU, core
    count or torch build is a different key, so a moved cache is measured again, never trusted.
    """
    if cache_dir is None:
        return bf16_speedup()
    path, key = cache_dir / PROBE_FILE, probe_key()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    entry = known.get(key) if isinstance(known, dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("bf16_speedup"), float):
        return float(entry["bf16_speedup"])
    speedup = bf16_speedup()
    known = known if isinstance(known, dict) else {}
    known[key] = {"bf16_speedup": speedup}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, indent=1))
        tmp.replace(path)  # atomic: two processes starting together never read half a file
    except OSError:
        log.warning("could not keep the CPU probe result in %s", path, exc_info=True)
    return speedup


def bf16_is_faster(cache_dir: Path | None = None) -> bool:
    """True where bf16 matmuls are measurably faster than fp32 on this CPU (cached in ``cache_dir``)."""
    speedup = cached_bf16_speedup(cache_dir)
    faster = speedup >= BF16_MIN_SPEEDUP
    log.info("CPU bf16 matmul speed-up %.2fx over fp32 on %s: %s", speedup, cpu_info().label(),
             "bf16 is the CPU default" if faster else "fp32 stays the CPU default")
    return faster
