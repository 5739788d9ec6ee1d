"""The per-request GraphQL context: the resolvers' scope plus errors found beside the data,
and, for a subscription, what its transport gives it (`LiveSession`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from graphql import GraphQLError
from strawberry.types import Info as StrawberryInfo

from chains.live.hub import LiveHub
from chains.live.mailbox import Mailbox
from core.errors import ServiceError
from resolvers.scope import RequestScope


@dataclass(frozen=True)
class LiveSession:
    """A subscription's link to its transport: where its events wait (`mailbox`, which the
    transport watches for a subscriber that stopped reading), the process's followers, how
    to pay for pushed changes (`pay` raises the metering refusal that ends it) and a fresh
    request scope for each batch (loaders must not outlive a batch). `claim(n)` asks to watch
    `n` rows, more than were priced when discovery found more: it answers how many it may
    (and pays for those beyond the price)."""

    mailbox: Mailbox
    hub: LiveHub
    pay: Callable[[int], Awaitable[None]]
    fresh: Callable[[], RequestScope]
    claim: Callable[[int], Awaitable[int]]


@dataclass
class Context:
    scope: RequestScope
    request_id: str
    partial_errors: list[GraphQLError] = field(default_factory=list)
    live: LiveSession | None = None
    _reported: set[tuple[object, ...]] = field(default_factory=set)

    def report(self, info: Info, error: ServiceError, *item: str | int) -> None:
        """Add `error` to the response at the field's path without nulling the field.

        With `item` (an index), the error explains that item's null and is always reported
        at its own path, however often the same bad input repeats. Without, one failure is
        reported once: a price source outage met by 200 rows is one error.
        """
        where: tuple[object, ...] = (*info.path.as_list(), *item) if item else ()
        fingerprint = (error.code, error.message, *sorted(error.extensions.items(), key=str), where)
        if fingerprint in self._reported:
            return
        self._reported.add(fingerprint)
        self.partial_errors.append(
            GraphQLError(
                error.message,
                nodes=info._raw_info.field_nodes,
                path=[*info.path.as_list(), *item],
                original_error=error,
                extensions=error.extensions,
            )
        )


Info = StrawberryInfo[Context, None]
