"""The `cobrowse` command as an administrator runs it, in a real subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import cobrowse


def test_users_and_sites_are_added_to_the_default_sqlite_store(tmp_path: Path) -> None:
    added = cobrowse(
        "users", "add", "alice", "--role", "agent", "--password", "s3cret-pw", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert "agent alice is ready" in added.stdout
    assert (tmp_path / "data" / "cobrowse.db").exists()

    site = cobrowse(
        "sites", "add", "shop", "--origin", "https://Shop.Example.com:443/", "--origin",
        "http://localhost:8001", cwd=tmp_path,
    )  # fmt: skip
    assert site.returncode == 0, site.stderr
    assert "site shop: http://localhost:8001, https://shop.example.com" in site.stdout


def test_password_is_asked_for_when_not_given(tmp_path: Path) -> None:
    added = cobrowse(
        "users",
        "add",
        "bob",
        "--role",
        "admin",
        cwd=tmp_path,
        stdin="pw-long-enough\npw-long-enough\n",
    )
    assert added.returncode == 0, added.stderr
    assert "admin bob is ready" in added.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "carol", "--role", "agent", "--password", "short"), "at least 8"),
        (
            ("users", "add", "bad name!", "--role", "agent", "--password", "long enough"),
            "a username",
        ),
        (("users", "add", "dave", "--role", "boss", "--password", "long enough"), "'boss' is not"),
        (("sites", "add", "shop", "--origin", "ftp://x"), "must start with http:// or https://"),
        (
            ("sites", "add", "shop", "--origin", "https://x.example/path"),
            "only scheme, host and port",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = cobrowse(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_an_origin_belongs_to_one_site(tmp_path: Path) -> None:
    assert (
        cobrowse("sites", "add", "one", "--origin", "https://a.example", cwd=tmp_path).returncode
        == 0
    )
    taken = cobrowse("sites", "add", "two", "--origin", "https://a.example", cwd=tmp_path)
    assert taken.returncode != 0
    assert "origin https://a.example already belongs to another site" in taken.stderr


def test_invalid_configuration_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "cobrowse.toml"
    config.write_text('port = "eighty"\n')
    result = cobrowse("serve", "--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert "invalid configuration: port" in result.stderr
    assert "COBROWSE_PORT" in result.stderr

    from_env = cobrowse("serve", cwd=tmp_path, env={"COBROWSE_MAX_MESSAGE_BYTES": "12"})
    assert from_env.returncode != 0
    assert (
        "invalid configuration: max_message_bytes (COBROWSE_MAX_MESSAGE_BYTES)" in from_env.stderr
    )

    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 8000\n")
    typo = cobrowse(
        "users",
        "add",
        "erin",
        "--role",
        "agent",
        "--password",
        "long enough",
        "--config",
        str(unknown),
        cwd=tmp_path,
    )
    assert typo.returncode != 0
    assert "invalid configuration: prot" in typo.stderr
    assert "unknown configuration key" in typo.stderr


def test_database_url_from_the_environment_is_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "store.db"
    result = cobrowse(
        "users", "add", "frank", "--role", "agent", "--password", "long enough",
        cwd=tmp_path, env={"COBROWSE_DATABASE_URL": f"sqlite:///{target}"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert target.exists()
    assert not (tmp_path / "data").exists()
