"""Sessions ended by logout: a signed cookie stays valid until it expires, so the server remembers it.

A revoked session id is kept for the session lifetime (after that the cookie is refused as expired
anyway). With Redis every node sees a logout; on one machine the list lives in process, so a
restart forgets it (the cookie is still bounded by ``session_max_age_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


class SessionRevocations:
    """Remembers revoked session ids until their cookies would have expired anyway."""

    def __init__(self, redis_url: str | None, max_age_s: int, prefix: str = "sb:revoked:") -> None:
        self.max_age_s = max_age_s
        self._prefix = prefix
        self._local: dict[str, float] = {}
        self._lock = threading.Lock()
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def revoke(self, sid: str) -> None:
        """Refuse this session id from now on, on every node."""
        with self._lock:
            now = time.time()
            self._local = {s: t for s, t in self._local.items() if t > now}  # expired entries go
            self._local[sid] = now + self.max_age_s
        if self._redis is not None:
            try:
                self._redis.set(self._prefix + sid, "1", ex=self.max_age_s)
            except Exception:  # noqa: BLE001 - the local list still refuses it on this node
                log.warning("could not share a logout through Redis; other nodes accept it until expiry")

    def is_revoked(self, sid: str) -> bool:
        """True once ``sid`` was logged out (here, or on any node sharing Redis)."""
        with self._lock:
            if self._local.get(sid, 0.0) > time.time():
                return True
        if self._redis is None:
            return False
        try:
            return bool(self._redis.exists(self._prefix + sid))
        except Exception:  # noqa: BLE001 - Redis down: fail closed would lock every staff member out
            log.warning("revocation list unreachable; only this node's logouts are checked")
            return False
