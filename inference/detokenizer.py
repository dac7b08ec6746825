"""Streaming detokenisation: token ids in, text deltas out, with stop strings cut off exactly.

Decoding one token at a time is wrong for byte-level BPE (a character's UTF-8 bytes may span
tokens) and for SentencePiece (a leading space is dropped at the start of a decode). So each push
decodes a short window that starts a few tokens back, at a point already known to sit on a
character boundary, and emits only what the new tokens added; text that ends in a replacement
character (an incomplete UTF-8 sequence) is held until the next token completes it.
"""

from __future__ import annotations

from typing import Any

_INCOMPLETE = "\ufffd"


class IncrementalDetokenizer:
    """Turns a stream of token ids into text deltas; see ``push``, ``flush`` and ``stopped``."""

    def __init__(self, tokenizer: Any, stop: tuple[str, ...] = (), skip_special_tokens: bool = True) -> None:
        if isinstance(stop, str) or any(not isinstance(s, str) or not s for s in stop):
            raise ValueError("stop must be a tuple of non-empty strings")
        self.tokenizer = tokenizer
        self.stop = tuple(stop)
        self.skip_special_tokens = skip_special_tokens
        self.token_ids: list[int] = []
        self.stopped = False
        self.stop_string: str | None = None
        self._prefix = 0  # window start: a token boundary that is also a character boundary
        self._read = 0  # tokens before this index are already in _decoded
        self._decoded = ""  # all complete text so far (before stop truncation)
        self._emitted = 0  # characters of _decoded already handed out
        self._longest_stop = max((len(s) for s in self.stop), default=0)

    @property
    def text(self) -> str:
        """The text handed out so far (after ``flush``, the whole answer minus any stop string)."""
        return self._decoded[: self._emitted]

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=self.skip_special_tokens))

    def push(self, token_id: int) -> str:
        """Add one generated token; return the text it makes safe to show (may be empty)."""
        if self.stopped:
            return ""
        self.token_ids.append(int(token_id))
        prefix_text = self._decode(self.token_ids[self._prefix : self._read])
        window_text = self._decode(self.token_ids[self._prefix :])
        if len(window_text) <= len(prefix_text) or window_text.endswith(_INCOMPLETE):
            return ""
        self._prefix, self._read = self._read, len(self.token_ids)
        return self._append(window_text[len(prefix_text) :], final=False)

    def flush(self) -> str:
        """End of generation: return everything still held back (an unfinished character, a stop prefix)."""
        if self.stopped:
            return ""
        prefix_text = self._decode(self.token_ids[self._prefix : self._read])
        window_text = self._decode(self.token_ids[self._prefix :])
        self._prefix = self._read = len(self.token_ids)
        return self._append(window_text[len(prefix_text) :], final=True)

    def _append(self, new_text: str, final: bool) -> str:
        before = len(self._decoded)
        self._decoded += new_text
        if self.stop:
            cut = self._find_stop(max(0, before - self._longest_stop + 1))
            if cut is not None:
                self.stopped = True
                delta = self._decoded[self._emitted : cut]
                self._decoded = self._decoded[:cut]
                self._emitted = cut
                return delta
        safe = len(self._decoded) if final else len(self._decoded) - self._held_back()
        delta = self._decoded[self._emitted : safe]
        self._emitted = max(self._emitted, safe)
        return delta

    def _find_stop(self, start: int) -> int | None:
        """Where the text must end: the stop string that completes first wins (ties: earliest start)."""
        best: tuple[int, int, str] | None = None
        for s in self.stop:
            at = self._decoded.find(s, start)
            if at >= 0 and (best is None or (at + len(s), at) < best[:2]):
                best = (at + len(s), at, s)
        if best is None:
            return None
        self.stop_string = best[2]
        return best[1]

    def _held_back(self) -> int:
        """Length of the longest tail that could still grow into a stop string."""
        text = self._decoded
        for n in range(min(self._longest_stop - 1, len(text) - self._emitted), 0, -1):
            tail = text[-n:]
            if any(s.startswith(tail) for s in self.stop):
                return n
        return 0
