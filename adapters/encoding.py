"""Turn chat examples into token ids with a loss mask that covers only the assistant's reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from adapters.examples import ChatExample

IGNORE = -100  # the label value torch's cross-entropy skips


@dataclass(frozen=True)
class Encoded:
    """Token ids of one example and its labels (IGNORE on system and user tokens)."""

    input_ids: list[int]
    labels: list[int]


def prompt_messages(example: ChatExample) -> list[dict[str, str]]:
    """The messages the model sees before it answers (system, earlier turns, user)."""
    return example.messages()[:-1]


def encode(tokenizer: Any, example: ChatExample, max_len: int = 256) -> Encoded:
    """Chat-template the example; labels are the reply tokens (with the end-of-turn), cut at max_len."""
    if max_len < 8:
        raise ValueError(f"max_len must be >= 8; got {max_len}")
    prompt = tokenizer.apply_chat_template(
        prompt_messages(example), tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(example.messages(), tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not render the prompt as a prefix of the full chat")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    # The trailing newline after <|im_end|> is template formatting, not something the model must say.
    reply_ids = tokenizer(full[len(prompt) :].rstrip("\n"), add_special_tokens=False)["input_ids"]
    ids = (prompt_ids + reply_ids)[:max_len]
    labels = ([IGNORE] * len(prompt_ids) + reply_ids)[:max_len]
    return Encoded(input_ids=ids, labels=labels)


def collate(batch: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch: input_ids, attention_mask and labels as tensors."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def token_losses(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over the labelled tokens of a batch, and how many tokens that is.

    Logits are computed only at the positions that predict a labelled token (``logits_to_keep``):
    the 49k-word output layer over every prompt token would be a fifth of a training step.
    """
    labels = batch["labels"]
    predicts = (labels[:, 1:] != IGNORE).any(dim=0).nonzero().flatten()  # position p predicts p + 1
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=predicts
    ).logits
    shift_logits = logits.float()
    shift_labels = labels[:, predicts + 1].to(shift_logits.device)
    loss = torch.nn.functional.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)),
        shift_labels.reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )
    return loss, int((shift_labels != IGNORE).sum())
