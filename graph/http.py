"""GraphQL over HTTP (the GraphQL-over-HTTP spec, audited with `graphql-http`).

- POST `application/json` and GET (queries only: a mutation over GET is 405 with `Allow`).
- `Accept` negotiates `application/graphql-response+json` or `application/json` (also for
  `*/*` or no `Accept`); anything else is 406. A browser's GET (`text/html`) gets GraphiQL.
- Request errors (bad JSON or parameters, parse, validation, variable coercion) never execute
  and carry no `data` key: 400 under `application/graphql-response+json`, 200 under
  `application/json` (what older clients expect), 400 for malformed HTTP requests in both.
- Automatic persisted queries (Apollo's APQ protocol), stored in the service's cache.
- GET responses get a `Cache-Control` derived from the smallest `maxAge` the query used;
  `no-store` when the response has errors, `private` when the request carries credentials.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLError,
    OperationType,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry import Schema
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from chains.cache.base import Cache
from graph.context import Context
from graph.schema import MAX_TOKENS
from settings import LimitsConfig

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_APQ_TTL = 7 * 86_400
_OFFERS = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}

ContextFactory = Callable[[Request], Awaitable[Context]]
PageFactory = Callable[[Request], Awaitable[Response]]


class RequestError(Exception):
    """The request cannot be executed; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, code: str, status: int = 400, **headers: str) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.headers = message, code, status, headers


@dataclass(frozen=True)
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


class GraphQLEndpoint:
    """The `/graphql` route: spec-compliant transport around `schema.execute`."""

    def __init__(
        self,
        schema: Schema,
        limits: LimitsConfig,
        context: ContextFactory,
        apq_store: Callable[[Request], Cache],
        graphiql: PageFactory | None = None,
    ) -> None:
        self._schema = schema
        self._context = context
        self._apq_store = apq_store
        self._graphiql = graphiql
        self._rules = [
            *specified_rules,
            depth_rule(limits.max_depth, None),
            alias_rule(limits.max_aliases),
        ]

    async def handle(self, request: Request) -> Response:
        if request.method not in {"GET", "POST"}:
            return _request_error(
                RequestError("use GET or POST", "METHOD_NOT_ALLOWED", 405, allow="GET, POST"), JSON
            )
        if request.method == "GET" and self._graphiql and _wants_html(request):
            return await self._graphiql(request)
        media = _negotiate(request.headers.get("accept"))
        if media is None:
            return _request_error(
                RequestError(f"responses are {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE", 406),
                JSON,
            )
        try:
            params = await _read_params(request)
            query = await self._persisted(request, params)
            document = self._document(query, params, request.method)
            context = await self._context(request)
        except RequestError as exc:
            return _request_error(exc, media)
        if isinstance(document, list):
            return _graphql_request_errors(document, media)
        result = await self._schema.execute(
            query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        response = _json(body, 200, media)
        response.headers["cache-control"] = _cache_control(request, context, bool(result.errors))
        return response

    def _document(
        self, query: str, params: Params, method: str
    ) -> OperationDefinitionNode | list[GraphQLError]:
        """The operation to run, or the request errors that stop it."""
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as exc:  # syntax errors, and documents over the token limit
            return [_with_code(exc, "GRAPHQL_PARSE_FAILED")]
        operation = get_operation_ast(document, params.operation_name)
        if operation is None:
            which = f"named {params.operation_name!r}" if params.operation_name else "to run"
            return [GraphQLError(f"the document has no single operation {which}")]
        if method == "GET" and operation.operation is not OperationType.QUERY:
            raise RequestError(
                f"{operation.operation.value}s are only accepted over POST",
                "METHOD_NOT_ALLOWED",
                405,
                allow="POST",
            )
        schema = self._schema._schema
        errors = validate(schema, document, self._rules)
        if errors:
            return errors
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), params.variables or {}
        )
        if isinstance(coerced, list):
            return [_with_code(e, "BAD_USER_INPUT") for e in coerced]
        return operation

    async def _persisted(self, request: Request, params: Params) -> str:
        """The query text, resolving Apollo's automatic persisted queries."""
        persisted = (params.extensions or {}).get("persistedQuery")
        if persisted is None:
            if params.query is None:
                raise RequestError("a {query} string is required", "BAD_REQUEST")
            return params.query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise RequestError("persistedQuery must be {version: 1, sha256Hash}", "BAD_REQUEST")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise RequestError("persistedQuery.sha256Hash must be 64 hex digits", "BAD_REQUEST")
        digest = digest.lower()
        store = self._apq_store(request)
        key = f"bg:v1:apq:{digest}"
        if params.query is not None:
            if hashlib.sha256(params.query.encode()).hexdigest() != digest:
                raise RequestError(
                    "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
                )
            await store.set_many({key: params.query.encode()}, _APQ_TTL)
            return params.query
        (stored,) = await store.get_many([key])
        if stored is None:
            raise RequestError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
        return stored.decode()


async def _read_params(request: Request) -> Params:
    if request.method == "GET":
        raw: Mapping[str, Any] = {
            "query": request.query_params.get("query"),
            "operationName": request.query_params.get("operationName"),
            "variables": _json_param(request.query_params.get("variables"), "variables"),
            "extensions": _json_param(request.query_params.get("extensions"), "extensions"),
        }
    else:
        content_type = request.headers.get("content-type", "")
        media, _, parameters = content_type.partition(";")
        if media.strip().lower() != JSON:
            raise RequestError(f"POST bodies must be {JSON}", "UNSUPPORTED_MEDIA_TYPE", 415)
        charset = parameters.strip().lower().removeprefix("charset=").strip('"')
        if parameters.strip() and charset not in {"utf-8", "utf8"}:
            raise RequestError("request bodies must be UTF-8", "UNSUPPORTED_MEDIA_TYPE", 415)
        body = await request.body()
        if not body:
            raise RequestError("the POST body is empty", "BAD_REQUEST")
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise RequestError("the body is not valid JSON", "BAD_REQUEST") from exc
        if not isinstance(raw, dict):
            raise RequestError("the body must be a JSON object", "BAD_REQUEST")
    return _validated(raw)


def _validated(raw: Mapping[str, Any]) -> Params:
    query, name = raw.get("query"), raw.get("operationName")
    variables, extensions = raw.get("variables"), raw.get("extensions")
    if query is not None and not isinstance(query, str):
        raise RequestError("{query} must be a string", "BAD_REQUEST")
    if name is not None and not isinstance(name, str):
        raise RequestError("{operationName} must be a string", "BAD_REQUEST")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("{variables} must be an object", "BAD_REQUEST")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError("{extensions} must be an object", "BAD_REQUEST")
    return Params(query, variables, name, extensions)


def _json_param(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as exc:
        raise RequestError(f"{{{name}}} must be URL-encoded JSON", "BAD_REQUEST") from exc


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
        choice = {
            GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
            JSON: JSON,
            "application/*": JSON,
            "*/*": JSON,
        }
        if media.lower() in choice and quality > 0:
            ranked.append((-quality, position, choice[media.lower()]))
    return min(ranked)[2] if ranked else None


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _graphql_request_errors(errors: list[GraphQLError], media: str) -> Response:
    coded = [
        e if "code" in (e.extensions or {}) else _with_code(e, "GRAPHQL_VALIDATION_FAILED")
        for e in errors
    ]
    status = 400 if media == GRAPHQL_RESPONSE else 200
    return _json({"errors": [e.formatted for e in coded]}, status, media, cache="no-store")


def _request_error(error: RequestError, media: str) -> Response:
    extensions = {"code": error.code, "retryable": False}
    response = _json(
        {"errors": [{"message": error.message, "extensions": extensions}]},
        error.status,
        media,
        cache="no-store",
    )
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _json(body: dict[str, Any], status: int, media: str, cache: str | None = None) -> Response:
    response = JSONResponse(body, status_code=status, media_type=f"{media}; charset=utf-8")
    if cache:
        response.headers["cache-control"] = cache
    return response


def _cache_control(request: Request, context: Context, has_errors: bool) -> str:
    if request.method != "GET" or has_errors:
        return "no-store"
    max_age = context.scope.hints.max_age()
    if max_age is None:
        return "no-store"
    scope = (
        "private" if "authorization" in request.headers or "cookie" in request.headers else "public"
    )
    return f"{scope}, max-age={max_age}"
