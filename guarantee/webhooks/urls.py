"""Where a webhook may be sent: the check against server-side request forgery.

A webhook URL is https (http only if GUARANTEE_WEBHOOKS_ALLOW_HTTP is on), names a host and no
user name or password, and every address its host resolves to is on the public internet: never
the service's own machine (loopback, unspecified), a private or carrier-grade NAT network, a
link-local address (169.254.169.254, a cloud's metadata service), multicast, reserved ranges, or
an IPv4 address written inside IPv6. GUARANTEE_WEBHOOKS_ALLOW_PRIVATE lifts the address rule
(tests, receivers on an intranet).

The check runs when an admin registers an endpoint and again before every delivery, which then
connects to the very address that was checked: a name that resolves elsewhere between the check
and the connection (DNS rebinding) cannot move the request. Flask-free.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from guarantee.services.errors import ValidationFailed
from workflows.words import N_, AsWritten, words

MAX_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, as text.
Resolve = Callable[[str, int], list[str]]

# Not public, though Python's is_private does not say so for every one of them.
_NOT_PUBLIC = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (RFC 6598)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use IPv4/IPv6 translation
    ipaddress.ip_network("fc00::/7"),  # unique local
    ipaddress.ip_network("fec0::/10"),  # site-local (deprecated)
)


@dataclass(frozen=True)
class Policy:
    """What configuration allows beyond public https addresses."""

    allow_http: bool = False  # GUARANTEE_WEBHOOKS_ALLOW_HTTP
    allow_private: bool = False  # GUARANTEE_WEBHOOKS_ALLOW_PRIVATE


def policy_from(settings: Mapping[str, object]) -> Policy:
    """The policy the settings give (GUARANTEE_WEBHOOKS_ALLOW_HTTP, GUARANTEE_WEBHOOKS_ALLOW_PRIVATE)."""
    return Policy(
        allow_http=bool(settings.get("GUARANTEE_WEBHOOKS_ALLOW_HTTP")),
        allow_private=bool(settings.get("GUARANTEE_WEBHOOKS_ALLOW_PRIVATE")),
    )


@dataclass(frozen=True)
class Target:
    """A checked URL, and the address to connect to (the one that was checked)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str


class Refused(ValidationFailed):
    """The URL may not be used; the message says why and what would do."""

    def __init__(self, message: str) -> None:
        super().__init__({"url": [message]})
        self.reason = message


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def why_not_public(address: IPAddress) -> str | None:
    """Why this address may not receive webhooks (marked English), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped is not None or address.sixtofour is not None or address.teredo is not None
    ):
        return N_("an IPv4 address written as IPv6")
    if address.is_unspecified:
        return N_("an unspecified address")
    if address.is_loopback:
        return N_("this machine (a loopback address)")
    if address.is_link_local:
        return N_("a link-local address (such as a cloud metadata service)")
    if address.is_multicast:
        return N_("a multicast address")
    if any(address in network for network in _NOT_PUBLIC if network.version == address.version):
        return N_("a private network")
    if address.is_private:
        return N_("a private network")
    if address.is_reserved or not address.is_global:
        return N_("a reserved address")
    return None


def check(url: object, policy: Policy, resolver: Resolve = resolve) -> Target:
    """The target of ``url`` if webhooks may go there; otherwise Refused, saying why."""
    if not isinstance(url, str) or not url.strip():
        raise Refused(N_("Enter the URL to send webhooks to, like https://crm.example/in"))
    url = url.strip()
    if len(url) > MAX_LENGTH:
        raise Refused(words("The URL must be %(max)s characters or fewer.", max=MAX_LENGTH))
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise Refused(N_("The URL must not contain spaces or control characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(N_("Enter a full URL, like https://crm.example/in")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise Refused(N_("Enter a full URL starting with https://, like https://crm.example/in"))
    if scheme == "http" and not policy.allow_http:
        raise Refused(
            N_("The URL must start with https://, so that webhooks are encrypted on their way (http is turned off).")
        )
    if parts.username is not None or parts.password is not None:
        raise Refused(N_("The URL must not contain a user name or password: the signature proves who sent it."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused(N_("Enter a full URL with a host name, like https://crm.example/in"))
    if parts.fragment:
        raise Refused(N_("The URL must not have a fragment (the part after #)."))
    port = port or (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise Refused(words("The host %(host)s could not be found. Check the URL.", host=AsWritten(host)))
    if not policy.allow_private:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            why = why_not_public(address)
            if why is not None:
                raise Refused(
                    words(
                        "Webhooks cannot be sent to %(host)s: it is %(why)s, not an address on the internet.",
                        host=AsWritten(host),
                        why=why,
                    )
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, address=addresses[0])
