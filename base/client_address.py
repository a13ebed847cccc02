"""The one place that decides a request's client address.

Throttles (base/api_throttles.py), the sign-in lockout (django-axes, accounts/lockout.py), the audit
trail and the request log all call `client_address(request)`; nothing else reads
`X-Forwarded-For` or `REMOTE_ADDR` for a decision.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
the deployment's own proxies vouch for it. `TRUSTED_PROXIES` (settings, env) says who they
are:

- empty (the default): no proxy is trusted; the header is ignored and `REMOTE_ADDR` is the
  client. Right for a server that faces the internet directly, and safe when misconfigured.
- a number N: exactly N proxies stand in front of the app (a load balancer = 1). Each
  appends the address it received the request from, so the client is the N-th entry from
  the right of `X-Forwarded-For` + `REMOTE_ADDR`. Anything further left was written by the
  client and is ignored.
- CIDRs (`10.0.0.0/8,2001:db8::/32`): the proxies' addresses. Walking from `REMOTE_ADDR`
  leftwards, every trusted hop is skipped; the first untrusted address is the client.

An entry that is not an IP address (garbage, `unknown`, an obfuscated identifier) ends the
walk at the nearest trusted hop to its right: a forged value can never become a key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # settings.py imports this module: keep django.http out of its start-up
    from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# The key when not even the peer's address is known: all such requests share one bucket.
UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder key, not a bind address


@dataclass(frozen=True)
class TrustedProxies:
    """Either a count of proxies or the networks they live in (never both)."""

    count: int = 0
    networks: tuple[IPNetwork, ...] = ()


@lru_cache(maxsize=8)
def parse_trusted_proxies(raw: str) -> TrustedProxies:
    """`""` -> none, `"2"` -> two proxies, `"10.0.0.0/8, ::1"` -> those networks.

    Raises ImproperlyConfigured naming TRUSTED_PROXIES for anything else, so a typo stops
    start-up instead of silently trusting (or distrusting) every hop.
    """
    text = raw.strip()
    if not text:
        return TrustedProxies()
    if text.isdigit():
        return TrustedProxies(count=int(text))
    try:
        networks = tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in text.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES must be empty, a number of proxies, or comma-separated CIDRs: {exc}"
        ) from exc
    return TrustedProxies(networks=networks)


def _address(value: str) -> IPAddress | None:
    """One hop as a canonical address; None if it is not one. Accepts the forms proxies
    actually write: `[2001:db8::1]:443`, `203.0.113.7:5123`, IPv4-mapped IPv6."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _hops(request: HttpRequest) -> list[str]:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    return [*hops, request.META.get("REMOTE_ADDR", "")]


def client_address(request: HttpRequest) -> str:
    """The client's address as far as the trusted proxies vouch for it (see the module).

    Always a canonical IP address string; `UNKNOWN` only when no usable address is left
    (no REMOTE_ADDR and no trusted hop), so callers never need a None branch.
    Accepts a DRF Request too (it proxies META).
    """
    trusted = parse_trusted_proxies(getattr(settings, "TRUSTED_PROXIES", ""))
    hops = _hops(request)
    remote = _address(hops[-1])
    if trusted.count:
        # The client is the first hop our own N proxies did not write; a shorter chain
        # means the request skipped a proxy, so the leftmost hop we have is the client.
        # No REMOTE_ADDR at all is a proxy on a unix socket: still the nearest proxy.
        chosen = remote
        for hop in reversed(hops[max(0, len(hops) - 1 - trusted.count) : -1]):
            address = _address(hop)
            if address is None:
                break
            chosen = address
        return str(chosen) if chosen is not None else UNKNOWN
    if remote is None:
        return UNKNOWN
    if trusted.networks:
        chosen = remote
        for hop in reversed(hops[:-1]):
            if not any(chosen in network for network in trusted.networks):
                break
            address = _address(hop)
            if address is None:
                break
            chosen = address
        return str(chosen)
    return str(remote)


def throttle_ident(address: str) -> str:
    """The unit a per-address limit counts: the address for IPv4, its /64 for IPv6 (one
    subscriber gets a whole /64, so counting single IPv6 addresses would count nothing)."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address


__all__ = ["TrustedProxies", "client_address", "parse_trusted_proxies", "throttle_ident"]
