"""The per-request GraphQL context: the resolvers' scope plus errors found beside the data."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError
from strawberry.types import Info as StrawberryInfo

from chains.errors import ServiceError
from resolvers.scope import RequestScope


@dataclass
class Context:
    scope: RequestScope
    request_id: str
    partial_errors: list[GraphQLError] = field(default_factory=list)

    def report(self, info: Info, error: ServiceError, *path: str | int) -> None:
        """Add `error` to the response at the field's path (plus `path`) without nulling it."""
        self.partial_errors.append(
            GraphQLError(
                error.message,
                nodes=info._raw_info.field_nodes,
                path=[*info.path.as_list(), *path],
                original_error=error,
                extensions=error.extensions,
            )
        )


Info = StrawberryInfo[Context, None]
