"""The ChannelSelector widget (P3): "Contact us" offers chat and call, and co-browse
only while an interaction is open (a chat an agent accepted, S2); co-browse started
there is the chat's, and its agent joins from the chat with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import mirror, open_site, sign_in
from tests.support import Deployment

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def phones(deployment: Deployment) -> None:
    deployment.add_phone("pages", "+1 555 0199", "Help desk")


def contact_us(customer: Page) -> Locator:
    return customer.get_by_role("region", name="Contact us")


def test_the_customer_chooses_call_then_chat_and_co_browse_comes_with_the_chat(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> None:
    open_site(customer, f"{deployment.site_urls['pages']}/contact.html")
    selector = contact_us(customer)
    # One launcher: the chat's own "Chat with us" and the plain Co-browse are not shown.
    expect(customer.get_by_role("button", name="Chat with us")).to_have_count(0)
    selector.get_by_role("button", name="Contact us").click()
    expect(selector.get_by_text("How would you like to reach us?")).to_be_visible()
    expect(selector.get_by_role("button", name="Chat")).to_be_visible()
    # No interaction is open yet: co-browse is not a choice.
    expect(selector.get_by_role("button", name="Co-browse")).to_have_count(0)

    selector.get_by_role("button", name="Call").click()
    call_us = customer.get_by_role("region", name="Call us")
    expect(call_us.get_by_role("link", name="+1 555 0199")).to_have_attribute(
        "href", "tel:+15550199"
    )
    expect(call_us.get_by_role("button", name="Browse with you")).to_be_visible()
    selector.get_by_role("button", name="← Other ways to reach us").click()

    selector.get_by_role("button", name="Chat").click()
    panel = customer.get_by_role("region", name="Chat")
    panel.get_by_role("textbox", name="Your name (optional)").fill("Grace")
    panel.get_by_role("textbox", name="Message").fill("How do I return a jacket?")
    panel.get_by_role("button", name="Send").click()
    selector.get_by_role("button", name="Contact us").click()
    expect(selector.get_by_role("button", name="Chat")).to_be_visible()
    expect(selector.get_by_role("button", name="Co-browse")).to_have_count(0)  # queued

    sign_in(agent, deployment, agent_name)
    chats = agent.get_by_role("region", name="Chats")
    chats.get_by_role("listitem").filter(has_text="Grace").get_by_role(
        "button", name="Accept"
    ).click()
    expect(panel.get_by_text(f"You are chatting with {agent_name}.")).to_be_visible()

    # The chat is open with an agent: now co-browse is offered.
    selector.get_by_role("button", name="Co-browse").click()
    expect(customer.locator("[data-session-id]")).to_be_visible()
    # The agent joins from the chat: nothing to read out on the phone.
    expect(customer.get_by_text("Read this session ID to the agent on the phone:")).to_have_count(0)
    conversation = chats.get_by_role("article", name="Chat with Grace")
    request = conversation.get_by_role("listitem").filter(has_text="asked to co-browse")
    request.get_by_role("button", name="Join co-browse").click()
    expect(mirror(agent).get_by_text("Returns are free within")).to_be_visible()
    expect(customer.get_by_text("The agent can see this page.")).to_be_visible()
