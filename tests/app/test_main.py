"""create_app: routes mounted, assets local, per-app database for every route, lifespan migrates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db.session import get_session
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_engine, settings_for


def test_app_serves_page_assets_api_and_socket(pg_url: str, tokenizer: Any, db: Session) -> None:
    app = create_app(settings_for(pg_url), engine=make_engine(tokenizer, {}), router=KeywordRouter())
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
        assert client.get("/v1/models").status_code == 401  # mounted, and behind an API key
        assert client.post("/v1/chat/completions", json={}).status_code == 401
        with client.websocket_connect("/ws/chat") as ws:
            ws.send_json({"type": "hello", "token": None})
            assert ws.receive_json()["type"] == "welcome"
        page = client.get("/")
        assert page.status_code == 200 and 'aria-live="polite"' in page.text
        assert '<label for="input"' in page.text and 'name="viewport"' in page.text
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith(("/", "#")) for s in sources), sources  # no CDN
        for asset in ("/static/chat.js", "/static/markdown.js", "/static/app.css"):
            assert client.get(asset).status_code == 200, asset
        assert client.app.state.backend.engine is client.app.state.engine
        # Routes of other parts that depend on get_session use this app's database.
        override = app.dependency_overrides[get_session]
        session = next(override())
        assert str(session.get_bind().url).endswith(pg_url.rsplit("/", 1)[1])


def test_settings_default_to_the_module_settings(pg_url: str, tokenizer: Any) -> None:
    from app.config import settings

    app = create_app(engine=make_engine(tokenizer, {}))
    assert app.state.settings is settings


def test_single_machine_sqlite_database_works_end_to_end(tmp_path: Any, tokenizer: Any) -> None:
    import sqlite3

    from tests.app.chat_support import read_until

    url = f"sqlite:///{tmp_path / 'switchboard.db'}"
    app = create_app(settings_for(url), engine=make_engine(tokenizer, {}), router=KeywordRouter())
    with TestClient(app) as client, client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        ws.send_json({"type": "message", "text": "hello from one machine"})
        done = read_until(ws, "done")[-1]
    rows = sqlite3.connect(tmp_path / "switchboard.db").execute(
        "SELECT role, status FROM messages ORDER BY id"
    )
    assert list(rows) == [("customer", "received"), ("assistant", "done")] and done["tokens"] > 0


def test_the_page_answers_before_the_engine_loads_and_early_messages_are_answered_after(
    pg_url: str, tokenizer: Any, db: Session, tmp_path: Any
) -> None:
    import asyncio
    import threading

    from sqlalchemy import select

    from app.db.models import Message
    from app.generation.backend import GenerationBackend
    from app.generation.embedded import EmbeddedBackend
    from app.generation.starting import StartingBackend
    from tests.app.chat_support import read_until

    gate = threading.Event()  # the engine "loads" until the test opens it

    async def build() -> GenerationBackend:
        await asyncio.to_thread(gate.wait, 60)
        return EmbeddedBackend(make_engine(tokenizer, {}))

    # No adapters on disk: the planner (it reads adapters_dir while the engine loads) plans base replies.
    settings = settings_for(pg_url, adapters_dir=tmp_path)
    app = create_app(settings, backend=StartingBackend(build), router=KeywordRouter())
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["ready"] is False
        assert health.json()["engine"]["status"] == "loading"
        assert client.get("/readyz").status_code == 503
        with client.websocket_connect("/ws/chat") as ws:
            ws.send_json({"type": "hello", "token": None})
            conversation = ws.receive_json()["conversation_id"]
            ws.send_json({"type": "message", "text": "hello before the model is loaded", "client_id": "a"})
            frames = read_until(ws, "status")
            assert frames[-1]["status"] == "starting" and "starting up" in frames[-1]["text"]
            job_id = frames[0]["job_id"]
            rows = db.scalars(select(Message).where(Message.conversation_id == conversation)).all()
            assert [(r.role, r.status) for r in rows] == [
                ("customer", "received"),
                ("assistant", "streaming"),
            ]
            gate.set()
            done = read_until(ws, "done", job_id)[-1]
        assert done["tokens"] > 0 and client.get("/readyz").status_code == 200
    db.expire_all()
    reply = db.scalars(select(Message).where(Message.job_id == job_id)).one()
    assert reply.status == "done" and reply.text


def _imported_after(code: str) -> list[str]:
    import subprocess
    import sys

    heavy = (
        "{'torch', 'transformers', 'peft', 'scipy', 'app.router.training', 'app.admin.cli', 'app.bench_cli'}"
    )
    probe = f"import sys; {code}; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=99
    )
    return [line for line in out.stdout.splitlines() if line.startswith("[")][-1:]


def test_the_app_and_the_cli_import_without_torch() -> None:
    # torch + transformers take seconds to import, scipy and the sub-commands' modules a second
    # together: the page must not wait for any of them.
    assert _imported_after("import app.main, app.cli") == ["[]"]


def test_serve_checks_the_model_without_torch(tmp_path: Path) -> None:
    # `serve` checks the model folder before it listens; the check must not import the engine.
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    setenv = f"import os; os.environ['SWITCHBOARD_MODEL'] = {str(tmp_path)!r}"
    code = f"{setenv}; import app.cli; app.cli._ensure_model()"
    assert _imported_after(code) == ["[]"]


def test_a_sub_command_loads_its_module_when_invoked() -> None:
    code = "from app.cli import cli; from typer.testing import CliRunner; "
    code += "CliRunner().invoke(cli, ['bench', '--help'])"
    assert _imported_after(code) == ["['app.bench_cli']"]
