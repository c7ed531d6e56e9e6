"""Where the resource proxy may fetch from, per site (PRODUCT.md §8).

A site's resources may come from its own origins (always) and from the hosts an
administrator adds, such as a CDN. A host pattern is ``[scheme://]host[:port]``:

- ``cdn.example.com``: http and https, on their default ports (80, 443);
- ``https://cdn.example.com``: https only; ``cdn.example.com:8443``: that port only;
- ``*.example.com``: any subdomain of example.com, at any depth, but not
  example.com itself (add it separately). The wildcard is only allowed as the
  whole first label and over at least two more labels, so ``*.com`` is refused.

Patterns are compared with the URL's host in lower-case ASCII (IDNA), never as
substrings, so ``cdn.example.com.evil.test`` matches nothing of example.com.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from cobrowse.core.origins import normalize_origin

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
MAX_PATTERN_LENGTH = 300


@dataclass(frozen=True)
class HostPattern:
    host: str
    """Lower-case ASCII host, or the suffix after ``*.`` when ``wildcard``."""
    scheme: str | None = None
    """``http`` or ``https``; None: both."""
    port: int | None = None
    """None: the default port of the URL's scheme."""
    wildcard: bool = False

    @classmethod
    def parse(cls, text: str) -> HostPattern:
        """Read an administrator's pattern; ValueError with a sentence when it is not one."""
        stripped = text.strip()
        if not stripped or len(stripped) > MAX_PATTERN_LENGTH:
            raise ValueError(f"{text!r} is not a host: give a host like cdn.example.com")
        try:
            parts = urlsplit(stripped if "://" in stripped else f"//{stripped}")
            port = parts.port
        except ValueError:
            raise ValueError(f"{text!r} is not a host: its port must be a number") from None
        if parts.scheme not in ("", *DEFAULT_PORTS):
            raise ValueError(f"{text!r} is not a host: only http:// or https:// may come first")
        if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError(f"{text!r} is not a host: give only [scheme://]host[:port]")
        if port == 0:
            raise ValueError(f"{text!r} is not a host: its port must be from 1 to 65535")
        scheme = parts.scheme or None
        if port is not None and scheme is not None and port == DEFAULT_PORTS[scheme]:
            port = None
        host = parts.hostname or ""
        wildcard = host.startswith("*.")
        if wildcard:
            host = host[2:]
        try:
            host = canonical_host(host)
        except ValueError:
            raise ValueError(f"{text!r} is not a host name or IP address") from None
        if wildcard and (_is_ip(host) or host.count(".") < 1):
            raise ValueError(
                f"{text!r}: a wildcard covers the subdomains of a registered domain, like "
                "*.example.com"
            )
        return cls(host=host, scheme=scheme, port=port, wildcard=wildcard)

    def matches(self, scheme: str, host: str, port: int) -> bool:
        """Whether a URL with this scheme, canonical host and port is covered."""
        if self.scheme is not None and scheme != self.scheme:
            return False
        if port != (self.port if self.port is not None else DEFAULT_PORTS[scheme]):
            return False
        if self.wildcard:
            return host.endswith(f".{self.host}")
        return host == self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        text = f"*.{host}" if self.wildcard else host
        if self.scheme is not None:
            text = f"{self.scheme}://{text}"
        return f"{text}:{self.port}" if self.port is not None else text


def canonical_host(host: str) -> str:
    """``host`` as the proxy compares it: lower-case ASCII (IDNA for international
    names), IP addresses in their compressed form. ValueError when it is not a host."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if _is_ip(host):
        return str(ip_address(host))
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{host!r} is not a host name") from None
    if not ascii_host or not all(_LABEL.match(label) for label in ascii_host.split(".")):
        raise ValueError(f"{host!r} is not a host name")
    return ascii_host


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ResourcePolicy:
    """What one site lets the proxy fetch."""

    origins: frozenset[str]
    """The site's own origins (normalized), always allowed."""
    hosts: tuple[HostPattern, ...] = ()
    allow_private_addresses: bool = False
    """UNSAFE outside a demo or tests: skip the public-address rule for this site."""

    def allows(self, url: str) -> bool:
        """Whether ``url`` (absolute) is on one of the site's origins or allowed hosts.
        URLs with credentials in them are never allowed."""
        try:
            parts = urlsplit(url)
            port = parts.port
            host = canonical_host(parts.hostname or "")
        except ValueError:
            return False
        if parts.scheme not in DEFAULT_PORTS or "@" in parts.netloc:
            return False
        effective_port = port if port is not None else DEFAULT_PORTS[parts.scheme]
        try:
            if normalize_origin(f"{parts.scheme}://{parts.netloc}") in self.origins:
                return True
        except ValueError:
            return False
        return any(pattern.matches(parts.scheme, host, effective_port) for pattern in self.hosts)
