"""Errors in responses: our `ServiceError`s keep code and message, everything else is masked.

`ServiceErrors` (a schema extension) appends the errors resolvers reported beside their data
(`Context.report`), then replaces every unexpected error by "Internal error" with code
`INTERNAL_SERVER_ERROR` and the request id, so stack details never reach a client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from chains.errors import ServiceError
from graph.context import Context

log = logging.getLogger("balance_graph.errors")


def is_expected(error: GraphQLError) -> bool:
    """Ours, or GraphQL's own request errors (syntax, validation, variable coercion)."""
    return error.original_error is None or isinstance(error.original_error, ServiceError)


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    for error in errors:
        if not is_expected(error):
            log.error(
                "request %s: unexpected error at %s",
                request_id,
                ".".join(map(str, error.path or [])) or "(operation)",
                exc_info=error.original_error,
            )


class ServiceErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        if result is None or not isinstance(context, Context):
            return
        errors = [*(result.errors or []), *context.partial_errors]
        context.partial_errors.clear()
        result.errors = [self._public(e, context.request_id) for e in errors] or None

    @staticmethod
    def _public(error: GraphQLError, request_id: str) -> GraphQLError:
        if is_expected(error):
            if "code" not in (error.extensions or {}):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
            return error
        return GraphQLError(
            "Internal error",
            nodes=error.nodes,
            path=error.path,
            extensions={
                "code": "INTERNAL_SERVER_ERROR",
                "requestId": request_id,
                "retryable": True,
            },
        )
