"""per_chain: one read per chain, run concurrently, answers put back in key order."""

from __future__ import annotations

import asyncio

from loaders.per_chain import per_chain

Key = tuple[str, int]


def chain_of(key: Key) -> str:
    return key[0]


async def test_each_chain_is_read_once_and_answers_come_back_in_key_order() -> None:
    reads: list[tuple[str, list[Key]]] = []

    async def read(chain: str, keys: list[Key]) -> list[str]:
        reads.append((chain, keys))
        return [f"{chain}-{n}" for _, n in keys]

    keys = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]
    answers = await per_chain(keys, chain_of, read)
    assert answers == ["b-1", "a-2", "b-3", "c-4", "a-5"]
    assert sorted(reads) == [
        ("a", [("a", 2), ("a", 5)]),
        ("b", [("b", 1), ("b", 3)]),
        ("c", [("c", 4)]),
    ]


async def test_chains_are_read_concurrently() -> None:
    started: set[str] = set()
    both = asyncio.Event()

    async def read(chain: str, keys: list[Key]) -> list[str]:
        started.add(chain)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=1)  # a sequential fan-out would time out
        return [chain for _ in keys]

    assert await per_chain([("a", 1), ("b", 2)], chain_of, read) == ["a", "b"]


async def test_a_chain_that_raises_gives_its_exception_to_its_keys_only() -> None:
    bug = RuntimeError("provider bug")

    async def read(chain: str, keys: list[Key]) -> list[str]:
        if chain == "broken":
            raise bug
        return [f"ok-{n}" for _, n in keys]

    answers = await per_chain([("broken", 1), ("good", 2), ("broken", 3)], chain_of, read)
    assert answers == [bug, "ok-2", bug]


async def test_no_keys_reads_nothing() -> None:
    async def read(chain: str, keys: list[Key]) -> list[str]:
        raise AssertionError("nothing to read")

    assert await per_chain([], chain_of, read) == []
