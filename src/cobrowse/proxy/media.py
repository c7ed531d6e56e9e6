"""What the resource proxy serves, and for how long it keeps it.

The mirror needs stylesheets, images (video posters are images) and fonts, so
only those types are served; anything a browser could run or render as a page
(HTML, JavaScript, XML, JSON, PDF) is refused, and so are audio and video (large,
streamed with range requests; the mirror shows their poster). Servers often send
fonts and images as ``application/octet-stream`` or with no type: those are
served only when their first bytes say what they are, and then under that type.
SVG is allowed: the proxy serves it with a content security policy that keeps its
scripts from running even when it is opened on its own.
"""

from __future__ import annotations

CSS = "text/css"

_FONT_TYPES = frozenset(
    {
        "application/font-sfnt",
        "application/font-woff",
        "application/font-woff2",
        "application/vnd.ms-fontobject",
        "application/x-font-opentype",
        "application/x-font-otf",
        "application/x-font-truetype",
        "application/x-font-ttf",
        "application/x-font-woff",
    }
)
_UNLABELLED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

MAX_CACHE_SECONDS = 24 * 3600
"""However long a website says a resource stays fresh, the cache keeps it at most
this long, so a changed stylesheet reaches agents within a day at worst."""


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if it has one."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def servable_type(declared: str) -> str | None:
    """The type to serve a resource declared as ``declared`` (a media type) under,
    None when it must be refused, or "" when only its first bytes can tell."""
    if declared == CSS or declared in _FONT_TYPES:
        return declared
    top, _, subtype = declared.partition("/")
    if top in ("image", "font") and subtype:
        return declared
    if declared in _UNLABELLED:
        return ""
    return None


def sniff(body: bytes) -> str | None:
    """The image or font type the first bytes of ``body`` show, or None."""
    signatures: tuple[tuple[bytes, str], ...] = (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x00\x00\x01\x00", "image/x-icon"),
        (b"wOFF", "font/woff"),
        (b"wOF2", "font/woff2"),
        (b"OTTO", "font/otf"),
        (b"\x00\x01\x00\x00", "font/ttf"),
        (b"true", "font/ttf"),
        (b"ttcf", "font/collection"),
    )
    for signature, kind in signatures:
        if body.startswith(signature):
            return kind
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    if body[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    if len(body) > 35 and body[34:36] == b"LP":
        return "application/vnd.ms-fontobject"
    return None


def fresh_for(cache_control: str | None, default_seconds: float) -> float:
    """How long a response may be reused, from its Cache-Control header.

    ``no-store``, ``no-cache`` and ``private`` mean not at all (cobrowse is a
    shared cache); ``s-maxage`` or ``max-age`` say how long, up to
    MAX_CACHE_SECONDS; without either, ``default_seconds``.
    """
    directives: dict[str, str] = {}
    for item in (cache_control or "").split(","):
        name, _, value = item.partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if directives.keys() & {"no-store", "no-cache", "private"}:
        return 0.0
    for name in ("s-maxage", "max-age"):
        if name in directives:
            try:
                seconds = float(int(directives[name]))
            except ValueError:
                return 0.0
            return max(0.0, min(seconds, MAX_CACHE_SECONDS))
    return min(default_seconds, MAX_CACHE_SECONDS)
