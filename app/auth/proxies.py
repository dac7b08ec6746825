"""Which peers may say who the client is: X-Forwarded-For is believed only from configured proxies.

uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, so anyone reaching the port from the
machine itself (or through a local tunnel) could rotate the header and get a fresh login and chat
budget per request. Proxy headers are honoured only when ``SWITCHBOARD_TRUSTED_PROXIES`` lists the
proxies (comma-separated addresses or networks); then the client is the nearest untrusted hop.
"""

from __future__ import annotations

from typing import Any


def trusted_proxies(value: str) -> list[str]:
    """The configured proxy addresses/networks (empty: believe no forwarding header)."""
    return [p.strip() for p in value.split(",") if p.strip()]


def uvicorn_proxy_options(value: str) -> dict[str, Any]:
    """uvicorn keyword arguments for the configured proxies."""
    proxies = trusted_proxies(value)
    if not proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": proxies}
