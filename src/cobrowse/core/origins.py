"""Web origins (scheme://host[:port]) as sites register them and browsers send them."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(url: str) -> str:
    """The origin of ``url`` in the form browsers send in the Origin header.

    Raises ValueError with a sentence when ``url`` is not an http(s) origin.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ValueError(f"{url!r} is not an origin: it is not a valid URL") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{url!r} is not an origin: it must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{url!r} is not an origin: it has no host name")
    credentials = "@" in parts.netloc
    if parts.path not in ("", "/") or parts.query or parts.fragment or credentials:
        raise ValueError(f"{url!r} is not an origin: give only scheme, host and port")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"{url!r} is not an origin: its port must be a number from 1 to 65535")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"
