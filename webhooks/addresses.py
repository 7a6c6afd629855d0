"""Where a webhook may point: http(s) to public addresses only, unless an admin allows private
ones (the organisation's `webhooks_allow_private`). A webhook URL is a request our servers
make on a member's behalf; pointed at 127.0.0.1, 10.0.0.0/8 or 169.254.169.254 it would reach
our own network and cloud metadata (server-side request forgery)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ValueError):
    """The URL may not be called; the message says why, for people."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: str  # the IP to connect to: checked, so a second lookup cannot swap it (rebinding)


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or AddressRefused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise AddressRefused("This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise AddressRefused("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise AddressRefused("The URL needs a host name.")
    if parts.username or parts.password:
        raise AddressRefused("Put no user name or password in the URL; verify the signature.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(f"{host} cannot be resolved.") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return list(dict.fromkeys(addresses))


def check(url: str, *, allow_private: bool) -> Target:
    """Where to connect for this URL, after refusing it if it reaches a private address.

    Every address the name resolves to must be public: a name with one public and one private
    address could be connected to either.
    """
    scheme, host, port, path = parse(url)
    addresses = resolve(host, port)
    if not addresses:
        raise AddressRefused(f"{host} cannot be resolved.")
    if not allow_private:
        private = [str(a) for a in addresses if not is_public(a)]
        if private:
            raise AddressRefused(
                f"{host} points at a private, loopback or link-local address ({private[0]}); "
                "an admin can allow private addresses for this organisation."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
