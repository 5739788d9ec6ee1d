"""uvicorn, guarded against slow and greedy clients.

uvicorn arms no timer while a request is being read: a client that connects and sends
nothing, or trickles its headers one byte at a time, holds a connection forever (50 such
connections stayed open indefinitely). And its httptools parser buffers header bytes without
limit (13 MB were accepted). `GuardedHttpToolsProtocol` gives every request a deadline to
arrive whole (`[server] read_timeout`, armed at connect and at the first byte of each new
request), and refuses headers over `[server] max_header_bytes` with 431.

The remaining knobs are uvicorn's own: `limit_concurrency` answers 503 beyond
`[server] max_connections`, and `timeout_keep_alive` closes idle connections. In production,
put a reverse proxy in front too (the README's "Slow clients and proxies").
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from settings import ServerConfig

log = logging.getLogger("balance_graph.server")

READ_TIMEOUT_ENV = "BALANCE_GRAPH_READ_TIMEOUT"
HEADER_BYTES_ENV = "BALANCE_GRAPH_MAX_HEADER_BYTES"
"""How the CLI hands `[server]` limits to every worker process uvicorn starts."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a read deadline and a header size limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = ServerConfig()
        self._read_timeout = float(os.environ.get(READ_TIMEOUT_ENV, defaults.read_timeout))
        self._max_header_bytes = int(os.environ.get(HEADER_BYTES_ENV, defaults.max_header_bytes))
        self._read_timer: asyncio.TimerHandle | None = None
        self._in_headers = True  # the next bytes belong to a request's headers
        self._header_bytes = 0
        self._refused = False
        self._finished_one = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and says nothing is held no longer than this

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._finished_one = False
        super().data_received(data)
        # Headers still incomplete after this chunk: count it (unless a request ended in it;
        # then it held that request's body, and the next head is checked when complete).
        if self._in_headers and not self._finished_one and not self._refused:
            self._header_bytes += len(data)
            if self._header_bytes > self._max_header_bytes:
                self._refuse_headers()

    def on_message_begin(self) -> None:
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
        self._in_headers, self._header_bytes = False, 0
        if size > self._max_header_bytes:  # a whole, oversized head arrived in one packet
            self._refuse_headers()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()  # read whole: from here on the request's own deadline applies
        self._in_headers, self._finished_one = True, True
        if not self._refused:
            super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._read_timer is None:
            self._read_timer = self.loop.call_later(self._read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _too_slow(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            log.info("closing a connection that did not send a whole request in time")
            self.transport.close()

    def _refuse_headers(self) -> None:
        self._refused = True
        self._disarm()
        if not self.transport.is_closing():
            body = b"request headers too large\n"
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: text/plain; charset=utf-8\r\n"
                b"connection: close\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            self.transport.close()
