"""Beam search for one request, token-identical to Hugging Face ``generate(num_beams=k)``.

The caller owns the model and the KV cache: each step it hands in log-probabilities for the live
beams and gets back, for every new live beam, its parent (to fork/copy the KV cache) and token.
The rules mirror HF's vectorised beam search for a batch of one:

- keep ``max(2, 1 + n_eos) * k`` candidates a step, so at least ``k`` are not finished;
- a candidate that ends (EOS, or the length limit) enters the finished set only if it ranks among
  the top ``k`` candidates, with score ``sum_logprob / generated_len ** length_penalty``, where
  ``generated_len`` counts the new tokens including the EOS (not the prompt);
- the search stops when the length limit is hit, when ``early_stopping=True`` and ``k``
  hypotheses are finished, or when the best live beam can no longer beat the worst finished
  one (estimated at the current length, or at the maximum length for ``"never"`` with a positive
  penalty).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from inference.params import SamplingParams

_NEG = -1.0e9  # HF's "impossible" score: added, not assigned, so the arithmetic matches.


@dataclass(frozen=True)
class BeamStep:
    """The outcome of one step: the new live beams (parent index and token) and whether to stop."""

    parents: list[int]
    tokens: list[int]
    done: bool


class BeamSearch:
    """Beam-search state for one request; ``step`` once per decoding step until ``done``."""

    def __init__(self, params: SamplingParams, eos_token_id: int | list[int], prompt_len: int) -> None:
        if params.num_beams < 1:
            raise ValueError(f"num_beams must be >= 1, got {params.num_beams}")
        if prompt_len < 0:
            raise ValueError(f"prompt_len must be >= 0, got {prompt_len}")
        self.num_beams = params.num_beams
        self.length_penalty = float(params.length_penalty)
        self.early_stopping = params.early_stopping
        self.max_new_tokens = params.max_new_tokens
        eos = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
        self.eos_ids = [] if params.ignore_eos else eos
        self.beams_to_keep = max(2, 1 + len(self.eos_ids)) * self.num_beams
        self.prompt_len = prompt_len
        self._live: list[list[int]] = [[]]
        self._live_scores = torch.zeros(1)
        # The k best finished hypotheses, best first; unfilled slots score _NEG and are not "real".
        self._finished: list[list[int]] = [[] for _ in range(self.num_beams)]
        self._finished_scores = torch.full((self.num_beams,), _NEG)
        self._finished_real = [False] * self.num_beams
        self._improvable = True
        self._steps = 0
        self.done = False

    @property
    def live_count(self) -> int:
        """How many beams the next ``step`` expects log-probabilities for."""
        return len(self._live)

    def step(self, logprobs: torch.Tensor) -> BeamStep:
        """Advance one token given log-softmax scores [live_count, V] (after any logits processors)."""
        if self.done:
            raise RuntimeError("beam search already finished")
        if logprobs.dim() != 2 or logprobs.shape[0] != self.live_count:
            raise ValueError(f"logprobs must be [{self.live_count}, vocab], got {tuple(logprobs.shape)}")
        vocab = logprobs.shape[1]
        total = (logprobs.float().cpu() + self._live_scores[:, None]).reshape(-1)
        cand_scores, cand_flat = torch.topk(total, k=min(self.beams_to_keep, total.numel()))
        cand_parent = (cand_flat // vocab).tolist()
        cand_token = (cand_flat % vocab).tolist()
        self._steps += 1
        at_limit = self._steps >= self.max_new_tokens
        ends = [at_limit or tok in self.eos_ids for tok in cand_token]
        cand_seqs = [self._live[p] + [t] for p, t in zip(cand_parent, cand_token, strict=True)]

        self._update_finished(cand_seqs, cand_scores, ends)

        ended = torch.tensor(ends, dtype=torch.float32)
        running = cand_scores + ended * _NEG
        keep = torch.topk(running, k=min(self.num_beams, running.numel())).indices.tolist()
        parents = [cand_parent[i] for i in keep]
        tokens = [cand_token[i] for i in keep]
        self._live = [cand_seqs[i] for i in keep]
        self._live_scores = running[keep]

        self._update_improvable()
        all_full = all(self._finished_real) and self.early_stopping is True
        self.done = (not self._improvable) or all_full or all(ends)
        return BeamStep(parents=parents, tokens=tokens, done=self.done)

    def _update_finished(
        self, cand_seqs: list[list[int]], cand_scores: torch.Tensor, ends: list[bool]
    ) -> None:
        penalised = cand_scores / (float(self._steps) ** self.length_penalty)
        just_finished = [e and i < self.num_beams for i, e in enumerate(ends)]
        if all(self._finished_real) and self.early_stopping is True:
            penalised = penalised + _NEG
        if not self._improvable:
            penalised = penalised + _NEG
        penalised = penalised + torch.tensor([0.0 if f else _NEG for f in just_finished])
        merged_scores = torch.cat((self._finished_scores, penalised))
        merged_seqs = self._finished + cand_seqs
        merged_real = self._finished_real + just_finished
        top = torch.topk(merged_scores, k=self.num_beams).indices.tolist()
        self._finished = [merged_seqs[i] for i in top]
        self._finished_scores = merged_scores[top]
        self._finished_real = [merged_real[i] for i in top]

    def _update_improvable(self) -> None:
        if self.early_stopping == "never" and self.length_penalty > 0.0:
            best_len = self.max_new_tokens
        else:
            best_len = self._steps
        best_running = float(self._live_scores[0]) / (float(best_len) ** self.length_penalty)
        # HF compares against the minimum over all k slots, so one empty slot keeps the search going.
        worst_finished = float(self._finished_scores.min()) if all(self._finished_real) else _NEG
        self._improvable = self._improvable and best_running > worst_finished

    def best(self) -> list[int]:
        """Generated ids of the winning hypothesis (ends with the EOS id if it stopped on one)."""
        if self._finished_real[0]:
            return list(self._finished[0])
        return list(self._live[0])
