"""compose.yaml and Dockerfile, structurally (Docker cannot run here): services, replicas, health, wiring."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from app.config import REPO_ROOT, Settings

LONG_RUNNING = ("postgres", "redis", "api", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping"
    return {k: str(v) for k, v in env.items()}


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "api", "worker"}


def test_api_and_worker_scale_out_and_workers_reserve_a_gpu(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert "worker" in services["worker"]["command"]
    assert services["api"]["command"][:2] == ["switchboard", "serve"]
    assert "0.0.0.0" in services["api"]["command"]  # reachable from outside its container


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        check = compose["services"][name].get("healthcheck")
        assert check and check["test"], f"{name} has no healthcheck"
        assert compose["services"][name].get("restart") == "unless-stopped", name
    assert "/healthz" in " ".join(compose["services"]["api"]["healthcheck"]["test"])
    alive = compose["services"]["worker"]["command"]
    assert alive[alive.index("--alive-file") + 1] in compose["services"]["worker"]["healthcheck"]["test"][1]


def test_start_order_waits_for_health_and_migration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["alembic", "upgrade", "head"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"] == {"condition": "service_completed_successfully"}, name
        assert deps["redis"] == {"condition": "service_healthy"}, name
    assert services["api"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_env_wiring_points_at_the_compose_services(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    pg = _env(services["postgres"])
    for name in ("migrate", "api", "worker"):
        env = _env(services[name])
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        db = env["DATABASE_URL"]
        assert db == (
            f"postgresql+psycopg://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
        ), name
        assert env["SWITCHBOARD_SECRET_KEY"].startswith("${SWITCHBOARD_SECRET_KEY:?"), name
        # The names are the ones Settings really reads.
        monkeypatch.setenv("DATABASE_URL", db)
        monkeypatch.setenv("REDIS_URL", env["REDIS_URL"])
        read = Settings(secret_key="x" * 32, environment="production")
        assert (read.database_url, read.redis_url) == (db, env["REDIS_URL"])
    assert _env(services["worker"])["SWITCHBOARD_DEVICE"] == "cuda"


def test_dockerfile_uses_the_setup_script_with_cpu_torch() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "bash scripts/setup.sh" in dockerfile
    assert 'TORCH_SPEC="torch==2.13.0+cpu"' in dockerfile and "whl/cpu" in dockerfile
    assert "TORCH_SPEC" in (REPO_ROOT / "scripts" / "setup.sh").read_text()  # the script honours it
    assert ".venv" in (REPO_ROOT / ".dockerignore").read_text().split()
