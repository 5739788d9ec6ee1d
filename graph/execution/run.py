"""Executing a validated document, and the one place errors are made fit for a client.

graphql-core runs the document the pipeline already parsed, validated and priced (Strawberry's
own `execute` would parse and validate it again). Afterwards the errors resolvers reported
beside their data (`Context.report`) join the execution errors; our `ServiceError`s keep
their message and extensions; anything else is a bug: logged with the request id, and shown
as "Internal error" with code `INTERNAL_SERVER_ERROR`, never with its details.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, execute
from graphql.execution.executor import Executor

from core.errors import ServiceError
from graph.checks.documents import Document
from graph.execution.context import Context

log = logging.getLogger("balance_graph.errors")


async def run(
    schema: GraphQLSchema,
    document: Document,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    context: Context,
    executor: type[Executor[Any]] | None = None,
) -> dict[str, Any]:
    """The response body (`data`, and `errors` when there are any) for one operation."""
    outcome = execute(
        schema,
        document.node,
        context_value=context,
        variable_values=dict(variables) if variables else None,
        operation_name=operation_name,
        executor_class=executor,
    )
    result: ExecutionResult = await outcome if not isinstance(outcome, ExecutionResult) else outcome
    return response_body(result, context)


def response_body(result: ExecutionResult, context: Context) -> dict[str, Any]:
    """`data`, and `errors` when there are any: execution's and those reported beside the
    data, each fit for a client (a subscription's events are made the same way)."""
    errors = [*(result.errors or []), *context.partial_errors]
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = [public(e, context.request_id).formatted for e in errors]
    return body


def public(error: GraphQLError, request_id: str) -> GraphQLError:
    """`error` as a client may see it."""
    if isinstance(error.original_error, ServiceError):
        return error
    log.error(
        "request %s: unexpected error at %s",
        request_id,
        ".".join(map(str, error.path or [])) or "(operation)",
        exc_info=error.original_error or error,
    )
    return GraphQLError(
        "Internal error",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id, "retryable": True},
    )
