"""Links to page resources through the proxy, and reading them back."""

from __future__ import annotations

import base64

import pytest

from cobrowse.core.resource_urls import (
    MAX_URL_LENGTH,
    ProxiedResource,
    absolute_resource_url,
    parse_proxied_path,
    proxied_url,
    stays_inline,
)

SESSION = "123456789"
TOKEN = "tok_EN-0123456789abcdefghijklmnopqrstuvwxyzABC"


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com/style.css",
        "http://localhost:8001/img/logo.png?v=3&size=large",
        "https://cdn.example.com/fonts/Ünïcode%20name.woff2",
        "https://[2001:db8::1]:8443/a.png",
        "https://shop.example.com/",
    ],
)
def test_a_proxied_url_reads_back_as_the_same_url(url: str) -> None:
    link = proxied_url(SESSION, TOKEN, url)
    assert link.startswith(f"/resources/{SESSION}/{TOKEN}/")
    assert parse_proxied_path(link) == ProxiedResource(SESSION, TOKEN, url)


def test_the_longest_url_reads_back_even_when_it_is_not_ascii() -> None:
    prefix = "https://example.com/"
    url = prefix + "é" * ((MAX_URL_LENGTH - len(prefix)) // 2)
    assert parse_proxied_path(proxied_url(SESSION, TOKEN, url)).url == url


def test_the_url_is_one_base64url_segment_without_padding() -> None:
    link = proxied_url(SESSION, TOKEN, "https://shop.example.com/a.css?x=1")
    encoded = link.rsplit("/", 1)[1]
    assert "=" not in encoded
    assert base64.urlsafe_b64decode(encoded + "==") == b"https://shop.example.com/a.css?x=1"


def test_the_fragment_stays_a_fragment_for_the_browser() -> None:
    link = proxied_url(SESSION, TOKEN, "https://shop.example.com/icons.svg#café")
    path, fragment = link.split("#")
    assert fragment == "caf%C3%A9"
    assert parse_proxied_path(path).url == "https://shop.example.com/icons.svg"


def test_credentials_in_a_url_never_reach_the_link() -> None:
    link = proxied_url(SESSION, TOKEN, "https://alice:s3cret@shop.example.com/private.png")
    assert parse_proxied_path(link).url == "https://shop.example.com/private.png"
    assert "s3cret" not in base64.urlsafe_b64decode(link.rsplit("/", 1)[1] + "==").decode()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("data:image/png;base64,AAAA", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/a.png", "only http and https"),
        ("/relative/path.png", "only http and https"),
        ("https:///no-host", "no host"),
        ("https://example.com:0/a.png", "port is 0"),
        ("https://example.com:99999/a.png", "malformed"),
        ("https://example.com/a b.png", "white space"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "too long"),
        ("https://example.com/" + "é" * (MAX_URL_LENGTH // 2), "too long"),
    ],
)
def test_only_absolute_web_urls_can_be_proxied(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        proxied_url(SESSION, TOKEN, url)


NOT_UTF8 = b"\xff\xfe"


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (f"/resources/123456789/{TOKEN}", "a session ID, a token and a URL"),
        (f"/resources/123456789/{TOKEN}/aHR0cHM6Ly9leGFtcGxlLmNvbS8/x", "a session ID, a token"),
        (f"/resources/12345678/{TOKEN}/aHR0cHM6Ly9leGFtcGxlLmNvbS8", "not nine digits"),
        ("/resources/123456789/short/aHR0cHM6Ly9leGFtcGxlLmNvbS8", "token is malformed"),
        (f"/resources/123456789/{TOKEN}/not base64!", "not base64url"),
        (f"/resources/123456789/{TOKEN}/aHR0cHM6Ly9leGFtcGxlLmNvbS8=", "not base64url"),
        (f"/resources/123456789/{TOKEN}/{_encoded(NOT_UTF8)}", "UTF-8"),
        (f"/resources/123456789/{TOKEN}/{_encoded(b'file:///etc/passwd')}", "only http"),
        ("/static/whatever", "not a resource path"),
    ],
)
def test_anything_else_is_not_a_resource_path(path: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_proxied_path(path)


@pytest.mark.parametrize(
    ("reference", "absolute"),
    [
        ("img/a.png", "https://shop.example.com/css/img/a.png"),
        ("../fonts/x.woff2", "https://shop.example.com/fonts/x.woff2"),
        ("/logo.png", "https://shop.example.com/logo.png"),
        ("//cdn.example.com/a.png", "https://cdn.example.com/a.png"),
        ("http://other.example/b.png", "http://other.example/b.png"),
        ("  spaced name.png\n", "https://shop.example.com/css/spaced%20name.png"),
        ("ico\nns.svg#home", "https://shop.example.com/css/icons.svg#home"),
    ],
)
def test_references_resolve_against_their_base(reference: str, absolute: str) -> None:
    assert absolute_resource_url(reference, "https://shop.example.com/css/site.css") == absolute


@pytest.mark.parametrize("reference", ["javascript:alert(1)", "file:///etc/passwd", "blob:x"])
def test_references_to_other_schemes_resolve_to_nothing(reference: str) -> None:
    assert absolute_resource_url(reference, "https://shop.example.com/") is None


@pytest.mark.parametrize(
    ("reference", "inline"),
    [
        ("data:font/woff2;base64,AAAA", True),
        ("DATA:image/png;base64,AAAA", True),
        ("#filter", True),
        ("", True),
        ("  ", True),
        ("a.png", False),
        ("https://example.com/a.png#x", False),
    ],
)
def test_inline_references_need_no_proxy(reference: str, inline: bool) -> None:
    assert stays_inline(reference) is inline
