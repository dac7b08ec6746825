"""Signed customer tokens: a token opens exactly one conversation, and nothing else."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

CUSTOMER_TOKEN_MAX_AGE_S = 30 * 24 * 3600


class InvalidToken(ValueError):
    """The token is forged, expired, or for another purpose."""


class CustomerTokens:
    """Issue and verify tokens carrying a conversation id, signed with the app secret."""

    def __init__(self, secret: str, max_age_s: int = CUSTOMER_TOKEN_MAX_AGE_S) -> None:
        # A salt of its own, so a staff session cookie signed with the same secret is no token here.
        self._serializer = URLSafeTimedSerializer(secret, salt="switchboard.customer")
        self.max_age_s = max_age_s

    def issue(self, conversation_id: str) -> str:
        """A token for ``conversation_id``."""
        return self._serializer.dumps({"c": conversation_id})

    def verify(self, token: str) -> str:
        """The conversation id inside ``token``, or InvalidToken."""
        try:
            data = self._serializer.loads(token, max_age=self.max_age_s)
        except BadSignature as exc:
            raise InvalidToken("customer token is invalid or expired; start a new conversation") from exc
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            raise InvalidToken("customer token is malformed")
        return data["c"]
