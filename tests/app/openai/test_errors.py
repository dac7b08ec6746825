"""Every error under /v1 in OpenAI's shape, FastAPI's own 404/405/422/500 included; others unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.openai_errors import install_openai_errors


def _shape(response: httpx.Response) -> dict[str, Any]:
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return dict(error)


def test_fastapis_404_and_405_on_v1_are_in_openai_shape(server: str, api_key: str) -> None:
    auth = {"Authorization": f"Bearer {api_key}"}
    missing = httpx.post(f"{server}/embeddings", json={}, headers=auth)
    assert missing.status_code == 404 and _shape(missing)["code"] == "unknown_url"
    wrong = httpx.get(f"{server}/chat/completions", headers=auth)
    assert wrong.status_code == 405 and _shape(wrong)["code"] == "method_not_allowed"
    bad_json = httpx.post(f"{server}/chat/completions", content=b"{", headers=auth)
    assert bad_json.status_code == 400 and _shape(bad_json)["type"] == "invalid_request_error"
    unauthorised = httpx.get(f"{server}/models")
    assert unauthorised.status_code == 401 and _shape(unauthorised)["code"] == "invalid_api_key"


def test_the_official_client_reads_them(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-9")
    assert isinstance(info.value.body, dict) and info.value.body["code"] == "model_not_found"
    assert client.models.retrieve("sales").id == "sales"
    with pytest.raises(openai.NotFoundError, match="Unknown path"):
        client.embeddings.create(model="general", input="hi")


def test_validation_and_unexpected_errors_in_shape_only_under_v1() -> None:
    app = FastAPI()
    install_openai_errors(app)

    @app.get("/v1/count")
    @app.get("/other/count")
    def count(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        invalid = client.get("/v1/count", params={"n": "many"})
        assert invalid.status_code == 422 and _shape(invalid)["param"] == "n"
        crashed = client.get("/v1/boom")
        assert crashed.status_code == 500 and _shape(crashed)["type"] == "server_error"
        assert "bug" not in crashed.text  # no internals leak to the caller
        other = client.get("/other/count", params={"n": "many"})
        assert other.status_code == 422 and "detail" in other.json()
        assert client.get("/nowhere").json() == {"detail": "Not Found"}
