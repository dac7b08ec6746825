"""Which secret signs cookies and tokens: an explicit one, a persisted random one, or refusal.

A guessable secret lets anyone forge an operator session or a customer token, so no server may
run on one outside tests. One machine (no Redis) gets a random secret generated once and kept in
a 0600 file so restarts keep sessions valid; several nodes must share a secret they are given,
because each node generating its own would reject the others' cookies.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_SECRET_CHARS = 32
# The old public default: anyone who read the README could sign with it, so it is refused by name.
PUBLIC_DEFAULT = "change-me-in-production"
TEST_SECRET = "switchboard-test-environment-only-secret"
SECRET_FILE = "secret_key"


class SecretKeyError(ValueError):
    """The configured secret cannot be used for this deployment."""


def resolve_secret(explicit: str, environment: str, multi_node: bool, cache_dir: Path) -> str:
    """The secret this process signs with, or SecretKeyError saying what to set."""
    if environment == "test":
        return explicit or TEST_SECRET
    if explicit == PUBLIC_DEFAULT:
        raise SecretKeyError("SWITCHBOARD_SECRET_KEY is the public default; set a long random secret")
    if explicit:
        if (environment == "production" or multi_node) and len(explicit) < MIN_SECRET_CHARS:
            raise SecretKeyError(f"SWITCHBOARD_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters")
        return explicit
    if multi_node:
        raise SecretKeyError(
            "SWITCHBOARD_SECRET_KEY must be set when SWITCHBOARD_REDIS_URL is: every node must sign "
            "with the same secret (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    if environment == "production":
        raise SecretKeyError("SWITCHBOARD_SECRET_KEY must be set to a real secret in production")
    return persisted_secret(cache_dir / SECRET_FILE)


def persisted_secret(path: Path) -> str:
    """The random secret stored at ``path``, created (mode 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written in full to a private temp file, then linked into place: a process starting at
        # the same moment sees either no file or the whole secret, and the first link wins.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # readable by others means anyone on the machine could sign sessions
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_CHARS:
        raise SecretKeyError(f"{path} holds no usable secret; delete it to generate a new one")
    return value
