"""DOM restrictions in the browser (PRODUCT.md R1, R2, R4, R5; issue 3 items 4-8).

The privacy suite: canaries placed in every masked path never appear in any frame
the customer page sends, in the server's logs or in its database, and the agent's
view shows placeholders.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cobrowse.store.db import Database
from cobrowse.store.models import AuditEvent
from tests.e2e.helpers import (
    artifacts,
    join_and_see,
    open_site,
    record_frames,
    sign_in,
    stored_bytes,
)
from tests.e2e.test_write_mode import Agent, grant_write_mode
from tests.support import Deployment, run_async, set_restrictions

pytestmark = pytest.mark.e2e

PLACEHOLDER = "••••••••"
MASKED = ["#ssn", "#token", "#notes", "#plan", ".private", "#avatar", "#bio"]
RULES: dict[str, object] = {
    "rules": [{"pattern": "/masking.html", "mask": MASKED, "disable": ["#danger"]}]
}
CANARIES = [
    "CANARY-SSN-VALUE",
    "CANARY-SSN-PLACEHOLDER",
    "CANARY-SSN-TITLE",
    "CANARY-SSN-ARIA",
    "CANARY-SSN-DATA",
    "CANARY-HIDDEN-VALUE",
    "CANARY-TEXTAREA-INITIAL",
    "CANARY-OPTION-VALUE-A",
    "CANARY-OPTION-VALUE-B",
    "CANARY-OPTION-TEXT-A",
    "CANARY-OPTION-TEXT-B",
    "CANARY-PRIVATE-TEXT",
    "CANARY-IMG-ALT",
    "CANARY-EDITABLE-INITIAL",
    # put there while the session runs
    "CANARY-TYPED-NOTES",
    "CANARY-TYPED-BIO",
    "CANARY-SCRIPT-VALUE",
    "CANARY-ATTR-VALUE",
    "CANARY-NEW-TITLE",
    "CANARY-HIDDEN-SCRIPT",
    "CANARY-PRIVATE-CHANGED",
    "CANARY-DYNAMIC-DATA",
    "CANARY-DYNAMIC-TEXT",
    "CANARY-DYNAMIC-FIELD",
]


def share_masking_page(deployment: Deployment, customer: Page, agent: Page, agent_name: str) -> str:
    open_site(customer, f"{deployment.site_urls['pages']}/masking.html")
    session = customer.evaluate("() => window.Cobrowse.start()")
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session["id"], "Your profile")
    session_id: str = session["id"]
    return session_id


def test_masked_data_never_leaves_the_customers_browser(
    deployment: Deployment,
    customer: Page,
    agent: Page,
    agent_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    set_restrictions(deployment, "pages", RULES)
    sent = record_frames(customer)
    share_masking_page(deployment, customer, agent, agent_name)
    view = agent.frame_locator('iframe[title="Customer view"]')

    # The first snapshot: values, text and attributes of masked elements are placeholders.
    expect(view.locator("#ssn")).to_have_value(PLACEHOLDER)
    expect(view.locator("#ssn")).to_have_attribute("placeholder", PLACEHOLDER)
    expect(view.locator("#ssn")).to_have_attribute("title", PLACEHOLDER)
    expect(view.locator("#notes")).to_have_value(PLACEHOLDER)
    expect(view.locator(".private")).to_have_text(PLACEHOLDER)
    expect(view.locator("#bio")).to_have_text(PLACEHOLDER)
    expect(view.locator("#avatar")).to_have_attribute("alt", PLACEHOLDER)
    expect(view.locator("#public")).to_have_value("visible-nickname")

    # Later changes: typing, script, attributes, new elements.
    customer.locator("#notes").fill("")
    customer.locator("#notes").type("CANARY-TYPED-NOTES")
    customer.locator("#bio").click()
    customer.keyboard.press("End")
    customer.keyboard.type("CANARY-TYPED-BIO")
    customer.evaluate("() => window.changeEverything()")
    expect(view.locator("#dynamic-field")).to_have_value(PLACEHOLDER)
    expect(view.locator("#more .private").first).to_have_text(PLACEHOLDER)
    expect(view.locator("#ssn")).to_have_attribute("title", PLACEHOLDER)
    agent.screenshot(path=str(artifacts() / "restrictions-agent-view.png"))

    frames = "\n".join(sent)
    assert "visible-nickname" in frames, "capture works: unmasked values do travel"
    assert "Not secret yet" in frames
    for canary in CANARIES:
        assert canary not in frames, f"{canary} left the customer's browser"

    customer.evaluate("() => window.Cobrowse.exit()")
    expect(agent.get_by_role("status")).to_have_text(
        "Session ended: The customer ended the co-browse session."
    )
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    stored = stored_bytes(deployment)
    for canary in CANARIES:
        assert canary not in logged
        assert canary.encode() not in stored


def test_customer_sees_what_is_hidden_from_the_agent(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    set_restrictions(deployment, "pages", RULES)
    open_site(customer, f"{deployment.site_urls['pages']}/masking.html")
    markers = customer.get_by_test_id("masked-marker")
    expect(markers).to_have_count(0)
    customer.evaluate("() => window.Cobrowse.start()")
    # #ssn, #notes, #plan, .private, #avatar, #bio (the hidden input has no box)
    expect(markers).to_have_count(6)
    expect(markers.first).to_contain_text("Hidden from agent")
    customer.locator("#ssn").focus()
    notice = customer.get_by_text("Hidden from the agent: they cannot see what you enter here.")
    expect(notice).to_be_visible()
    customer.locator("#public").focus()
    expect(notice).to_be_hidden()
    customer.evaluate("() => window.Cobrowse.exit()")
    expect(markers).to_have_count(0)


def test_disabled_and_masked_elements_refuse_the_agent_and_the_refusal_is_audited(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    set_restrictions(deployment, "pages", RULES)
    session_id = share_masking_page(deployment, customer, agent, agent_name)
    hands = Agent(agent, customer)
    mirror = "document.querySelector('iframe[title=\"Customer view\"]').contentDocument"
    agent.wait_for_function(
        f"() => parseFloat(getComputedStyle({mirror}.getElementById('danger')).opacity) < 0.5"
    )
    grant_write_mode(hands)

    hands.click(customer.locator("#danger"))
    expect(hands.status()).to_have_text("This part of the page is not available to the agent.")
    expect(customer.locator("#outcome")).to_have_text("")

    hands.click(customer.locator("#ssn"))
    hands.type("123")
    expect(hands.status()).to_have_text("This field is hidden from you, so you cannot type in it.")
    expect(customer.locator("#ssn")).to_have_value("CANARY-SSN-VALUE")

    # The customer can still use it all.
    customer.locator("#danger").click()
    expect(customer.locator("#outcome")).to_have_text("Deleted!")

    found: list[tuple[str, dict[str, object]]] = []

    async def audit() -> None:
        db = Database(deployment.settings.database_url)
        try:
            async with db.sessions() as tx:
                rows = await tx.execute(
                    select(AuditEvent.kind, AuditEvent.detail).where(
                        AuditEvent.session_id == session_id
                    )
                )
                found.extend((kind, detail) for kind, detail in rows.all())
        finally:
            await db.close()

    run_async(audit)
    refused = [detail["code"] for kind, detail in found if kind == "action_refused"]
    assert refused == ["disabled", "masked", "masked", "masked"]  # one per key typed
    assert "CANARY" not in str(found)


def test_restriction_changes_reach_a_live_session_without_a_reload(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    set_restrictions(deployment, "pages", RULES)
    sent = record_frames(customer)
    share_masking_page(deployment, customer, agent, agent_name)
    view = agent.frame_locator('iframe[title="Customer view"]')
    expect(view.locator("#late")).to_have_text("Not secret yet")

    # An administrator changes the rules through the REST API while the session runs.
    with_late: dict[str, object] = {
        "rules": [{"pattern": "/masking.html", "mask": [*MASKED, "#late"], "disable": []}]
    }
    key = deployment.add_api_key("restrictions-admin")
    saved = httpx.put(
        f"{deployment.url}/api/v1/sites/pages/restrictions",
        json=with_late,
        headers={"Authorization": f"Bearer {key}"},
    )
    assert saved.status_code == 200, saved.text
    expect(view.locator("#late")).to_have_text(PLACEHOLDER)
    customer.evaluate("() => { document.getElementById('late').textContent = 'CANARY-LATE'; }")
    customer.evaluate("() => { document.getElementById('public').value = 'seen-after'; }")
    expect(view.locator("#public")).to_have_value("seen-after")
    assert "CANARY-LATE" not in "\n".join(sent)
    # #danger is no longer disabled for the agent: its greyed look goes away too.
    mirror = "document.querySelector('iframe[title=\"Customer view\"]').contentDocument"
    agent.wait_for_function(
        f"() => parseFloat(getComputedStyle({mirror}.getElementById('danger')).opacity) === 1"
    )
