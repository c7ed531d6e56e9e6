"""The one configuration object: a TOML file plus ``COBROWSE_*`` environment variables.

Precedence, highest first: command-line flags, environment, the TOML file, defaults.
Anything invalid or unknown stops start-up with a message naming the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from cobrowse.core.webhooks import DEFAULT_RETRY_SECONDS

ENV_PREFIX = "COBROWSE_"
MAX_WEBHOOK_RETRIES = 20
MAX_WEBHOOK_RETRY_WAIT = 86400.0


class ConfigError(Exception):
    """Invalid configuration; the message names the key and where it came from."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address `cobrowse serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `cobrowse serve` listens on.")
    database_url: str = Field(
        "sqlite+aiosqlite:///data/cobrowse.db",
        description="SQLAlchemy URL of the store; plain sqlite:// and postgresql:// work too.",
    )
    max_message_bytes: int = Field(
        8 * 1024 * 1024,
        ge=4096,
        le=256 * 1024 * 1024,
        description="Largest WebSocket frame accepted; bigger ones close the socket with 1009.",
    )
    cookie_secure: bool = Field(
        True,
        description="Mark the console sign-in cookies Secure. Browsers accept Secure cookies "
        "over plain HTTP only on localhost; behind TLS leave it on.",
    )
    agent_login_hours: float = Field(
        12, gt=0, le=24 * 30, description="Sign-in lifetime, agent and admin console alike."
    )
    join_attempts_per_minute: int = Field(
        10, ge=1, le=1000, description="Failed joins an agent may make per minute."
    )
    require_interaction: bool = Field(
        True,
        description="Joining a session by its ID needs the agent's open voice interaction, to "
        "which the session is then bound (S2); a chat's session needs that chat's agent "
        "always. Off: agents may co-browse by ID without a registered call.",
    )
    join_timeout_seconds: float = Field(
        300.0, gt=0, le=86400, description="A session no agent joined within this long ends."
    )
    inactivity_timeout_seconds: float = Field(
        1800.0,
        gt=0,
        le=86400,
        description="A session where neither party did anything for this long ends.",
    )
    agent_grace_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How long a session waits for the agent's console to come back after it "
        "closed, navigated away or lost its connection.",
    )
    customer_grace_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="How long a session waits for the customer's page to come back (a page "
        "load, a reload, a dropped connection) before it ends as customer_left.",
    )
    restrictions_poll_seconds: float = Field(
        2.0,
        ge=0.1,
        le=3600,
        description="How often the server checks for restriction changes made by another "
        "process (cobrowse restrictions import); API changes apply at once.",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL (redis:// or rediss://) for cluster mode: live sessions and "
        "their messages are shared by every node using the same Redis and prefix. Unset: "
        "the embedded single-node mode, live state in memory.",
    )
    redis_prefix: str = Field(
        "cobrowse",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Prefix of every Redis key and channel, so several deployments can share "
        "one Redis.",
    )
    webhook_retry_seconds: tuple[float, ...] = Field(
        DEFAULT_RETRY_SECONDS,
        description="Waits before the 2nd, 3rd, ... attempt to deliver a webhook; each is moved "
        "by up to 20% at random. After the last one the delivery has failed. In the "
        "environment, a JSON list: COBROWSE_WEBHOOK_RETRY_SECONDS='[10, 30, 120]'.",
    )
    webhook_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=120,
        description="How long a webhook receiver has to answer; no answer counts as a failure.",
    )
    webhook_poll_seconds: float = Field(
        1.0,
        ge=0.01,
        le=60,
        description="How often each node looks for webhook deliveries that are due (events "
        "recorded on the node itself are sent at once).",
    )
    webhook_retention_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description="Delivered and failed webhook deliveries older than this are deleted.",
    )
    redis_max_connections: int = Field(
        64,
        ge=4,
        le=10000,
        description="Connections each node keeps to Redis at most; more concurrent calls "
        "wait for a free one.",
    )
    resource_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Largest page resource (stylesheet, image, font) the resource proxy "
        "fetches; larger ones are refused.",
    )
    resource_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Longest the resource proxy spends on one fetch, redirects included.",
    )
    resource_cache_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        le=16 * 1024 * 1024 * 1024,
        description="Memory the resource proxy's cache may use on a single node (0: no "
        "cache). In cluster mode the cache is in Redis and this is not used.",
    )
    resource_cache_seconds: float = Field(
        300.0,
        ge=0,
        le=86400,
        description="How long a proxied resource is reused when its website does not say "
        "(a max-age from the website is followed, up to a day; 0: only then).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _retry_schedule(cls, waits: tuple[float, ...]) -> tuple[float, ...]:
        if len(waits) > MAX_WEBHOOK_RETRIES:
            raise ValueError(f"at most {MAX_WEBHOOK_RETRIES} retries")
        if any(not 0 < wait <= MAX_WEBHOOK_RETRY_WAIT for wait in waits):
            raise ValueError(
                f"each wait is more than 0 and at most {MAX_WEBHOOK_RETRY_WAIT:g} seconds"
            )
        return waits

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return url or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, level: object) -> object:
        return level.lower() if isinstance(level, str) else level

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept the plain URLs people copy from elsewhere and pick the async driver."""
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return url


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Read the configuration; ``overrides`` are command-line flags (None means not given)."""
    file_values = _read_toml(config_file) if config_file is not None else {}
    _refuse_unknown_environment()
    flags = {key: value for key, value in overrides.items() if value is not None}

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, file_values))

    try:
        loaded = _Settings(**flags)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_explain(exc, config_file)) from None
    return Settings.model_construct(**loaded.model_dump())


def _refuse_unknown_environment() -> None:
    """A misspelled COBROWSE_* variable would otherwise be ignored without a word."""
    known = {f"{ENV_PREFIX}{name}".upper() for name in Settings.model_fields}
    unknown = sorted(
        name
        for name in os.environ
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    )
    if unknown:
        raise ConfigError(
            "\n".join(
                f"invalid configuration: {name}: unknown configuration key "
                f"(known keys: {', '.join(sorted(Settings.model_fields))})"
                for name in unknown
            )
        )


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None


def _explain(exc: ValidationError, config_file: Path | None) -> str:
    lines = []
    for problem in exc.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "?"
        where = f"`{key}` in {config_file} or " if config_file else ""
        source = f"{where}{ENV_PREFIX}{key.upper()}"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown configuration key"
        lines.append(f"invalid configuration: {key} ({source}): {message}")
    return "\n".join(lines)
