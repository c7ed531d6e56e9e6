"""The session goes on across the customer's page loads (S9) and agent navigation (M2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import join_and_see, mirror, open_site, sign_in, start_with_widget
from tests.e2e.test_write_mode import Agent, grant_write_mode
from tests.support import Deployment

pytestmark = pytest.mark.e2e


def test_session_goes_on_when_the_customer_opens_another_page(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Gear for the long way round")

    customer.get_by_role("link", name="Checkout").first.click()
    customer.wait_for_url(re.compile(r"/checkout\.html$"))
    expect(mirror(agent).get_by_text("Create your account and check out")).to_be_visible()
    expect(customer.locator("[data-session-id]")).to_have_attribute("data-session-id", session_id)
    expect(customer.get_by_text("The agent can see this page.")).to_be_visible()
    expect(agent.locator("#session-label")).to_have_text(session_id)

    customer.reload()
    expect(mirror(agent).get_by_text("Create your account and check out")).to_be_visible()
    customer.locator("#full-name").fill("Grace Hopper")
    expect(mirror(agent).locator("#full-name")).to_have_value("Grace Hopper")
    assert customer.evaluate("() => window.Cobrowse.session.id") == session_id


def test_agent_navigates_for_the_customer_in_write_mode(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    shop = deployment.site_urls["shop"]
    open_site(customer, shop)
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Gear for the long way round")
    hands = Agent(agent, customer)
    grant_write_mode(hands)

    # Following a link.
    hands.click(customer.get_by_role("link", name="Checkout").first)
    customer.wait_for_url(re.compile(r"/checkout\.html$"))
    expect(mirror(agent).get_by_text("Create your account and check out")).to_be_visible()
    expect(agent.locator("#session-mode")).to_have_text("Write mode")
    expect(agent.get_by_role("textbox", name="Address")).to_have_value(f"{shop}/checkout.html")

    # Back, forward, reload.
    agent.get_by_role("button", name="Back").click()
    customer.wait_for_url(f"{shop}/")
    expect(mirror(agent).get_by_text("Gear for the long way round")).to_be_visible()
    agent.get_by_role("button", name="Forward").click()
    customer.wait_for_url(re.compile(r"/checkout\.html$"))
    customer.locator("#full-name").fill("typed before reload")
    agent.get_by_role("button", name="Reload").click()
    expect(mirror(agent).locator("#full-name")).to_have_value("")

    # A page of the same site typed in the address bar; another site is refused.
    address = agent.get_by_role("textbox", name="Address")
    address.fill(f"{shop}/")
    agent.get_by_role("button", name="Go").click()
    customer.wait_for_url(f"{shop}/")
    expect(mirror(agent).get_by_text("Gear for the long way round")).to_be_visible()
    address.fill("https://example.com/phishing")
    agent.get_by_role("button", name="Go").click()
    expect(agent.get_by_role("status")).to_have_text(
        "Only pages of the customer's website can be opened."
    )
    assert customer.url == f"{shop}/"
    assert customer.evaluate("() => window.Cobrowse.session.id") == session_id


def test_another_tab_is_told_the_session_lives_elsewhere(
    deployment: Deployment, customer: Page
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    second_tab = customer.context.new_page()
    open_site(second_tab, f"{deployment.site_urls['shop']}/checkout.html")
    spaced = " ".join(session_id[i : i + 3] for i in range(0, 9, 3))
    expect(second_tab.locator("cobrowse-ui").get_by_role("status")).to_have_text(
        f"Co-browse session {spaced} is live in another tab of this site; "
        "the agent sees that tab, not this one."
    )
    assert second_tab.evaluate("() => window.Cobrowse.session") is None

    customer.get_by_role("button", name="Exit co-browse session").click()
    expect(second_tab.get_by_role("button", name="Co-browse")).to_be_visible()
