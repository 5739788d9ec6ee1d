"""A GraphQL request's parameters, read from GET or POST and bounded before any GraphQL work.

Variables are walked once right after JSON decoding: more list items or object members than
`max_input_items` in total, a string longer than `max_string_length`, or nesting deeper than
any input type allows is refused here, in microseconds, instead of after a second of
graphql-core coercing a 100,000-item list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from settings import LimitsConfig

JSON = "application/json"
_MAX_NESTING = 8
"""Our deepest input is a list of input objects: anything nested deeper is not a variable."""


class RequestError(Exception):
    """The request cannot be executed; `status` is the HTTP status to answer with.

    `graphql` marks errors that are GraphQL request errors (answered 200 to `application/json`
    clients, as they expect) rather than malformed HTTP requests (always 4xx).
    """

    def __init__(
        self,
        message: str,
        code: str,
        status: int = 400,
        *,
        graphql: bool = False,
        **headers: str,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.headers = message, code, status, headers
        self.graphql = graphql


@dataclass(frozen=True)
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None

    def fingerprint(self, digest: str) -> str:
        """What makes two requests one operation: the document (its `digest`), the operation
        name and the variables, compared as JSON values (key order does not matter)."""
        variables = json.dumps(self.variables or {}, sort_keys=True, separators=(",", ":"))
        text = f"{digest}\0{self.operation_name or ''}\0{variables}"
        return hashlib.sha256(text.encode()).hexdigest()


async def read_params(request: Request, limits: LimitsConfig) -> Params:
    if request.method == "GET":
        raw: Mapping[str, Any] = {
            "query": request.query_params.get("query"),
            "operationName": request.query_params.get("operationName"),
            "variables": _json_param(request.query_params.get("variables"), "variables"),
            "extensions": _json_param(request.query_params.get("extensions"), "extensions"),
        }
    else:
        raw = await _json_body(request)
    return params_of(raw, limits)


def params_of(raw: Mapping[str, Any], limits: LimitsConfig) -> Params:
    """The parameters of a decoded request (a POST body, a WebSocket `subscribe` payload),
    checked and bounded; `RequestError` says what is wrong."""
    params = _validated(raw)
    if params.variables:
        _check_variables(params.variables, limits)
    return params


async def _json_body(request: Request) -> Mapping[str, Any]:
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
    return raw


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


def _check_variables(variables: dict[str, Any], limits: LimitsConfig) -> None:
    """Refuse oversized or absurdly nested variables before graphql-core coerces them."""
    items = 0
    pending: list[tuple[Any, int]] = [(v, 1) for v in variables.values()]
    while pending:
        value, depth = pending.pop()
        if depth > _MAX_NESTING:
            raise _refused("BAD_USER_INPUT", "variables are nested deeper than any input allows")
        if isinstance(value, str) and len(value) > limits.max_string_length:
            raise _refused(
                "BAD_USER_INPUT",
                f"a string variable is longer than {limits.max_string_length} characters",
            )
        if isinstance(value, list | dict):
            items += len(value)
            if items > limits.max_input_items:
                raise _refused(
                    "COST_LIMIT_EXCEEDED",
                    f"variables hold more than {limits.max_input_items} items",
                )
            members = value if isinstance(value, list) else value.values()
            pending += [(v, depth + 1) for v in members]


def _refused(code: str, message: str) -> RequestError:
    return RequestError(message, code, graphql=True)
