"""GraphQL over HTTP (the GraphQL-over-HTTP spec, audited with `graphql-http`).

The order of a request, every step bounded before the next one starts:

    identify the caller (metering: a key, or the client address) -> read and bound the
    parameters (params.py) -> plan: the document, the operation, variables, static cost and
    rate-class usage (planning.py) -> admit: rate limits and credits checked and charged in
    one atomic step -> execute (execution.py)

- POST `application/json` and GET (queries only: a mutation over GET is 405 with `Allow`).
- `Accept` negotiates `application/graphql-response+json` or `application/json` (also for
  `*/*` or no `Accept`); anything else is 406. A browser's GET (`text/html`) gets GraphiQL.
- Request errors never execute and carry no `data` key. A malformed request (a body that is
  not JSON, missing or mistyped parameters) is 400 under both media types; parse,
  validation, variable coercion and cost errors are 400 under
  `application/graphql-response+json` and 200 under `application/json` (what older clients
  expect).
  Metering refusals are 401, 402, 429 or 503 under both. Refused requests charge nothing.
- An answer without errors is kept for identical requests (responses.py) until its oldest
  value would break the smallest `maxAge` asked; GET answers tell shared caches the same
  (`Cache-Control: max-age` is what is left of it, capped by `[server] max_cache_age`);
  `no-store` for errors, `forceRefresh` and POST, `private` with credentials or an API key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSchema
from graphql.execution.executor import Executor
from starlette.requests import Request
from starlette.responses import Response

from core.metrics import Metrics
from graph.checks.documents import Document, Invalid
from graph.checks.params import JSON, Params, RequestError, read_params
from graph.checks.planning import Plan, Planner, has_non_query, post_only
from graph.execution.answers import ResponseCache
from graph.execution.context import Context
from graph.execution.run import run
from metering.caller import Caller
from metering.meter import Meter, Refusal
from settings import LimitsConfig

GRAPHQL_RESPONSE = "application/graphql-response+json"
_OFFERS = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}
_CREDENTIALS = ("authorization", "cookie", "api-key", "x-api-key")

PageFactory = Callable[[Request], Awaitable[Response]]
STREAMED = (
    "subscriptions are streamed: open a WebSocket (graphql-transport-ws) on this URL, or POST "
    "with Accept: multipart/mixed;subscriptionSpec=1.0 (Apollo's multipart subscriptions)"
)


@dataclass(frozen=True)
class Pipeline:
    """What the endpoint needs from the process's services, built in the app lifespan."""

    schema: GraphQLSchema
    executor: type[Executor[Any]]
    limits: LimitsConfig
    planner: Planner
    meter: Meter
    responses: ResponseCache
    context: Callable[[Request], Context]
    max_cache_age: int
    metrics: Metrics


class GraphQLEndpoint:
    """The `/graphql` route: spec-compliant transport around the pipeline."""

    def __init__(
        self,
        pipeline: Callable[[Request], Pipeline],
        graphiql: PageFactory | None = None,
        subscriptions: SubscriptionHandler | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._graphiql = graphiql
        self._subscriptions = subscriptions

    async def handle(self, request: Request) -> Response:
        if request.method not in {"GET", "POST"}:
            error = RequestError("use GET or POST", "METHOD_NOT_ALLOWED", 405, allow="GET, POST")
            return _request_error(error, JSON)
        if request.method == "GET" and self._graphiql and _wants_html(request):
            return await self._graphiql(request)
        media = _negotiate(request.headers.get("accept"))
        if media is None:
            error = RequestError(
                f"responses are {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE", 406
            )
            return _request_error(error, JSON)
        pipeline = self._pipeline(request)
        started = time.perf_counter()
        planned = await _plan(request, pipeline, media)
        if not isinstance(planned, Response) and planned.plan.subscription:
            if self._subscriptions is not None and streams_multipart(request):
                return await self._subscriptions(request, planned)
            planned = _request_error(RequestError(STREAMED, "BAD_REQUEST", graphql=True), media)
        admitted = (
            planned if isinstance(planned, Response) else await _charge(planned, pipeline, media)
        )
        if isinstance(admitted, Response):
            _count(pipeline.metrics, ["-"], "refused")
            return admitted
        return await _execute(request, pipeline, media, admitted, started)


def streams_multipart(request: Request) -> bool:
    """Whether the client takes Apollo's multipart subscriptions (`Accept: multipart/mixed`
    with a `subscriptionSpec` of 1.0, quoted or not)."""
    for item in request.headers.get("accept", "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() != "multipart/mixed":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "subscriptionspec" and value.strip('"').startswith("1.0"):
                return True
    return False


@dataclass(frozen=True)
class Admitted:
    """A request that passed every check before I/O (and, once charged, its headers say so)."""

    caller: Caller
    params: Params
    document: Document
    plan: Plan
    headers: dict[str, str]
    """The metering headers to answer with."""


SubscriptionHandler = Callable[[Request, Admitted], Awaitable[Response]]
"""Serves a planned (not yet charged) subscription over HTTP (`graph.streams.multipart`)."""


async def _plan(request: Request, pipeline: Pipeline, media: str) -> Admitted | Response:
    """Identify, bound and plan the request, or the response refusing it."""
    metered: dict[str, str] = {}
    try:
        caller = await pipeline.meter.identify(
            request.headers.items(),
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
        )
        metered = {"x-credits-charged": "0"}
        params = await read_params(request, pipeline.limits)
        document = await pipeline.planner.document(params)
        if isinstance(document, Invalid):
            if request.method == "GET" and has_non_query(document.operations):
                raise post_only()
            return _with(_graphql_request_errors(document.errors, media), metered)
        plan = await pipeline.planner.plan(document, params, request.method)
        if isinstance(plan, list):
            return _with(_graphql_request_errors(plan, media), metered)
    except RequestError as exc:
        return _with(_request_error(exc, media), metered)
    except Refusal as exc:
        return refusal(exc, media)
    return Admitted(caller, params, document, plan, metered)


async def _charge(planned: Admitted, pipeline: Pipeline, media: str) -> Admitted | Response:
    """Rate limits and credits, checked and charged in one step; or the refusal."""
    try:
        metered = await pipeline.meter.admit(
            planned.caller, planned.plan.usage, planned.plan.lookups
        )
    except Refusal as exc:
        return refusal(exc, media)
    return replace(planned, headers=metered)


async def _execute(
    request: Request, pipeline: Pipeline, media: str, admitted: Admitted, started: float
) -> Response:
    """The answer to an admitted request: kept bytes when an identical one is fresh, else
    executed (and kept when it has no errors)."""
    params, metered = admitted.params, admitted.headers
    fields = admitted.document.root_fields(params.operation_name)
    key = None
    if pipeline.responses.enabled:
        key = pipeline.responses.key(admitted.caller.scope, admitted.plan.fingerprint)
        hit = await pipeline.responses.get(key)
        if hit is not None:
            _count(pipeline.metrics, fields, "ok", time.perf_counter() - started)
            return _answer(request, hit.body, media, metered, hit.expires, pipeline)
    context = pipeline.context(request)
    body = await run(
        pipeline.schema,
        admitted.document,
        params.operation_name,
        params.variables,
        context,
        pipeline.executor,
    )
    outcome = "ok" if "errors" not in body else "partial" if body.get("data") else "failed"
    _count(pipeline.metrics, fields, outcome, time.perf_counter() - started)
    data = orjson.dumps(body)
    expires = None if "errors" in body else context.scope.hints.expires_at(time.time())
    if key is not None and expires is not None:
        await pipeline.responses.put(key, data, expires)
    return _answer(request, data, media, metered, expires, pipeline)


def _count(
    metrics: Metrics, fields: Iterable[str], outcome: str, seconds: float | None = None
) -> None:
    """One request, under each root field it asked for."""
    for field in fields:
        metrics.requests.inc(root_field=field, outcome=outcome)
        if seconds is not None:
            metrics.request_latency.labels(root_field=field).observe(seconds)


def _negotiate(accept: str | None) -> str | None:
    """The response media type for an `Accept` header, or `None` when none fits."""
    if not accept or not accept.strip():
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media.lower() in _OFFERS and quality > 0:
            ranked.append((-quality, position, _OFFERS[media.lower()]))
    return min(ranked)[2] if ranked else None


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def graphql_request_errors(errors: list[GraphQLError], media: str = JSON) -> Response:
    """Errors that stop an operation before it runs (200, or 400 for graphql-response+json)."""
    return _graphql_request_errors(errors, media)


def _graphql_request_errors(errors: list[GraphQLError], media: str) -> Response:
    status = 400 if media == GRAPHQL_RESPONSE else 200
    return _json({"errors": [e.formatted for e in errors]}, status, media, cache="no-store")


def _request_error(error: RequestError, media: str) -> Response:
    extensions = {"code": error.code, "retryable": False}
    body = {"errors": [{"message": error.message, "extensions": extensions}]}
    status = (400 if media == GRAPHQL_RESPONSE else 200) if error.graphql else error.status
    response = _json(body, status, media, cache="no-store")
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def refusal(refused: Refusal, media: str = JSON) -> Response:
    """Metering's refusal as a response (401, 402, 429, 503), with its headers."""
    extensions = {"code": refused.code, "retryable": refused.retryable, **refused.extensions}
    body = {"errors": [{"message": refused.message, "extensions": extensions}]}
    return _with(_json(body, refused.status, media, cache="no-store"), refused.headers)


def _with(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


def _json(body: dict[str, Any], status: int, media: str, cache: str | None = None) -> Response:
    response = Response(orjson.dumps(body), status, media_type=f"{media}; charset=utf-8")
    response.headers["x-content-type-options"] = "nosniff"
    if cache:
        response.headers["cache-control"] = cache
    return response


def _answer(
    request: Request,
    data: bytes,
    media: str,
    headers: dict[str, str],
    expires: float | None,
    pipeline: Pipeline,
) -> Response:
    """An executed (or cached) answer. A GET may be cached by others until `expires` (never
    past `max_cache_age`); anything else, or an answer with errors (`expires` None), not."""
    response = Response(data, 200, media_type=f"{media}; charset=utf-8")
    response.headers["x-content-type-options"] = "nosniff"
    response.headers.update(headers)
    cache = "no-store"
    if request.method == "GET" and expires is not None:
        left = max(0, min(math.floor(expires - time.time()), pipeline.max_cache_age))
        scope = "private" if any(h in request.headers for h in _CREDENTIALS) else "public"
        cache = f"{scope}, max-age={left}"
    response.headers["cache-control"] = cache
    return response
