"""GET /resources/<session>/<token>/<url>: page resources for the agent's mirror (S7).

The mirror's requests are authorized by the session's resource token in the path
(core.resource_urls), checked in constant time and only while the session is
live; then the session's site decides what may be fetched (proxy.service).

Responses carry only what cobrowse decided: the vetted Content-Type, never an
upstream header (no Set-Cookie, no CORS or caching of the website's), plus:

- ``X-Content-Type-Options: nosniff``: the browser uses the vetted type, nothing else;
- ``Content-Security-Policy``: nothing may load or run, so an SVG opened on its own
  (or anything mislabelled) cannot run script on cobrowse's origin;
- ``Cross-Origin-Resource-Policy: cross-origin`` and ``Access-Control-Allow-Origin: *``:
  a sandboxed mirror without ``allow-same-origin`` has an opaque origin, and fonts
  are CORS requests; the token, not the origin, is what authorizes;
- ``Cache-Control: private``: the link is one session's, and lives as long as the
  cached copy is fresh.
"""

from __future__ import annotations

import hmac
import math

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cobrowse.core.resource_urls import decode_resource_url, proxied_url
from cobrowse.proxy.css import StylesheetTemplate, render_stylesheet
from cobrowse.proxy.fetch import ResourceRefused
from cobrowse.web.services import services_of

RESOURCE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": RESOURCE_CSP,
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Access-Control-Allow-Origin": "*",
    "Referrer-Policy": "no-referrer",
}


async def resource(request: Request) -> Response:
    session_id: str = request.path_params["session_id"]
    token: str = request.path_params["token"]
    try:
        url = decode_resource_url(session_id, token, request.path_params["encoded"])
    except ValueError:
        return _refusal(404, "This is not a resource link.")
    services = services_of(request.app)
    session = await services.live.state.get(session_id)
    if (
        session is None
        or not session.live
        or not hmac.compare_digest(session.resource_token.encode(), token.encode())
    ):
        # One answer for all three: the link must not tell whether a session is live.
        return _refusal(403, "This resource link is not valid: its co-browse session is over.")
    try:
        loaded = await services.resources.load(session.site_id, url)
    except ResourceRefused as refused:
        return _refusal(refused.status, refused.text)
    cached = loaded.resource
    body = cached.body
    media_type = cached.media_type
    if cached.stylesheet is not None:
        policy = loaded.policy

        def link(absolute: str) -> str | None:
            return proxied_url(session_id, token, absolute) if policy.allows(absolute) else None

        body = render_stylesheet(StylesheetTemplate(cached.stylesheet), link).encode("utf-8")
        media_type = f"{media_type}; charset=utf-8"
    fresh = max(0, math.floor(cached.expires_at - services.resources.now()))
    return Response(
        body,
        headers={
            **_ALWAYS,
            "Content-Type": media_type,
            "Cache-Control": f"private, max-age={fresh}" if fresh else "no-store",
        },
    )


def _refusal(status: int, text: str) -> Response:
    return PlainTextResponse(
        text, status_code=status, headers={**_ALWAYS, "Cache-Control": "no-store"}
    )
