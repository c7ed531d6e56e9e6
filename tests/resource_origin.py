"""A website's server for the resource proxy tests: it serves stylesheets, images,
fonts and things the proxy must refuse, and records every request it gets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WOFF2 = b"wOF2" + b"\x00" * 64
STYLESHEET = """@import "more.css";
@font-face { font-family: Shop; src: url(fonts/shop.woff2) format("woff2") }
.logo { background: url('img/logo.png') }
.cdn { background: url(CDN/img/cdn.png) }
.tracker { background: url(ELSEWHERE/pixel.png) }
"""


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class Origin:
    """What the server saw: every request, in order."""

    requests: list[Seen] = field(default_factory=list)
    release_slow: threading.Event = field(default_factory=threading.Event)
    cdn_url: str = ""
    elsewhere_url: str = ""

    def hits(self, path: str) -> int:
        return sum(1 for seen in self.requests if seen.path == path)

    def app(self) -> Starlette:
        async def record(request: Request) -> None:
            self.requests.append(Seen(request.url.path, dict(request.headers)))

        async def stylesheet(request: Request) -> Response:
            await record(request)
            css = STYLESHEET.replace("CDN", self.cdn_url).replace("ELSEWHERE", self.elsewhere_url)
            return Response(css, media_type="text/css")

        async def more(request: Request) -> Response:
            await record(request)
            return Response(".more { color: red }", media_type="text/css")

        async def image(request: Request) -> Response:
            await record(request)
            return Response(
                PNG,
                media_type="image/png",
                headers={"Set-Cookie": "tracking=abc123; Path=/", "X-Upstream-Secret": "s"},
            )

        async def uncached_image(request: Request) -> Response:
            await record(request)
            return Response(
                PNG,
                media_type="image/png",
                headers={"Set-Cookie": "tracking=abc123; Path=/", "Cache-Control": "no-store"},
            )

        async def font(request: Request) -> Response:
            await record(request)
            return Response(WOFF2, media_type="font/woff2")

        async def svg(request: Request) -> Response:
            await record(request)
            return Response(
                '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                media_type="image/svg+xml",
            )

        async def typed(request: Request) -> Response:
            await record(request)
            kinds = {
                "/page.html": ("<!doctype html><h1>hi</h1>", "text/html"),
                "/app.js": ("alert(1)", "text/javascript"),
                "/data.json": ("{}", "application/json"),
                "/unlabelled.png": (PNG, "application/octet-stream"),
                "/unlabelled.html": (
                    "<!doctype html><script>x</script>",
                    "application/octet-stream",
                ),
            }
            body, kind = kinds[request.url.path]
            return Response(body, media_type=kind)

        async def big(request: Request) -> Response:
            await record(request)

            async def chunks() -> AsyncIterator[bytes]:
                yield PNG
                for _ in range(64):
                    yield b"\x00" * 16384

            # Streamed without Content-Length: the proxy must count as it reads.
            return StreamingResponse(chunks(), media_type="image/png")

        async def big_declared(request: Request) -> Response:
            await record(request)
            return Response(PNG + b"\x00" * (1 << 20), media_type="image/png")

        async def redirect(request: Request) -> Response:
            await record(request)
            return RedirectResponse(request.query_params["to"], status_code=302)

        async def missing(request: Request) -> Response:
            await record(request)
            return PlainTextResponse("no such image", status_code=404)

        async def slow(request: Request) -> Response:
            await record(request)
            # Answers only when the tests end (or after a minute), long after the proxy
            # gave up.
            await asyncio.to_thread(self.release_slow.wait, 60)
            return Response(PNG, media_type="image/png")

        return Starlette(
            routes=[
                Route("/style.css", stylesheet),
                Route("/more.css", more),
                Route("/img/logo.png", image),
                Route("/img/cdn.png", image),
                Route("/uncached.png", uncached_image),
                Route("/fonts/shop.woff2", font),
                Route("/icon.svg", svg),
                Route("/big.png", big),
                Route("/big-declared.png", big_declared),
                Route("/redirect", redirect),
                Route("/missing.png", missing),
                Route("/slow.png", slow),
                *(
                    Route(path, typed)
                    for path in (
                        "/page.html",
                        "/app.js",
                        "/data.json",
                        "/unlabelled.png",
                        "/unlabelled.html",
                    )
                ),
            ]
        )
