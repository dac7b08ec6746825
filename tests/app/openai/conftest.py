"""One live uvicorn server with the tiny engine for every OpenAI API test, and a keyed client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from sqlalchemy.orm import Session

from app.auth.api_keys import create_api_key
from app.main import create_app
from tests.app.chat_support import KeywordRouter, live_server, make_adapters, make_engine, settings_for
from tests.app.openai.support import Live


@pytest.fixture(scope="package")
def live(pg_url: str, tokenizer: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    adapters = make_adapters(tmp_path_factory.mktemp("api-adapters"))
    app = create_app(settings_for(pg_url), engine=make_engine(tokenizer, adapters), router=KeywordRouter())
    with live_server(app) as url:
        yield Live(app, f"{url}/v1")


@pytest.fixture()
def server(live: Live) -> str:
    return live.url


@pytest.fixture()
def api_key(db: Session) -> str:
    return create_api_key(db, "tests")


@pytest.fixture()
def client(server: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server, api_key=api_key, max_retries=0)
