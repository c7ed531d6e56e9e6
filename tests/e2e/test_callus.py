"""The CallUs widget (PRODUCT.md P3): the customer on the phone with an agent presses
"Browse with you", reads out the session ID, the agent types it in the console, and
ending the call ends the co-browse session for both."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import TEST_PAGES
from tests.e2e.helpers import join, join_and_see, open_site, sign_in
from tests.support import Deployment, deploy

pytestmark = pytest.mark.e2e

CALL_ENDED = "The chat or call this co-browse session belonged to ended"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Joining by ID needs the agent's open call, as in production (S2)."""
    running = deploy(
        tmp_path_factory.mktemp("callus"), {"pages": TEST_PAGES}, require_interaction=True
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Iterator[httpx.Client]:
    key = deployment.add_api_key("contact-centre")
    with httpx.Client(
        base_url=f"{deployment.url}/api/v1", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


@pytest.fixture(scope="module", autouse=True)
def phones(deployment: Deployment) -> None:
    deployment.add_phone("pages", "+1 555 0100", "Support")
    deployment.add_phone("pages", "0800 123 456")


def test_callus_shows_the_numbers_and_no_other_widget(
    deployment: Deployment, customer: Page
) -> None:
    open_site(customer, f"{deployment.site_urls['pages']}/callus.html")
    widget = customer.get_by_role("region", name="Call us")
    expect(widget).to_be_visible()
    support = widget.get_by_role("link", name="+1 555 0100")
    expect(support).to_have_attribute("href", "tel:+15550100")
    expect(widget.get_by_text("Support")).to_be_visible()
    expect(widget.get_by_role("link", name="0800 123 456")).to_have_attribute(
        "href", "tel:0800123456"
    )
    expect(widget.get_by_role("button", name="Browse with you")).to_be_visible()
    # data-widgets="callus" alone: the Co-browse launcher is not there.
    expect(customer.get_by_role("button", name="Co-browse")).to_have_count(0)
    # The site's CSS does not reach into the widget.
    assert support.evaluate("(link) => getComputedStyle(link).color") != "rgb(255, 0, 0)"


def test_the_agent_on_the_phone_joins_with_the_id_read_out_and_ending_the_call_ends_it(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str, api: httpx.Client
) -> None:
    created = api.post(
        "/interactions", json={"kind": "voice", "agent": agent_name, "site": "pages"}
    )
    assert created.status_code == 201, created.text
    call = created.json()["id"]

    open_site(customer, f"{deployment.site_urls['pages']}/callus.html")
    customer.get_by_role("button", name="Browse with you").click()
    dialog = customer.get_by_role("dialog", name="Co-browse session ID")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Read this session ID to the agent on the phone")
    shown = dialog.locator("[data-session-id]")
    session_id = shown.get_attribute("data-session-id")
    assert session_id is not None
    assert re.fullmatch(r"[1-9]\d{8}", session_id)
    expect(shown).to_have_text(f"{session_id[:3]} {session_id[3:6]} {session_id[6:]}")
    expect(dialog.get_by_role("button", name="Exit")).to_be_visible()
    expect(customer.get_by_role("region", name="Call us")).to_have_count(0)

    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Our opening hours are 9 to 5.")
    expect(dialog.get_by_role("status")).to_have_text("The agent can see this page.")

    report = api.get(f"/interactions/{call}").json()["cobrowse"]
    assert report["co_browsed"] is True
    assert [session["session_id"] for session in report["sessions"]] == [session_id]

    ended = api.post(f"/interactions/{call}/end")
    assert ended.status_code == 200, ended.text
    expect(customer.get_by_role("alert")).to_contain_text(CALL_ENDED)
    expect(agent.get_by_text(re.compile(f"Session ended: {CALL_ENDED}"))).to_be_visible()
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()


def test_exit_in_the_dialog_ends_the_session_for_both(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str, api: httpx.Client
) -> None:
    created = api.post("/interactions", json={"kind": "voice", "agent": agent_name})
    assert created.status_code == 201, created.text
    open_site(customer, f"{deployment.site_urls['pages']}/callus.html")
    customer.get_by_role("button", name="Browse with you").click()
    dialog = customer.get_by_role("dialog", name="Co-browse session ID")
    session_id = dialog.locator("[data-session-id]").get_attribute("data-session-id")
    assert session_id is not None
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Our opening hours are 9 to 5.")
    dialog.get_by_role("button", name="Exit").click()
    expect(customer.get_by_role("alert")).to_contain_text(
        "The customer ended the co-browse session"
    )
    expect(agent.get_by_text(re.compile("Session ended"))).to_be_visible()
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()
    # Back to the widget, ready for the next call.
    customer.get_by_role("alert").get_by_role("button", name="OK").click()
    expect(customer.get_by_role("button", name="Browse with you")).to_be_visible()


def test_an_agent_with_no_open_call_cannot_join_by_the_id(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, f"{deployment.site_urls['pages']}/callus.html")
    customer.get_by_role("button", name="Browse with you").click()
    dialog = customer.get_by_role("dialog", name="Co-browse session ID")
    session_id = dialog.locator("[data-session-id]").get_attribute("data-session-id")
    assert session_id is not None
    sign_in(agent, deployment, agent_name)
    join(agent, session_id)
    expect(agent.get_by_role("status")).to_contain_text("You have no open call to bind")
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()
    expect(dialog.get_by_role("status")).to_have_text("Read this ID to your agent.")
