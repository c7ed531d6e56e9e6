"""`cobrowse history`, in a real subprocess, reading the store of a running server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_history_api import a_finished_session
from tests.support import Deployment, cobrowse


@pytest.fixture
def config(deployment: Deployment, tmp_path: Path) -> Path:
    """A configuration file pointing the command at the running server's database."""
    path = tmp_path / "cobrowse.toml"
    path.write_text(f'database_url = "{deployment.settings.database_url}"\n')
    return path


async def test_history_lists_sessions_as_a_table_and_as_json_lines(
    deployment: Deployment, site_origin: str, config: Path, tmp_path: Path
) -> None:
    agent = deployment.add_agent("cli-history-agent")
    first = await a_finished_session(deployment, site_origin, agent)
    second = await a_finished_session(deployment, site_origin, agent)

    listed = cobrowse("history", "--agent", agent, "--config", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:3] == ["ID", "SITE", "AGENT"]
    assert [row.split()[0] for row in rows] == [second, first]
    assert rows[0].split()[1:3] == ["shop", agent]
    assert "agent_exit" in rows[0]
    assert rows[0].split()[-1] == "2/1", "write mode requested / declined"

    as_json = cobrowse(
        "history",
        "--agent",
        agent,
        "--limit",
        "1",
        "--json",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert as_json.returncode == 0, as_json.stderr
    [line] = as_json.stdout.splitlines()
    record = json.loads(line)
    assert record["session_id"] == second
    assert record["end_reason"] == "agent_exit"
    assert record["write_mode_requests"] == 2

    nothing = cobrowse(
        "history",
        "--agent",
        agent,
        "--since",
        "2100-01-01",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert nothing.returncode == 0
    assert nothing.stdout == ""
    assert "no sessions match" in nothing.stderr

    filtered = cobrowse(
        "history",
        "--reason",
        "inactivity",
        "--agent",
        agent,
        "--json",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert filtered.returncode == 0, filtered.stderr
    assert filtered.stdout == ""


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_a_bad_time_is_refused_naming_the_option(option: str, config: Path, tmp_path: Path) -> None:
    result = cobrowse("history", option, "last tuesday", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert "ISO 8601" in result.stderr
