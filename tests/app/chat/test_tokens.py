"""Signed customer tokens: one conversation per token, forgery and expiry refused."""

from __future__ import annotations

import pytest

from app.chat.tokens import CustomerTokens, InvalidToken


def test_token_round_trip_and_tampering() -> None:
    tokens = CustomerTokens("secret-a")
    token = tokens.issue("conv-1")
    assert tokens.verify(token) == "conv-1"
    with pytest.raises(InvalidToken):
        forged = CustomerTokens("secret-a").issue("conv-2")
        payload, _, signature = token.partition(".")
        tokens.verify(forged.partition(".")[0] + "." + signature)  # another conversation, old signature
    with pytest.raises(InvalidToken):
        CustomerTokens("secret-b").verify(token)  # another server's secret
    with pytest.raises(InvalidToken):
        tokens.verify("not-a-token")


def test_expired_token_is_refused() -> None:
    tokens = CustomerTokens("secret-a", max_age_s=-1)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(tokens.issue("conv-1"))
