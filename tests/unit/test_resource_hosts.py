"""Where the resource proxy may fetch a site's resources from: its origins and the
hosts an administrator adds (exact, with scheme or port, or *.wildcards)."""

from __future__ import annotations

import re

import pytest

from cobrowse.core.resource_hosts import HostPattern, ResourcePolicy


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("cdn.example.com", "cdn.example.com"),
        ("  CDN.Example.COM ", "cdn.example.com"),
        ("https://cdn.example.com", "https://cdn.example.com"),
        ("https://cdn.example.com:443", "https://cdn.example.com"),
        ("https://cdn.example.com:8443/", "https://cdn.example.com:8443"),
        ("cdn.example.com:8080", "cdn.example.com:8080"),
        ("*.cdn.example.com", "*.cdn.example.com"),
        ("http://*.example.com", "http://*.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("[2001:DB8::1]:8443", "[2001:db8::1]:8443"),
        ("127.0.0.1:8001", "127.0.0.1:8001"),
    ],
)
def test_patterns_are_kept_in_one_canonical_form(text: str, canonical: str) -> None:
    assert str(HostPattern.parse(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a host"),
        ("ftp://cdn.example.com", "only http:// or https://"),
        ("https://cdn.example.com/fonts", "give only [scheme://]host[:port]"),
        ("cdn.example.com?x=1", "give only [scheme://]host[:port]"),
        ("user@cdn.example.com", "give only [scheme://]host[:port]"),
        ("cdn.example.com:http", "its port must be a number"),
        ("cdn.example.com:0", "from 1 to 65535"),
        ("*", "is not a host name"),
        ("*.com", "a wildcard covers the subdomains of a registered domain"),
        ("*.127.0.0.1", "a wildcard covers the subdomains"),
        ("cdn.*.example.com", "is not a host name"),
        ("exa mple.com", "is not a host name"),
        ("-bad-.example.com", "is not a host name"),
    ],
)
def test_bad_patterns_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        HostPattern.parse(text)


def policy(*hosts: str, origins: tuple[str, ...] = ("https://shop.example.com",)) -> ResourcePolicy:
    return ResourcePolicy(
        origins=frozenset(origins), hosts=tuple(HostPattern.parse(host) for host in hosts)
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://shop.example.com/style.css", True),
        ("https://SHOP.example.com:443/style.css", True),
        ("http://shop.example.com/style.css", False),  # another origin
        ("https://shop.example.com:8443/style.css", False),
        ("https://www.shop.example.com/style.css", False),
        ("https://example.com/style.css", False),
    ],
)
def test_the_sites_own_origins_are_always_allowed_exactly(url: str, allowed: bool) -> None:
    assert policy().allows(url) is allowed


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cdn.example.net/a.png", True),
        ("http://cdn.example.net/a.png", True),
        ("https://cdn.example.net:8443/a.png", False),
        ("https://cdn.example.net.evil.test/a.png", False),
        ("https://evilcdn.example.net/a.png", False),
        ("https://x.cdn.example.net/a.png", False),
    ],
)
def test_a_host_without_scheme_or_port_allows_http_and_https_on_their_ports(
    url: str, allowed: bool
) -> None:
    assert policy("cdn.example.net").allows(url) is allowed


def test_scheme_and_port_narrow_a_host() -> None:
    only_https = policy("https://fonts.example.net")
    assert only_https.allows("https://fonts.example.net/a.woff2")
    assert not only_https.allows("http://fonts.example.net/a.woff2")
    on_port = policy("img.example.net:8080")
    assert on_port.allows("http://img.example.net:8080/a.png")
    assert on_port.allows("https://img.example.net:8080/a.png")
    assert not on_port.allows("http://img.example.net/a.png")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://a.cdn.example.net/x.png", True),
        ("https://a.b.cdn.example.net/x.png", True),
        ("https://A.CDN.example.net/x.png", True),
        ("https://cdn.example.net/x.png", False),  # the domain itself is not a subdomain
        ("https://acdn.example.net/x.png", False),
        ("https://a.cdn.example.net.evil.test/x.png", False),
        ("https://a.cdn.example.net:444/x.png", False),
    ],
)
def test_a_wildcard_allows_subdomains_at_any_depth_only(url: str, allowed: bool) -> None:
    assert policy("*.cdn.example.net").allows(url) is allowed


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@shop.example.com/style.css",
        "https://shop.example.com@cdn.example.net/style.css",
        "ftp://shop.example.com/style.css",
        "data:text/css,body{}",
        "https://shop.example.com:99999/x",
        "not a url",
    ],
)
def test_urls_with_credentials_or_other_schemes_are_never_allowed(url: str) -> None:
    assert not policy("cdn.example.net").allows(url)


def test_international_names_match_in_their_ascii_form() -> None:
    assert policy("bücher.example").allows("https://xn--bcher-kva.example/a.png")
    assert policy("bücher.example").allows("https://BÜCHER.example/a.png")


def test_ip_address_hosts_match_in_any_spelling() -> None:
    allowed = policy("[2001:db8::1]:8443")
    assert allowed.allows("https://[2001:DB8:0::1]:8443/a.png")
