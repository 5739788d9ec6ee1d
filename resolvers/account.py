"""What one account holds: every chain its address fits, its listed tokens, filtered.

The flow of `Account.balances` and `Account.portfolio`: check the whole selection (before
any I/O), read every (chain, token) lookup in one round per chain, attach metadata, drop
spam, value the rows and apply the dust filter. Failures come back as values beside the
rows: one per failed chain (naming chain and account), one per failed token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chains.discovery.service import Status
from chains.reader import BalanceRequest
from chains.registry import Chain, ChainRegistry
from core.errors import (
    BadUserInput,
    CostLimitExceeded,
    ServiceError,
    TokenCallFailed,
    TokenMetadataUnavailable,
)
from core.models import BalanceKey, BalanceReading, ChainFamily, TokenRef
from resolvers.arguments import account_on, canonical_account, freshness, token_on
from resolvers.balances import load, with_tokens
from resolvers.discovery import discovered, discovering, statuses
from resolvers.history import At
from resolvers.pages import BalanceOrder, Page, page
from resolvers.rows import BalanceRow
from resolvers.scope import RequestScope
from resolvers.values import Valued, dust, valuation

_EVM_SHAPED = re.compile(r"0x[0-9a-fA-F]{40}")
_EXTRA_CHAIN_IDS = 10
"""How many more ids than the service knows `chains:` may name (typos, other spellings)."""


@dataclass(frozen=True)
class Selection:
    """Which rows of an account to read and show."""

    chains: Sequence[str] | None = None
    tokens: Sequence[str] | None = None
    include_zero: bool = False
    min_value_usd: Decimal | None = None
    include_spam: bool = False
    discover: bool | None = None
    """Add the tokens discovery finds (`None`: as each chain is configured); only without
    `tokens`."""

    def check(self, scope: RequestScope) -> None:
        """Refuse a selection that cannot be served, before anything is read."""
        if self.min_value_usd is not None and self.min_value_usd < 0:
            raise BadUserInput(f"minValueUsd must be zero or more, got {self.min_value_usd}")
        if self.tokens is not None and len(self.tokens) > scope.limits.max_tokens:
            raise CostLimitExceeded(
                f"tokens accepts at most {scope.limits.max_tokens} addresses, "
                f"got {len(self.tokens)}"
            )
        known = len(scope.registry)
        if self.chains is not None and len(self.chains) > known + _EXTRA_CHAIN_IDS:
            raise CostLimitExceeded(
                f"chains lists {len(self.chains)} ids but this service knows {known}"
            )


@dataclass(frozen=True)
class AccountPlan:
    """The lookups one account's selection asks for, and the arguments that could not be used."""

    keys: list[BalanceKey]
    errors: list[ServiceError]


def plan_account(
    registry: ChainRegistry,
    address: str,
    chains: Sequence[str] | None,
    tokens: Sequence[str] | None,
    discover: bool | None = False,
) -> AccountPlan:
    """Every (chain, account, token) the selection reads before discovery: the static cost
    model counts these before execution, and `holdings` reads exactly them (and what
    discovery adds). Without `tokens`, a chain that discovers reads its own list; one that
    does not also reads every token the shipped lists name."""
    errors: list[ServiceError] = []
    keys: list[BalanceKey] = []
    for chain in _chains(registry, address, chains, errors):
        try:
            account = account_on(chain, address)
        except ServiceError as exc:
            errors.append(exc)
            continue
        wanted = _tokens(chain, tokens, discovering(chain, discover), errors)
        keys += [BalanceKey(chain.id, account, t) for t in wanted]
    return AccountPlan(keys, errors)


@dataclass(frozen=True)
class Holdings:
    """The account's rows after the spam filter, each with its price, and every error met."""

    items: list[Valued]
    errors: list[ServiceError]
    answered: list[str]
    """Chains whose round was read (whatever it held), in registry order."""
    unread: list[str]
    """Chains the selection asked for whose round was not read (failed, or not at `at`)."""
    oldest_read: datetime | None
    """When the oldest value read (zero balances included) left the chain."""


@dataclass(frozen=True)
class Paging:
    """How the rows are ordered and which page of them is asked for (none: all of them, in
    the order they were read)."""

    order: BalanceOrder | None = None
    first: int | None = None
    after: str | None = None


async def account_balances(
    scope: RequestScope,
    address: str,
    selection: Selection,
    max_age: int | None,
    force_refresh: bool | None,
    at: At | None = None,
    paging: Paging = Paging(),
) -> tuple[list[BalanceRow], list[ServiceError]]:
    """The rows `Account.balances` shows (spam and dust filtered, ordered and paged as
    asked), and the errors to report."""
    found, errors = await account_page(
        scope, address, selection, max_age, force_refresh, at, paging
    )
    return [v.row for v in found.items], errors


async def account_page(
    scope: RequestScope,
    address: str,
    selection: Selection,
    max_age: int | None,
    force_refresh: bool | None,
    at: At | None = None,
    paging: Paging = Paging(),
) -> tuple[Page, list[ServiceError]]:
    """`Account.balancesPage`: the page of filtered rows asked for (checked before any I/O),
    with the whole filtered set's count."""
    limit = scope.limits.max_balances_page
    page(  # a bad page size or cursor is refused before anything is read
        [], paging.order, paging.first, paging.after, limit
    )
    held = await holdings(scope, address, selection, max_age, force_refresh, at)
    kept = dust(scope, held.items, selection)
    return page(kept, paging.order, paging.first, paging.after, limit), held.errors


async def holdings(
    scope: RequestScope,
    address: str,
    selection: Selection,
    max_age: int | None,
    force_refresh: bool | None,
    at: At | None = None,
) -> Holdings:
    """Every requested token on every requested chain (default: native, token list and what
    discovery finds), as of `at` if given, spam-filtered and valued (a past read at its
    block's time); the dust filter is the caller's to apply."""
    selection.check(scope)
    fresh = freshness(scope, max_age, force_refresh)
    scope.hints.served(fresh)
    plan = plan_account(
        scope.registry, address, selection.chains, selection.tokens, selection.discover
    )
    errors = list(plan.errors)
    keys = plan.keys
    if selection.tokens is None:
        found = await discovered(scope, keys, selection.discover)
        keys, errors = keys + found.keys, errors + found.errors
    requests = [BalanceRequest(key, fresh) for key in keys]
    scope.charge(len(requests))
    outcomes, times = await load(scope, requests, at)
    read = [o for o in outcomes if isinstance(o, BalanceReading)]
    for reading in read:  # hidden zeros too: their absence is part of the answer
        scope.hints.read(reading.read_at)
    readings = [o for o in read if selection.include_zero or o.raw_amount]
    failed = {o.chain for o in outcomes if isinstance(o, ServiceError) and _is_round_failure(o)}
    answered = list(dict.fromkeys(r.key.chain for r in read if r.key.chain not in failed))
    unread = [c for c in dict.fromkeys(k.chain for k in keys) if c not in answered]
    errors += _collapse_chain_failures([o for o in outcomes if isinstance(o, ServiceError)])
    rows = await with_tokens(scope, readings, times)
    if not selection.include_spam:
        rows = [r for r in rows if not r.spam]
    items, price_errors = await valuation(scope, rows)
    oldest = min((r.read_at for r in read), default=None)
    return Holdings(items, unique_errors([*errors, *price_errors]), answered, unread, oldest)


async def discovery(
    scope: RequestScope, address: str, chains: Sequence[str] | None
) -> tuple[list[Status], list[ServiceError]]:
    """`Account.discovery`: each chain's progress (chains without discovery are left out,
    or named in an error when the caller named them)."""
    Selection(chains).check(scope)
    scope.hints.volatile = True  # progress changes by the second: never a kept answer
    plan = plan_account(scope.registry, address, chains, ())
    pairs = []
    for chain in _chains(scope.registry, address, chains, []):
        try:
            pairs.append((chain.id, account_on(chain, address)))
        except ServiceError:
            continue  # plan_account reported it
    found, errors = await statuses(scope, pairs, named=chains is not None)
    return found, unique_errors([*plan.errors, *errors])


def _chains(
    registry: ChainRegistry,
    address: str,
    wanted: Sequence[str] | None,
    errors: list[ServiceError],
) -> list[Chain]:
    if wanted is None:
        accepted = [c for c in registry if _accepts(c, address)]
        if not accepted:
            canonical_account(registry, address)  # raises the one clear INVALID_ADDRESS
        return accepted
    chains: dict[str, Chain] = {}  # by canonical id: "Base" and "base" are one chain
    for chain_id in wanted:
        try:
            chain = registry.get(chain_id)
        except ServiceError as exc:
            errors.append(exc)
            continue
        chains.setdefault(chain.id, chain)
    return list(chains.values())


def _tokens(
    chain: Chain, wanted: Sequence[str] | None, discovers: bool, errors: list[ServiceError]
) -> list[TokenRef]:
    if wanted is None:
        return list(chain.own) if discovers else chain.list_tokens
    tokens: list[TokenRef] = []
    for text in wanted:
        try:
            tokens.append(token_on(chain, text))
        except ServiceError as exc:
            errors.append(exc)
    return list(dict.fromkeys(tokens))


def _accepts(chain: Chain, address: str) -> bool:
    """Whether `address` is read on `chain` when the caller names no chains."""
    if chain.config.family is ChainFamily.STARKNET and _EVM_SHAPED.fullmatch(address.strip()):
        return False  # a valid felt too, but an EVM address is never meant as a Starknet one
    try:
        chain.provider.normalize_account(address)
    except ServiceError:
        return False
    return True


def _is_round_failure(error: ServiceError) -> bool:
    """A failure of a chain's whole round (not of one token's call)."""
    return not isinstance(error, TokenCallFailed | TokenMetadataUnavailable)


def _collapse_chain_failures(errors: list[ServiceError]) -> list[ServiceError]:
    """A failure of a chain's round (node trouble, no Multicall3) is one error naming the
    chain and account, without a token; failures of one token stay per token."""
    collapsed: list[ServiceError] = []
    seen: set[tuple[str | None, str]] = set()
    for error in errors:
        if not _is_round_failure(error):
            collapsed.append(error)
        elif (error.chain, error.code) not in seen:
            seen.add((error.chain, error.code))
            # It names the account too: each wallet of an `accounts` list or a gateway
            # response learns that its rows on this chain are missing.
            collapsed.append(type(error)(error.message, chain=error.chain, account=error.account))
    return collapsed


def unique_errors(errors: list[ServiceError]) -> list[ServiceError]:
    seen: set[tuple[str, str]] = set()
    unique: list[ServiceError] = []
    for error in errors:
        fingerprint = (error.code, error.message)
        if fingerprint not in seen:
            seen.add(fingerprint)
            unique.append(error)
    return unique
