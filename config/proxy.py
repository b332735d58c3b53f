"""The client's address behind the shipped nginx (or any reverse proxy you trust).

Behind nginx every request's REMOTE_ADDR is nginx's own address; the client's is what nginx
appends to X-Forwarded-For (`$proxy_add_x_forwarded_for`, config/nginx.conf). Anyone can send an
X-Forwarded-For header, so it is believed only from a trusted proxy, and only the entries the
trusted proxies appended themselves are read:

- TRUSTED_PROXIES: the addresses or networks requests may come from through a proxy (default
  none: REMOTE_ADDR is the client, as with `make run`). docker-compose.yml trusts its private
  networks, since the web container is reachable from nginx only.
- TRUSTED_PROXY_COUNT: how many proxies append to X-Forwarded-For in front of the app (nginx
  alone: 1; a TLS terminator in front of nginx that appends too: 2). The client is the entry this
  many places from the right; whatever a client wrote to the left of it is ignored.

Used for the login lock-out (django-axes: AXES_CLIENT_IP_CALLABLE) and the throttles that count
per client (password reset).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or from a trusted proxy the entry of X-Forwarded-For
    that the last TRUSTED_PROXY_COUNT proxies wrote."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    remote_address = _address(remote)
    if not proxies or remote_address is None or not any(remote_address in n for n in proxies):
        return remote
    forwarded = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [e for e in forwarded if e]
    if not forwarded:
        return request.META.get("HTTP_X_REAL_IP", "").strip() or remote
    count = max(1, getattr(settings, "TRUSTED_PROXY_COUNT", 1))
    chosen = forwarded[-count] if len(forwarded) >= count else forwarded[0]
    return chosen if _address(chosen) is not None else remote
