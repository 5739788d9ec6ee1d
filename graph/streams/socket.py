"""Subscriptions over WebSocket: the `graphql-transport-ws` protocol (graphql-ws's) on
`/graphql`, written here so a subscription passes through the same checks, metering,
context and executor as any request.

    connection_init   within `[live] init_timeout` (else close 4408; twice: 4429). Its
                      payload carries the key as headers would (`{"x-api-key": …}`,
                      `api-key`, `Authorization: Bearer …`; GraphiQL sends its headers
                      editor); the upgrade request's own headers count too. A bad key is
                      not a close (clients retry those for a minute): the connection is
                      acknowledged and every subscribe answered with INVALID_API_KEY.
    subscribe         before the ack: 4401; an id in use: 4409; a malformed message: 4400.
                      Refusals (validation, cost, limits, credits) are an `error` message
                      with the same error objects HTTP answers; only subscriptions run here.
    next / complete   events, then `complete` when the stream ends; an `error` message
                      ends it instead (INSUFFICIENT_CREDITS, a key revoked meanwhile).
    ping / pong       a ping is answered at once.
    4413              the client stopped reading (`[live] max_pending` values collapsed
                      unread): the connection is closed, other connections unaffected.

Before the upgrade: a browser `Origin` outside `[server] cors_origins` (and not the service's
own host: its GraphiQL) is refused (403), and
so is a socket beyond `[live] max_sockets` per worker (uvicorn does not count WebSockets in
`max_connections`). A client offering only the legacy `graphql-ws` protocol gets it echoed
and an immediate close 4406: without the echo, browsers report a bare 1006.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from graph.checks.documents import Invalid
from graph.checks.params import Params, RequestError, params_of
from graph.streams.opening import Opened, Streams, ending, open_subscription, refusal_body
from metering.caller import Caller
from metering.meter import Refusal

PROTOCOL = "graphql-transport-ws"
LEGACY = "graphql-ws"
SLOW_CONSUMER_CLOSE = 4413
CLOSE_WAIT = 5.0
"""Seconds a close frame may wait behind a client that does not read."""
_BEHIND = "Too many pending changes: the client is not reading"


class SocketEndpoint:
    """The `/graphql` WebSocket route; counts this worker's open sockets."""

    def __init__(self, streams: Callable[[WebSocket], Streams]) -> None:
        self._streams = streams
        self.open = 0

    async def handle(self, ws: WebSocket) -> None:
        streams = self._streams(ws)
        denied = _denied(ws, streams, self.open)
        if denied is not None:
            await _deny(ws, *denied)
            return
        offered = ws.scope.get("subprotocols") or []
        if PROTOCOL not in offered:
            await ws.accept(subprotocol=LEGACY if LEGACY in offered else None)
            await ws.close(4406, "Subprotocol not acceptable")
            return
        await ws.accept(subprotocol=PROTOCOL)
        self.open += 1
        gauge = streams.metrics.live_connections.labels(transport="websocket")
        gauge.inc()
        try:
            await Connection(ws, streams).run()
        finally:
            self.open -= 1
            gauge.dec()


def _denied(ws: WebSocket, streams: Streams, open_sockets: int) -> tuple[int, str] | None:
    origins = streams.origins
    origin = ws.headers.get("origin")
    same_site = origin is not None and urlsplit(origin).netloc == ws.headers.get("host")
    if origin is not None and "*" not in origins and origin not in origins and not same_site:
        return 403, "this origin may not open WebSockets here ([server] cors_origins)\n"
    if open_sockets >= streams.config.max_sockets:
        return 503, "too many open WebSockets on this worker; retry shortly\n"
    return None


async def _deny(ws: WebSocket, status: int, text: str) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(PlainTextResponse(text, status))
    else:
        await ws.close(1008 if status == 403 else 1013)  # before accept: HTTP 403


class Connection:
    """One socket's protocol state and its running subscriptions."""

    def __init__(self, ws: WebSocket, streams: Streams) -> None:
        self.ws, self.streams = ws, streams
        self.caller: Caller | Refusal | None = None
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.closed = asyncio.Event()
        self._closing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.streams.config.init_timeout, self._init_timed_out)
        receiving = loop.create_task(self._receive())
        closed = loop.create_task(self.closed.wait())
        try:
            await asyncio.wait({receiving, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            for task in [receiving, closed, *self.operations.values()]:
                task.cancel()
            await asyncio.gather(
                receiving, closed, *self.operations.values(), return_exceptions=True
            )
            if self._closing is not None:
                await self._closing

    def _init_timed_out(self) -> None:
        if self.caller is None:
            self.close(4408, "Connection initialisation timeout")

    async def _receive(self) -> None:
        while not self.closed.is_set():
            try:
                text = await self.ws.receive_text()
            except WebSocketDisconnect:
                self.closed.set()
                return
            except (KeyError, RuntimeError):  # a binary frame
                self.close(4400, "Invalid message received")
                return
            await self._handle(text)

    def close(self, code: int, reason: str) -> None:
        """Close with `code` (at most `CLOSE_WAIT` seconds behind unread data); the
        connection's operations stop at once."""
        if self.closed.is_set():
            return
        self.closed.set()
        self._closing = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code, reason[:120]), CLOSE_WAIT)

    async def send(self, message: dict[str, Any]) -> None:
        if not self.closed.is_set():
            async with self._lock:
                await self.ws.send_text(json.dumps(message, separators=(",", ":")))

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
            kind = message["type"]
        except (ValueError, TypeError, KeyError):
            self.close(4400, "Invalid message received")
            return
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message.get("id"), message.get("payload"))
        elif kind == "complete":
            op_id = message.get("id")
            task = self.operations.pop(op_id, None) if isinstance(op_id, str) else None
            if task is not None:
                task.cancel()
        else:
            self.close(4400, f"Unexpected message of type {str(kind)[:40]}")

    async def _init(self, payload: Any) -> None:
        if self.caller is not None:
            self.close(4429, "Too many initialisation requests")
            return
        if payload is not None and not isinstance(payload, dict):
            self.close(4400, "Invalid message received")
            return
        given = {k.lower(): v for k, v in (payload or {}).items() if isinstance(v, str)}
        headers = [*given.items(), *(h for h in self.ws.headers.items() if h[0] not in given)]
        peer = self.ws.client.host if self.ws.client else None
        forwarded = self.ws.headers.getlist("x-forwarded-for")
        try:
            self.caller = await self.streams.pipeline.meter.identify(headers, peer, forwarded)
        except Refusal as exc:
            self.caller = exc  # answered to every subscribe: clients retry a closed socket
        await self.send({"type": "connection_ack"})

    async def _subscribe(self, op_id: Any, payload: Any) -> None:
        if not (isinstance(op_id, str) and op_id and isinstance(payload, dict)):
            self.close(4400, "Invalid message received")
            return
        if self.caller is None:
            self.close(4401, "Unauthorized")
            return
        if op_id in self.operations:
            self.close(4409, f"Subscriber for {op_id[:80]} already exists")
            return
        task = asyncio.get_running_loop().create_task(self._operate(op_id, payload))
        self.operations[op_id] = task
        task.add_done_callback(lambda _: self._finished(op_id, task))

    def _finished(self, op_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(op_id) is task:  # an id may be reused once its operation ended
            del self.operations[op_id]

    async def _operate(self, op_id: str, payload: dict[str, Any]) -> None:
        request_id = uuid.uuid4().hex
        try:
            opened = await self._open(payload, request_id)
        except Refusal as exc:
            await self._error(op_id, [ending(exc, request_id)])
            return
        except RequestError as exc:
            extensions = {"code": exc.code, "retryable": False}
            await self._error(op_id, [{"message": exc.message, "extensions": extensions}])
            return
        if not isinstance(opened, Opened):
            await self._error(op_id, opened)
            return
        await self._stream(op_id, opened, request_id)

    async def _open(
        self, payload: dict[str, Any], request_id: str
    ) -> Opened | list[dict[str, Any]]:
        caller = self.caller
        if isinstance(caller, Refusal):
            raise caller
        assert caller is not None
        pipeline = self.streams.pipeline
        params: Params = params_of(payload, pipeline.limits)
        document = await pipeline.planner.document(params)
        if isinstance(document, Invalid):  # request errors: shown as HTTP shows them
            return [dict(e.formatted) for e in document.errors]
        plan = await pipeline.planner.plan(document, params, "POST")
        if isinstance(plan, list):
            return [dict(e.formatted) for e in plan]
        if not plan.subscription:
            message = "only subscriptions run over WebSocket: send queries over HTTP"
            extensions = {"code": "BAD_REQUEST", "retryable": False}
            return [{"message": message, "extensions": extensions}]
        outcome = await open_subscription(self.streams, caller, document, params, plan, request_id)
        return outcome if isinstance(outcome, Opened) else refusal_body(outcome, request_id)

    async def _stream(self, op_id: str, opened: Opened, request_id: str) -> None:
        kicked = asyncio.get_running_loop().create_task(self._kick_when_behind(opened))
        try:
            async for body in opened.bodies():
                await self.send({"id": op_id, "type": "next", "payload": body})
                opened.sent()
            await self.send({"id": op_id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if opened.mailbox.overflowed.is_set():
                self.close(SLOW_CONSUMER_CLOSE, _BEHIND)
            else:
                await self._error(op_id, [ending(exc, request_id)])
        finally:
            kicked.cancel()
            await opened.aclose()

    async def _kick_when_behind(self, opened: Opened) -> None:
        """A subscriber that stopped reading is closed even while a send waits on it."""
        await opened.mailbox.overflowed.wait()
        self.close(SLOW_CONSUMER_CLOSE, _BEHIND)

    async def _error(self, op_id: str, errors: list[dict[str, Any]]) -> None:
        await self.send({"id": op_id, "type": "error", "payload": errors})
