"""The built-in WebChat end to end in Chromium (issue 4): the customer chats, the agent
accepts in the console, messages flow both ways, the customer presses Co-browse and the
agent joins from inside the chat with one click; ending the chat, by either side, ends
the co-browse session with the interaction-ended reason, and both sides are told."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import artifacts, mirror, open_site, sign_in
from tests.support import Deployment

pytestmark = pytest.mark.e2e

INTERACTION_ENDED = (
    "The chat or call this co-browse session belonged to ended, so the co-browse session ended too."
)


def chat_panel(customer: Page) -> Locator:
    return customer.get_by_role("region", name="Chat")


def chats(agent: Page) -> Locator:
    return agent.get_by_role("region", name="Chats")


def chat_and_cobrowse(deployment: Deployment, customer: Page, agent: Page, agent_name: str) -> None:
    """From a first message to the agent watching the customer's page."""
    open_site(customer, f"{deployment.site_urls['pages']}/webchat.html")
    customer.get_by_role("button", name="Chat with us").click()
    panel = chat_panel(customer)
    panel.get_by_role("textbox", name="Your name (optional)").fill("Ada")
    panel.get_by_role("textbox", name="Message").fill("Where is my order?")
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_text("Waiting for an agent to accept your chat…")).to_be_visible()
    expect(panel.get_by_role("button", name="Co-browse")).to_be_disabled()

    sign_in(agent, deployment, agent_name)
    waiting = chats(agent).get_by_role("listitem").filter(has_text="Ada")
    expect(waiting).to_contain_text("Ada on pages")
    waiting.get_by_role("button", name="Accept").click()
    conversation = chats(agent).get_by_role("article", name="Chat with Ada")
    expect(conversation.get_by_text("Where is my order?")).to_be_visible()
    expect(chats(agent).get_by_text("No chats waiting.")).to_be_visible()

    expect(panel.get_by_text(f"You are chatting with {agent_name}.")).to_be_visible()
    conversation.get_by_role("textbox", name="Reply").fill("It ships on Friday.")
    conversation.get_by_role("button", name="Send").click()
    expect(panel.get_by_text("It ships on Friday.")).to_be_visible()
    panel.get_by_role("textbox", name="Message").fill("Can you show me the delivery options?")
    panel.get_by_role("textbox", name="Message").press("Enter")
    expect(conversation.get_by_text("Can you show me the delivery options?")).to_be_visible()

    panel.get_by_role("button", name="Co-browse").click()
    expect(customer.locator("[data-session-id]")).to_be_visible()
    session_id = customer.locator("[data-session-id]").get_attribute("data-session-id")
    assert session_id is not None
    request = conversation.get_by_role("listitem").filter(has_text="asked to co-browse")
    expect(request).to_contain_text(re.sub(r"(\d{3})(?=\d)", r"\1 ", session_id))
    request.get_by_role("button", name="Join co-browse").click()
    expect(agent.get_by_role("button", name="Exit session")).to_be_visible()
    expect(mirror(agent).get_by_text("Your order #4417 ships on Friday.")).to_be_visible()
    expect(customer.get_by_text("The agent can see this page.")).to_be_visible()
    # The chat widget is cobrowse's own UI: never recorded, so never in the agent's view.
    expect(mirror(agent).get_by_text("It ships on Friday.")).to_have_count(0)
    expect(mirror(agent).get_by_role("button", name="End chat")).to_have_count(0)

    # The chat and the session follow the tab through a full page load.
    customer.get_by_role("link", name="Delivery options").click()
    expect(customer).to_have_title("Delivery options")
    expect(chat_panel(customer).get_by_text("It ships on Friday.")).to_be_visible()
    expect(mirror(agent).get_by_text("Standard delivery takes three to five days.")).to_be_visible()
    expect(chat_panel(customer).get_by_role("button", name="Co-browse")).to_be_disabled()


def test_customer_ends_chat_and_its_cobrowse_session(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    chat_and_cobrowse(deployment, customer, agent, agent_name)
    customer.screenshot(path=artifacts() / "webchat-customer.png")
    agent.screenshot(path=artifacts() / "webchat-agent.png")

    chat_panel(customer).get_by_role("button", name="End chat").click()
    expect(chat_panel(customer).get_by_text("You ended the chat.")).to_be_visible()
    expect(customer.get_by_text(INTERACTION_ENDED)).to_be_visible()
    expect(agent.get_by_role("status")).to_have_text(f"Session ended: {INTERACTION_ENDED}")
    expect(agent.get_by_role("button", name="Exit session")).to_be_hidden()
    conversation = chats(agent).get_by_role("article", name="Chat with Ada")
    expect(conversation.get_by_text("The customer ended the chat.")).to_be_visible()
    expect(conversation.get_by_role("textbox", name="Reply")).to_be_hidden()
    assert customer.evaluate("() => window.Cobrowse.session") is None


def test_agent_ends_chat_and_its_cobrowse_session(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    chat_and_cobrowse(deployment, customer, agent, agent_name)

    conversation = chats(agent).get_by_role("article", name="Chat with Ada")
    conversation.get_by_role("button", name="End chat").click()
    expect(conversation.get_by_text("You ended the chat.")).to_be_visible()
    expect(agent.get_by_role("status")).to_have_text(f"Session ended: {INTERACTION_ENDED}")
    expect(chat_panel(customer).get_by_text("The agent ended the chat.")).to_be_visible()
    expect(customer.get_by_text(INTERACTION_ENDED)).to_be_visible()
    expect(chat_panel(customer).get_by_role("textbox", name="Message")).to_be_hidden()
    expect(chat_panel(customer).get_by_role("button", name="New chat")).to_be_visible()
