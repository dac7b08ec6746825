"""Settings: defaults work out of the box, production refuses the default secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import DEFAULT_SECRET, Settings


def test_defaults_are_embedded(tmp_path) -> None:
    s = Settings(_env_file=None, cache_dir=tmp_path)
    assert s.database_url.startswith("sqlite:///")
    assert s.redis_url is None
    assert s.model_dir.name == "smollm2-135m-instruct"


def test_production_refuses_default_secret() -> None:
    with pytest.raises(ValidationError, match="SWITCHBOARD_SECRET_KEY"):
        Settings(_env_file=None, environment="production", secret_key=DEFAULT_SECRET)


def test_production_accepts_a_real_secret() -> None:
    assert Settings(_env_file=None, environment="production", secret_key="x" * 32).environment == "production"


def test_plain_database_and_redis_urls_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/0")
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", "k" * 40)
    s = Settings(_env_file=None)
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.redis_url == "redis://h:6379/0"


def test_model_path_override(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SWITCHBOARD_MODEL", str(tmp_path))
    assert Settings(_env_file=None, cache_dir=tmp_path).model_dir == tmp_path


def test_public_origins_are_normalised_and_checked() -> None:
    cfg = Settings(public_origins="https://Chat.Example/, http://10.0.0.5:8080", environment="test")
    assert cfg.own_origins == ("https://chat.example", "http://10.0.0.5:8080")
    assert Settings(environment="test").own_origins == ()
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(public_origins="chat.example/path", environment="test")
