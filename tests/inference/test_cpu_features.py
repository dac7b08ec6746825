"""CPU detection: flags parsed from /proc/cpuinfo-style text, a label every figure can carry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference.cpu_features import CpuInfo, _read_cpuinfo, bf16_speedup, cpu_info, default_threads

AVX2_EPYC = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx avx2 fma f16c bmi2\n"
VNNI_EPYC = "model name\t: AMD EPYC 9B14\nflags\t\t: avx2 fma avx512f avx512bw avx512_vnni avx512_bf16\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 asimddp\nCPU part\t: 0xd0c\n"


def _info(tmp_path: Path, text: str) -> CpuInfo:
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    model, flags = _read_cpuinfo(path)
    return CpuInfo(model, "x86_64", flags, 2, "AVX2")


@pytest.mark.parametrize(("text", "dot"), [(AVX2_EPYC, False), (VNNI_EPYC, True), (ARM, True)])
def test_int8_dot_product_support_comes_from_the_flags(tmp_path: Path, text: str, dot: bool) -> None:
    assert _info(tmp_path, text).has_int8_dot is dot


def test_the_label_names_the_model_and_the_flags_that_matter(tmp_path: Path) -> None:
    info = _info(tmp_path, AVX2_EPYC)
    assert info.label() == "AMD EPYC 7B13 (avx2 fma f16c)"
    assert info.describe()["flags"] == ["avx2", "fma", "f16c"]


def test_a_missing_cpuinfo_still_gives_a_model(tmp_path: Path) -> None:
    model, flags = _read_cpuinfo(tmp_path / "absent")
    assert model and flags == frozenset()


def test_this_machine_is_described() -> None:
    described = cpu_info().describe()
    assert described["usable_cores"] == default_threads() >= 1
    assert described["torch_capability"] and described["label"]
    assert bf16_speedup() > 0


def test_the_bf16_probe_is_measured_once_per_cpu_and_kept(tmp_path: Path, monkeypatch) -> None:
    from inference import cpu_features

    calls: list[int] = []
    monkeypatch.setattr(cpu_features, "bf16_speedup", lambda: calls.append(1) or 1.7)
    assert cpu_features.cached_bf16_speedup(tmp_path) == 1.7
    assert cpu_features.cached_bf16_speedup(tmp_path) == 1.7 and len(calls) == 1  # read back
    kept = json.loads((tmp_path / cpu_features.PROBE_FILE).read_text())
    assert list(kept) == [cpu_features.probe_key()] and cpu_info().label() in cpu_features.probe_key()
    # Another CPU (or core count, or torch build) is another key: measured again, not trusted.
    monkeypatch.setattr(cpu_features, "probe_key", lambda: "some other CPU")
    assert cpu_features.cached_bf16_speedup(tmp_path) == 1.7 and len(calls) == 2
    (tmp_path / cpu_features.PROBE_FILE).write_text("{broken")  # a damaged file is measured again
    assert cpu_features.cached_bf16_speedup(tmp_path) == 1.7 and len(calls) == 3
    assert cpu_features.bf16_is_faster(tmp_path) is True and len(calls) == 3
