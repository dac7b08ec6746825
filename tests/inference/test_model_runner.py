"""ModelRunner: paged forward equals the HF/PEFT forward, for chunks, decodes and mixed batches."""

from __future__ import annotations

import pytest
import torch

from inference.kv_cache import KVBlockPool
from inference.loading.dummy import build_random_llama
from inference.lora import load_adapter
from inference.model_runner import BatchItem, ModelRunner, kv_shape
from inference.paged_attention import plan_buckets
from inference.sequence import Sequence
from tests.inference.lora_factory import ALL_PROJECTIONS, make_adapter, peft_model


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory: pytest.TempPathFactory):
    return make_adapter(tmp_path_factory.mktemp("runner") / "a", 6, ALL_PROJECTIONS, seed=5)


def _runner(model=None, blocks: int = 64) -> ModelRunner:
    model = model or build_random_llama("tiny", seed=0, initializer_range=0.5)
    pool = KVBlockPool(kv_shape(model), blocks, 4, next(model.parameters()).device)
    return ModelRunner(model, pool)


def _reference_logits(model, tokens: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([tokens])).logits[0].float()


def _run(runner: ModelRunner, seq: Sequence, start: int, end: int, adapter=None) -> torch.Tensor:
    assert runner.pool.prepare_write(seq, start, end)
    item = BatchItem(seq.token_ids[start:end], start, seq.block_table, adapter, True)
    logits = runner.forward([item])
    seq.num_computed = end
    return logits[0]


TOKENS = [5, 900, 31, 4000, 17, 222, 8, 1234, 77, 3, 45000, 600, 12]


def test_prefill_then_decode_match_hf() -> None:
    runner = _runner()
    ref = _reference_logits(runner.model, TOKENS)
    seq = Sequence(token_ids=list(TOKENS), prompt_len=len(TOKENS))
    out = _run(runner, seq, 0, 9)
    assert torch.allclose(out, ref[8], atol=1e-4)
    for pos in range(9, len(TOKENS)):  # one token at a time through the paged cache
        out = _run(runner, seq, pos, pos + 1)
        assert torch.allclose(out, ref[pos], atol=1e-4)


def test_chunks_that_start_mid_block_match_hf(adapter_dir) -> None:
    runner = _runner()
    adapter = load_adapter("a", adapter_dir, runner.model)
    ref = _reference_logits(peft_model(adapter_dir), TOKENS)
    seq = Sequence(token_ids=list(TOKENS), prompt_len=len(TOKENS))
    _run(runner, seq, 0, 3, adapter)
    _run(runner, seq, 3, 10, adapter)
    out = _run(runner, seq, 10, 13, adapter)
    assert torch.allclose(out, ref[12], atol=1e-4)


def test_mixed_batch_rows_equal_separate_runs(adapter_dir) -> None:
    runner = _runner()
    adapter = load_adapter("a", adapter_dir, runner.model)
    base_ref = _reference_logits(runner.model, TOKENS)
    lora_ref = _reference_logits(peft_model(adapter_dir), TOKENS[:7])
    decoding = Sequence(token_ids=list(TOKENS), prompt_len=len(TOKENS))
    _run(runner, decoding, 0, 12)
    prefilling = Sequence(token_ids=TOKENS[:7], prompt_len=7)
    assert runner.pool.prepare_write(decoding, 12, 13) and runner.pool.prepare_write(prefilling, 0, 7)
    items = [
        BatchItem(TOKENS[12:13], 12, decoding.block_table, None, True),
        BatchItem(TOKENS[:4], 0, prefilling.block_table, adapter, False),  # no logits wanted
        BatchItem(TOKENS[:7], 0, prefilling.block_table, adapter, True),
    ]
    logits = runner.forward(items)
    assert logits.shape[0] == 2
    assert torch.allclose(logits[0], base_ref[12], atol=1e-4)
    assert torch.allclose(logits[1], lora_ref[6], atol=1e-4)
    assert not torch.allclose(lora_ref[6], base_ref[6], atol=1e-2)  # the adapter matters


def test_low_precision_model_keeps_its_dtype() -> None:
    model = build_random_llama("tiny", seed=0, initializer_range=0.5, dtype=torch.bfloat16)
    runner = _runner(model)
    assert runner.pool.k[0].dtype == torch.bfloat16
    seq = Sequence(token_ids=list(TOKENS), prompt_len=len(TOKENS))
    out = _run(runner, seq, 0, len(TOKENS))
    ref = _reference_logits(model, TOKENS)[-1]
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert out.argmax() == ref.argmax()


def test_quantized_linear_replacements_work() -> None:
    model = build_random_llama("tiny", seed=0, initializer_range=0.5)
    quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    runner = _runner(quantized)
    seq = Sequence(token_ids=list(TOKENS), prompt_len=len(TOKENS))
    out = _run(runner, seq, 0, len(TOKENS))
    ref = _reference_logits(quantized, TOKENS)[-1]
    # Dynamic int8 picks activation scales per call, and the runner feeds lm_head only the last
    # row, so logits agree closely but not bit-for-bit.
    assert out.argmax() == ref.argmax()
    assert (out - ref).abs().max() < 0.5


def test_decode_batch_of_mixed_contexts_matches_hf(adapter_dir) -> None:
    """Decodes with contexts 2..40 fall into several attention buckets; each row equals HF alone."""
    runner = _runner(blocks=128)
    adapter = load_adapter("a", adapter_dir, runner.model)
    lora = peft_model(adapter_dir)
    gen = torch.Generator().manual_seed(3)
    lengths = [2, 40, 7, 23, 24, 3, 39, 11, 16]
    seqs, items, refs = [], [], []
    for i, n in enumerate(lengths):
        tokens = torch.randint(3, 49000, (n,), generator=gen).tolist()
        use = adapter if i % 2 else None
        seq = Sequence(token_ids=tokens, prompt_len=n)
        _run(runner, seq, 0, n - 1, use)  # prefill all but the last token
        assert runner.pool.prepare_write(seq, n - 1, n)
        items.append(BatchItem(tokens[n - 1 :], n - 1, seq.block_table, use, True))
        refs.append(_reference_logits(lora if use else runner.model, tokens)[-1])
        seqs.append(seq)
    slot_bytes = runner.pool.shape.num_kv_heads * runner.pool.shape.head_dim * 4
    assert len(plan_buckets(lengths, slot_bytes)) > 1
    logits = runner.forward(items)
    for row, ref in zip(logits, refs, strict=True):
        assert torch.allclose(row, ref, atol=1e-4)
        assert row.argmax() == ref.argmax()
