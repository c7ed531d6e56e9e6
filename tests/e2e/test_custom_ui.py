"""A site's own co-browse UI on the JavaScript API (PRODUCT.md P4, §10): with
data-ui="none" cobrowse draws no widget and no prompt of its own (only the agent's
pointer), and the page's own button, state line, consent prompt, Exit and ended
message follow the session through the API's events."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import join_and_see, open_site, sign_in
from tests.e2e.test_write_mode import Agent
from tests.support import Deployment

pytestmark = pytest.mark.e2e

BUILT_IN_UI = """() => {
    const host = document.querySelector("cobrowse-ui");
    const root = host && host.shadowRoot;
    if (!root) return "no host";
    const widgets = ".widget, .launch, .panel, .prompt, .notice, .callus";
    return {
        widgets: root.querySelectorAll(widgets).length,
        buttons: root.querySelectorAll("button, a, [role=dialog]").length,
    };
}"""

AGENT_POINTER_SHOWN = """() => {
    const pointer = document.querySelector("cobrowse-ui").shadowRoot.querySelector(".pointer");
    return pointer !== null && pointer.style.display === "block";
}"""


def assert_no_built_in_widget(customer: Page) -> None:
    assert customer.evaluate(BUILT_IN_UI) == {"widgets": 0, "buttons": 0}
    expect(customer.get_by_role("button", name="Co-browse")).to_have_count(0)
    expect(customer.get_by_role("button", name="Exit")).to_have_count(0)


def get_help(deployment: Deployment, customer: Page, agent: Page, agent_name: str) -> Agent:
    """The customer asks for help with the page's own button; the agent joins."""
    open_site(customer, f"{deployment.site_urls['pages']}/custom-ui.html")
    state = customer.locator("#help-state")
    expect(state).to_have_text("Not sharing. Press Get help when our agent asks you to.")
    assert_no_built_in_widget(customer)

    customer.get_by_role("button", name="Get help").click()
    code = customer.locator("#help-code")
    expect(code).to_have_text(re.compile(r"^\d{3}-\d{3}-\d{3}$"))
    session_id = code.get_attribute("data-id")
    assert session_id is not None
    assert code.inner_text().replace("-", "") == session_id
    expect(state).to_have_text("Waiting for our agent to join…")
    expect(customer.get_by_role("button", name="Get help")).to_be_hidden()

    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Delivery address")
    expect(state).to_have_text("Our agent is looking at this page with you.")
    assert_no_built_in_widget(customer)
    return Agent(agent, customer)


def events(customer: Page) -> list[Any]:
    recorded: list[Any] = customer.evaluate("() => window.events")
    return recorded


def test_custom_ui_asks_consent_lets_the_agent_type_and_exits_with_its_own_button(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = get_help(deployment, customer, agent, agent_name)
    session_id = customer.locator("#help-code").get_attribute("data-id")
    # A handler removed with off() is not called any more.
    customer.evaluate(
        """() => {
            window.removedCalls = 0;
            const removed = () => { window.removedCalls += 1; };
            window.Cobrowse.on("modeChanged", removed);
            window.Cobrowse.off("modeChanged", removed);
        }"""
    )

    agent.get_by_role("button", name="Request write mode").click()
    consent = customer.get_by_role("dialog", name="Let our agent fill in this page?")
    expect(consent).to_be_visible()
    # The page's own prompt is the only one: cobrowse draws none with data-ui="none".
    expect(customer.get_by_role("dialog")).to_have_count(1)
    assert_no_built_in_widget(customer)
    consent.get_by_role("button", name="Yes, go ahead").click()
    expect(customer.locator("#help-state")).to_have_text("Our agent can fill in this page for you.")
    expect(agent.locator("#session-mode")).to_have_text("Write mode")
    expect(consent).to_be_hidden()

    city = customer.locator("#city")
    hands.click(city)
    hands.type("Lyon")
    expect(city).to_have_value("Lyon")
    # The agent's pointer still shows on the page: it is not a widget.
    customer.wait_for_function(AGENT_POINTER_SHOWN)

    customer.get_by_role("button", name="Stop sharing").click()
    ended = customer.get_by_role("alert")
    expect(ended).to_have_text("You stopped sharing this page.")
    expect(ended).to_have_attribute("data-reason", "customer_exit")
    expect(customer.locator("#help-state")).to_have_text("Not sharing.")
    expect(agent.get_by_text(re.compile("Session ended"))).to_be_visible()
    assert customer.evaluate("() => window.Cobrowse.session") is None
    assert customer.evaluate("() => window.removedCalls") == 0
    assert_no_built_in_widget(customer)

    assert [name for name, _ in events(customer)] == [
        "sessionStarted",
        "agentJoined",
        "writeModeRequested",
        "modeChanged",
        "sessionEnded",
    ]
    started, joined, requested, changed, finished = (payload for _, payload in events(customer))
    assert started == {"id": session_id, "state": "idle", "mode": "pointer"}
    assert joined == {"id": session_id, "state": "active", "mode": "pointer"}
    assert sorted(requested) == ["accept", "decline"]
    assert changed["mode"] == "write"
    assert finished == {
        "reason": "customer_exit",
        "text": "The customer ended the co-browse session.",
    }


def test_custom_ui_declines_write_mode_and_hears_the_agent_leave(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = get_help(deployment, customer, agent, agent_name)

    agent.get_by_role("button", name="Request write mode").click()
    consent = customer.get_by_role("dialog", name="Let our agent fill in this page?")
    consent.get_by_role("button", name="No thanks").click()
    expect(hands.status()).to_have_text("The customer declined write mode.")
    expect(agent.locator("#session-mode")).to_have_text("Pointer mode")
    expect(consent).to_be_hidden()
    expect(customer.locator("#help-state")).to_have_text(
        "Our agent is looking at this page with you."
    )
    hands.click(customer.locator("#city"))
    hands.type("nope")
    expect(customer.locator("#city")).to_have_value("")

    agent.get_by_role("button", name="Exit session").click()
    ended = customer.get_by_role("alert")
    expect(ended).to_have_text("Our agent has finished looking at this page.")
    expect(ended).to_have_attribute("data-reason", "agent_exit")
    expect(customer.get_by_role("button", name="Get help")).to_be_visible()
    assert [name for name, _ in events(customer)] == [
        "sessionStarted",
        "agentJoined",
        "writeModeRequested",
        "sessionEnded",
    ]
    assert_no_built_in_widget(customer)
