"""The admin console in Chromium: an administrator watches a session appear and be
joined, ends it, and finds it in the history (issue: admin console at /admin)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import page_of
from tests.e2e.helpers import (
    artifacts,
    join_and_see,
    open_site,
    sign_in,
    sign_in_admin,
    start_with_widget,
    submit_sign_in,
)
from tests.support import Deployment

pytestmark = pytest.mark.e2e

ADMIN_TEXT = "An administrator ended the co-browse session."


@pytest.fixture
def admin(browser: Browser) -> Iterator[Page]:
    yield from page_of(browser, 1400, 900)


def live_row(admin: Page, session_id: str) -> Locator:
    table = admin.get_by_role("table", name="Live sessions")
    return table.get_by_role("row").filter(has_text=session_id)


def test_admin_watches_a_session_live_ends_it_and_finds_it_in_the_history(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str, admin: Page
) -> None:
    admin_name = deployment.add_admin("e2e-admin")
    sign_in_admin(admin, deployment, admin_name)
    # Set once: it survives only if the console updates without reloading the page.
    admin.evaluate("() => { window.sameConsolePage = true; }")

    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    row = live_row(admin, session_id)
    expect(row).to_be_visible()
    expect(row.get_by_role("cell").nth(1)).to_have_text("idle")
    expect(row.get_by_role("cell").nth(2)).to_have_text("pointer")
    expect(row.get_by_role("cell").nth(3)).to_have_text("—")
    expect(row.get_by_role("cell").nth(4)).to_have_text("shop")
    duration = row.get_by_role("cell").nth(6)
    expect(duration).to_have_text(re.compile(r"^\d+:\d\d$"))
    counted = duration.inner_text()
    expect(duration).not_to_have_text(counted)  # it counts up

    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Gear for the long way round")
    expect(row.get_by_role("cell").nth(1)).to_have_text("active")
    expect(row.get_by_role("cell").nth(3)).to_have_text(agent_name)
    admin.screenshot(path=artifacts() / "admin-console-live.png", full_page=True)

    row.get_by_role("button", name="End session").click()
    dialog = admin.get_by_role("dialog")
    expect(dialog).to_contain_text(f"End co-browse session {session_id}?")
    expect(dialog).to_contain_text(ADMIN_TEXT)
    dialog.get_by_role("button", name="End session").click()

    expect(customer.get_by_role("alert")).to_contain_text(ADMIN_TEXT)
    expect(agent.get_by_role("status")).to_have_text(f"Session ended: {ADMIN_TEXT}")
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()
    expect(row).to_have_count(0)
    expect(admin.get_by_role("status")).to_have_text(
        f"Session {session_id} ended; the customer and the agent were told."
    )

    admin.get_by_label("End reason").select_option("admin_ended")
    admin.get_by_role("button", name="Search").click()
    history = admin.get_by_role("table", name="History")
    found = history.get_by_role("row").filter(has_text=session_id)
    expect(found).to_have_count(1)
    expect(found.get_by_role("cell").nth(1)).to_have_text("shop")
    expect(found.get_by_role("cell").nth(2)).to_have_text(agent_name)
    expect(found.get_by_role("cell").nth(7)).to_have_text("admin_ended")
    for other in history.get_by_role("row").all()[1:]:  # below the header row
        expect(other.get_by_role("cell").nth(7)).to_have_text("admin_ended")
    assert admin.evaluate("() => window.sameConsolePage") is True
    admin.screenshot(path=artifacts() / "admin-console-history.png", full_page=True)


def test_an_agent_is_refused_at_the_admin_console(
    deployment: Deployment, admin: Page, agent_name: str
) -> None:
    submit_sign_in(admin, f"{deployment.url}/admin", agent_name)
    expect(admin.get_by_role("alert")).to_have_text(
        "Only administrators can use the admin console."
    )
    expect(admin.get_by_role("heading", name="Live sessions")).to_have_count(0)


def test_the_live_table_comes_back_after_the_connection_drops(
    deployment: Deployment, customer: Page, admin: Page
) -> None:
    sign_in_admin(admin, deployment, deployment.add_admin("e2e-offline-admin"))
    admin.context.set_offline(True)
    expect(admin.get_by_role("status")).to_have_text("Connection to the server lost; retrying…")

    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)  # while the console cannot see it
    admin.context.set_offline(False)
    expect(admin.get_by_role("status")).to_have_text("Connected to the server again.")
    expect(live_row(admin, session_id)).to_be_visible()
