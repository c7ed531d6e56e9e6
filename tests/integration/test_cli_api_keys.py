"""`cobrowse api-keys`, in a real subprocess, against a running server sharing its store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cobrowse.store.api_keys import KEY_PREFIX
from tests.support import Deployment, cobrowse


@pytest.fixture
def config(deployment: Deployment, tmp_path: Path) -> Path:
    """A configuration file pointing the command at the running server's database."""
    path = tmp_path / "cobrowse.toml"
    path.write_text(f'database_url = "{deployment.settings.database_url}"\n')
    return path


def api_status(deployment: Deployment, key: str) -> int:
    response = httpx.get(
        f"{deployment.url}/api/v1/sites", headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code


def test_a_key_is_printed_once_works_and_stops_working_when_revoked(
    deployment: Deployment, config: Path, tmp_path: Path
) -> None:
    created = cobrowse("api-keys", "create", "crm", "--config", str(config), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n", "the key alone on standard output, for scripts"
    assert key.startswith(KEY_PREFIX)
    assert "shown only once" in created.stderr
    assert api_status(deployment, key) == 200

    listed = cobrowse("api-keys", "list", "--config", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if line.startswith("crm ")]
    assert "created " in line
    assert "last used never" not in line, "the request above was recorded"
    assert key not in listed.stdout
    assert key[len(KEY_PREFIX) :] not in listed.stdout

    again = cobrowse("api-keys", "create", "crm", "--config", str(config), cwd=tmp_path)
    assert again.returncode != 0
    assert "an API key named 'crm' already exists; revoke it first" in again.stderr

    revoked = cobrowse("api-keys", "revoke", "crm", "--config", str(config), cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert "API key crm revoked" in revoked.stdout
    assert api_status(deployment, key) == 401

    twice = cobrowse("api-keys", "revoke", "crm", "--config", str(config), cwd=tmp_path)
    assert twice.returncode != 0
    assert "there is no API key named 'crm'" in twice.stderr


def test_listing_without_keys_says_how_to_make_one(tmp_path: Path) -> None:
    listed = cobrowse("api-keys", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "no API keys (cobrowse api-keys create NAME makes one)" in listed.stdout


def test_a_key_name_must_be_plain(tmp_path: Path) -> None:
    created = cobrowse("api-keys", "create", "my key", cwd=tmp_path)
    assert created.returncode != 0
    assert "an API key name is 1 to 64 letters" in created.stderr
