"""What the resource proxy serves, under which type, and how long it keeps it."""

from __future__ import annotations

import pytest

from cobrowse.proxy.media import (
    MAX_CACHE_SECONDS,
    charset,
    fresh_for,
    media_type,
    servable_type,
    sniff,
)


@pytest.mark.parametrize(
    ("content_type", "served"),
    [
        ("text/css; charset=utf-8", "text/css"),
        ("image/png", "image/png"),
        ("IMAGE/JPEG", "image/jpeg"),
        ("image/svg+xml", "image/svg+xml"),
        ("image/webp", "image/webp"),
        ("font/woff2", "font/woff2"),
        ("application/font-woff", "application/font-woff"),
        ("application/x-font-ttf", "application/x-font-ttf"),
        ("application/vnd.ms-fontobject", "application/vnd.ms-fontobject"),
        ("application/octet-stream", ""),
        (None, ""),
    ],
)
def test_stylesheets_images_and_fonts_are_served(content_type: str | None, served: str) -> None:
    assert servable_type(media_type(content_type)) == served


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=utf-8",
        "application/xhtml+xml",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/xml",
        "text/xml",
        "text/plain",
        "application/pdf",
        "video/mp4",
        "audio/mpeg",
        "multipart/x-mixed-replace; boundary=x",
        "image",
    ],
)
def test_anything_that_could_run_or_render_as_a_page_is_refused(content_type: str) -> None:
    assert servable_type(media_type(content_type)) is None


@pytest.mark.parametrize(
    ("first_bytes", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x1cftypavif\x00", "image/avif"),
        (b"wOF2\x00\x01\x00\x00", "font/woff2"),
        (b"wOFF\x00\x01\x00\x00", "font/woff"),
        (b"OTTO\x00\x0a", "font/otf"),
        (b"\x00\x01\x00\x00\x00\x0f", "font/ttf"),
        (b"\x00" * 34 + b"LP" + b"\x00" * 4, "application/vnd.ms-fontobject"),
        (b"<!doctype html><script>alert(1)</script>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
)
def test_unlabelled_resources_are_served_only_as_what_their_first_bytes_show(
    first_bytes: bytes, kind: str | None
) -> None:
    assert sniff(first_bytes) == kind


def test_the_charset_parameter_is_read() -> None:
    assert charset('text/css; charset="ISO-8859-1"') == "ISO-8859-1"
    assert charset("text/css;charset=utf-8") == "utf-8"
    assert charset("text/css") is None
    assert charset(None) is None


@pytest.mark.parametrize(
    ("cache_control", "seconds"),
    [
        (None, 300.0),
        ("", 300.0),
        ("public", 300.0),
        ("max-age=60", 60.0),
        ("public, max-age=31536000, immutable", float(MAX_CACHE_SECONDS)),
        ("max-age=600, s-maxage=30", 30.0),
        ("max-age=0", 0.0),
        ("max-age=-5", 0.0),
        ("max-age=soon", 0.0),
        ("no-store", 0.0),
        ("no-cache", 0.0),
        ("private, max-age=600", 0.0),
    ],
)
def test_freshness_follows_the_website_within_bounds(
    cache_control: str | None, seconds: float
) -> None:
    assert fresh_for(cache_control, 300.0) == seconds
