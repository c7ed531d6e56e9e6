"""Configuration: defaults < TOML file < COBROWSE_* environment < command-line flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from cobrowse.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No COBROWSE_* variable from outside leaks in (names are matched case-insensitively)."""
    for name in list(os.environ):
        if name.upper().startswith("COBROWSE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_toml(tmp_path: Path, text: str, name: str = "cobrowse.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Defaults ---------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.database_url == "sqlite+aiosqlite:///data/cobrowse.db"
    assert settings.max_message_bytes == 8 * 1024 * 1024
    assert settings.cookie_secure is True
    assert settings.agent_login_hours == 12
    assert settings.join_attempts_per_minute == 10
    assert settings.log_level == "info"


def test_result_is_a_plain_read_only_settings_object() -> None:
    settings = load_settings(port=9000)
    assert type(settings) is Settings
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
    assert settings.port == 9000


def test_empty_toml_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(write_toml(tmp_path, "")) == load_settings()


# Precedence -------------------------------------------------------------------------


def test_toml_file_overrides_defaults(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        'host = "192.0.2.10"\nport = 9000\ncookie_secure = false\nlog_level = "debug"\n',
    )
    settings = load_settings(path)
    assert settings.host == "192.0.2.10"
    assert settings.port == 9000
    assert settings.cookie_secure is False
    assert settings.log_level == "debug"
    assert settings.join_attempts_per_minute == 10


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBROWSE_PORT", "9100")
    monkeypatch.setenv("COBROWSE_COOKIE_SECURE", "false")
    monkeypatch.setenv("COBROWSE_AGENT_LOGIN_HOURS", "1.5")
    settings = load_settings()
    assert settings.port == 9100
    assert settings.cookie_secure is False
    assert settings.agent_login_hours == 1.5


def test_environment_overrides_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'port = 9000\nhost = "10.0.0.1"\n')
    monkeypatch.setenv("COBROWSE_PORT", "9100")
    settings = load_settings(path)
    assert settings.port == 9100
    assert settings.host == "10.0.0.1"


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBROWSE_PORT", "9100")
    monkeypatch.setenv("COBROWSE_HOST", "10.0.0.2")
    settings = load_settings(port=9200)
    assert settings.port == 9200
    assert settings.host == "10.0.0.2"


def test_flags_override_toml_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_toml(tmp_path, "port = 9000\n")
    monkeypatch.setenv("COBROWSE_PORT", "9100")
    assert load_settings(path, port=9200).port == 9200


def test_flags_override_toml(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'log_level = "error"\n')
    assert load_settings(path, log_level="warning").log_level == "warning"


def test_flag_given_as_none_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'port = 9000\nhost = "10.0.0.1"\n')
    monkeypatch.setenv("COBROWSE_PORT", "9100")
    settings = load_settings(path, port=None, host=None, log_level=None)
    assert settings.port == 9100
    assert settings.host == "10.0.0.1"
    assert settings.log_level == "info"


def test_none_flags_leave_the_defaults() -> None:
    assert load_settings(port=None, database_url=None) == load_settings()


# Invalid values ---------------------------------------------------------------------


def test_invalid_environment_value_names_the_key_and_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COBROWSE_PORT", "eighty")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "port" in message
    assert "COBROWSE_PORT" in message


@pytest.mark.parametrize(
    ("flags", "key"),
    [
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"max_message_bytes": 1024}, "max_message_bytes"),
        ({"agent_login_hours": 0}, "agent_login_hours"),
        ({"join_attempts_per_minute": 0}, "join_attempts_per_minute"),
        ({"log_level": "loud"}, "log_level"),
    ],
)
def test_out_of_range_flag_names_the_key_and_variable(flags: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, **flags)
    message = str(raised.value)
    assert f"invalid configuration: {key} " in message
    assert f"COBROWSE_{key.upper()}" in message


def test_invalid_toml_value_names_the_key_the_file_and_variable(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'port = "eighty"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert "`port`" in message
    assert str(path) in message
    assert "COBROWSE_PORT" in message


def test_every_invalid_key_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBROWSE_PORT", "0")
    monkeypatch.setenv("COBROWSE_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    lines = str(raised.value).splitlines()
    assert len(lines) == 2
    assert any("COBROWSE_PORT" in line for line in lines)
    assert any("COBROWSE_LOG_LEVEL" in line for line in lines)


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = 9000\nprot = 9001\n")
    with pytest.raises(ConfigError, match="unknown configuration key") as raised:
        load_settings(path)
    assert "prot" in str(raised.value)


def test_toml_table_is_an_unknown_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server]\nport = 9000\n")
    with pytest.raises(ConfigError, match="unknown configuration key") as raised:
        load_settings(path)
    assert "server" in str(raised.value)


def test_unknown_flag_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown configuration key") as raised:
        load_settings(colour="blue")
    assert "colour" in str(raised.value)


# The file itself --------------------------------------------------------------------


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="does not exist") as raised:
        load_settings(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("text", ["port = \n", "port: 9000\n", "[server\n", 'host = "a\n'])
def test_invalid_toml_is_an_error(tmp_path: Path, text: str) -> None:
    path = write_toml(tmp_path, text)
    with pytest.raises(ConfigError, match="not valid TOML") as raised:
        load_settings(path)
    assert str(path) in str(raised.value)


# Database URLs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite:////var/lib/cobrowse.db", "sqlite+aiosqlite:////var/lib/cobrowse.db"),
        ("postgresql://h/db", "postgresql+asyncpg://h/db"),
        ("postgres://h/db", "postgresql+asyncpg://h/db"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
    ],
)
def test_database_url_gets_the_async_driver(url: str, expected: str) -> None:
    assert load_settings(database_url=url).database_url == expected


def test_database_url_from_environment_gets_the_async_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COBROWSE_DATABASE_URL", "postgres://db.internal/cobrowse")
    assert load_settings().database_url == "postgresql+asyncpg://db.internal/cobrowse"


def test_database_url_from_toml_gets_the_async_driver(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'database_url = "sqlite:///x.db"\n')
    assert load_settings(path).database_url == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(
    "url",
    ["mysql://h/db", "postgresql+psycopg2://h/db", "sqlite+pysqlite:///x.db", "x.db", ""],
)
def test_unsupported_database_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(database_url=url)
    message = str(raised.value)
    assert "database_url" in message
    assert "COBROWSE_DATABASE_URL" in message
    assert "sqlite:// or postgresql://" in message


def test_misspelled_environment_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBROWSE_PROT", "9000")
    with pytest.raises(ConfigError, match="COBROWSE_PROT: unknown configuration key"):
        load_settings()


@pytest.mark.parametrize("level", ["INFO", "Warning", "debug"])
def test_log_level_is_case_insensitive(level: str) -> None:
    assert load_settings(log_level=level).log_level == level.lower()


# Webhooks ---------------------------------------------------------------------------


def test_webhook_defaults() -> None:
    settings = load_settings()
    assert settings.webhook_retry_seconds == (10.0, 30.0, 120.0, 600.0, 3600.0)
    assert settings.webhook_timeout_seconds == 10.0
    assert settings.webhook_poll_seconds == 1.0
    assert settings.webhook_retention_days == 30.0


def test_the_retry_schedule_comes_from_toml_or_a_json_list_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_toml(tmp_path, "webhook_retry_seconds = [5, 60]\n")
    assert load_settings(path).webhook_retry_seconds == (5.0, 60.0)
    monkeypatch.setenv("COBROWSE_WEBHOOK_RETRY_SECONDS", "[1, 2.5, 4]")
    assert load_settings(path).webhook_retry_seconds == (1.0, 2.5, 4.0)
    monkeypatch.setenv("COBROWSE_WEBHOOK_RETRY_SECONDS", "[]")
    assert load_settings().webhook_retry_seconds == (), "no retries: one attempt"


@pytest.mark.parametrize(
    ("schedule", "why"),
    [("[0]", "more than 0"), ("[10, 90000]", "at most 86400"), (str([1] * 21), "at most 20")],
)
def test_a_bad_retry_schedule_is_refused_and_named(
    monkeypatch: pytest.MonkeyPatch, schedule: str, why: str
) -> None:
    monkeypatch.setenv("COBROWSE_WEBHOOK_RETRY_SECONDS", schedule)
    with pytest.raises(ConfigError, match="webhook_retry_seconds") as raised:
        load_settings()
    assert why in str(raised.value)
