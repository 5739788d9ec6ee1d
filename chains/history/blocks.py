"""The block at an instant: the last block whose timestamp is at or before it.

A binary search over block timestamps, for many instants at once: each round asks for the
midpoint of every instant still open in one `times` call (one batched request on EVM and
Starknet), so a whole `portfolioHistory` resolves in about as many rounds as one instant,
log2(head) + 1 (about 26 on Ethereum). Timestamps are taken as ordered by block, as every
EVM chain and Starknet guarantee; Bitcoin's may step back by up to two hours, and there
the answer is a block within that much of the instant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

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
