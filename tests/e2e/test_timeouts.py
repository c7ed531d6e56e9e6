"""Every timeout, as the two people see it, with short configured values (E2, E3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import TEST_PAGES
from tests.e2e.helpers import join_and_see, open_site, sign_in, start_with_widget
from tests.support import Deployment, deploy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("timeouts"),
        {"pages": TEST_PAGES},
        join_timeout_seconds=2.0,
        inactivity_timeout_seconds=4.0,
        agent_grace_seconds=2.0,
        customer_grace_seconds=2.0,
    )
    yield running
    running.stop()


def share_page(deployment: Deployment, customer: Page, agent: Page, agent_name: str) -> str:
    open_site(customer, f"{deployment.site_urls['pages']}/privacy.html")
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Account settings")
    return session_id


def test_nobody_joins_in_time(deployment: Deployment, customer: Page) -> None:
    open_site(customer, f"{deployment.site_urls['pages']}/privacy.html")
    start_with_widget(customer)
    expect(customer.get_by_role("alert")).to_have_text(
        "No agent joined in time, so the co-browse session ended.OK"
    )
    assert customer.evaluate("() => window.Cobrowse.session") is None


def test_nobody_active_for_a_while(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    share_page(deployment, customer, agent, agent_name)
    expect(agent.get_by_role("status")).to_have_text(
        "Session ended: Nobody was active for a while, so the co-browse session ended.",
        timeout=10_000,
    )
    expect(customer.get_by_role("alert")).to_contain_text("Nobody was active for a while")


def test_agent_closes_the_console_and_does_not_come_back(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    share_page(deployment, customer, agent, agent_name)
    agent.goto("about:blank")  # navigates away from the console
    expect(customer.get_by_role("alert")).to_have_text(
        "The agent closed the console and did not come back, so the co-browse session ended.OK"
    )


def test_customer_closes_the_page_and_does_not_come_back(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    share_page(deployment, customer, agent, agent_name)
    customer.close()
    expect(agent.get_by_role("status")).to_have_text(
        "The customer's page is loading or reconnecting…"
    )
    expect(agent.get_by_role("status")).to_have_text(
        "Session ended: The customer left the website or closed the page, "
        "so the co-browse session ended."
    )
