"""A live subscription from admission to its end, whatever carries it (`socket.py`,
`multipart.py`).

The transport has identified the caller and planned the operation with the same checks as
any request (`graph.checks`: parameters, document, cost, rate classes; a subscription whose
arguments no chain accepts is refused there, before anything is charged). Opening it then:

    claim a place among the caller's open subscriptions (`metering.streams`)
    -> admit: the `subscribe` rate class and one credit per watched lookup, atomically
    -> build the executor (the process's `DirectExecutor`) and the source stream: the
       resolver plans its rows and runs discovery, so arguments are refused here as
       GraphQL errors too

Each event is executed with a context of its own (fresh loaders, a fresh deadline, its own
errors: nothing piles up across events), and its body made as a query's is (`response_body`).
Pushed changes are paid for batch by batch as they leave the mailbox (`LiveSession.pay`),
so a key out of credits ends the subscription with INSUFFICIENT_CREDITS.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult, GraphQLError
from graphql.execution import (
    Executor,
    create_source_event_stream,
    execute_subscription_event,
    map_source_to_response_event,
)

from chains.live.hub import LiveHub
from chains.live.mailbox import Mailbox, SlowConsumer
from core.errors import ServiceError
from core.metrics import Metrics
from graph.checks.documents import Document
from graph.checks.params import Params
from graph.checks.planning import Plan
from graph.execution.context import Context, LiveSession
from graph.execution.run import public
from graph.http.endpoint import Pipeline
from graph.schema.subscription import BalanceChange
from metering.caller import Caller
from metering.meter import Meter, Refusal
from metering.streams import Held, OpenStreams
from settings import LiveConfig

log = logging.getLogger("balance_graph.errors")

SLOW_CONSUMER = "SLOW_CONSUMER"
"""The code of the error that ends a subscription whose client stopped reading."""


@dataclass(frozen=True)
class Streams:
    """What live subscriptions share in one process, built in the app lifespan."""

    pipeline: Pipeline
    origins: tuple[str, ...]
    """`[server] cors_origins`: browser origins that may open WebSockets (`*`: any)."""
    context: Callable[[str], Context]
    """A fresh request context, by request id (a subscription's, then each event's)."""
    hub: LiveHub
    holds: OpenStreams
    config: LiveConfig
    metrics: Metrics


@dataclass(eq=False)
class Opened:
    """An admitted subscription: its event bodies until it ends (`aclose` always)."""

    streams: Streams
    request_id: str
    mailbox: Mailbox
    held: Held
    headers: dict[str, str]
    """Metering's response headers (multipart answers with them)."""
    results: AsyncGenerator[ExecutionResult, None] | None = None
    last: Any = None
    """The event whose result was yielded last (for the push metrics)."""
    _closed: bool = field(default=False, repr=False)

    async def bodies(self) -> AsyncIterator[dict[str, Any]]:
        assert self.results is not None
        async for result in self.results:
            yield dict(result.formatted)

    def sent(self) -> None:
        """The last body reached the transport: count it, and its lag since its block."""
        change = self.last
        if isinstance(change, BalanceChange) and change.previous_raw_amount is not None:
            metrics = self.streams.metrics
            metrics.live_pushes.inc(chain=change.chain)
            if change.timestamp is not None:
                lag = max(0.0, time.time() - change.timestamp)
                metrics.live_push_lag.labels(chain=change.chain).observe(lag)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.results is not None:
                await self.results.aclose()
        finally:
            self.streams.holds.release(self.held)
            self.streams.metrics.live_subscriptions.dec()


async def open_subscription(
    streams: Streams,
    caller: Caller,
    document: Document,
    params: Params,
    plan: Plan,
    request_id: str,
) -> Opened | list[GraphQLError]:
    """The running subscription, or the errors that refused it; `Refusal` from metering."""
    held = streams.holds.hold(caller.subject, plan.lookups)
    try:
        headers = await streams.pipeline.meter.admit(caller, plan.usage, plan.lookups)
    except BaseException:
        streams.holds.release(held)
        raise
    streams.metrics.live_subscriptions.inc()
    opened = Opened(streams, request_id, Mailbox(streams.config.max_pending), held, headers)
    try:
        outcome = await _source(streams, opened, caller, document, params)
    except BaseException:
        await opened.aclose()
        raise
    if isinstance(outcome, list):
        await opened.aclose()
        return outcome
    executor, source = outcome
    opened.results = map_source_to_response_event(
        executor, _tracked(opened, source), _event_runner(streams, request_id)
    )
    return opened


async def _source(
    streams: Streams, opened: Opened, caller: Caller, document: Document, params: Params
) -> tuple[Executor[Any], AsyncIterator[Any]] | list[GraphQLError]:
    pipeline = streams.pipeline
    context = streams.context(opened.request_id)
    context.live = LiveSession(
        opened.mailbox,
        streams.hub,
        _payer(pipeline.meter, caller),
        lambda: streams.context(opened.request_id).scope,
        _claimer(streams.holds, opened.held, _payer(pipeline.meter, caller)),
    )
    executor = pipeline.executor.build(
        pipeline.schema,
        document.node,
        None,
        context,
        params.variables,
        params.operation_name,
    )
    if isinstance(executor, list):
        return executor
    source = create_source_event_stream(executor)
    if inspect.isawaitable(source):
        source = await source
    if isinstance(source, ExecutionResult):
        return list(source.errors or [])
    return executor, aiter(source)


async def _tracked(opened: Opened, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for event in source:
        opened.last = event
        yield event


def _event_runner(streams: Streams, request_id: str) -> Callable[[Executor[Any]], Any]:
    """Executes one event with a context of its own; errors made fit for a client."""

    async def run(executor: Executor[Any]) -> ExecutionResult:
        context = streams.context(request_id)
        executor.context_value = context
        outcome = execute_subscription_event(executor)
        result = await outcome if inspect.isawaitable(outcome) else outcome
        errors = [public(e, request_id) for e in [*(result.errors or []), *context.partial_errors]]
        return ExecutionResult(result.data, errors or None)

    return run


def _claimer(
    holds: OpenStreams, held: Held, pay: Callable[[int], Awaitable[None]]
) -> Callable[[int], Awaitable[int]]:
    """How many of `rows` the subscription may watch: its priced rows, and as many found
    beyond them as its caller's `max_watched_lookups` leaves room for, each paid like a
    priced one (a credit for its snapshot)."""

    async def claim(rows: int) -> int:
        added = holds.extend(held, rows - held.lookups)
        await pay(added)
        return min(rows, held.lookups)

    return claim


def _payer(meter: Meter, caller: Caller) -> Callable[[int], Awaitable[None]]:
    async def pay(changes: int) -> None:
        if changes:
            await meter.admit(caller, {}, changes)

    return pay


def ending(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The error that ends a running subscription, as a client sees it."""
    if isinstance(exc, Refusal):
        extensions = {"code": exc.code, "retryable": exc.retryable, **exc.extensions}
        return {"message": exc.message, "extensions": extensions}
    if isinstance(exc, SlowConsumer):
        message = f"the client stopped reading: {exc}; the subscription is closed"
        return {"message": message, "extensions": {"code": SLOW_CONSUMER, "retryable": True}}
    if isinstance(exc, ServiceError):
        return {"message": exc.message, "extensions": exc.extensions}
    error = exc if isinstance(exc, Exception) else RuntimeError(type(exc).__name__)
    return dict(public(GraphQLError("unexpected", original_error=error), request_id).formatted)


def refusal_body(errors: list[GraphQLError], request_id: str) -> list[dict[str, Any]]:
    """Errors that refused a subscription before it ran, as a client sees them."""
    return [dict(public(e, request_id).formatted) for e in errors]
