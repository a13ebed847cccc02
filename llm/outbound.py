"""Where a school-chosen AI service address may lead: the one rule for outbound provider URLs.

Threat: a school admin types the base URL the worker POSTs prompts (and the school's key)
to. Without a rule that URL reaches the platform's own network: Redis, PostgreSQL, cloud
metadata services, anything on loopback or a private range, and the difference between
"closed port" and "HTTP service" makes the feature a port scanner.

The rule (for school-chosen URLs only; the operator's OPENAI_BASE_URL is trusted):

- scheme `https`; `http` only when LLM_OUTBOUND_ALLOW_HTTP is on;
- no credentials in the URL (`https://user:pass@host`);
- the port is 443, 80 when http is allowed, or one of LLM_OUTBOUND_ALLOWED_PORTS;
- the host is not a local-only name (`localhost`, `*.internal`, a single label like
  `redis`, ...), and every address it resolves to is public: not loopback, private,
  link-local (cloud metadata), reserved, multicast, unspecified or shared (CGNAT), IPv4
  embedded in IPv6 (mapped, 6to4, Teredo, NAT64) included;
- LLM_OUTBOUND_ALLOWLIST names hosts, addresses or networks (CIDR) an operator runs
  models on (a self-hosted server on a private network): those pass the address and name
  rules and may use any port; scheme and credential rules still hold.

It is checked twice: when a URL is saved (`check_url`) and when the worker connects
(`GuardedTransport`): DNS can change between the two, so at connect time the host is
resolved once, every address checked, and the socket opened to a checked address, never
to a second lookup (a rebinding DNS cannot swap in loopback between check and connect).

`OutboundRefused.reason` is for operator logs only. A school admin sees one message for
every refused or unresolvable address (`REFUSED_MESSAGE` when saving, the permanent code
`provider_address_refused` when generating), whatever listens there or not: the address is
refused before any connection is tried, so the answer says nothing about what runs where.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore2
import httpx2
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from llm.messages import REFUSED_CODE as PROVIDER_REFUSED_CODE

__all__ = [
    "REFUSED_CODE",
    "REFUSED_MESSAGE",
    "GuardedTransport",
    "OutboundPolicy",
    "OutboundRefused",
    "check_url",
    "is_refusal",
]

# One code for every refused address; its readable message shares the provider table.
REFUSED_CODE = PROVIDER_REFUSED_CODE
REFUSED_MESSAGE = gettext_lazy(
    "This address cannot be used for the AI service. Use the public https:// address of an "
    "OpenAI-compatible server, or ask the platform's operators to allow your own server."
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that only ever mean "this machine" or "this private network" (RFC 6761, RFC 8375,
# ICANN's .internal, mDNS, cloud metadata aliases). A single-label name (`redis`, `db`) is
# refused too: inside a container network it is a neighbour service.
_LOCAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "metadata.goog"})
_LOCAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".lan")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """A school-chosen URL, or an address its host resolves to, is not allowed.

    `reason` says why, for operator logs; it is never shown to a school admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutboundPolicy:
    """The operator's settings, parsed: see the module docstring for what each one allows."""

    allow_http: bool
    allowed_ports: frozenset[int]
    allowed_hosts: frozenset[str]
    allowed_networks: tuple[IPNetwork, ...]

    @classmethod
    def current(cls) -> OutboundPolicy:
        """The policy of the current settings (read on every check, so a changed setting
        applies to the next connection)."""
        return _parsed(
            bool(settings.LLM_OUTBOUND_ALLOW_HTTP),
            tuple(int(port) for port in settings.LLM_OUTBOUND_ALLOWED_PORTS),
            tuple(str(entry) for entry in settings.LLM_OUTBOUND_ALLOWLIST),
        )

    def host_is_allowlisted(self, host: str) -> bool:
        return host in self.allowed_hosts or _address_in(host, self.allowed_networks)

    def check_port(self, port: int) -> None:
        """Raise OutboundRefused unless `port` is usual for a public AI service."""
        usual = port == 443 or (port == 80 and self.allow_http) or port in self.allowed_ports
        if not usual:
            raise OutboundRefused(f"port {port} is not allowed")

    def check_destination(self, address: str, port: int) -> None:
        """Raise OutboundRefused unless `address` (an IP literal) is allow-listed (any port
        then), or public with a usual port."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        if any(ip in network for network in self.allowed_networks):
            return
        for candidate in _embedded(ip):
            if not _is_public(candidate):
                raise OutboundRefused(f"address {ip} is not public")
        self.check_port(port)


@functools.lru_cache(maxsize=8)
def _parsed(allow_http: bool, ports: tuple[int, ...], entries: tuple[str, ...]) -> OutboundPolicy:
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            if "/" in entry or ":" in entry:
                raise ImproperlyConfigured(
                    f"LLM_OUTBOUND_ALLOWLIST: {raw!r} is neither a host name nor a network"
                ) from None
            hosts.add(entry)
    return OutboundPolicy(allow_http, frozenset(ports), frozenset(hosts), tuple(networks))


def _address_in(host: str, networks: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address it carries (mapped, 6to4, Teredo, NAT64): a
    public-looking IPv6 address can still lead to 127.0.0.1."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _is_public(ip: IPAddress) -> bool:
    # `is_global` also excludes shared address space (100.64.0.0/10, where some clouds keep
    # their metadata service) and documentation ranges; the named checks say what we mean.
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def _is_local_name(host: str) -> bool:
    return host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or "." not in host


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_parts(scheme: str, userinfo: bytes, host: str, port: int | None) -> int:
    """The rules that need no DNS (a host name's port is checked with its addresses, as an
    allow-listed network admits any port); returns the effective port."""
    policy = OutboundPolicy.current()
    if scheme not in ("https", "http") or (scheme == "http" and not policy.allow_http):
        raise OutboundRefused(f"scheme {scheme!r} is not allowed")
    if userinfo:
        raise OutboundRefused("credentials in the URL")
    if not host:
        raise OutboundRefused("no host")
    effective = port if port is not None else (443 if scheme == "https" else 80)
    if policy.host_is_allowlisted(host):
        return effective
    if _is_ip_literal(host):
        policy.check_destination(host, effective)
    elif _is_local_name(host):
        raise OutboundRefused(f"host {host!r} is a local name")
    return effective


def _parse(url: str) -> httpx2.URL:
    try:
        return httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError, ValueError):
        raise OutboundRefused("not a URL") from None


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise OutboundRefused unless a school may send requests to `url` (see the module).

    With `resolve`, the host is also looked up and every address checked; a name that does
    not resolve now is accepted (DNS may not be set up yet; the connect-time check still
    refuses it then). Parsed the way the HTTP client parses it, so both agree on the host.
    """
    parsed = _parse(url)
    host = parsed.host.lower().rstrip(".")
    port = _check_parts(parsed.scheme, parsed.userinfo, host, parsed.port)
    if resolve and not _is_ip_literal(host):
        policy = OutboundPolicy.current()
        if policy.host_is_allowlisted(host):
            return
        try:
            addresses = _resolve(host, port)
        except OSError:
            policy.check_port(port)  # as for a public address: nothing else is known yet
            return
        for address in addresses:
            policy.check_destination(address, port)


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_refusal(exc: BaseException | None) -> bool:
    """True when `exc`, or an exception it was raised from, is an OutboundRefused (the
    SDK wraps what the transport raises)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OutboundRefused):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


# -- the connect-time check ----------------------------------------------------------------


class _RefusedConnect(httpcore2.ConnectError, OutboundRefused):
    """Raised by the guarded backend. httpx2 maps it to httpx2.ConnectError and the SDK to
    APIConnectionError, both keeping it as their cause, where `is_refusal` finds it. It
    carries its reason itself: httpcore2's pool re-raises it `from None`, dropping its own
    cause."""

    def __init__(self, reason: str) -> None:
        OutboundRefused.__init__(self, reason)


class _GuardedBackend(httpcore2.NetworkBackend):
    """Opens TCP connections only to checked addresses: resolve once, check every address,
    connect to the checked IP itself (TLS still verifies the URL's host name: httpcore2
    takes the SNI name from the request's origin, not from this socket)."""

    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        addresses = _checked_addresses(host.lower().rstrip("."), port)
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _checked_addresses(host: str, port: int) -> list[str]:
    policy = OutboundPolicy.current()
    try:
        addresses = [host.strip("[]")] if _is_ip_literal(host.strip("[]")) else None
        if addresses is None:
            addresses = _resolve(host, port)
        if not addresses:
            raise OutboundRefused(f"{host!r} resolves to nothing")
        if not policy.host_is_allowlisted(host):
            for address in addresses:
                policy.check_destination(address, port)
    except OSError:
        # One answer for "does not resolve" and "resolves somewhere refused": neither tells
        # a school admin what exists on the platform's network.
        reason = f"{host!r} does not resolve"
    except OutboundRefused as exc:
        reason = exc.reason
    else:
        return addresses
    raise _RefusedConnect(reason)


# The SDK's own pool limits (openai's DEFAULT_CONNECTION_LIMITS): a client given its own
# transport no longer gets them from the SDK.
_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class GuardedTransport(httpx2.HTTPTransport):
    """httpx2's transport with the outbound rule applied to every request (redirects too)
    and every new connection. Used for school-chosen base URLs, chat and moderation alike.

    The client using it must be built with `trust_env=False`: an environment proxy would
    make the connection on our behalf, out of this check's sight.
    """

    def __init__(self) -> None:
        super().__init__(limits=_LIMITS)
        # httpx2 takes no network backend, so its pool is rebuilt around ours (the same
        # arguments HTTPTransport passes by default). tests/llm/test_outbound.py pins that
        # connections really go through it.
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(),
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        try:
            _check_parts(url.scheme, url.userinfo, url.host.lower().rstrip("."), url.port)
        except OutboundRefused as refused:
            raise httpx2.ConnectError(REFUSED_CODE, request=request) from refused
        return super().handle_request(request)
