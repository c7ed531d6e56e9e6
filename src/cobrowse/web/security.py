"""Browser-facing protections: origin checks and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The console and its mirror load nothing from anywhere but cobrowse itself (S7, §8).
# The mirror is rrweb's about:blank iframe, which inherits this policy; the server's
# stream filter has already turned every resource reference into a /resources/ link
# ('self') or about:invalid, so this is the second line. 'unsafe-inline' styles are
# needed by the rebuilt page (style attributes and <style> elements of the
# customer's page); scripts never run there. data: stays for images and fonts only:
# pages inline small images and icon fonts as data: URLs, which load nothing from
# the network (the filter lets through no other data: URL). No blob:: the replayer
# makes none.
CONSOLE_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


# The admin console shows no customer page, so it needs no inline styles or frames:
# everything it loads is its own script, stylesheet and JSON.
ADMIN_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def is_same_origin(headers: Headers) -> bool:
    """True when the request comes from a page served by this server (Origin vs Host)."""
    origin = headers.get("origin")
    host = headers.get("host")
    if not origin or not host:
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


class SecurityHeaders:
    """Adds the headers every response should carry; pages add their own CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on
                # form posts, which would defeat the cross-site checks on sign-in.
                headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)
