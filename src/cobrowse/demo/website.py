"""A small website that embeds the customer script, served on its own origin.

The demo uses it as the customer's site; the browser tests serve their own pages
through it too. ``{{COBROWSE_URL}}`` in any HTML page becomes the server's URL, and
``{{WIDGETS}}`` the built-in widgets its script tag asks for (``data-widgets``).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

SAMPLE_SITE = Path(__file__).parent / "site"

DEMO_WIDGETS = "channelselector"
"""The demo's customer reaches support through "Contact us": chat, call, co-browse."""
TEST_WIDGETS = "cobrowse webchat"
"""The sample site in tests: the plain Co-browse launcher (most tests start with it)
and the chat."""


def create_site_app(
    cobrowse_url: str, directory: Path = SAMPLE_SITE, widgets: str = TEST_WIDGETS
) -> Starlette:
    root = directory.resolve()

    async def page(request: Request) -> Response:
        name = request.path_params.get("path", "") or "index.html"
        target = (root / name).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(404, "No such page.")
        if target.suffix == ".html":
            body = (
                target.read_text(encoding="utf-8")
                .replace("{{COBROWSE_URL}}", cobrowse_url)
                .replace("{{WIDGETS}}", widgets)
            )
            return HTMLResponse(body, headers={"Cache-Control": "no-store"})
        return FileResponse(target)

    return Starlette(routes=[Route("/", page), Route("/{path:path}", page)])
