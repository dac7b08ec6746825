"""The one error type quantization raises, so callers can turn it into a one-line message."""

from __future__ import annotations


class QuantizationError(ValueError):
    """A quantization mode is unknown, does not fit the model, or needs hardware that is missing."""
