"""`cobrowse demo`, as a newcomer runs it: the process prints where everything is and
the agent's password; the sample website reaches support through "Contact us", and
both the call flow and the chat flow co-browse end to end (issue 4's demo)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import join, mirror, submit_sign_in
from tests.support import free_port

pytestmark = pytest.mark.e2e

INTERACTION_ENDED = (
    "The chat or call this co-browse session belonged to ended, so the co-browse session ended too."
)
BANNER_SECONDS = 60


@dataclass(frozen=True)
class Demo:
    console: str
    website: str
    agent_password: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir: Path = tmp_path_factory.mktemp("demo")
    port, site_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cobrowse",
            "demo",
            "--port",
            str(port),
            "--site-port",
            str(site_port),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    printed: list[str] = []
    try:
        while not any("Press Ctrl+C" in line for line in printed):
            try:
                printed.append(lines.get(timeout=BANNER_SECONDS))
            except queue.Empty:
                pytest.fail("cobrowse demo printed no banner:\n" + "".join(printed))
        banner = "".join(printed)
        password = re.search(r"Agent sign-in:\s+username agent\s+password (\S+)", banner)
        assert password is not None, banner
        yield Demo(f"http://localhost:{port}/agent", f"http://localhost:{site_port}/", password[1])
    finally:
        process.terminate()
        process.wait(timeout=20)


def sign_in_to_demo(agent: Page, demo: Demo) -> None:
    submit_sign_in(agent, demo.console, "agent", demo.agent_password)
    expect(agent.get_by_role("status")).to_have_text(re.compile("Ready|Back in"))


def test_the_demo_call_flow(demo: Demo, customer: Page, agent: Page) -> None:
    sign_in_to_demo(agent, demo)
    calls = agent.get_by_role("region", name="Your calls")
    calls.get_by_role("button", name="Incoming call").click()
    expect(calls.get_by_role("button", name="End call")).to_be_visible()

    customer.goto(demo.website)
    selector = customer.get_by_role("region", name="Contact us")
    selector.get_by_role("button", name="Contact us").click()
    selector.get_by_role("button", name="Call").click()
    call_us = customer.get_by_role("region", name="Call us")
    expect(call_us.get_by_role("link", name="+1 555 0100")).to_be_visible()
    call_us.get_by_role("button", name="Browse with you").click()
    expect(customer.get_by_text("Read this session ID to the agent on the phone:")).to_be_visible()
    session_id = customer.locator("[data-session-id]").get_attribute("data-session-id")
    assert session_id is not None

    join(agent, session_id)
    expect(mirror(agent).get_by_text("Gear for the long way round")).to_be_visible()
    calls.get_by_role("button", name="End call").click()
    expect(agent.get_by_role("status")).to_have_text(f"Session ended: {INTERACTION_ENDED}")
    expect(customer.get_by_text(INTERACTION_ENDED)).to_be_visible()


def test_the_demo_chat_flow(demo: Demo, customer: Page, agent: Page) -> None:
    sign_in_to_demo(agent, demo)
    customer.goto(demo.website)
    selector = customer.get_by_role("region", name="Contact us")
    selector.get_by_role("button", name="Contact us").click()
    selector.get_by_role("button", name="Chat").click()
    panel = customer.get_by_role("region", name="Chat")
    panel.get_by_role("textbox", name="Your name (optional)").fill("Lin")
    panel.get_by_role("textbox", name="Message").fill("Which backpack fits a laptop?")
    panel.get_by_role("button", name="Send").click()

    chats = agent.get_by_role("region", name="Chats")
    chats.get_by_role("listitem").filter(has_text="Lin").get_by_role(
        "button", name="Accept"
    ).click()
    expect(panel.get_by_text("You are chatting with agent.")).to_be_visible()
    panel.get_by_role("button", name="Co-browse").click()
    conversation = chats.get_by_role("article", name="Chat with Lin")
    request = conversation.get_by_role("listitem").filter(has_text="asked to co-browse")
    request.get_by_role("button", name="Join co-browse").click()
    expect(mirror(agent).get_by_text("Gear for the long way round")).to_be_visible()

    panel.get_by_role("button", name="End chat").click()
    expect(agent.get_by_role("status")).to_have_text(f"Session ended: {INTERACTION_ENDED}")
    expect(customer.get_by_text(INTERACTION_ENDED)).to_be_visible()
