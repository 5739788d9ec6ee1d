"""MemoryCache: an LRU with per-entry expiry, on an injected monotonic clock."""

from __future__ import annotations

from chains.cache.memory import MemoryCache


class Ticks:
    """A settable monotonic clock in seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_values_come_back_in_key_order_with_none_for_misses() -> None:
    cache = MemoryCache(10)
    await cache.set_many({"a": b"1", "b": b"2"}, ttl=60)
    assert await cache.get_many(["b", "missing", "a", "b"]) == [b"2", None, b"1", b"2"]
    assert await cache.get_many([]) == []


async def test_an_entry_expires_after_its_ttl() -> None:
    ticks = Ticks()
    cache = MemoryCache(10, clock=ticks)
    await cache.set_many({"short": b"s"}, ttl=10)
    await cache.set_many({"long": b"l"}, ttl=100)
    ticks.now += 9.999
    assert await cache.get_many(["short", "long"]) == [b"s", b"l"]
    ticks.now += 0.001  # exactly the TTL: gone
    assert await cache.get_many(["short", "long"]) == [None, b"l"]
    ticks.now -= 5  # an expired entry was dropped, not merely hidden
    assert await cache.get_many(["short"]) == [None]


async def test_writing_again_replaces_the_value_and_its_expiry() -> None:
    ticks = Ticks()
    cache = MemoryCache(10, clock=ticks)
    await cache.set_many({"k": b"old"}, ttl=10)
    ticks.now += 8
    await cache.set_many({"k": b"new"}, ttl=10)
    ticks.now += 8
    assert await cache.get_many(["k"]) == [b"new"]


async def test_the_least_recently_used_entry_is_evicted_first() -> None:
    cache = MemoryCache(3)
    await cache.set_many({"a": b"1", "b": b"2", "c": b"3"}, ttl=60)
    await cache.get_many(["a"])  # a is now the most recently used
    await cache.set_many({"d": b"4"}, ttl=60)
    assert await cache.get_many(["a", "b", "c", "d"]) == [b"1", None, b"3", b"4"]


async def test_rewriting_an_entry_counts_as_a_use() -> None:
    cache = MemoryCache(2)
    await cache.set_many({"a": b"1", "b": b"2"}, ttl=60)
    await cache.set_many({"a": b"1'"}, ttl=60)
    await cache.set_many({"c": b"3"}, ttl=60)
    assert await cache.get_many(["a", "b", "c"]) == [b"1'", None, b"3"]


async def test_a_batch_larger_than_the_cache_keeps_its_last_entries() -> None:
    cache = MemoryCache(2)
    await cache.set_many({"a": b"1", "b": b"2", "c": b"3"}, ttl=60)
    assert await cache.get_many(["a", "b", "c"]) == [None, b"2", b"3"]


async def test_close_empties_the_cache() -> None:
    cache = MemoryCache(10)
    await cache.set_many({"a": b"1"}, ttl=60)
    await cache.close()
    assert await cache.get_many(["a"]) == [None]
