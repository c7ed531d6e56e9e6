"""What a person does in the browser, as reusable steps."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import FrameLocator, Page, WebSocket, expect

from tests.support import AGENT_PASSWORD, Deployment


def submit_sign_in(page: Page, url: str, username: str, password: str = AGENT_PASSWORD) -> None:
    """Fill in and send the sign-in form of the console at ``url``."""
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(agent: Page, deployment: Deployment, username: str) -> None:
    sign_in_at(agent, deployment.url, username)


def sign_in_at(agent: Page, server_url: str, username: str) -> None:
    """Sign in to the agent console of the server (or cluster node) at ``server_url``."""
    submit_sign_in(agent, f"{server_url}/agent", username)
    expect(agent.get_by_role("textbox", name="Session ID")).to_be_visible()
    expect(agent.get_by_role("status")).to_have_text(re.compile("Ready|Back in"))


def sign_in_admin(admin: Page, deployment: Deployment, username: str) -> None:
    submit_sign_in(admin, f"{deployment.url}/admin", username)
    expect(admin.get_by_role("heading", name="Live sessions")).to_be_visible()
    expect(admin.get_by_role("status")).to_have_text("Connected.")


def open_site(customer: Page, url: str) -> None:
    customer.goto(url)
    customer.wait_for_function("() => window.Cobrowse !== undefined")
    customer.evaluate("() => new Promise((resolve) => window.Cobrowse.on('ready', resolve))")


def start_with_widget(customer: Page) -> str:
    """Press the built-in Co-browse button and read the ID the widget shows."""
    customer.get_by_role("button", name="Co-browse").click()
    shown = customer.locator("[data-session-id]")
    expect(shown).to_be_visible()
    session_id = shown.get_attribute("data-session-id")
    assert session_id is not None
    assert re.fullmatch(r"[1-9]\d{8}", session_id)
    assert shown.inner_text().replace(" ", "") == session_id
    return session_id


def join(agent: Page, session_id: str) -> None:
    agent.get_by_role("textbox", name="Session ID").fill(session_id)
    agent.get_by_role("button", name="Join").click()


def mirror(agent: Page) -> FrameLocator:
    return agent.frame_locator('iframe[title="Customer view"]')


def join_and_see(agent: Page, session_id: str, text: str) -> FrameLocator:
    join(agent, session_id)
    expect(agent.get_by_role("button", name="Exit session")).to_be_visible()
    view = mirror(agent)
    expect(view.get_by_text(text).first).to_be_visible()
    return view


def record_frames(customer: Page) -> list[str]:
    """Every WebSocket frame the customer page sends from now on, as text."""
    sent: list[str] = []

    def capture(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: sent.append(str(payload)))

    customer.on("websocket", capture)
    return sent


def stored_bytes(deployment: Deployment) -> bytes:
    """Everything the server's SQLite store holds on disk, write-ahead log included."""
    database = Path(deployment.settings.database_url.split("///", 1)[1])
    files = [database, database.with_name(database.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.is_file())


def artifacts() -> Path:
    """Where tests leave screenshots for people to look at (gitignored)."""
    folder = Path(__file__).parent.parent.parent / "test-results"
    folder.mkdir(exist_ok=True)
    return folder
