"""compose.yaml and Dockerfile, structurally (Docker cannot run here): services, replicas, health, wiring."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from app.config import REPO_ROOT, Settings

LONG_RUNNING = ("postgres", "redis", "api", "worker", "prometheus", "grafana")


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
    assert set(compose["services"]) == {*LONG_RUNNING, "migrate"}


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


def _option(command: list[str], name: str) -> str:
    return str(command[command.index(name) + 1])


def test_prometheus_scrapes_every_api_node_and_every_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    prometheus = services["prometheus"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"] if v.startswith("./")}
    config_file = REPO_ROOT / mounted["/etc/prometheus/prometheus.yml"]
    jobs = {j["job_name"]: j for j in yaml.safe_load(config_file.read_text())["scrape_configs"]}
    api, worker = jobs["switchboard-api"], jobs["switchboard-worker"]
    # Docker's DNS resolves a service name to every replica: scaling needs no config change.
    assert api["dns_sd_configs"] == [{"names": ["api"], "type": "A", "port": 8000}]
    assert _option(services["api"]["command"], "--port") == "8000"
    worker_command = services["worker"]["command"]
    assert worker["dns_sd_configs"][0]["names"] == ["worker"]
    assert str(worker["dns_sd_configs"][0]["port"]) == _option(worker_command, "--metrics-port")
    assert _option(worker_command, "--metrics-host") == "0.0.0.0"  # reachable from the prometheus container
    assert api["metrics_path"] == worker["metrics_path"] == "/metrics"
    # Production API nodes answer /metrics only to the token; Prometheus writes it where it reads it.
    token_file = api["authorization"]["credentials_file"]
    assert api["authorization"]["type"] == "Bearer" and token_file in " ".join(prometheus["entrypoint"])
    assert "$$SWITCHBOARD_METRICS_TOKEN" in " ".join(prometheus["entrypoint"])
    for name in ("api", "prometheus"):
        token = _env(services[name])["SWITCHBOARD_METRICS_TOKEN"]
        assert token.startswith("${SWITCHBOARD_METRICS_TOKEN:?"), name


def test_grafana_is_provisioned_with_the_prometheus_source_and_the_dashboard(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounts = {v.split(":")[1]: REPO_ROOT / v.split(":")[0] for v in grafana["volumes"] if v.startswith("./")}
    provisioning = mounts["/etc/grafana/provisioning"]
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert source["url"] == "http://prometheus:9090" and source["uid"] == "prometheus"
    provider = yaml.safe_load((provisioning / "dashboards" / "switchboard.yml").read_text())["providers"][0]
    dashboard = mounts[f"{provider['options']['path']}/switchboard.json"]
    panels = json.loads(dashboard.read_text())["panels"]
    assert panels and all(t["datasource"]["uid"] == "prometheus" for p in panels for t in p["targets"])


def test_the_dashboard_reads_only_series_that_the_processes_export() -> None:
    from app.chat.metrics import AppMetrics
    from app.generation.worker_metrics import WorkerMetrics
    from inference.metrics import EngineMetrics

    exported: set[str] = set()
    for registry in (EngineMetrics().registry, AppMetrics().registry, WorkerMetrics(lambda: 0).registry):
        for family in registry.collect():
            kinds = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
            suffixes = kinds.get(family.type, [""])
            exported |= {family.name + suffix for suffix in suffixes}
    dashboard = json.loads((REPO_ROOT / "deploy" / "grafana" / "switchboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b(?:vllm:|switchboard_)[a-z0-9_:]+", e)}
    assert used and used <= exported, used - exported
    for name in (  # the vLLM-named series a vLLM dashboard expects are all on it
        "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:generation_tokens_total",
        "vllm:prompt_tokens_total", "vllm:time_to_first_token_seconds_bucket",
        "vllm:time_per_output_token_seconds_bucket", "vllm:request_queue_time_seconds_bucket",
        "vllm:e2e_request_latency_seconds_bucket", "vllm:prefix_cache_hits_total",
    ):  # fmt: skip
        assert name in used, name
