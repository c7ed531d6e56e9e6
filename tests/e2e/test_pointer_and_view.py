"""What each person sees while co-browsing in pointer mode (M1, S10, issue 2 items 5-7)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import join, join_and_see, open_site, sign_in, start_with_widget
from tests.support import Deployment

pytestmark = pytest.mark.e2e

VIEW = 'iframe[title="Customer view"]'


def _scale(agent: Page, customer_width: int) -> tuple[float, float, float]:
    box = agent.locator(VIEW).bounding_box()
    assert box is not None
    return box["x"], box["y"], box["width"] / customer_width


def _translate(style: str | None) -> tuple[float, float]:
    match = re.search(r"translate\(([-\d.]+)px, ([-\d.]+)px\)", style or "")
    assert match, style
    return float(match.group(1)), float(match.group(2))


def _near(value: float) -> str:
    """The whole pixels a scaled coordinate may be shown at, as a regex alternation
    (a view scaled to 0.996 shows 300 px at 298.8)."""
    return "|".join(str(whole) for whole in range(int(value) - 1, int(value) + 2))


def test_pointers_show_both_ways_and_agent_clicks_only_ripple(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Gear for the long way round")
    left, top, scale = _scale(agent, customer.viewport_size["width"])  # type: ignore[index]
    assert 0.3 < scale <= 1

    # The customer's pointer appears in the agent's view, where the customer points.
    customer.mouse.move(300, 200)
    customer_pointer = agent.get_by_test_id("customer-pointer")
    expect(customer_pointer).to_be_visible()
    near_x, near_y = _near(300 * scale), _near(200 * scale)
    expect(customer_pointer).to_have_attribute(
        "style", re.compile(rf"translate\(({near_x})(\.\d+)?px, ({near_y})(\.\d+)?px")
    )

    # The agent's pointer appears on the customer's page, in page coordinates.
    agent.mouse.move(left + 420 * scale, top + 260 * scale)
    agent_pointer = customer.locator("cobrowse-ui .pointer")
    expect(agent_pointer).to_be_visible()
    expect(agent_pointer).to_have_attribute("style", re.compile(r"translate\(4[12]\d"))
    x, y = _translate(agent_pointer.get_attribute("style"))
    assert abs(x - 420) < 3
    assert abs(y - 260) < 3

    # An agent click on "Add to cart" shows a ripple there and does nothing else.
    button = customer.get_by_role("button", name="Add to cart").first.bounding_box()
    assert button is not None
    cx, cy = button["x"] + button["width"] / 2, button["y"] + button["height"] / 2
    agent.mouse.click(left + cx * scale, top + cy * scale)
    ripple = customer.locator("cobrowse-ui .ripple")
    expect(ripple).to_have_count(1)
    ripple_x = float((ripple.get_attribute("style") or "").split("left: ")[1].split("px")[0])
    assert abs(ripple_x - cx) < 3
    expect(customer.locator("#cart-count")).to_have_text("0")
    expect(ripple).to_have_count(0)  # brief: it goes away on its own
    expect(customer.locator("#cart-count")).to_have_text("0")


def test_view_follows_viewport_size_and_scroll(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    customer.set_viewport_size({"width": 800, "height": 420})
    open_site(customer, f"{deployment.site_urls['shop']}/checkout.html")
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Create your account and check out")
    frame = agent.locator(VIEW)
    expect(frame).to_have_attribute("width", "800")
    expect(frame).to_have_attribute("height", "420")

    customer.evaluate("() => window.scrollTo(0, 250)")
    agent.wait_for_function(f"() => document.querySelector('{VIEW}').contentWindow.scrollY === 250")

    customer.set_viewport_size({"width": 640, "height": 480})
    expect(frame).to_have_attribute("width", "640")
    expect(frame).to_have_attribute("height", "480")


def test_agent_already_in_a_session_cannot_join_another(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str, other_customer: Page
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    first_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    view = join_and_see(agent, first_id, "Gear for the long way round")

    open_site(other_customer, f"{deployment.site_urls['shop']}/checkout.html")
    second = other_customer.evaluate("() => window.Cobrowse.start()")
    join(agent, second["id"])
    expect(agent.get_by_role("status")).to_have_text(
        f"You are already in co-browse session {first_id}. Exit it before joining another."
    )
    expect(agent.get_by_text(first_id, exact=True)).to_be_visible()
    expect(view.get_by_text("Gear for the long way round")).to_be_visible()
    assert other_customer.evaluate("() => window.Cobrowse.session.state") == "idle"


def test_late_join_and_console_reload_show_the_current_page(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, deployment.site_urls["shop"])
    session_id = start_with_widget(customer)
    for _ in range(2):
        customer.get_by_role("button", name="Add to cart").nth(1).click()
    expect(customer.locator("#cart-count")).to_have_text("2")

    sign_in(agent, deployment, agent_name)
    view = join_and_see(agent, session_id, "Gear for the long way round")
    expect(view.locator("#cart-count")).to_have_text("2")

    agent.reload()
    expect(agent.get_by_role("status")).to_have_text(re.compile("Viewing the customer's page"))
    expect(agent.get_by_text(session_id, exact=True)).to_be_visible()
    expect(view.locator("#cart-count")).to_have_text("2")
    customer.get_by_role("button", name="Add to cart").first.click()
    expect(view.locator("#cart-count")).to_have_text("3")


def test_sign_out_returns_to_the_sign_in_form(
    deployment: Deployment, agent: Page, agent_name: str
) -> None:
    sign_in(agent, deployment, agent_name)
    agent.get_by_role("button", name="Sign out").click()
    expect(agent.get_by_role("button", name="Sign in")).to_be_visible()
    agent.goto(f"{deployment.url}/agent")
    expect(agent.get_by_role("textbox", name="Username")).to_be_visible()
