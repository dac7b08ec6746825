"""The compiled CPU decode kernel equals the bucketed SDPA path, alone and inside the engine."""

from __future__ import annotations

import shutil

import pytest
import torch

from inference import cpu_decode_kernel
from inference.model_runner import resolve_attention
from inference.paged_attention import attend, build_layout
from tests.inference.lora_factory import make_two_adapters, reference_greedy, tiny_engine
from tests.inference.test_decode_graphs import _requests, _run
from tests.inference.test_paged_attention import BS, DIM, GROUP, HKV, _cache, _padded_reference

CPU = torch.device("cpu")


def test_the_kernel_builds_where_a_compiler_is() -> None:
    # CI and these machines have gcc and ninja: a build failure there must not pass as a skip.
    assert shutil.which("c++") or shutil.which("g++"), "no C++ compiler on this machine"
    assert cpu_decode_kernel.load() is not None
    assert resolve_attention("auto", CPU, torch.float32) == "kernel"
    assert resolve_attention("auto", CPU, torch.float16) == "sdpa"  # no fp16 kernel: buckets
    with pytest.raises(ValueError, match="kernel"):
        resolve_attention("kernel", CPU, torch.float16)


@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-5), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("lengths", [[37], [3, 90, 17, 64, 65, 8, 33, 120, 1, 44]])
def test_kernel_decode_equals_padded_attention(lengths: list[int], dtype: torch.dtype, atol: float) -> None:
    kc, vc, tables = _cache(len(lengths), lengths)  # shuffled blocks: tables jump around the pool
    q = torch.randn(len(lengths), HKV * GROUP, DIM, generator=torch.Generator().manual_seed(9))
    rows = list(range(len(lengths)))[::-1]
    layout = build_layout(rows, lengths, tables, [], BS, HKV * DIM * 4, CPU, kernel=True)
    assert layout.kernel is not None and layout.decode == []  # no buckets planned
    qd, kd, vd = q.to(dtype), kc.to(dtype), vc.to(dtype)
    out = attend(qd[rows], qd[rows], qd[rows], kd, vd, layout, DIM**-0.5)
    ref = _padded_reference(qd.float(), kd.float(), vd.float(), lengths, tables)
    assert out.dtype == dtype
    assert torch.allclose(out[rows].float(), ref, atol=atol)
    bucketed = build_layout(rows, lengths, tables, [], BS, HKV * DIM * 4, CPU)
    assert torch.allclose(attend(qd[rows], qd[rows], qd[rows], kd, vd, bucketed, DIM**-0.5).float(),
                          out.float(), atol=atol)  # fmt: skip


def test_the_kernel_engine_gives_the_sdpa_engines_tokens(tokenizer, tmp_path) -> None:
    dirs = make_two_adapters(tmp_path)
    plain = _run(tiny_engine(tokenizer, dirs, max_tokens_per_step=16, attention="sdpa"))
    engine = tiny_engine(tokenizer, dirs, max_tokens_per_step=16, attention="kernel")
    assert engine.runner.attention == "kernel"
    assert _run(engine) == plain  # mixed prefill + decode steps, both adapters and the base
    at, request = _requests()[1]
    assert plain["r1"] == reference_greedy(dirs["wide"], list(request.prompt_ids), 8)
