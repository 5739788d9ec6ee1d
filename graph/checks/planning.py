"""From a request's parameters to an operation that may run, with its price, before any I/O.

    the document (its text, or an Automatic Persisted Query), parsed and validated once
    -> the operation to run -> variables coerced -> static cost in lookups (cost.py),
    refused over the budget -> what it asks of each rate class (usage.py)

`plan` answers a `Plan`, or the GraphQL request errors that stop the operation; malformed
HTTP-level parameters raise `RequestError`. The cost of an operation that passed is
remembered by its fingerprint (document, operation, variables), so a repeated request skips
coercion and costing: warm traffic repeats itself. Not when it asks for history: a
timeline's price is what is left to scan, which changes (pricing it may wait for a chain's
head, at most a second).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationType
from graphql.execution.values import get_variable_values

from core.errors import ServiceError
from graph.checks.cost import CostModel
from graph.checks.documents import Document, DocumentCache, Invalid
from graph.checks.params import Params, RequestError
from graph.checks.persisted import PersistedQueries
from graph.checks.usage import rate_usage
from settings import LimitsConfig, RateClass


@dataclass(frozen=True)
class Plan:
    """An operation that passed every check before execution."""

    document: Document
    lookups: int
    """Balance lookups (credits), counted as `cost.py` does."""
    usage: dict[RateClass, int]
    fingerprint: str
    """`Params.fingerprint`: the same operation, document and variables."""
    subscription: bool = False
    """A subscription: served by a streaming transport, not answered once."""


_Cost = tuple[int, dict[RateClass, int], int | None]
"""(lookups, calls per rate class, the discovery generation the price holds for: `None` when
discovery's finds are no part of it)."""


class _Costs:
    """Costs of operations that passed, by fingerprint: an LRU of small fixed-size entries."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, _Cost] = OrderedDict()

    def get(self, fingerprint: str) -> _Cost | None:
        cost = self._entries.get(fingerprint)
        if cost is not None:
            self._entries.move_to_end(fingerprint)
        return cost

    def put(self, fingerprint: str, cost: _Cost) -> None:
        self._entries[fingerprint] = cost
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class Planner:
    schema: GraphQLSchema
    documents: DocumentCache
    persisted: PersistedQueries
    persisted_max_bytes: int
    cost: CostModel
    limits: LimitsConfig
    costs: _Costs = field(default_factory=lambda: _Costs(8192))

    async def document(self, params: Params) -> Document | Invalid:
        """The document to run: the query text, or Apollo's automatic persisted query."""
        persisted = (params.extensions or {}).get("persistedQuery")
        if persisted is None:
            if params.query is None:
                raise RequestError("a {query} string is required", "BAD_REQUEST")
            return self.documents.load(params.query)
        digest = _digest(persisted)
        if params.query is not None:  # registration: store only what parses, validates and fits
            if hashlib.sha256(params.query.encode()).hexdigest() != digest:
                raise RequestError(
                    "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
                )
            outcome = self.documents.load(params.query, digest)
            if isinstance(outcome, Document) and len(params.query.encode()) <= (
                self.persisted_max_bytes
            ):
                await self.persisted.put(digest, params.query)
            return outcome
        known = self.documents.get(digest)
        if known is not None:
            return known
        text = await self.persisted.get(digest)
        if text is None or hashlib.sha256(text.encode()).hexdigest() != digest:
            raise RequestError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
        return self.documents.load(text, digest)

    async def plan(
        self, document: Document, params: Params, method: str
    ) -> Plan | list[GraphQLError]:
        """The operation's price, or the errors that stop it before execution. History
        fields are priced afresh each time (what is scanned changes), from the heads kept
        for two seconds and what is final in the caches."""
        operation = document.operation(params.operation_name)
        if operation is None:
            which = f"named {params.operation_name!r}" if params.operation_name else "to run"
            message = f"the document has no single operation {which}"
            return [coded(GraphQLError(message), "BAD_REQUEST")]
        if method == "GET" and has_non_query([operation.operation]):
            raise post_only()
        fingerprint = params.fingerprint(document.digest)
        streamed = operation.operation is OperationType.SUBSCRIPTION
        known = self.costs.get(fingerprint)
        if known is not None and (known[2] is None or known[2] == self.cost.generation()):
            return Plan(document, known[0], known[1], fingerprint, streamed)
        schema = self.schema
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), params.variables or {}, max_errors=10
        )
        if isinstance(coerced, list):
            return [coded(e, "BAD_USER_INPUT") for e in coerced]
        generation = self.cost.generation()
        price = self.cost.price(document.node, operation, coerced)
        if price.refused:
            return [refusal(e) for e in price.refused]
        budget = self.limits.max_lookups
        if streamed:
            budget = min(budget, self.limits.max_watched_lookups)
        lookups = price.lookups + len(price.asks)  # every timeline costs a request at least
        if price.asks and lookups <= budget:  # so too many are refused before any is quoted
            quotes = await self.cost.quotes(price.asks)
            price = self.cost.price(document.node, operation, coerced, quotes)
            lookups = price.lookups
        if lookups > budget:
            message = (
                f"this request asks for {lookups} balance lookups; at most {budget} per "
                "request: split it into several requests"
            )
            return [coded(GraphQLError(message), "COST_LIMIT_EXCEEDED")]
        usage = rate_usage(schema, document.node, operation, coerced)
        if not price.asks:  # discovery's part holds until discovery finds more
            self.costs.put(fingerprint, (lookups, usage, generation if price.volatile else None))
        return Plan(document, lookups, usage, fingerprint, streamed)


def _digest(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise RequestError("persistedQuery must be {version: 1, sha256Hash}", "BAD_REQUEST")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise RequestError("persistedQuery.sha256Hash must be 64 hex digits", "BAD_REQUEST")
    return digest.lower()


def has_non_query(kinds: Iterable[OperationType]) -> bool:
    return any(kind is not OperationType.QUERY for kind in kinds)


def post_only() -> RequestError:
    return RequestError(
        "mutations and subscriptions are only accepted over POST",
        "METHOD_NOT_ALLOWED",
        405,
        allow="POST",
    )


def refusal(error: ServiceError) -> GraphQLError:
    """A `ServiceError` found before execution, as the request error it makes."""
    return GraphQLError(error.message, original_error=error, extensions=error.extensions)


def coded(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error
