"""A request's static cost: the balance lookups it asks for, known before any I/O.

One lookup is one (account, chain, token) balance, whether it will be served from the cache
or from the chain. The walk multiplies through aliases and list arguments (`accounts` of N
addresses, `balances` of N pairs, N entity representations), and counts an account's
`balances`/`portfolio` with the same planning the resolvers use (`plan_account`), so the
number is what execution will read, not a guess. Where the address is only known at run
time (`Balance.account`), the count is an upper bound: every chain, every listed token.
History is priced by the upstream work it may start: a `balanceHistory` costs the requests
its timeline's scan may need (`Timelines.quote`: the blocks not scanned yet over the chain's
`log_range`, and the deployment search when it is not known), known from the head kept for
two seconds and what is final in the caches, so the walk runs twice for a document that has
one: once to find the timelines asked (`HistoryAsk`), once with their prices (`quotes`). A
`portfolioHistory` costs its points times the account's lookups.
Discovery costs `[limits] discovery_lookups` per (account, chain) it runs on, plus the tokens
this process already knows it found there (a cold discovery's finds are priced from the next
request on).

A `balanceChanges` subscription costs the rows it watches (`plan_watch`, what the resolver
reads, plus discovery's share as for `Account.balances`); the walk also decides, before any
I/O, what refuses one (an argument no chain accepts, a selection that would read more
balances with every event): `price` returns those refusals beside the count.

Fragments are costed once per (fragment, type, account) and reused wherever they are spread
(`fragments.SelectionFold`, shared with the rate-class usage), so the walk stays linear in
the document however its fragments fan out.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values

from chains.registry import ChainRegistry
from core.errors import CostLimitExceeded, ServiceError
from core.models import BalanceKey
from graph.checks.fragments import SelectionFold
from resolvers.account import plan_account
from resolvers.arguments import account_on, token_on
from resolvers.balances import PairInput, plan_pair
from resolvers.discovery import discovering, discovers_any, known_lookups
from resolvers.history import HistoryQuery
from resolvers.live import Watch, plan_watch
from resolvers.portfolio_history import INTERVALS, point_count
from settings import LimitsConfig

_UNKNOWN = None
"""The account of a `Balance.account`: known only once the balance is read."""

Address = str | None
HEAD_WAIT = 1.0
"""Seconds pricing waits for a chain's head before it takes the last one known (a hung
chain must not hold a request before its deadline even starts)."""


@dataclass(frozen=True)
class HistoryAsk:
    """One `balanceHistory` of one account, as written (checked when priced)."""

    account: Address
    query: HistoryQuery


@dataclass(frozen=True)
class Price:
    """What an operation costs before any I/O."""

    lookups: int
    asks: set[HistoryAsk] = field(default_factory=set)
    """The timelines it asks for, to be quoted (`CostModel.quotes`) and priced again."""
    refused: list[ServiceError] = field(default_factory=list)
    """Why it may not run at all (a subscription's arguments)."""
    volatile: bool = False
    """Discovery's finds are part of it: it holds while discovery finds nothing new
    (`CostModel.generation`)."""


class CostModel:
    """Counts a request's balance lookups for one schema and one set of chains."""

    def __init__(
        self, schema: GraphQLSchema, registry: ChainRegistry, limits: LimitsConfig | None = None
    ) -> None:
        self._schema = schema
        self._registry = registry
        self._limits = limits or LimitsConfig()

    def price(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        quotes: Mapping[HistoryAsk, int] | None = None,
    ) -> Price:
        """The lookups `operation` asks for, given its coerced `variables` and the price of
        each timeline it asks for (none known: 0); those timelines; and what refuses the
        operation before it runs (a subscription's arguments)."""
        root = self._schema.get_root_type(operation.operation)
        if root is None or operation.selection_set is None:
            return Price(0)
        discovery = self._limits.discovery_lookups
        walk = _Walk(
            self._schema, self._registry, discovery, self._limits, document, variables, quotes or {}
        )
        lookups = walk.fold.selection_set(operation.selection_set, root, None)
        return Price(lookups, walk.asks, walk.refused, walk.volatile)

    def generation(self) -> int:
        """Changes whenever what discovery is known to have found changes, on any chain: a
        price with discovery's finds in it (`Price.volatile`) holds while this does not."""
        return sum(c.discovery.generation for c in self._registry if c.discovery is not None)

    async def quotes(self, asks: set[HistoryAsk]) -> dict[HistoryAsk, int]:
        """What each timeline's scan may cost, in upstream requests."""
        found = await asyncio.gather(*(self._quote(ask) for ask in asks))
        return dict(zip(asks, found, strict=True))

    async def _quote(self, ask: HistoryAsk) -> int:
        query = ask.query
        try:
            query.check(self._limits)
            chain = self._registry.get(query.chain)
            account = "" if ask.account is _UNKNOWN else account_on(chain, ask.account)
            key = BalanceKey(chain.id, account, token_on(chain, query.token))
        except ServiceError:  # refused before any read: nothing to price
            return 0
        try:
            return await chain.history.quote(key, *query.blocks, wait=HEAD_WAIT)
        except ServiceError:  # the head cannot be read: the field will fail the same way
            return 1


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        registry: ChainRegistry,
        discovery: int,
        limits: LimitsConfig,
        document: DocumentNode,
        variables: VariableValues,
        quotes: Mapping[HistoryAsk, int],
    ) -> None:
        self._schema = schema
        self._registry = registry
        self._discovery = discovery
        self._limits = limits
        self._variables = variables
        self._quotes = quotes
        self.asks: set[HistoryAsk] = set()
        self.refused: list[ServiceError] = []
        self.volatile = False
        self.fold: SelectionFold[int, Address] = SelectionFold(
            schema, document, self._field, int, operator.add
        )
        self._sets: dict[tuple[int, str, Address], int] = {}
        self._plans: dict[tuple[Address, Any, Any, bool | None], int] = {}

    def _field(self, node: FieldNode, parent: GraphQLObjectType, account: Address) -> int:
        name = node.name.value
        field = parent.fields.get(name)
        if field is None:  # __typename and other meta fields
            return 0
        where = f"{parent.name}.{name}"
        if where in _ROOT_RULES or where in _ACCOUNT_RULES:
            return self._priced(where, node, field, account)
        return self._below(node, field, account if parent.name == "Account" else None)

    def _priced(self, where: str, node: FieldNode, field: GraphQLField, account: Address) -> int:
        args = get_argument_values(field, node, self._variables)
        if where == "Query.balance":
            reads = self._pairs([(args["account"], args["chain"], args["token"])])
            return reads + reads * self._below(node, field, None)
        if where == "Account.balance":
            pair = (account, args["chain"], args["token"])
            reads = 1 if account is _UNKNOWN else self._pairs([pair])
            return reads + reads * self._below(node, field, None)
        if where == "Query.balances":
            pairs = [(p["account"], p["chain"], p["token"]) for p in map(_fields, args["pairs"])]
            reads = self._pairs(pairs)
            return reads + reads * self._below(node, field, None)
        if where == "Query.account":
            return self._below(node, field, args["address"])
        if where == "Query.accounts":
            return sum(self._below(node, field, a) for a in args["addresses"])
        if where == "Query._entities":
            return sum(self._entity(node, field, rep) for rep in args["representations"])
        if where == "Account.balanceHistory":
            return self._history(account, args)
        if where == "Account.portfolioHistory":  # every point reads what discovery found
            chains = args.get("chains")
            fixed = self._discovery_scans(account, chains)
            return (self._account(account, chains, None, None) - fixed) * _points(args) + fixed
        if where == "Account.discovery":
            return self._discovery_scans(account, args.get("chains"))
        if where == "Subscription.balanceChanges":
            return self._watch(node, field, args)
        tokens = args.get("tokens") if where in _LISTS else None
        reads = self._account(account, args.get("chains"), tokens, args.get("discover"))
        if where == "Account.portfolio":
            return reads
        return reads + reads * self._below(node, field, None)

    def _history(self, account: Address, args: dict[str, Any]) -> int:
        """`balanceHistory`: the scan its timeline may need (known once `quotes` are)."""
        query = HistoryQuery(
            str(args["chain"]),
            str(args["token"]),
            args.get("fromBlock"),
            args.get("toBlock"),
            args.get("first", 0),
            args.get("after"),
        )
        ask = HistoryAsk(account, query)
        self.asks.add(ask)
        return self._quotes.get(ask, 0)

    def _watch(self, node: FieldNode, field: GraphQLField, args: dict[str, Any]) -> int:
        """A subscription's watched rows; refused whole when an argument cannot be used, or
        when its selection reads balances of its own (each event would read them again)."""
        watch = Watch(args["accounts"], args.get("chains"), args.get("tokens"))
        try:
            keys = plan_watch(self._registry, self._limits, watch)
        except ServiceError as exc:
            self.refused.append(exc)
            return 0
        if self._below(node, field, None):
            self.refused.append(
                CostLimitExceeded(
                    "a balanceChanges event cannot read more balances (such as "
                    "`balance { account { balances } }`): query them over HTTP"
                )
            )
        if watch.tokens is not None:
            return len(keys)
        self.volatile |= discovers_any(self._registry, keys, None)
        return len(keys) + known_lookups(self._registry, keys, None, self._discovery)

    def _entity(self, node: FieldNode, field: GraphQLField, representation: Any) -> int:
        typename = representation.get("__typename") if isinstance(representation, dict) else None
        concrete = self._schema.get_type(typename) if isinstance(typename, str) else None
        if not isinstance(concrete, GraphQLObjectType) or node.selection_set is None:
            return 0
        address = representation.get("address") if typename == "Account" else None
        account = address if isinstance(address, str) else None
        return self.fold.selection_set(node.selection_set, concrete, account)

    def _below(self, node: FieldNode, field: GraphQLField, account: Address) -> int:
        """The cost of a field's own selection (per item, for a list), each selection costed
        once per account: 49 aliases of 100 accounts cost 100 walks, not 4,900."""
        named = get_named_type(field.type)
        if node.selection_set is None or not isinstance(named, GraphQLObjectType):
            return 0
        key = (id(node.selection_set), named.name, account)
        if key not in self._sets:
            self._sets[key] = self.fold.selection_set(node.selection_set, named, account)
        return self._sets[key]

    def _pairs(self, pairs: list[tuple[Any, Any, Any]]) -> int:
        reads = 0
        for account, chain, token in pairs:
            try:
                plan_pair(self._registry, PairInput(account, chain, token))
            except ServiceError:
                continue
            reads += 1
        return reads

    def _account(
        self, address: Address, chains: Any, tokens: Any, discover: bool | None = False
    ) -> int:
        """The lookups an account's selection reads; without `tokens`, discovery adds its
        fixed cost per chain and the tokens it is already known to have found."""
        if tokens is not None:
            discover = False
        if address is _UNKNOWN:
            return self._worst_case(chains, tokens, discover)
        key = (address, _frozen(chains), _frozen(tokens), discover)
        if key not in self._plans:
            try:
                keys = plan_account(self._registry, address, chains, tokens, discover).keys
            except ServiceError:
                keys = []  # an address no chain accepts reads nothing
            found = known_lookups(self._registry, keys, discover, self._discovery)
            self._plans[key] = len(keys) + found
            self.volatile |= discovers_any(self._registry, keys, discover)
        return self._plans[key]

    def _discovery_scans(self, address: Address, chains: Any) -> int:
        """`Account.discovery`: the fixed cost of each chain it may start a scan on."""
        if address is _UNKNOWN:
            ids = {c.lower() for c in chains} if chains is not None else None
            scans = [c for c in self._registry if c.discovery and (ids is None or c.id in ids)]
            return self._discovery * len(scans)
        try:  # every chain the address fits: each plan reads its native asset at least
            keys = plan_account(self._registry, address, chains, None, discover=False).keys
        except ServiceError:
            return 0
        pairs = {(k.chain, k.account) for k in keys}
        return self._discovery * sum(1 for c, _ in pairs if self._registry.get(c).discovery)

    def _worst_case(self, chains: Any, tokens: Any, discover: bool | None) -> int:
        """Every named (or every) chain with every named (or listed) token, and discovery's
        fixed cost where it applies (what an unknown account has found is unknown)."""
        ids = {c.lower() for c in chains} if chains is not None else None
        total = 0
        for chain in self._registry:
            if ids is None or chain.id in ids:
                discovers = discovering(chain, discover)
                if tokens is not None:
                    total += len(set(tokens))
                else:
                    total += len(chain.own) if discovers else len(chain.list_tokens)
                total += self._discovery if discovers else 0
        return total


def _points(args: dict[str, Any]) -> int:
    """`portfolioHistory`'s points (0 when its arguments are refused: nothing is read)."""
    interval = args.get("interval")
    step = INTERVALS.get(str(getattr(interval, "name", interval)))
    try:
        return point_count(args["from"], args["to"], step) if step else 0
    except ServiceError:
        return 0


def _frozen(values: Any) -> tuple[Any, ...] | None:
    return None if values is None else tuple(values)


def _fields(value: Any) -> dict[str, Any]:
    """An input object's fields, whether coerced to a dict or to a Strawberry input."""
    return value if isinstance(value, dict) else vars(value)


_LISTS = frozenset({"Account.balances", "Account.balancesPage"})
"""Fields that read an account's rows (a page reads them all to order them)."""
_ROOT_RULES = frozenset(
    {
        "Query.balance",
        "Query.balances",
        "Query.account",
        "Query.accounts",
        "Query._entities",
        "Subscription.balanceChanges",
    }
)
_ACCOUNT_RULES = frozenset(
    {
        "Account.balances",
        "Account.balancesPage",
        "Account.balance",
        "Account.portfolio",
        "Account.balanceHistory",
        "Account.portfolioHistory",
        "Account.discovery",
    }
)
