"""The address a request came from, also behind the project's own reverse proxy.

Sign-in pauses count wrong passwords per address (workflow.sign_in). Behind a proxy
every request comes from the proxy's address, so the address limit would pause
everyone at once; X-Forwarded-For, on the other hand, is written by clients too. So
the header is believed only from the proxies named in TRUSTED_PROXIES (addresses or
networks), and read from the right: the first address that is not such a proxy is the
one the proxy saw. What a client wrote into it before is never used. With
TRUSTED_PROXIES empty (the default) the address is REMOTE_ADDR, whatever the headers.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_proxy(address: str, networks: tuple[Network, ...]) -> bool | None:
    """Whether `address` is a trusted proxy; None when it is no address at all."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str | None:
    """django-axes' AXES_CLIENT_IP_CALLABLE: the client's address as described above."""
    remote = request.META.get("REMOTE_ADDR")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not remote or not _is_proxy(remote, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for address in reversed([part.strip() for part in forwarded.split(",")]):
        is_proxy = _is_proxy(address, networks)
        if is_proxy is None:
            # Not an address: the chain cannot be read, so the proxy is all we know.
            return remote
        if not is_proxy:
            return address
    return remote
