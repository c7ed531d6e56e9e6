"""Links to page resources through the resource proxy (PRODUCT.md S7).

The agent's browser never loads anything from the customer's website: every
resource URL in the mirror becomes a path on cobrowse::

    /resources/<session ID>/<resource token>/<base64url of the absolute URL>[#fragment]

- The session ID and the session's resource token authorize the request (the
  mirror's requests cannot be trusted to carry the console's cookie), and only
  while the session is live.
- The absolute URL is base64url-encoded (RFC 4648 §5, no padding): one path
  segment, no escaping rules to get wrong, nothing a browser normalizes.
- A fragment stays a fragment (``sprite.svg#icon`` must keep pointing at the
  icon), percent-encoded, after the encoded URL; browsers never send it.
- Credentials in a URL (``https://user:pw@host/``) are dropped: they are the
  customer's, and the proxy never sends any.

Everything here is pure: the stream rewriting and the proxy's stylesheet rewriting
share it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from cobrowse.core.ids import SESSION_ID_PATTERN

RESOURCE_PATH_PREFIX = "/resources/"

BLOCKED_REFERENCE = "about:invalid"
"""What a reference the agent's browser must not load becomes: it loads nothing."""

MAX_URL_LENGTH = 8192
"""Longer URLs (in UTF-8 bytes) are not proxied; signed CDN URLs run to a couple of
kilobytes."""

_ENCODED = re.compile(r"^[A-Za-z0-9_-]+$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_FRAGMENT_SAFE = "!$&'()*+,;=:@/?-._~%"


@dataclass(frozen=True)
class ProxiedResource:
    """What a proxy path names: whose session asks, with what token, for which URL."""

    session_id: str
    resource_token: str
    url: str


def proxied_url(session_id: str, resource_token: str, absolute_url: str) -> str:
    """The path on cobrowse that serves ``absolute_url`` to this session's agent.

    Raises ValueError when ``absolute_url`` is not an absolute http(s) URL of at
    most MAX_URL_LENGTH characters.
    """
    target, fragment = _fetchable(absolute_url)
    encoded = base64.urlsafe_b64encode(target.encode("utf-8")).rstrip(b"=").decode("ascii")
    path = f"{RESOURCE_PATH_PREFIX}{session_id}/{resource_token}/{encoded}"
    return f"{path}#{quote(fragment, safe=_FRAGMENT_SAFE)}" if fragment else path


def parse_proxied_path(path: str) -> ProxiedResource:
    """The inverse of :func:`proxied_url` (without the fragment, which browsers
    keep to themselves). Raises ValueError with a sentence when ``path`` is not one."""
    if not path.startswith(RESOURCE_PATH_PREFIX):
        raise ValueError("not a resource path")
    parts = path[len(RESOURCE_PATH_PREFIX) :].split("/")
    if len(parts) != 3:
        raise ValueError("a resource path has a session ID, a token and a URL")
    session_id, token, encoded = parts
    return ProxiedResource(session_id, token, decode_resource_url(session_id, token, encoded))


def decode_resource_url(session_id: str, resource_token: str, encoded: str) -> str:
    """Check the three segments of a resource path and decode its URL."""
    if not SESSION_ID_PATTERN.match(session_id):
        raise ValueError("the session ID is not nine digits")
    if not _TOKEN.match(resource_token):
        raise ValueError("the resource token is malformed")
    if not _ENCODED.match(encoded) or len(encoded) > (MAX_URL_LENGTH * 4 + 2) // 3:
        raise ValueError("the URL is not base64url")
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
        url = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("the URL is not base64url of UTF-8 text") from None
    return _fetchable(url)[0]


def absolute_resource_url(reference: str, base_url: str) -> str | None:
    """The absolute http(s) URL a reference on a page (or in a stylesheet) at
    ``base_url`` points at, or None when it names nothing the proxy could fetch
    (another scheme, a malformed URL). See :func:`stays_inline` for references
    that need no proxy at all."""
    # As browsers do: tabs and newlines inside a URL are dropped, spaces encoded.
    cleaned = _TAB_OR_NEWLINE.sub("", reference.strip()).replace(" ", "%20")
    try:
        absolute = urljoin(base_url, cleaned)
        _fetchable(absolute)
    except ValueError:
        return None
    return absolute


_SAFE_DATA = re.compile(r"^\s*data:\s*(image/|font/|application/(x-)?font)", re.IGNORECASE)


def harmless_data_url(reference: str) -> bool:
    """Whether ``reference`` is a ``data:`` URL of an image or a font: it loads
    nothing, and an image runs no script. Any other ``data:`` URL (a document, a
    stylesheet that could reference more, a script) is blocked like a URL of a
    host the site does not allow."""
    return _SAFE_DATA.match(reference) is not None


def stays_inline(reference: str) -> bool:
    """References that load nothing from the network and are left as they are:
    ``data:`` URLs, a fragment of the same document (SVG filters, ``<use>``), and
    the empty reference."""
    stripped = reference.strip()
    return not stripped or stripped.startswith("#") or stripped[:5].lower() == "data:"


def _fetchable(url: str) -> tuple[str, str]:
    """``url`` without credentials and fragment, and the fragment; ValueError when it
    is not an absolute http(s) URL the proxy could fetch."""
    if len(url.encode("utf-8")) > MAX_URL_LENGTH:
        raise ValueError("the URL is too long")
    if any(character.isspace() or ord(character) < 0x20 for character in url):
        raise ValueError("the URL has white space or control characters in it")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("the URL is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("only http and https URLs are proxied")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if port == 0:
        raise ValueError("the URL's port is 0")
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), parts.fragment
