"""A customer and an agent co-browse in pointer mode, as two people would (issue 2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import join, join_and_see, open_site, sign_in, start_with_widget
from tests.support import Deployment

pytestmark = pytest.mark.e2e


def test_agent_sees_page_and_follows_dom_changes(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    expect(customer.get_by_text("Read this ID to your agent.")).to_be_visible()

    sign_in(agent, deployment, agent_name)
    view = join_and_see(agent, session_id, "Gear for the long way round")
    expect(agent.get_by_text(session_id, exact=True)).to_be_visible()
    expect(customer.get_by_text("The agent can see this page.")).to_be_visible()

    customer.get_by_role("button", name="Add to cart").first.click()
    expect(view.locator("#cart-count")).to_have_text("1")
    expect(view.get_by_text("Ridge 40L Backpack — $149.00")).to_be_visible()

    customer.get_by_role("button", name="Exit co-browse session").click()
    expect(agent.get_by_role("status")).to_have_text(
        "Session ended: The customer ended the co-browse session."
    )
    expect(agent.locator('iframe[title="Customer view"]')).to_have_count(0)
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()


def test_old_id_is_refused_and_restart_gets_new_id(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    first_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, first_id, "Gear for the long way round")

    agent.get_by_role("button", name="Exit session").click()
    expect(customer.get_by_role("alert")).to_have_text(
        re.compile("The agent ended the co-browse session.")
    )
    expect(agent.get_by_role("status")).to_have_text(
        "Session ended: The agent ended the co-browse session."
    )
    ended = customer.evaluate("() => window.Cobrowse.session")
    assert ended is None

    join(agent, first_id)
    expect(agent.get_by_role("status")).to_have_text(
        f"There is no live co-browse session {first_id}."
    )

    customer.get_by_role("button", name="OK").click()
    second = customer.evaluate("() => window.Cobrowse.start()")
    assert second["state"] == "idle"
    assert re.fullmatch(r"[1-9]\d{8}", second["id"])
    assert second["id"] != first_id
    join_and_see(agent, second["id"], "Gear for the long way round")
