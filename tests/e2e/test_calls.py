"""A phone call, co-browsed (S2, P2): the agent registers the incoming call in the
console, the customer reads out the session ID, the agent's join binds the session to
the call, and ending the call in the console ends co-browse for both."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from cobrowse.demo.website import SAMPLE_SITE
from tests.e2e.helpers import join, join_and_see, open_site, sign_in, start_with_widget
from tests.support import Deployment, deploy

pytestmark = pytest.mark.e2e

INTERACTION_ENDED = (
    "The chat or call this co-browse session belonged to ended, so the co-browse session ended too."
)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("calls"), {"shop": SAMPLE_SITE}, require_interaction=True
    )
    yield running
    running.stop()


def test_a_registered_call_is_co_browsed_and_ending_it_ends_co_browse(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    calls = agent.get_by_role("region", name="Your calls")
    expect(calls.get_by_text("No open call.")).to_be_visible()

    # No call yet: the join is refused, in words that say what to do.
    join(agent, session_id)
    expect(agent.get_by_role("status")).to_contain_text("Register the customer's call first")
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()

    calls.get_by_role("textbox", name="Caller reference").fill("CRM-4711")
    calls.get_by_role("button", name="Incoming call").click()
    open_calls = calls.get_by_role("list", name="Open calls")
    expect(open_calls.get_by_role("listitem")).to_have_count(1)
    expect(open_calls.get_by_text("Call with CRM-4711")).to_be_visible()
    expect(calls.get_by_text("No open call.")).to_be_hidden()

    join_and_see(agent, session_id, "Gear for the long way round")
    expect(customer.get_by_text("The agent can see this page.")).to_be_visible()

    open_calls.get_by_role("button", name="End call").click()
    expect(agent.get_by_role("status")).to_have_text(f"Session ended: {INTERACTION_ENDED}")
    expect(customer.get_by_role("alert")).to_have_text(re.compile(re.escape(INTERACTION_ENDED)))
    expect(agent.locator('iframe[title="Customer view"]')).to_have_count(0)
    expect(open_calls.get_by_role("listitem")).to_have_count(0)
