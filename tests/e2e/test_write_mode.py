"""Write mode as the two people use it (PRODUCT.md M2, M3, R4; issue 3)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import join_and_see, open_site, sign_in
from tests.support import Deployment

pytestmark = pytest.mark.e2e

VIEW = 'iframe[title="Customer view"]'


class Agent:
    """The agent's hands on the console, aimed at what the customer's page shows."""

    def __init__(self, page: Page, customer: Page) -> None:
        self.page = page
        self.customer = customer

    def _point(self, target: Locator) -> tuple[float, float]:
        frame = self.page.locator(VIEW).bounding_box()
        box = target.bounding_box()
        assert frame is not None
        assert box is not None
        scale = frame["width"] / self.customer.viewport_size["width"]  # type: ignore[index]
        x = box["x"] + box["width"] / 2
        y = box["y"] + box["height"] / 2
        return frame["x"] + x * scale, frame["y"] + y * scale

    def click(self, target: Locator) -> None:
        x, y = self._point(target)
        self.page.mouse.click(x, y)

    def wheel(self, target: Locator, dy: float) -> None:
        x, y = self._point(target)
        self.page.mouse.move(x, y)
        self.page.mouse.wheel(0, dy)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=15)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def status(self) -> Locator:
        return self.page.get_by_role("status")


def start_shared_page(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str, page: str
) -> Agent:
    open_site(customer, f"{deployment.site_urls['pages']}/{page}")
    session = customer.evaluate("() => window.Cobrowse.start()")
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session["id"], "Preferences")
    return Agent(agent, customer)


def grant_write_mode(hands: Agent) -> None:
    hands.page.get_by_role("button", name="Request write mode").click()
    prompt = hands.customer.get_by_role("dialog", name="The agent asks to control this page")
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name="Allow").click()
    expect(hands.page.locator("#session-mode")).to_have_text("Write mode")
    expect(hands.customer.get_by_text("The agent can control this page.")).to_be_visible()


def test_agent_in_pointer_mode_cannot_type_or_click(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = start_shared_page(deployment, customer, agent, agent_name, "write.html")
    expect(agent.locator("#session-mode")).to_have_text("Pointer mode")
    hands.click(customer.locator("#city"))
    hands.type("nope")
    hands.click(customer.get_by_role("button", name="Help me"))
    hands.click(customer.locator("#news"))
    expect(customer.locator("cobrowse-ui .ripple")).not_to_have_count(0)
    expect(customer.locator("#city")).to_have_value("")
    expect(customer.locator("#helped")).to_have_text("")
    expect(customer.locator("#news")).not_to_be_checked()


def test_declined_request_leaves_pointer_mode(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = start_shared_page(deployment, customer, agent, agent_name, "write.html")
    agent.get_by_role("button", name="Request write mode").click()
    expect(agent.locator("#session-mode")).to_have_text("Waiting for the customer…")
    customer.get_by_role("dialog").get_by_role("button", name="Decline").click()
    expect(hands.status()).to_have_text("The customer declined write mode.")
    expect(agent.locator("#session-mode")).to_have_text("Pointer mode")
    expect(customer.get_by_role("dialog")).to_have_count(0)
    hands.click(customer.locator("#city"))
    hands.type("still no")
    expect(customer.locator("#city")).to_have_value("")


def test_agent_fills_a_form_in_write_mode_but_only_the_customer_submits(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = start_shared_page(deployment, customer, agent, agent_name, "write.html")
    grant_write_mode(hands)
    city = customer.locator("#city")
    view = agent.frame_locator(VIEW)

    # Typing, with editing keys.
    hands.click(city)
    hands.type("Lyon")
    expect(city).to_have_value("Lyon")
    hands.press("Backspace")
    hands.press("ArrowLeft")
    hands.press("ArrowLeft")
    hands.press("Delete")
    expect(city).to_have_value("Lo")
    hands.type("y")
    expect(city).to_have_value("Lyo")
    hands.press("End")
    hands.type("n")
    expect(city).to_have_value("Lyon")
    hands.press("Shift+ArrowLeft")
    hands.press("Shift+ArrowLeft")
    hands.type("ra")
    expect(city).to_have_value("Lyra")
    expect(view.locator("#city")).to_have_value("Lyra")

    # Tab moves on; leaving the field fires its change event, as in a browser.
    hands.press("Tab")
    expect(customer.locator("#zip")).to_be_focused()
    expect(customer.locator("#changes")).to_have_text("city changed to Lyra")
    hands.type("69001")
    expect(customer.locator("#zip")).to_have_value("69001")

    # Enter in a field would submit the form: refused.
    hands.press("Enter")
    expect(hands.status()).to_have_text("Only the customer can submit this form.")

    # The password field is hidden from the agent: nothing is typed.
    hands.click(customer.locator("#secret"))
    hands.type("1234")
    expect(hands.status()).to_have_text("This field is hidden from you, so you cannot type in it.")
    expect(customer.locator("#secret")).to_have_value("")

    # Textarea with a line break, a select through the console's picker.
    hands.click(customer.locator("#notes"))
    hands.type("Line one")
    hands.press("Enter")
    hands.type("Line two")
    expect(customer.locator("#notes")).to_have_value("Line one\nLine two")
    hands.click(customer.locator("#plan"))
    agent.get_by_role("option", name="Pro").click()
    expect(customer.locator("#plan")).to_have_value("pro")

    # Checkbox, radio through its label, a plain button.
    hands.click(customer.locator("#news"))
    expect(customer.locator("#news")).to_be_checked()
    hands.click(customer.get_by_text("By phone"))
    expect(customer.locator("#phone")).to_be_checked()
    hands.click(customer.get_by_role("button", name="Help me"))
    expect(customer.locator("#helped")).to_have_text("Helped!")

    # Contenteditable.
    hands.click(customer.locator("#editor"))
    hands.type("Hi there")
    expect(customer.locator("#editor")).to_have_text("Hi there")

    # No submitting: not with the submit button, not through a handler that submits.
    hands.click(customer.get_by_role("button", name="Save"))
    expect(hands.status()).to_have_text("Only the customer can submit this form.")
    hands.click(customer.get_by_text("Sneaky submit"))
    expect(customer.locator("#result")).to_have_text("")

    # Scrolling an inner panel, then the page.
    hands.wheel(customer.locator("#panel"), 80)
    customer.wait_for_function("() => document.getElementById('panel').scrollTop >= 80")
    hands.wheel(customer.locator("h1"), 300)
    customer.wait_for_function("() => window.scrollY >= 300")
    customer.evaluate("() => window.scrollTo(0, 0)")

    # The customer's own input always works (M3), and the customer can submit.
    customer.locator("#zip").fill("75001")
    customer.get_by_role("button", name="Save").click()
    expect(customer.locator("#result")).to_have_text("Saved Lyra")

    # One click takes control back.
    customer.get_by_role("button", name="Stop agent control").click()
    expect(agent.locator("#session-mode")).to_have_text("Pointer mode")
    expect(hands.status()).to_have_text("The customer returned the session to pointer mode.")
    hands.click(city)
    hands.type("!!")
    expect(city).to_have_value("Lyra")


def test_agent_returns_to_pointer_mode_with_one_click(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = start_shared_page(deployment, customer, agent, agent_name, "write.html")
    modes = customer.evaluate_handle(
        "() => { const seen = []; window.Cobrowse.on('modeChanged', (m) => seen.push(m)); "
        "return seen; }"
    )
    grant_write_mode(hands)
    agent.get_by_role("button", name="Return to pointer mode").click()
    expect(agent.locator("#session-mode")).to_have_text("Pointer mode")
    expect(customer.get_by_text("The agent can see this page.")).to_be_visible()
    assert modes.json_value() == [
        {"mode": "write", "by": "customer"},
        {"mode": "pointer", "by": "agent"},
    ]


def test_crafted_agent_client_cannot_act_in_pointer_mode(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = start_shared_page(deployment, customer, agent, agent_name, "write.html")
    city_id = agent.evaluate(
        """() => {
            const frame = document.querySelector('iframe[title="Customer view"]');
            const field = frame.contentDocument.getElementById('city');
            return [...frame.contentDocument.querySelectorAll('*')].indexOf(field) >= 0;
        }"""
    )
    assert city_id
    # A hand-made client on the agent's own signed-in origin, speaking the protocol
    # directly: it replaces the console and sends actions without write mode.
    answers = agent.evaluate(
        """() => new Promise((resolve) => {
            const socket = new WebSocket(location.origin.replace('http', 'ws') + '/ws/agent');
            const seen = [];
            socket.onmessage = (message) => {
                const frame = JSON.parse(message.data);
                if (frame.t === 'stream' || frame.t === 'pointer') return;
                seen.push(frame.t === 'error' ? frame.code : frame.t);
                if (frame.t === 'hello') {
                    for (let id = 1; id < 60; id++) {
                        socket.send(JSON.stringify({v: 1, t: 'act', a: 'click', id}));
                    }
                    socket.send(JSON.stringify({v: 1, t: 'act', a: 'key', key: 'x'}));
                }
                if (seen.length >= 61) resolve(seen);
            };
        })"""
    )
    assert answers[0] == "hello"
    assert set(answers[1:]) == {"pointer_mode"}
    expect(customer.locator("#city")).to_have_value("")
    expect(customer.locator("#helped")).to_have_text("")
    expect(customer.locator("#news")).not_to_be_checked()
    assert hands.customer.evaluate("() => window.Cobrowse.session.mode") == "pointer"


def test_site_ui_answers_the_request_through_the_api(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, f"{deployment.site_urls['pages']}/api.html")
    customer.evaluate(
        """() => window.Cobrowse.on('writeModeRequested', (request) => {
            window.asked = true;
            request.accept();
        })"""
    )
    session = customer.evaluate("() => window.Cobrowse.start()")
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session["id"], "Help centre")
    agent.get_by_role("button", name="Request write mode").click()
    expect(agent.locator("#session-mode")).to_have_text("Write mode")
    assert customer.evaluate("() => window.asked") is True
    expect(customer.get_by_role("dialog")).to_have_count(0)  # data-ui="none": no prompt
    assert customer.evaluate("() => window.Cobrowse.session.mode") == "write"
    customer.evaluate("() => window.Cobrowse.pointerMode()")
    expect(agent.locator("#session-mode")).to_have_text("Pointer mode")
    expect(agent.get_by_role("status")).to_have_text(
        re.compile("The customer returned the session to pointer mode.")
    )


def test_agent_typing_reaches_a_react_controlled_form(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    hands = start_shared_page(deployment, customer, agent, agent_name, "react.html")
    grant_write_mode(hands)
    hands.click(customer.get_by_label("Display name"))
    hands.type("ada")
    hands.press("Backspace")
    # React upper-cases through its own state: the text is React's, not ours.
    expect(customer.locator("#react-state")).to_have_text("React state: AD / fr")
    expect(customer.get_by_label("Display name")).to_have_value("AD")
    hands.click(customer.get_by_label("Country"))
    agent.get_by_role("option", name="Germany").click()
    expect(customer.locator("#react-state")).to_have_text("React state: AD / de")
    expect(agent.frame_locator(VIEW).locator("#react-state")).to_have_text("React state: AD / de")
