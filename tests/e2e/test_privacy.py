"""Masked data never leaves the customer's browser (PRODUCT.md R1, R3, §8).

Every WebSocket frame the customer page sends is captured; canaries put into
password fields (and a card number field, masked by default) by typing, by script,
by attribute, in the first snapshot and in a field added later must appear in none
of them, nor in the server's logs or its database files, while the agent's view
shows the constant placeholder.
"""

from __future__ import annotations

import logging

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    artifacts,
    join_and_see,
    open_site,
    record_frames,
    sign_in,
    stored_bytes,
)
from tests.support import Deployment

pytestmark = pytest.mark.e2e

PLACEHOLDER = "••••••••"
TYPED = "CANARY-TYPED-9931"
BY_SETTER = "CANARY-SETTER-5120"
BY_ATTRIBUTE = "CANARY-ATTR-7788"
ADDED = "CANARY-ADDED-3065"
PRESET = "CANARY-PRESET-4471"
CARD = "4000056655665556"
CANARIES = (TYPED, BY_SETTER, BY_ATTRIBUTE, ADDED, PRESET, CARD)
VISIBLE = "visible-nickname-2024"


def test_password_canaries_never_leave_the_page(
    deployment: Deployment,
    customer: Page,
    agent: Page,
    agent_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sent = record_frames(customer)
    open_site(customer, f"{deployment.site_urls['pages']}/privacy.html")
    session = customer.evaluate("() => window.Cobrowse.start()")
    sign_in(agent, deployment, agent_name)
    view = join_and_see(agent, session["id"], "Account settings")

    # The first snapshot already carries the preset password field, masked.
    expect(view.locator("#preset")).to_have_value(PLACEHOLDER)

    customer.locator("#nickname").click()
    customer.keyboard.type(VISIBLE)
    customer.locator("#password").click()
    customer.keyboard.type(TYPED)
    customer.locator("#card").click()
    customer.keyboard.type(CARD)
    customer.evaluate(f"() => window.setBySetter({BY_SETTER!r})")
    customer.evaluate(f"() => window.setByAttribute({BY_ATTRIBUTE!r})")
    customer.evaluate(f"() => window.addPasswordField({ADDED!r})")

    expect(view.locator("#nickname")).to_have_value(VISIBLE)
    expect(view.locator("#password")).to_have_value(PLACEHOLDER)
    expect(view.locator("#added")).to_have_value(PLACEHOLDER)
    expect(view.locator("#preset")).to_have_value(PLACEHOLDER)
    expect(view.locator("#card")).to_have_value(PLACEHOLDER)
    agent.screenshot(path=str(artifacts() / "privacy-agent-view.png"))

    everything_sent = "\n".join(sent)
    assert VISIBLE in everything_sent, "capture works: unmasked text does travel"
    assert PLACEHOLDER in everything_sent
    for canary in CANARIES:
        assert canary not in everything_sent, f"{canary} left the customer's browser"

    customer.get_by_role("button", name="Exit co-browse session").click()
    expect(agent.get_by_role("status")).to_have_text(
        "Session ended: The customer ended the co-browse session."
    )
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    stored = stored_bytes(deployment)
    for canary in CANARIES:
        assert canary not in logged
        assert canary.encode() not in stored
