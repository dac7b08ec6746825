"""Web origins: normalised for storage, compared for the websocket and the embed page's CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_ORIGIN_CHARS = 200


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; ValueError for anything else.

    An origin is exactly what a browser sends in its Origin header, so a stored path, query,
    wildcard or user name would never match and is refused when the operator saves it.
    """
    text = (value or "").strip().rstrip("/")
    if not text or len(text) > MAX_ORIGIN_CHARS:
        raise ValueError(f"an origin is 1..{MAX_ORIGIN_CHARS} characters, like https://shop.example")
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin: it needs http:// or https:// and a host")
    if parts.path or parts.query or parts.fragment or parts.username or "*" in text:
        raise ValueError(f"{value!r} is not an origin: no path, query, wildcard or user name")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def same_origin(origin: str, host_header: str | None) -> bool:
    """True when ``origin`` names the host the request was made to (either scheme: TLS may end at a proxy)."""
    if not host_header:
        return False
    try:
        theirs = normalize_origin(origin)
        scheme = theirs.split("://", 1)[0]
        # The Host header has no scheme; read it with the origin's, so default ports compare equal.
        mine = normalize_origin(f"{scheme}://{host_header}")
    except ValueError:
        return False
    return theirs == mine
