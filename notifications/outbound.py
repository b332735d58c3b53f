"""The outbound URL policy: where this installation may send webhooks and chat messages.

Anybody who can enter a URL (an anonymous subscriber, a customer contact, an administrator) must
not make our workers talk to the inside of the network: loopback, private, link-local, shared
(CGNAT), multicast, reserved and unspecified addresses, IPv4 and IPv6 alike (an IPv4 address
embedded in IPv6 counts as that IPv4 address), are refused unless an administrator lists them in
OUTBOUND_ALLOW_NETWORKS (a list of CIDR networks from the environment).

A URL is checked twice: when it is saved (`validate_outbound_url`, `validate_apprise_url`: a
clear form error) and when a message is sent. For webhooks the second check happens at connect
time: `GuardedBackend` resolves the host, checks every address and connects to a checked address
itself, so a name that resolves to a public address at save time and to 127.0.0.1 later (DNS
rebinding) is refused, and there is no gap between check and connect. Redirects are not followed.
Apprise talks to its services through requests (urllib3): every host its URL names is resolved
and checked right before each send (`check_apprise_url`), and while it sends, the sending
thread's urllib3 connections go through the same resolve-check-connect step (`guarded_urllib3`),
so a redirect or a changed DNS answer cannot lead it inside either.
"""

import ipaddress
import socket
import threading
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052): the last 32 bits are an IPv4 address, which a NAT64 gateway connects to.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The URL (or an address its host resolves to) is outside the outbound policy."""

    def __init__(self, message: str, *, address: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.address = address


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in allowed if item)


def allowed_networks() -> tuple:
    return _networks(tuple(getattr(settings, "OUTBOUND_ALLOW_NETWORKS", ()) or ()))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _internal(address: IPAddress) -> bool:
    """True for every address that is not plainly on the public internet."""
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def address_allowed(address: str | IPAddress) -> bool:
    """May we connect to this IP address? Public addresses yes; others only when listed."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        candidates = [embedded]  # ::ffff:a.b.c.d is a.b.c.d, nothing else
    else:
        candidates = [ip] if embedded is None else [ip, embedded]
    networks = allowed_networks()
    if any(c.version == n.version and c in n for c in candidates for n in networks):
        return True
    return not any(_internal(candidate) for candidate in candidates)


def resolve(host: str, port: int | None = None) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    host = host.strip("[]")
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_host(host: str, port: int | None = None, *, unresolvable_ok: bool = False) -> list[str]:
    """Resolve the host and refuse it if any of its addresses is outside the policy (a name with
    a public and a private address is a classic rebinding trick). Returns the addresses."""
    if not host:
        raise OutboundRefused(str(_("The URL has no host.")))
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        if unresolvable_ok:
            return []
        raise OutboundRefused(
            str(_("The host %(host)s cannot be resolved.") % {"host": host})
        ) from exc
    for address in addresses:
        if not address_allowed(address):
            raise OutboundRefused(refused_message(host, address), address=address)
    return addresses


def refused_message(host: str, address: str) -> str:
    return str(
        _(
            "This address is not allowed: %(host)s points to %(address)s, a private, loopback "
            "or otherwise internal network address. An administrator can allow a network with "
            "OUTBOUND_ALLOW_NETWORKS."
        )
        % {"host": host, "address": address}
    )


# --- Save time -------------------------------------------------------------------------------


def validate_outbound_url(value: str) -> None:
    """Form and model validator for webhook URLs: http(s), and a host outside internal networks.

    A name that does not resolve now is accepted (the connect-time check decides when sending);
    an IP literal or a name resolving to an internal address is refused with a clear message."""
    URLValidator(schemes=["http", "https"], message=_("Enter a valid http(s) URL."))(value)
    parts = urlsplit(value)
    try:
        check_host(parts.hostname or "", unresolvable_ok=True)
    except OutboundRefused as exc:
        raise ValidationError(exc.message, code="outbound_refused") from exc


def apprise_hosts(url: str) -> list[str]:
    """The hosts the Apprise URL(s) in `url` would talk to. Apprise accepts several URLs in one
    string; each is parsed by its plugin, whose `host` (and `smtp_host` for email) are where it
    connects. Service plugins with a fixed endpoint (Slack, Telegram ...) name tokens there, which
    do not resolve and are fine. Raises ValueError for a string Apprise cannot parse."""
    import apprise  # heavy: only where a URL is really checked
    from apprise.utils.parse import parse_urls

    hosts = []
    urls = parse_urls(url)
    if not urls:
        raise ValueError("no URL")
    for item in urls:
        plugin = apprise.Apprise.instantiate(item, suppress_exceptions=True)
        if plugin is None:
            raise ValueError(f"not a valid Apprise URL: {item[:40]}")
        for name in ("host", "smtp_host"):
            value = getattr(plugin, name, None)
            if isinstance(value, str) and value:
                hosts.append(value)
        parsed = urlsplit(item)
        if parsed.hostname:
            hosts.append(parsed.hostname)
    return list(dict.fromkeys(hosts))


def check_apprise_url(url: str, *, unresolvable_ok: bool = True) -> None:
    """Raise OutboundRefused if any host of the Apprise URL resolves to an internal address."""
    try:
        hosts = apprise_hosts(url)
    except ValueError as exc:
        raise OutboundRefused(str(_("Enter a valid Apprise URL."))) from exc
    for host in hosts:
        check_host(host, unresolvable_ok=unresolvable_ok)


def validate_apprise_url(value: str) -> None:
    try:
        check_apprise_url(value)
    except OutboundRefused as exc:
        raise ValidationError(exc.message, code="outbound_refused") from exc


# --- Connect time (httpx) --------------------------------------------------------------------


def guarded_transport(**kwargs):
    """An httpx transport whose connections go only to addresses the policy allows."""
    import httpx

    transport = httpx.HTTPTransport(**kwargs)
    transport._pool._network_backend = _guarded_backend_class()()  # httpcore's backend hook
    return transport


@lru_cache(maxsize=1)
def _guarded_backend_class():
    """Built on first use: web processes validate URLs but never load httpcore."""
    import httpcore

    class GuardedBackend(httpcore.SyncBackend):
        """httpcore network backend: resolve, check every address, connect to a checked one.
        TLS (SNI and certificate) and the Host header still use the URL's host name: httpcore
        takes them from the request's origin, not from the address connected to."""

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            try:
                addresses = resolve(host, port)
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            for address in addresses:
                if not address_allowed(address):
                    raise OutboundRefused(refused_message(host, address), address=address)
            error: Exception = httpcore.ConnectError(f"no address for {host}")
            for address in addresses:  # like socket.create_connection: the first that answers
                try:
                    return super().connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    error = exc
            raise error

    return GuardedBackend


# --- Connect time (urllib3, for Apprise) -----------------------------------------------------

_urllib3 = threading.local()


@contextmanager
def guarded_urllib3():
    """Within the block, this thread's new urllib3 connections (requests, hence Apprise) are made
    only to checked addresses; yields a list that names the refused ones. Other threads and
    code outside the block are untouched: the guard is installed once and checks a flag."""
    _install_urllib3_guard()
    refused: list[str] = []
    outer = getattr(_urllib3, "refused", None)
    _urllib3.refused = refused
    try:
        yield refused
    finally:
        _urllib3.refused = outer


@lru_cache(maxsize=1)
def _install_urllib3_guard() -> None:
    from urllib3.util import connection

    original = connection.create_connection

    def create_connection(address, *args, **kwargs):
        refused = getattr(_urllib3, "refused", None)
        if refused is None:  # not inside guarded_urllib3
            return original(address, *args, **kwargs)
        host, port = address
        addresses = resolve(host, port)
        for ip in addresses:
            if not address_allowed(ip):
                message = refused_message(host, ip)
                refused.append(message)
                raise ConnectionRefusedError(message)
        error: OSError = OSError(f"no address for {host}")
        for ip in addresses:
            try:
                return original((ip, port), *args, **kwargs)
            except OSError as exc:
                error = exc
        raise error

    connection.create_connection = create_connection
