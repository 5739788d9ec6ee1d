"""One connection pool per upstream: a hung chain can only exhaust its own.

With one shared `httpx.AsyncClient`, 200 requests waiting on a hung node held every
connection, and a healthy chain's query went from 70 ms to 9 s. Each chain (and each price
source) now gets a client of its own, limited to its `max_connections`; requests beyond that
wait for a connection inside their own attempt deadline.
"""

from __future__ import annotations

import httpx


class Pools:
    """The upstream HTTP clients of one process, opened on demand, closed together."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client(self, name: str, max_connections: int) -> httpx.AsyncClient:
        """The client for upstream `name` (a chain id or a price source)."""
        client = self._clients.get(name)
        if client is None:
            client = httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=max_connections,
                    max_keepalive_connections=max_connections,
                ),
                timeout=httpx.Timeout(10.0, connect=3.0),
                follow_redirects=False,
                transport=self._transport,
            )
            self._clients[name] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
