"""The customer script as a website embeds it: site check, API and events (issue 2 item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from cobrowse.demo.website import create_site_app
from tests.e2e.conftest import TEST_PAGES
from tests.e2e.helpers import join_and_see, open_site, sign_in
from tests.support import Deployment, free_port, plain_server

pytestmark = pytest.mark.e2e


def test_script_refuses_to_run_on_an_unregistered_site(
    deployment: Deployment, customer: Page
) -> None:
    port = free_port()
    stranger = plain_server(create_site_app(deployment.url, TEST_PAGES), port)
    stranger.start()
    try:
        messages: list[ConsoleMessage] = []
        customer.on("console", lambda message: messages.append(message))
        customer.goto(f"http://localhost:{port}/privacy.html")
        customer.wait_for_function("() => window.Cobrowse !== undefined")
        with pytest.raises(Error, match="not registered"):
            customer.evaluate("() => window.Cobrowse.start()")
        errors = [message.text for message in messages if message.type == "error"]
        assert any(
            f"this website (http://localhost:{port}) is not registered" in text
            and f"cobrowse sites add NAME --origin http://localhost:{port}" in text
            for text in errors
        ), errors
        expect(customer.get_by_role("button", name="Co-browse")).to_have_count(0)
        assert customer.evaluate("() => window.Cobrowse.session") is None
    finally:
        stranger.stop()


def test_site_with_its_own_ui_gets_every_event(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, f"{deployment.site_urls['pages']}/api.html")
    expect(customer.get_by_role("button", name="Co-browse")).to_have_count(0)  # data-ui="none"

    session = customer.evaluate("() => window.Cobrowse.start()")
    assert session["state"] == "idle"
    assert customer.evaluate("() => window.Cobrowse.start()") == session, "start is idempotent"
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session["id"], "Help centre")
    customer.wait_for_function("() => window.seen.some(([name]) => name === 'agentJoined')")
    assert customer.evaluate("() => window.Cobrowse.session") == {
        "id": session["id"],
        "state": "active",
        "mode": "pointer",
    }

    # A handler added late still gets what already happened.
    late: list[Any] = customer.evaluate(
        """() => new Promise((resolve) => {
            const got = [];
            for (const name of ["ready", "sessionStarted", "agentJoined"]) {
                window.Cobrowse.on(name, (payload) => {
                    got.push([name, payload]);
                    if (got.length === 3) resolve(got);
                });
            }
        })"""
    )
    assert [name for name, _ in late] == ["ready", "sessionStarted", "agentJoined"]
    assert late[2][1] == {"id": session["id"], "state": "active", "mode": "pointer"}

    customer.evaluate("() => window.Cobrowse.exit()")
    customer.wait_for_function("() => window.seen.some(([name]) => name === 'sessionEnded')")
    seen = customer.evaluate("() => window.seen")
    assert [name for name, _ in seen] == ["ready", "sessionStarted", "agentJoined", "sessionEnded"]
    assert seen[1][1] == {"id": session["id"], "state": "idle", "mode": "pointer"}
    assert seen[3][1] == {
        "reason": "customer_exit",
        "text": "The customer ended the co-browse session.",
    }
    assert customer.evaluate("() => window.Cobrowse.session") is None

    # Handlers can be removed, and a throwing handler breaks nothing.
    after_exit = customer.evaluate(
        """async () => {
            const calls = [];
            const handler = () => calls.push("removed handler ran");
            window.Cobrowse.on("sessionStarted", handler);
            window.Cobrowse.off("sessionStarted", handler);
            window.Cobrowse.on("sessionStarted", () => { throw new Error("site bug"); });
            const next = await window.Cobrowse.start();
            await new Promise((resolve) => setTimeout(resolve, 50));
            return { calls, next };
        }"""
    )
    assert after_exit["calls"] == []
    assert after_exit["next"]["id"] != session["id"]
