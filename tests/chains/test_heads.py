"""A chain's head, shared: between what one process asks (history, discovery, live
followers) and, through the shared cache, between processes and replicas."""

from __future__ import annotations

from pathlib import Path

import pytest

from chains.cache.memory import MemoryCache
from chains.heads import Head, SharedHeads
from tests.conftest import Devnet, devnet_settings, redis_cache_table, serve

HASH = "0x" + "ab" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self, head: int) -> None:
        self.head, self.asked = head, 0

    async def number(self) -> int:
        self.asked += 1
        return self.head


async def test_another_process_s_head_is_taken_while_fresh() -> None:
    clock, node = Clock(), Node(500)
    cache = MemoryCache(100, clock=clock)
    one, two = SharedHeads("eth", cache, 2.0, clock), SharedHeads("eth", cache, 2.0, clock)
    assert await one.number(node.number) == 500
    node.head = 501
    assert await two.number(node.number) == 500  # the other process's, not a second read
    assert node.asked == 1
    clock.now += 2.5
    assert await one.number(node.number) == 501  # stale here; the cache's copy expires too
    assert node.asked == 2


async def test_a_head_from_the_cache_is_kept_only_for_what_is_left_of_its_ttl() -> None:
    """Taken from the cache 1.5 s after another process read it, a head with a 2 s ttl is
    kept 0.5 s more here, not another 2 s: no process uses a head older than its ttl."""
    clock, node = Clock(), Node(500)
    cache = MemoryCache(100, clock=clock)
    one = SharedHeads("eth", cache, 2.0, clock, wall=clock)
    two = SharedHeads("eth", cache, 2.0, clock, wall=clock)
    assert await one.number(node.number) == 500
    node.head = 501
    clock.now += 1.5
    assert await two.number(node.number) == 500
    clock.now += 0.6  # 2.1 s after the read: stale for everyone
    assert await two.number(node.number) == 501
    assert node.asked == 2


async def test_a_full_head_travels_without_its_bloom_and_garbage_is_a_miss() -> None:
    cache = MemoryCache(100)
    await SharedHeads("eth", cache, 5.0).put(Head(7, HASH, HASH, 1_700_000_000, bytes(256)))
    assert await SharedHeads("eth", cache, 5.0).get() == Head(7, HASH, HASH, 1_700_000_000)
    await cache.set_many({"bg:v1:head:eth": b'{"n": -1, "h": null, "p": null, "t": null}'}, 5)
    assert await SharedHeads("eth", cache, 5.0).get() is None
    await cache.set_many({"bg:v1:head:eth": b'{"n": 3, "h": "0xzz", "p": null, "t": null}'}, 5)
    assert await SharedHeads("eth", cache, 5.0).get() is None


@pytest.mark.parametrize("mode", ["single", "cluster", "sentinel"])
def test_replicas_on_one_redis_read_a_chain_s_head_once_between_them(
    tmp_path: Path, devnet: Devnet, mode: str, request: pytest.FixtureRequest
) -> None:
    cache = redis_cache_table(mode, request)
    settings = devnet_settings(tmp_path, devnet, cache=cache, poll_interval=30)
    query = (
        '{ balance(account: "%s", chain: "devnet", token: "native", atBlock: "%d") { rawAmount } }'
    )
    for first in serve(settings):
        assert "errors" not in first.query(query % (devnet.holder, 1))
        assert first.upstream_requests("eth_blockNumber") == 1
        for second in serve(settings):  # another block: nothing but the head is in common
            assert "errors" not in second.query(query % (devnet.holder, 2))
            assert second.upstream_requests("eth_blockNumber") == 0  # the first one's, via Redis
