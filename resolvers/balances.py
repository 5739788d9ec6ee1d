"""Balance resolvers: validate arguments, ask the loaders, report failures per item.

They return domain values (`BalanceReading`) and `ServiceError`s as values; the graph layer
turns each error into a GraphQL error at the right path while the good items are served.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from chains.amounts import scale_amount
from chains.errors import (
    ChainError,
    CostLimitExceeded,
    ServiceError,
    TokenCallFailed,
    TokenMetadataUnavailable,
)
from chains.models import (
    BalanceKey,
    BalanceReading,
    ChainFamily,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from chains.reader import BalanceRequest, Freshness
from chains.registry import Chain
from resolvers.arguments import account_on, canonical_account, freshness, token_on
from resolvers.scope import RequestScope

_EVM_SHAPED = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class PairInput:
    account: str
    chain: str
    token: str


@dataclass(frozen=True)
class BalanceRow:
    """A balance with its token's metadata attached, so serving it needs no more I/O."""

    reading: BalanceReading
    token: TokenMeta
    spam: bool = False
    token_error: ChainError | None = None
    """Why the metadata is unknown, when reading it failed (e.g. a retryable timeout)."""


@dataclass(frozen=True)
class Selection:
    """Which rows of an account to read and show."""

    chains: Sequence[str] | None = None
    tokens: Sequence[str] | None = None
    include_zero: bool = False
    min_value_usd: Decimal | None = None
    include_spam: bool = False


@dataclass(frozen=True)
class AccountBalances:
    """The rows that could be read, and one error per failed chain, token or argument."""

    rows: list[BalanceRow]
    errors: list[ServiceError]


async def balance(
    scope: RequestScope,
    account: str,
    chain: str,
    token: str,
    max_age: int | None,
    force_refresh: bool | None,
) -> BalanceRow:
    """One balance; raises the `ServiceError` that prevented it."""
    request = _request(
        scope, PairInput(account, chain, token), freshness(scope, max_age, force_refresh)
    )
    scope.charge(1)
    (row,) = await _with_tokens(scope, [await scope.loaders.balances.load(request)])
    return row


async def balance_pairs(
    scope: RequestScope,
    pairs: Sequence[PairInput],
    max_age: int | None,
    force_refresh: bool | None,
) -> list[BalanceRow | ServiceError]:
    """Each pair's balance or error, in order; one bad pair never hides the others."""
    if len(pairs) > scope.limits.max_pairs:
        raise CostLimitExceeded(
            f"balances accepts at most {scope.limits.max_pairs} pairs per call, got {len(pairs)}"
        )
    fresh = freshness(scope, max_age, force_refresh)
    outcomes: list[BalanceRow | ServiceError | None] = []
    requests: dict[int, BalanceRequest] = {}
    for index, pair in enumerate(pairs):
        try:
            requests[index] = _request(scope, pair, fresh)
            outcomes.append(None)
        except ServiceError as exc:
            outcomes.append(exc)
    scope.charge(len(requests))
    loaded = await scope.loaders.balances.load_many(list(requests.values()))
    rows = iter(await _with_tokens(scope, [o for o in loaded if isinstance(o, BalanceReading)]))
    for index, outcome in zip(requests, loaded, strict=True):
        outcomes[index] = next(rows) if isinstance(outcome, BalanceReading) else outcome
    return [o for o in outcomes if o is not None]


async def account_balances(
    scope: RequestScope,
    address: str,
    selection: Selection,
    max_age: int | None,
    force_refresh: bool | None,
) -> AccountBalances:
    """Every requested token on every requested chain (default: native plus token list),
    with the dust and spam filters of `resolvers.values` applied."""
    fresh = freshness(scope, max_age, force_refresh)
    chains, tokens = selection.chains, selection.tokens
    if tokens is not None and len(tokens) > scope.limits.max_tokens:
        raise CostLimitExceeded(
            f"tokens accepts at most {scope.limits.max_tokens} addresses, got {len(tokens)}"
        )
    errors: list[ServiceError] = []
    requests: list[BalanceRequest] = []
    for chain in _chains(scope, address, chains, errors):
        try:
            account = account_on(chain, address)
        except ServiceError as exc:
            errors.append(exc)
            continue
        for token in _tokens(chain, tokens, errors):
            requests.append(BalanceRequest(BalanceKey(chain.id, account, token), fresh))
    scope.charge(len(requests))
    outcomes = await scope.loaders.balances.load_many(requests)
    readings = [
        o
        for o in outcomes
        if isinstance(o, BalanceReading) and (selection.include_zero or o.raw_amount)
    ]
    errors += _collapse_chain_failures([o for o in outcomes if isinstance(o, ServiceError)])
    rows = await _with_tokens(scope, readings)
    if not selection.include_spam:
        rows = [r for r in rows if not r.spam]
    return AccountBalances(rows, _unique(errors))


def amount(row: BalanceRow) -> Decimal:
    """The exact decimal amount; raises `TokenMetadataUnavailable` when decimals are unknown."""
    key = row.reading.key
    if row.token.decimals is None and row.token_error is not None:
        raise row.token_error.about(**key.labels)
    if row.token.decimals is None:
        raise TokenMetadataUnavailable(
            f"decimals of {key.token} on {key.chain} are unknown, so the amount cannot be "
            "computed; rawAmount is exact",
            **key.labels,
        )
    return scale_amount(row.reading.raw_amount, row.token.decimals)


async def _with_tokens(scope: RequestScope, readings: list[BalanceReading]) -> list[BalanceRow]:
    """Attach token metadata (listed, primed by the balance read, or loaded in one batch).

    Metadata that cannot be read leaves every field unknown (null) rather than failing a
    balance that was read correctly; `amount` then reports TOKEN_METADATA_UNAVAILABLE.
    """
    metas = await scope.loaders.tokens.load_many([(r.key.chain, r.key.token) for r in readings])
    rows: list[BalanceRow] = []
    for reading, loaded in zip(readings, metas, strict=True):
        key = reading.key
        if isinstance(loaded, TokenMeta):
            meta, error = loaded, None
        else:
            erc1155 = key.token.token_id is not None
            standard = TokenStandard.ERC1155 if erc1155 else TokenStandard.ERC20
            meta, error = TokenMeta(key.chain, key.token, standard, None, None, None), loaded
        listed = scope.registry.get(key.chain).reader.listed_token(key.token) is not None
        rows.append(BalanceRow(reading, meta, scope.spam.is_spam(meta, listed=listed), error))
    return rows


def _request(scope: RequestScope, pair: PairInput, fresh: Freshness) -> BalanceRequest:
    chain = scope.registry.get(pair.chain)
    key = BalanceKey(chain.id, account_on(chain, pair.account), token_on(chain, pair.token))
    return BalanceRequest(key, fresh)


def _chains(
    scope: RequestScope, address: str, wanted: Sequence[str] | None, errors: list[ServiceError]
) -> list[Chain]:
    if wanted is None:
        accepted = [c for c in scope.registry if _accepts(c, address)]
        if not accepted:
            canonical_account(scope, address)  # raises the one clear INVALID_ADDRESS
        return accepted
    if len(wanted) > len(scope.registry) + 10:
        raise CostLimitExceeded(
            f"chains lists {len(wanted)} ids but this service knows {len(scope.registry)}"
        )
    chains: dict[str, Chain] = {}  # by canonical id: "Base" and "base" are one chain
    for chain_id in wanted:
        try:
            chain = scope.registry.get(chain_id)
        except ServiceError as exc:
            errors.append(exc)
            continue
        chains.setdefault(chain.id, chain)
    return list(chains.values())


def _tokens(
    chain: Chain, wanted: Sequence[str] | None, errors: list[ServiceError]
) -> list[TokenRef]:
    if wanted is None:
        return list(chain.listed)
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


def _collapse_chain_failures(errors: list[ServiceError]) -> list[ServiceError]:
    """A failure of a chain's round (node trouble, no Multicall3) is one error naming the
    chain and account, without a token; failures of one token stay per token."""
    collapsed: list[ServiceError] = []
    seen: set[tuple[str | None, str]] = set()
    for error in errors:
        if isinstance(error, TokenCallFailed | TokenMetadataUnavailable):
            collapsed.append(error)
        elif (error.chain, error.code) not in seen:
            seen.add((error.chain, error.code))
            # It names the account too: each wallet of an `accounts` list or a gateway
            # response learns that its rows on this chain are missing.
            collapsed.append(type(error)(error.message, chain=error.chain, account=error.account))
    return collapsed


def _unique(errors: list[ServiceError]) -> list[ServiceError]:
    seen: set[tuple[str, str]] = set()
    unique: list[ServiceError] = []
    for error in errors:
        fingerprint = (error.code, error.message)
        if fingerprint not in seen:
            seen.add(fingerprint)
            unique.append(error)
    return unique
