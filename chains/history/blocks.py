"""Searches over blocks: the block at an instant, the first block where something holds
(a contract's deployment), and reads of many blocks in batches.

The block at an instant is the last block whose timestamp is at or before it.
A binary search over block timestamps, for many instants at once: each round asks for the
midpoint of every instant still open in one `times` call (one batched request on EVM and
Starknet), so a whole `portfolioHistory` resolves in about as many rounds as one instant,
log2(head) + 1 (about 26 on Ethereum). Timestamps are taken as ordered by block, as every
EVM chain and Starknet guarantee; Bitcoin's may step back by up to two hours, and there
the answer is a block within that much of the instant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from core.errors import UpstreamOversized

Times = Callable[[Sequence[int]], Awaitable[dict[int, int]]]
"""Block -> unix timestamp, for every block asked."""


async def blocks_at(instants: Sequence[int], head: int, times: Times) -> dict[int, int | None]:
    """Each instant's block (`None` before the first block), with blocks 0..`head`."""
    ends = await times([0, head])
    found: dict[int, int | None] = {}
    brackets: dict[int, tuple[int, int]] = {}
    for instant in set(instants):
        if instant < ends[0]:
            found[instant] = None
        elif instant >= ends[head]:
            found[instant] = head
        else:
            brackets[instant] = (0, head)  # times[low] <= instant < times[high]
    while brackets:
        middles = {i: (low + high) // 2 for i, (low, high) in brackets.items()}
        stamps = await times(sorted(set(middles.values())))
        for instant, middle in middles.items():
            low, high = brackets[instant]
            low, high = (middle, high) if stamps[middle] <= instant else (low, middle)
            if high - low <= 1:
                found[instant] = low
                del brackets[instant]
            else:
                brackets[instant] = (low, high)
    return found


Probe = Callable[[list[int]], Awaitable[list[bool]]]
"""Whether something holds at each block asked (one batched request)."""


def search_price(head: int, per_round: int = 15) -> int:
    """Requests `first_block_where` makes at most over blocks 0..`head`."""
    requests, span = 1, head + 1
    while span > 1:
        span = -(-span // (per_round + 1))
        requests += 1
    return requests


async def first_block_where(head: int, holds: Probe, per_round: int = 15) -> int | None:
    """The first block at which `holds` (true from then on), searched `per_round` blocks a
    request: about log16(head) requests. `None` when it does not hold at the head."""
    if not (await holds([head]))[0]:
        return None
    low, high = -1, head  # false at `low` (before genesis), true at `high`
    while high - low > 1:
        step = (high - low) / (per_round + 1)
        probes = sorted({low + max(1, round(step * i)) for i in range(1, per_round + 1)})
        probes = [p for p in probes if low < p < high]
        for probe, found in zip(probes, await holds(probes), strict=True):
            if found:
                high = probe
                break
            low = probe
    return high


async def in_batches(
    blocks: Sequence[int], read: Callable[[list[int]], Awaitable[list[int]]], size: int = 100
) -> dict[int, int]:
    """`read` of every distinct block, `size` blocks a request, the requests concurrent; a
    batch whose answer is over the size cap (headers carry every transaction hash) is read
    again in halves."""
    wanted = sorted(set(blocks))

    async def batch(group: list[int]) -> dict[int, int]:
        try:
            return dict(zip(group, await read(group), strict=True))
        except UpstreamOversized:
            if len(group) == 1:
                raise
            halves = await asyncio.gather(
                batch(group[: len(group) // 2]), batch(group[len(group) // 2 :])
            )
            return halves[0] | halves[1]

    groups = [wanted[i : i + size] for i in range(0, len(wanted), size)]
    found: dict[int, int] = {}
    for values in await asyncio.gather(*(batch(g) for g in groups)):
        found.update(values)
    return found
