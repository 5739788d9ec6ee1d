"""Who is calling: the API key a request presents, or the address it comes from.

Keys are read from `api-key`, `x-api-key` (TokenKit's and ChainKit's headers) and
`Authorization: Bearer <key>`. Anything in the first two is meant as our key; a bearer token
is ours only if it has our prefix (`bgk_`), so a JWT a gateway forwards for another service
is left alone rather than refused. An empty header is no key (GraphiQL sends `x-api-key: ""`
until one is typed in); two different keys in one request are refused, never guessed between.
Keys are never read from the URL, where access logs and proxies would keep them.

The client's address is the TCP peer's, unless the peer is a trusted proxy: then
`X-Forwarded-For` is read from the right, skipping trusted proxies, and the first address
that is not one is the client. Anything a client can write (the left of the list, or the
header itself when it connects directly) is never believed. IPv6 clients are counted per
/64, the block one subscriber gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from metering.keys import PREFIX, KeyRecord

KEY_HEADERS = ("api-key", "x-api-key")
Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


class ConflictingKeys(ValueError):
    """The request carries two different keys."""


@dataclass(frozen=True)
class Caller:
    subject: str
    """Whose counters: `key:<digest>` for a key, `ip:<address>` (or `ip:<prefix>/64`)."""
    record: KeyRecord | None = None
    """The key's record; `None` for anonymous callers."""

    @property
    def scope(self) -> str:
        """Whose answers may be shared with this caller: its key's, or all anonymous ones."""
        return self.subject if self.record else "anonymous"

    @property
    def name(self) -> str:
        """How metrics and logs name this caller (never the key, never the address)."""
        return self.record.name if self.record else "anonymous"


def presented_key(values: Iterable[tuple[str, str]]) -> str | None:
    """The key in these (lower-case name, value) headers, if any."""
    found: set[str] = set()
    for name, value in values:
        if name in KEY_HEADERS:
            found.add(value.strip())
        elif name == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip().startswith(PREFIX):
                found.add(token.strip())
    found.discard("")
    if len(found) > 1:
        raise ConflictingKeys("the request carries more than one API key")
    return found.pop() if found else None


def client_subject(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The rate-limit subject of the client behind `peer`."""
    address = _address(peer)
    if address is None:  # not an IP peer (a Unix socket, a test client)
        return f"ip:{peer or 'unknown'}"
    if _trusted(address, trusted):
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            claimed = _address(hop)
            if claimed is None:  # garbage: nothing to its left can be believed either
                break
            address = claimed
            if not _trusted(claimed, trusted):
                break
    return _subject(address)


def _address(text: str | None) -> Address | None:
    try:
        address = ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def _subject(address: Address) -> str:
    if isinstance(address, IPv6Address):
        return f"ip:{ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"
