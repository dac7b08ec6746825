"""CPU detection: flags parsed from /proc/cpuinfo-style text, a label every figure can carry."""

from __future__ import annotations

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
