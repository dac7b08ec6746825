"""The signing secret: never the public default, random and persisted on one machine, required for many."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.auth.secret_key import MIN_SECRET_CHARS, PUBLIC_DEFAULT, SECRET_FILE
from app.auth.sessions import decode_session, encode_session, new_session
from app.chat.tokens import CustomerTokens, InvalidToken
from app.config import Settings


def _dev(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, environment="development", cache_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_single_machine_generates_a_private_persisted_secret(tmp_path: Path) -> None:
    first = _dev(tmp_path)
    assert first.secret_key != PUBLIC_DEFAULT
    assert len(first.secret_key) >= MIN_SECRET_CHARS
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _dev(tmp_path).secret_key == first.secret_key  # a restart keeps sessions valid
    assert _dev(tmp_path / "other").secret_key != first.secret_key  # random, not derived


def test_a_world_readable_secret_file_is_made_private(tmp_path: Path) -> None:
    secret = _dev(tmp_path).secret_key
    (tmp_path / SECRET_FILE).chmod(0o644)
    assert _dev(tmp_path).secret_key == secret
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600


def test_forged_operator_session_and_customer_token_are_refused(tmp_path: Path) -> None:
    """The attack: sign with the README's old default and present it to a default server."""
    server = _dev(tmp_path)
    attacker = Settings(_env_file=None, environment="test", secret_key=PUBLIC_DEFAULT)
    cookie = encode_session(new_session(1, now=1000.0), attacker)
    assert decode_session(cookie, server, now=1001.0) is None
    token = CustomerTokens(PUBLIC_DEFAULT).issue("someone-elses-conversation")
    with pytest.raises(InvalidToken):
        CustomerTokens(server.secret_key).verify(token)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_public_default_is_refused_outside_tests(tmp_path: Path, environment: str) -> None:
    with pytest.raises(ValidationError, match="public default"):
        Settings(_env_file=None, environment=environment, cache_dir=tmp_path, secret_key=PUBLIC_DEFAULT)  # type: ignore[arg-type]


def test_multi_node_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError, match="SWITCHBOARD_SECRET_KEY must be set when SWITCHBOARD_REDIS_URL"
    ):
        _dev(tmp_path, redis_url="redis://127.0.0.1:6379/0")
    assert not (tmp_path / SECRET_FILE).exists()  # nodes must not each invent their own
    shared = "s" * MIN_SECRET_CHARS
    assert _dev(tmp_path, redis_url="redis://127.0.0.1:6379/0", secret_key=shared).secret_key == shared


@pytest.mark.parametrize("redis_url", [None, "redis://127.0.0.1:6379/0"])
def test_short_secrets_are_refused_in_production_and_multi_node(
    tmp_path: Path, redis_url: str | None
) -> None:
    environment = "production" if redis_url is None else "development"
    with pytest.raises(ValidationError, match=f"at least {MIN_SECRET_CHARS} characters"):
        Settings(
            _env_file=None, environment=environment, cache_dir=tmp_path, secret_key="x", redis_url=redis_url
        )  # type: ignore[arg-type]


def test_production_without_a_secret_refuses(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="in production"):
        Settings(_env_file=None, environment="production", cache_dir=tmp_path)
    assert not (tmp_path / SECRET_FILE).exists()


def test_the_test_environment_keeps_a_fixed_secret(tmp_path: Path) -> None:
    a = Settings(_env_file=None, environment="test", cache_dir=tmp_path)
    assert a.secret_key == Settings(_env_file=None, environment="test", cache_dir=tmp_path / "x").secret_key
    assert not (tmp_path / SECRET_FILE).exists()
