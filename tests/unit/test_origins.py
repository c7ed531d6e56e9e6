"""Origins as sites register them and as browsers send them in the Origin header."""

from __future__ import annotations

import pytest

from cobrowse.core.origins import normalize_origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://example.com", "https://example.com"),
        ("http://example.com", "http://example.com"),
        ("https://shop.example.com", "https://shop.example.com"),
    ],
)
def test_plain_origin_is_kept(url: str, origin: str) -> None:
    assert normalize_origin(url) == origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
    ],
)
def test_default_port_is_dropped(url: str, origin: str) -> None:
    assert normalize_origin(url) == origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://example.com:443", "http://example.com:443"),
        ("https://example.com:80", "https://example.com:80"),
        ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
    ],
)
def test_explicit_port_is_kept(url: str, origin: str) -> None:
    assert normalize_origin(url) == origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Example.COM", "https://example.com"),
        ("HTTPS://SHOP.Example.com:8443", "https://shop.example.com:8443"),
    ],
)
def test_scheme_and_host_are_lowercased(url: str, origin: str) -> None:
    assert normalize_origin(url) == origin


@pytest.mark.parametrize(
    "url", ["https://example.com/", "https://example.com:443/", "  https://example.com/  "]
)
def test_trailing_slash_and_surrounding_spaces_are_fine(url: str) -> None:
    assert normalize_origin(url) == "https://example.com"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://[::1]", "https://[::1]"),
        ("https://[::1]:443/", "https://[::1]"),
        ("http://[2001:DB8::1]", "http://[2001:db8::1]"),
    ],
)
def test_ipv6_host_keeps_its_brackets(url: str, origin: str) -> None:
    assert normalize_origin(url) == origin


def test_normalizing_twice_changes_nothing() -> None:
    once = normalize_origin("HTTPS://Example.com:443/")
    assert normalize_origin(once) == once


# Errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "ws://example.com", "file:///etc/passwd", "example.com", ""]
)
def test_only_http_and_https_are_origins(url: str) -> None:
    with pytest.raises(ValueError, match="must start with http:// or https://") as raised:
        normalize_origin(url)
    assert repr(url) in str(raised.value)


@pytest.mark.parametrize("url", ["https://", "http:///path", "https://:8443"])
def test_origin_needs_a_host(url: str) -> None:
    with pytest.raises(ValueError, match="has no host name") as raised:
        normalize_origin(url)
    assert repr(url) in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/checkout",
        "https://example.com//",
        "https://example.com?x=1",
        "https://example.com/?x=1",
        "https://example.com#top",
        "https://user@example.com",
        "https://user:secret@example.com",
    ],
)
def test_origin_is_only_scheme_host_and_port(url: str) -> None:
    with pytest.raises(ValueError, match="give only scheme, host and port") as raised:
        normalize_origin(url)
    assert repr(url) in str(raised.value)


@pytest.mark.parametrize("url", ["https://:secret@example.com", "https://@example.com"])
def test_credentials_with_empty_user_name_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="give only scheme, host and port"):
        normalize_origin(url)


@pytest.mark.parametrize(
    "url",
    ["https://example.com:abc", "https://example.com:99999", "https://example.com:80:80"],
)
def test_bad_port_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="port") as raised:
        normalize_origin(url)
    assert repr(url) in str(raised.value)


def test_error_message_is_a_sentence_about_the_input() -> None:
    with pytest.raises(ValueError, match="is not an origin") as raised:
        normalize_origin("https://example.com/path")
    message = str(raised.value)
    assert message.startswith("'https://example.com/path' is not an origin: ")
    assert len(message.split()) > 5


def test_unclosed_ipv6_bracket_is_a_value_error() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - only the type is promised here
        normalize_origin("http://[::1")
