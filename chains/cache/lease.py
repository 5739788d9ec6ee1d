"""Short leases in Redis on upstream reads: the replica holding one reads, the others wait.

A lease is one key, `SET key owner NX PX ttl`: whoever sets it holds it until it deletes it
(only its own: the delete compares the owner in a one-key script) or until `ttl` passes, so
a holder that dies costs the others at most `ttl` of waiting. Every command names a single
key, so a lease lives in the slot of its hash tag, beside the values it guards.

Commands run through the shared `Breaker`: when Redis fails or stalls, `acquire` answers
`UNAVAILABLE` (at once, while the breaker is open) and the caller reads upstream itself, as
it would without Redis.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import Protocol

from chains.cache.breaker import Breaker
from chains.cache.clients import RedisClient
from core.models import TokenRef

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Claim(enum.Enum):
    """What asking for a lease gave."""

    ACQUIRED = "acquired"
    """Ours until we release it or its ttl passes."""
    HELD = "held"
    """Someone else's: their values should appear in the shared cache."""
    UNAVAILABLE = "unavailable"
    """Redis did not answer (or its breaker is open): nobody coordinates, read yourself."""


class Leases(Protocol):
    """Named, expiring, owner-checked locks shared by every replica, asked for in batches.

    - `acquire` gives one `Claim` per key, in order; it never raises (a backend failure is
      `Claim.UNAVAILABLE` for every key).
    - `release` deletes each lease only where `owner` still holds it; it never raises.
    """

    async def acquire(self, keys: Sequence[str], owner: str, ttl: float) -> list[Claim]: ...

    async def release(self, keys: Sequence[str], owner: str) -> None: ...


class RedisLeases:
    """`Leases` on the process's Redis client, behind the breaker every Redis user shares:
    one pipeline of single-key commands per batch."""

    def __init__(self, client: RedisClient, breaker: Breaker) -> None:
        self._client = client
        self._breaker = breaker

    async def acquire(self, keys: Sequence[str], owner: str, ttl: float) -> list[Claim]:
        if not keys:
            return []
        millis = max(1, math.ceil(ttl * 1000))

        async def claim() -> list[Claim]:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, owner, nx=True, px=millis)
                taken = await pipe.execute()
            return [Claim.ACQUIRED if t else Claim.HELD for t in taken]

        return await self._breaker.run(claim, [Claim.UNAVAILABLE] * len(keys))

    async def release(self, keys: Sequence[str], owner: str) -> None:
        if not keys:
            return

        async def release() -> None:
            # EVAL, not a registered script's EVALSHA: a pipeline (and a cluster's, per node)
            # has no NOSCRIPT fallback, and the script is a few dozen bytes.
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.eval(_RELEASE, 1, key, owner)
                await pipe.execute()

        await self._breaker.run(release, None)


def lease_key(chain: str, account: str, tokens: Iterable[TokenRef]) -> str:
    """The lease on reading `account`'s balances of `tokens` on `chain`.

    The account is the hash tag, as in the balance keys (`codec.balance_key`), so a lease and
    the values it guards share a Redis Cluster slot. The token set is digested: the same
    lookups make the same key whatever their order, and the key stays short."""
    digest = hashlib.sha256("\n".join(sorted({str(t) for t in tokens})).encode()).hexdigest()[:24]
    return f"bg:v1:lease:{{{account}}}:{chain}:{digest}"
