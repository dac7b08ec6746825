"""The compiled few-row CPU matmul equals torch's, is built for what this CPU has, and the engine
uses it only for steps of at most MAX_ROWS tokens, with the same tokens as without it."""

from __future__ import annotations

import shutil

import pytest
import torch

from inference import cpu_small_gemm
from inference.cpu_features import cpu_info
from inference.cpu_small_gemm import MAX_ROWS
from tests.inference.lora_factory import make_two_adapters, tiny_engine
from tests.inference.test_decode_graphs import _run

X86_FMA = {"avx2", "fma"} <= cpu_info().flags or "avx512f" in cpu_info().flags
needs_fp32 = pytest.mark.skipif(not X86_FMA, reason="no AVX2+FMA or AVX-512 on this CPU")


def test_the_build_computes_the_dtypes_this_cpus_flags_allow() -> None:
    assert shutil.which("c++") or shutil.which("g++"), "no C++ compiler on this machine"
    assert cpu_small_gemm.load() is not None
    dtypes = cpu_small_gemm.supported_dtypes()
    assert (torch.float32 in dtypes) == X86_FMA
    # bf16 pairs need AVX-512 BF16; without it the engine keeps torch's bf16 matmul.
    assert (torch.bfloat16 in dtypes) == ("avx512_bf16" in cpu_info().flags)
    assert cpu_small_gemm.linear_for(torch.float16) is None


@pytest.mark.parametrize("dtype,rtol", [(torch.float32, 1e-5), (torch.bfloat16, 1e-2)])
@pytest.mark.parametrize("rows,inner,out", [(1, 576, 1536), (3, 100, 37), (4, 1536, 576), (7, 33, 5)])
def test_the_kernel_equals_a_float64_matmul(
    dtype: torch.dtype, rtol: float, rows: int, inner: int, out: int
) -> None:
    linear = cpu_small_gemm.linear_for(dtype)
    if linear is None:
        pytest.skip(f"no {dtype} path on this CPU")
    gen = torch.Generator().manual_seed(rows * inner + out)
    x = torch.randn(rows, inner, generator=gen).to(dtype)
    w = torch.randn(out, inner, generator=gen).to(dtype)
    b = torch.randn(out, generator=gen).to(dtype)
    ref = x.double() @ w.double().T + b.double()
    got = linear(x, w, b)
    assert got.dtype == dtype and got.shape == (rows, out)
    # Relative to the output's scale (fp32 sums in another order; bf16 rounds the output).
    scale = ref.abs().max().item()
    assert (got.double() - ref).abs().max().item() <= rtol * scale
    no_bias = linear(x, w, None).double()
    assert (no_bias - (x.double() @ w.double().T)).abs().max().item() <= rtol * scale
    strided = torch.randn(rows, inner * 2, generator=gen).to(dtype)[:, ::2]  # a view: copied first
    assert torch.allclose(linear(strided, w, None).double(), strided.double() @ w.double().T, rtol=0,
                          atol=rtol * (strided.double() @ w.double().T).abs().max().item())  # fmt: skip


@needs_fp32
def test_the_engine_gives_the_same_tokens_with_it_and_uses_it_only_for_small_steps(
    tokenizer, tmp_path
) -> None:
    dirs = make_two_adapters(tmp_path)
    plain = _run(tiny_engine(tokenizer, dirs, max_tokens_per_step=16, small_gemm=False))
    engine = tiny_engine(tokenizer, dirs, max_tokens_per_step=16)
    kernel = engine.runner.small_linear
    assert kernel is not None
    rows: list[int] = []

    def counting(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        rows.append(x.shape[0])
        return kernel(x, w, b)

    engine.runner.small_linear = counting
    assert _run(engine) == plain  # mixed prefill + decode steps, both adapters and the base
    assert rows and max(rows) <= MAX_ROWS
    assert tiny_engine(tokenizer, {}, small_gemm=False).runner.small_linear is None
