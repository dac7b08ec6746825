"""Infrastructure settings, read once from the environment (prefix ``SWITCHBOARD_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.auth.secret_key import PUBLIC_DEFAULT, resolve_secret
from app.widget.origins import normalize_origin

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = PUBLIC_DEFAULT  # kept for callers that name it; refused outside tests


class Settings(BaseSettings):
    """Where things live and how the engine runs; per-intent decoding is data, not settings."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = Field(
        default=f"sqlite:///{REPO_ROOT / 'switchboard.db'}",
        validation_alias=AliasChoices("SWITCHBOARD_DATABASE_URL", "DATABASE_URL"),
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SWITCHBOARD_REDIS_URL", "REDIS_URL")
    )
    # None means "the converted SmolLM2-135M-Instruct in cache_dir" (fetched on first run).
    model: str | None = None
    cache_dir: Path = Path.home() / ".cache" / "switchboard"
    adapters_dir: Path = REPO_ROOT / "adapters"
    router_path: Path = REPO_ROOT / "app" / "router_model.json"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    quantization: Literal["none", "dynamic-int8", "rtn-int8", "rtn-int4", "int8", "nf4"] = "none"
    # dynamic-int8 only: "auto" probes this CPU's int8 kernel (inference/quantization/int8_scheme.py).
    int8_scheme: Literal["auto", "full", "weight7", "act7"] = "auto"
    threads: int = Field(default=0, ge=0)  # torch CPU threads; 0 = every core this process may use
    batching_policy: str = "continuous"
    max_batch_size: int = Field(default=32, ge=1)
    kv_cache_tokens: int = Field(default=32768, ge=256)
    # Unset: tests get a fixed secret, one machine a persisted random one, several nodes refuse.
    secret_key: str = ""
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    max_message_chars: int = Field(default=4000, ge=1)
    # The model's context, for API nodes that have no engine to ask (OpenAI max_tokens is checked against it).
    context_tokens: int = Field(default=8192, ge=256)
    max_frame_bytes: int = Field(default=16384, ge=256)
    messages_per_minute: int = Field(default=30, ge=1)  # per conversation
    # Budgets one client address and the whole system may spend per minute (app/limits/chat_limits.py),
    # counted in Redis when nodes share one, so anonymous sockets cannot fill the queue for everybody.
    ip_messages_per_minute: int = Field(default=120, ge=1)
    system_messages_per_minute: int = Field(default=3000, ge=1)
    ip_conversations_per_minute: int = Field(default=10, ge=1)
    system_conversations_per_minute: int = Field(default=600, ge=1)
    # OpenAI API requests per minute per API key, shared across nodes (app/limits/api_limits.py).
    api_requests_per_minute: int = Field(default=120, ge=1)
    max_queue_depth: int = Field(default=256, ge=1)
    # Production: /metrics answers only a scraper sending this bearer token (unset: /metrics is off).
    metrics_token: str = ""
    # Proxies whose X-Forwarded-For is believed (comma-separated; empty: none). app/auth/proxies.py
    trusted_proxies: str = ""
    # No invented numbers (inference/number_guard.py): "decode" constrains decoding to the numbers,
    # emails and phones of the reply's facts and also checks the finished reply; "check" only
    # checks (stored on the reply row and counted); "off" does neither.
    number_guard: Literal["decode", "check", "off"] = "decode"
    # Copy bias (inference/copy_bias.py): logits added to the token that continues a span of the
    # best retrieved fact (a quarter of it per rank below); 0 turns it off. 6 measured best on the
    # factual eval's 48-question subset (2, 4, 6, 10 tried: docs/benchmarks/facts/README.md).
    copy_bias: float = Field(default=6.0, ge=0.0, le=20.0)
    # Staff/operator console requests doing database work at once per node (app/api/staff_slots.py).
    staff_db_concurrency: int = Field(default=4, ge=1)
    staff_slot_wait_s: float = Field(default=10.0, gt=0)
    # The business the chat speaks for: page titles, the staff label and the system prompts (the
    # adapters were trained saying "Voltline"; serving puts this name in its place). Sites that embed
    # the widget show their own name (app/widget/sites.py).
    business_name: str = Field(default="Voltline", min_length=1, max_length=80)
    # The origins customers reach this host at (comma-separated, e.g. https://chat.example.com), for a
    # proxy that rewrites Host: /ws/chat always accepts this host's own pages (app/widget/embedding.py).
    public_origins: str = ""
    # The sweep of orphaned `streaming` replies (app/chat/orphans.py): rows older than the age are
    # finalised from what Redis or the engine still holds, every interval. Chaos runs shorten both.
    orphan_sweep_min_age_s: float = Field(default=60.0, gt=0)
    orphan_sweep_interval_s: float = Field(default=30.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="after")
    def _resolve_secret(self) -> Settings:
        self.secret_key = resolve_secret(
            self.secret_key, self.environment, bool(self.redis_url), self.cache_dir
        )
        return self

    @field_validator("public_origins")
    @classmethod
    def _check_public_origins(cls, value: str) -> str:
        return ",".join(normalize_origin(o) for o in value.split(",") if o.strip())

    @property
    def own_origins(self) -> tuple[str, ...]:
        """``public_origins`` as a tuple of normalised origins."""
        return tuple(o for o in self.public_origins.split(",") if o)

    @property
    def model_dir(self) -> Path:
        """The model folder the engine loads: the configured one, or the converted default."""
        if self.model:
            return Path(self.model).expanduser()
        return self.cache_dir / "smollm2-135m-instruct"


settings = Settings()
