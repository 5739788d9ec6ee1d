"""GraphQL over HTTP (the GraphQL-over-HTTP spec, audited with `graphql-http`).

The order of a request, every step bounded before the next one starts:

    read and bound the parameters (params.py) -> the document, parsed and validated once
    (documents.py, APQ through persisted.py) -> the operation -> variables coerced ->
    static cost in lookups (cost.py), refused over the budget -> execute (execution.py)

- POST `application/json` and GET (queries only: a mutation over GET is 405 with `Allow`).
- `Accept` negotiates `application/graphql-response+json` or `application/json` (also for
  `*/*` or no `Accept`); anything else is 406. A browser's GET (`text/html`) gets GraphiQL.
- Request errors (bad JSON or parameters, parse, validation, variable coercion, cost) never
  execute and carry no `data` key: 400 under `application/graphql-response+json`, 200 under
  `application/json` (what older clients expect), 400 for malformed HTTP requests in both.
- GET responses get a `Cache-Control` derived from the smallest `maxAge` the query used,
  capped by `[server] max_cache_age`; `no-store` when the response has errors, `private`
  when the request carries credentials or an API key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationType
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chains.metrics import Metrics
from graph.context import Context
from graph.cost import CostModel
from graph.documents import Document, DocumentCache, Invalid
from graph.execution import run
from graph.params import JSON, Params, RequestError, read_params
from graph.persisted import PersistedQueries
from settings import LimitsConfig

GRAPHQL_RESPONSE = "application/graphql-response+json"
_OFFERS = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}
_CREDENTIALS = ("authorization", "cookie", "api-key", "x-api-key")

PageFactory = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Pipeline:
    """What the endpoint needs from the process's services, built in the app lifespan."""

    schema: GraphQLSchema
    limits: LimitsConfig
    documents: DocumentCache
    persisted: PersistedQueries
    cost: CostModel
    context: Callable[[Request], Context]
    max_cache_age: int
    persisted_max_bytes: int
    metrics: Metrics


class GraphQLEndpoint:
    """The `/graphql` route: spec-compliant transport around the pipeline."""

    def __init__(
        self, pipeline: Callable[[Request], Pipeline], graphiql: PageFactory | None = None
    ) -> None:
        self._pipeline = pipeline
        self._graphiql = graphiql

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
        try:
            params = await read_params(request, pipeline.limits)
            document = await _document(pipeline, params)
            if isinstance(document, Invalid):
                if request.method == "GET" and _has_non_query(document.operations):
                    raise _post_only()
                _count(pipeline.metrics, ["-"], "refused")
                return _graphql_request_errors(document.errors, media)
            refused = _prepare(pipeline, document, params, request.method)
            if refused:
                _count(pipeline.metrics, ["-"], "refused")
                return _graphql_request_errors(refused, media)
        except RequestError as exc:
            _count(pipeline.metrics, ["-"], "refused")
            return _request_error(exc, media)
        context = pipeline.context(request)
        body = await run(
            pipeline.schema, document, params.operation_name, params.variables, context
        )
        fields = document.root_fields(params.operation_name)
        outcome = "ok" if "errors" not in body else "partial" if body.get("data") else "failed"
        _count(pipeline.metrics, fields, outcome, time.perf_counter() - started)
        response = _json(body, 200, media)
        response.headers["cache-control"] = _cache_control(
            request, context, "errors" in body, pipeline.max_cache_age
        )
        return response


async def _document(pipeline: Pipeline, params: Params) -> Document | Invalid:
    """The document to run: the query text, or Apollo's automatic persisted query."""
    persisted = (params.extensions or {}).get("persistedQuery")
    if persisted is None:
        if params.query is None:
            raise RequestError("a {query} string is required", "BAD_REQUEST")
        return pipeline.documents.load(params.query)
    digest = _digest(persisted)
    if params.query is not None:  # registration: store only what parses, validates and fits
        if hashlib.sha256(params.query.encode()).hexdigest() != digest:
            raise RequestError("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
        outcome = pipeline.documents.load(params.query, digest)
        if (
            isinstance(outcome, Document)
            and len(params.query.encode()) <= pipeline.persisted_max_bytes
        ):
            await pipeline.persisted.put(digest, params.query)
        return outcome
    known = pipeline.documents.get(digest)
    if known is not None:
        return known
    text = await pipeline.persisted.get(digest)
    if text is None or hashlib.sha256(text.encode()).hexdigest() != digest:
        raise RequestError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
    return pipeline.documents.load(text, digest)


def _digest(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise RequestError("persistedQuery must be {version: 1, sha256Hash}", "BAD_REQUEST")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise RequestError("persistedQuery.sha256Hash must be 64 hex digits", "BAD_REQUEST")
    return digest.lower()


def _prepare(
    pipeline: Pipeline, document: Document, params: Params, method: str
) -> list[GraphQLError]:
    """The errors that stop this operation before execution (none: it may run)."""
    operation = document.operation(params.operation_name)
    if operation is None:
        which = f"named {params.operation_name!r}" if params.operation_name else "to run"
        return [
            _coded(GraphQLError(f"the document has no single operation {which}"), "BAD_REQUEST")
        ]
    if method == "GET" and _has_non_query([operation.operation]):
        raise _post_only()
    coerced = get_variable_values(
        pipeline.schema, operation.variable_definitions or (), params.variables or {}, max_errors=10
    )
    if isinstance(coerced, list):
        return [_coded(e, "BAD_USER_INPUT") for e in coerced]
    lookups = pipeline.cost.lookups(document.node, operation, coerced)
    budget = pipeline.limits.max_lookups
    if lookups > budget:
        message = (
            f"this request asks for {lookups} balance lookups; at most {budget} per request: "
            "split it into several requests"
        )
        return [_coded(GraphQLError(message), "COST_LIMIT_EXCEEDED")]
    return []


def _count(
    metrics: Metrics, fields: Iterable[str], outcome: str, seconds: float | None = None
) -> None:
    """One request, under each root field it asked for."""
    for field in fields:
        metrics.requests.inc(root_field=field, outcome=outcome)
        if seconds is not None:
            metrics.request_latency.labels(root_field=field).observe(seconds)


def _has_non_query(kinds: Iterable[OperationType]) -> bool:
    return any(kind is not OperationType.QUERY for kind in kinds)


def _post_only() -> RequestError:
    return RequestError(
        "mutations and subscriptions are only accepted over POST",
        "METHOD_NOT_ALLOWED",
        405,
        allow="POST",
    )


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


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


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


def _json(body: dict[str, Any], status: int, media: str, cache: str | None = None) -> Response:
    response = JSONResponse(body, status_code=status, media_type=f"{media}; charset=utf-8")
    response.headers["x-content-type-options"] = "nosniff"
    if cache:
        response.headers["cache-control"] = cache
    return response


def _cache_control(request: Request, context: Context, has_errors: bool, cap: int) -> str:
    if request.method != "GET" or has_errors:
        return "no-store"
    max_age = context.scope.hints.max_age()
    if max_age is None:
        return "no-store"
    scope = "private" if any(h in request.headers for h in _CREDENTIALS) else "public"
    return f"{scope}, max-age={min(max_age, cap)}"
