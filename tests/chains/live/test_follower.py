"""A follower's own memory stays bounded however long it follows, whether it reads every
block or (polling a fast chain) skips most of them."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime

from chains.heads import Head, SharedHeads
from chains.live.follower import Follower
from chains.live.mailbox import Mailbox
from chains.live.source import LiveChain
from core.errors import ChainError
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading
from tests.fakes.service import new_store

KEY = BalanceKey("fast", "0x" + "1" * 40, NATIVE_TOKEN)


class FastChain:
    """A chain whose head moves `step` blocks between two polls, every block hashed."""

    def __init__(self, step: int) -> None:
        self.number, self.step = 1_000, step
        self.until, self.reached = 0, asyncio.Event()

    async def latest(self) -> Head:
        self.number += self.step
        if self.number >= self.until:
            self.reached.set()
        return Head(self.number, f"0x{self.number:064x}", f"0x{self.number - 1:064x}", 0)

    async def read(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError]:
        return [BalanceReading(k, 1, block, datetime.now(UTC)) for k in keys]


async def follow(chain: FastChain, follower: Follower, heads: int) -> None:
    chain.until = chain.number + heads * chain.step
    chain.reached.clear()
    await chain.reached.wait()


async def test_a_follower_skipping_blocks_keeps_a_bounded_memory_of_hashes() -> None:
    chain = FastChain(step=3)
    live = LiveChain(
        chain="fast",
        heads=chain,
        shared=SharedHeads("fast", None, 0.0),
        read=chain.read,
        store=new_store(),
        interval=0.0,
        full_refresh_blocks=64,
    )
    follower = Follower(live, Metrics())
    follower.start()
    follower.add(Mailbox(10), [KEY])
    tracemalloc.start()  # before anything it keeps is made: what it lets go is seen too
    try:
        await follow(chain, follower, 1_000)  # past every fixed-size memory it keeps
        gc.collect()
        before = tracemalloc.take_snapshot()
        await follow(chain, follower, 3_000)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        await follower.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 20_000, f"{grown} bytes more after 3,000 more blocks"
