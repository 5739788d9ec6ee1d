"""Subscriptions over plain HTTP: Apollo's multipart subscription protocol, for clients
without WebSockets (Apollo Client's `HttpLink` speaks it with no extra package).

A POST to `/graphql` whose `Accept` has `multipart/mixed` with `subscriptionSpec=1.0` and
whose operation is a subscription is answered `200`,
`Content-Type: multipart/mixed;boundary="graphql";subscriptionSpec=1.0`, one part per event:

    --graphql
    Content-Type: application/json; charset=utf-8

    {"payload": {"data": {...}, "errors": [...]}}
    --graphql

with `{}` as a keep-alive part every `[live] heartbeat` seconds (and at once), and a last
part `{"payload": null, "errors": [...]}` when the subscription ends on an error (credits,
a revoked key, a client that stopped reading), then `--graphql--`. Every delimiter follows
its part at once: Apollo Client hands a part over only when the next delimiter arrives.

Everything refused before the stream starts (the parameters, the document, cost, limits,
keys, credits) is the same JSON response, status and headers as for a query. The stream
ends when the client disconnects, and a stopping server ends it within `[server]
shutdown_timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from chains.live.mailbox import SlowConsumer
from graph.http.endpoint import Admitted, SubscriptionHandler, graphql_request_errors, refusal
from graph.streams.opening import Opened, Streams, ending, open_subscription
from metering.meter import Refusal

BOUNDARY = "graphql"
CONTENT_TYPE = f'multipart/mixed;boundary="{BOUNDARY}";subscriptionSpec=1.0'
_PART = b"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
_DELIMITER = f"\r\n--{BOUNDARY}".encode()
_HEARTBEAT = b"{}"


def multipart_handler(streams: Callable[[Request], Streams]) -> SubscriptionHandler:
    """The endpoint's handler for subscriptions over HTTP."""

    async def handle(request: Request, planned: Admitted) -> Response:
        live = streams(request)
        request_id = request.state.request_id
        document, params = planned.document, planned.params
        try:
            opened = await open_subscription(
                live, planned.caller, document, params, planned.plan, request_id
            )
        except Refusal as exc:
            return refusal(exc)
        if not isinstance(opened, Opened):
            return graphql_request_errors(opened)
        return MultipartStream(opened, request_id, live.config.heartbeat, live)

    return handle


class MultipartStream(Response):
    """The events of one subscription, as a multipart HTTP response."""

    def __init__(self, opened: Opened, request_id: str, heartbeat: float, live: Streams) -> None:
        super().__init__(media_type=None)
        self.opened, self.request_id = opened, request_id
        self.heartbeat, self.live = heartbeat, live
        self.headers["content-type"] = CONTENT_TYPE
        self.headers["cache-control"] = "no-store"
        self.headers.update(opened.headers)
        del self.headers["content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gauge = self.live.metrics.live_connections.labels(transport="multipart")
        gauge.inc()
        loop = asyncio.get_running_loop()
        streaming = loop.create_task(self._stream(send))
        gone = loop.create_task(_disconnected(receive))
        behind = loop.create_task(self.opened.mailbox.overflowed.wait())
        try:
            await asyncio.wait({streaming, gone, behind}, return_when=asyncio.FIRST_COMPLETED)
            if behind.done() and not streaming.done():
                streaming.cancel()  # a send may wait on a client that stopped reading
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(self._end(send, self._behind()), 1.0)
        finally:
            for task in (streaming, gone, behind):
                task.cancel()
            await asyncio.gather(streaming, gone, behind, return_exceptions=True)
            await self.opened.aclose()
            gauge.dec()

    async def _stream(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        opening = f"--{BOUNDARY}".encode()
        await send({"type": "http.response.body", "body": opening, "more_body": True})
        await self._part(send, _HEARTBEAT)
        final: dict[str, Any] | None = None
        try:
            async for body in _with_heartbeats(self.opened.bodies(), self.heartbeat):
                if body is None:
                    await self._part(send, _HEARTBEAT)
                    continue
                await self._part(send, _json({"payload": body}))
                self.opened.sent()
        except Exception as exc:
            behind = self.opened.mailbox.overflowed.is_set()
            final = self._behind() if behind else ending(exc, self.request_id)
        await self._end(send, final)

    async def _part(self, send: Send, body: bytes) -> None:
        part = _PART + body + _DELIMITER
        await send({"type": "http.response.body", "body": part, "more_body": True})

    async def _end(self, send: Send, error: dict[str, Any] | None) -> None:
        if error is not None:
            await self._part(send, _json({"payload": None, "errors": [error]}))
        await send({"type": "http.response.body", "body": b"--\r\n", "more_body": False})

    def _behind(self) -> dict[str, Any]:
        unread = SlowConsumer(f"more than {self.live.config.max_pending} values left unread")
        return ending(unread, self.request_id)


async def _with_heartbeats(
    bodies: AsyncIterator[dict[str, Any]], every: float
) -> AsyncIterator[dict[str, Any] | None]:
    """`bodies`, and `None` whenever `every` seconds pass without one."""
    iterator = aiter(bodies)
    pending: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next(iterator))
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield None
                continue
            try:
                body = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield body
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending


async def _next(iterator: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await anext(iterator)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
