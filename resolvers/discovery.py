"""Discovery in an account's balances: the tokens found join the listed ones in one read.

`discover` is the caller's choice: `None` follows each chain's configuration, `True` asks
for it (a chain without a source says so with DISCOVERY_UNAVAILABLE), `False` turns it off.
Only a selection without `tokens:` discovers: named tokens are exactly what was asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from chains.discovery.service import Discovered, Status
from chains.registry import Chain, ChainRegistry
from core.errors import DiscoveryUnavailable, ServiceError
from core.models import BalanceKey, ChainFamily, TokenRef
from resolvers.scope import RequestScope


@dataclass(frozen=True)
class Found:
    """The keys discovery adds to a plan (tokens not already in it), and its errors."""

    keys: list[BalanceKey]
    errors: list[ServiceError]


def discovering(chain: Chain, discover: bool | None) -> bool:
    """Whether `chain` discovers, given the caller's `discover`."""
    return discover is not False and chain.discovery is not None


async def discovered(
    scope: RequestScope, keys: Sequence[BalanceKey], discover: bool | None
) -> Found:
    """What discovery finds on the chains and accounts of `keys` (a plan of listed tokens),
    beyond those keys; all of a request's discoveries are one batch."""
    errors: list[ServiceError] = []
    wanted: list[tuple[str, str]] = []
    for chain_id, account in dict.fromkeys((k.chain, k.account) for k in keys):
        chain = scope.registry.get(chain_id)
        if discovering(chain, discover):
            wanted.append((chain_id, account))
        elif discover and chain.config.family is not ChainFamily.BITCOIN:
            errors.append(_unavailable(chain, account))
    answers = await asyncio.gather(*(scope.loaders.discovery.load(c, a) for c, a in wanted))
    planned = set(keys)
    found: list[BalanceKey] = []
    for (chain_id, account), answer in zip(wanted, answers, strict=True):
        errors += answer.errors
        for token in answer.tokens:
            key = BalanceKey(chain_id, account, token)
            if key not in planned:
                planned.add(key)
                found.append(key)
    return Found(found, errors)


async def statuses(
    scope: RequestScope, pairs: Sequence[tuple[str, str]], named: bool
) -> tuple[list[Status], list[ServiceError]]:
    """How far discovery got for each (chain, account), without waiting for running scans
    (starting them where needed). A chain without discovery is an error when `named`."""
    errors: list[ServiceError] = []
    wanted: list[tuple[str, str]] = []
    for chain_id, account in pairs:
        chain = scope.registry.get(chain_id)
        if chain.discovery is not None:
            wanted.append((chain_id, account))
        elif named:
            errors.append(_unavailable(chain, account))
    answers: list[Discovered] = await asyncio.gather(
        *(scope.loaders.discovery.load(c, a, wait=False) for c, a in wanted)
    )
    return [a.status for a in answers], errors


def discovers_any(
    registry: ChainRegistry, keys: Sequence[BalanceKey], discover: bool | None
) -> bool:
    """Whether discovery adds rows to a plan of `keys` (its price then moves as it finds)."""
    chains = [registry.get(chain_id) for chain_id in {key.chain for key in keys}]
    return any(c.discovery is not None and discovering(c, discover) for c in chains)


def known_lookups(
    registry: ChainRegistry, keys: Sequence[BalanceKey], discover: bool | None, fixed: int
) -> int:
    """What discovery adds to a plan's cost, before any I/O: `fixed` per (chain, account)
    discovered, plus the tokens this process already knows were found there beyond the plan
    (at most the limit kept)."""
    planned: dict[tuple[str, str], set[TokenRef]] = {}
    for key in keys:
        planned.setdefault((key.chain, key.account), set()).add(key.token)
    total = 0
    for (chain_id, account), tokens in planned.items():
        chain = registry.get(chain_id)
        if discovering(chain, discover) and chain.discovery is not None:
            found = chain.discovery.known(account) - tokens
            total += fixed + min(len(found), chain.discovery.max_tokens)
    return total


def _unavailable(chain: Chain, account: str) -> DiscoveryUnavailable:
    return DiscoveryUnavailable(
        f"{chain.id} has no discovery source configured: its rows are the native asset and "
        "its token list",
        chain=chain.id,
        account=account,
    )
