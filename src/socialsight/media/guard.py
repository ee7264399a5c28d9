"""Where a photo URL may lead: posts are untrusted, so the machine's own network is off limits.

A URL is fetched only over http or https, and only when every address its host
resolves to is public: loopback, private, link-local, shared (CGNAT), multicast,
reserved and unspecified addresses are refused — for the first URL and for every
redirect — unless the host, or a network that holds the address, is on the
allow-list (``fetch.allow_hosts``: host names, IP addresses or CIDRs). The checked
address is the one connected to, so a DNS answer that changes between the check
and the connection (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from socialsight.errors import RefusedURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """A URL that passed the guard: where to connect, and what to call the host."""

    url: str
    scheme: str
    host: str  # as written in the URL (for the Host header and TLS)
    port: int
    address: IPAddress  # the checked address to connect to


class AddressPolicy:
    """Decides which hosts and addresses a fetch may reach."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.hosts: set[str] = set()
        self.networks: list[Network] = []
        for entry in allow:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.rstrip("."))

    def allows(self, host: str, address: IPAddress) -> bool:
        if address.is_global and not address.is_multicast:
            return True
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(address in network for network in self.networks)

    async def check(self, url: str) -> Target:
        """The connect target for ``url``; raises RefusedURLError when it is not allowed."""
        try:  # a malformed one ("http://[::1/x", a bad port) is the post's, not a crash
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as exc:
            raise RefusedURLError(f"not a URL: {url[:200]!r} ({exc})") from exc
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise RefusedURLError(f"not an http(s) URL: {url[:200]!r}")
        if not host:
            raise RefusedURLError(f"URL has no host: {url[:200]!r}")
        try:
            port = parts.port or SCHEMES[scheme]
        except ValueError as exc:
            raise RefusedURLError(f"bad port in {url[:200]!r}") from exc
        addresses = await resolve(host, port)
        refused = [a for a in addresses if not self.allows(host, a)]
        if refused:
            raise RefusedURLError(
                f"{host} resolves to a non-public address ({refused[0]}); "
                "add it to fetch.allow_hosts to allow it")
        first = next((a for a in addresses if a.version == 4), addresses[0])
        return Target(url, scheme, host, port, first)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host`` (an IP literal is its own address)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedURLError(f"cannot resolve {host[:200]}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # UnicodeError: a label empty ("a..b") or over 63 characters
        raise RefusedURLError(f"not a host name: {host[:200]!r} ({exc})") from exc
    out: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in out:
            out.append(address)
    if not out:
        raise RefusedURLError(f"{host} has no address")
    return out
