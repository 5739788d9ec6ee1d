"""A script that touches keys of two cluster slots is a bug: every script, on a real cluster.

Redis Cluster runs a script on the one node that owns its keys' slot, so every key a script
names must share one hash tag. This module finds every `register_script` in the service's
code, runs each through the code that calls it against a real 3+3 cluster for representative
subjects (a key, IPv4 and IPv6 callers, every rate class, persisted queries), and checks the
slot of every key each call named, computed the way Redis computes it (`key_slot`). A new
script that no test here calls fails the scan until one does.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from chains.cache.breaker import Breaker
from chains.cache.clients import RedisClient, redis_client
from graph.checks.persisted import RedisPersistedQueries
from metering import keys
from metering.keys import KeyRecord
from metering.redis_store import RedisStore
from metering.store import Charge, Usage
from settings import RATE_CLASSES, CacheConfig
from tests.conftest import redis_cache_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("chains", "core", "graph", "loaders", "metering", "prices", "resolvers", "settings")
SUBJECTS = ("ip:203.0.113.7", "ip:2001:db8:1:2::/64", "ip:unknown")


class RecordingClient:
    """The real cluster client, recording the keys of every script call."""

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self.calls: list[tuple[str, list[str]]] = []
        self.scripts: set[str] = set()

    def register_script(self, text: str) -> Callable[..., Awaitable[Any]]:
        self.scripts.add(text)
        script = self._client.register_script(text)

        async def call(keys: list[str], args: list[Any]) -> Any:
            self.calls.append((text, list(keys)))
            return await script(keys=keys, args=args)

        return call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def script_sites() -> list[str]:
    """`file:line` of every `register_script(` in the service's packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.register_script\(", line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


@pytest.fixture
async def recording(request: pytest.FixtureRequest) -> AsyncIterator[RecordingClient]:
    cache = CacheConfig.model_validate(redis_cache_table("cluster", request))
    client = redis_client(cache, timeout=5)
    assert client is not None
    yield RecordingClient(client)
    await client.aclose()


async def exercise_every_script(client: RecordingClient) -> None:
    """Each script through the code that calls it, as the service and the CLI call it."""
    store = RedisStore(client)  # type: ignore[arg-type]
    key = keys.new_key()
    digest = keys.digest(key)
    await store.create(KeyRecord(digest, "slots", None, 100, False, time.time()))
    usage = tuple(Usage(rate_class, 1, 1_000, 60_000) for rate_class in RATE_CLASSES)
    verdict = await store.charge(Charge(f"key:{digest}", digest, usage, 3))
    assert verdict.outcome == "admitted" and verdict.credits == 97
    for subject in SUBJECTS:
        assert (await store.charge(Charge(subject, None, usage, 0))).outcome == "admitted"
    assert (await store.credit("slots", 5)).credits == 102
    breaker = Breaker("redis", cooldown=60)
    persisted = RedisPersistedQueries(client, breaker, max_entries=10, ttl=60)  # type: ignore[arg-type]
    await persisted.put("ab" * 32, "{ chains { id } }")
    assert await persisted.get("ab" * 32) == "{ chains { id } }"
    assert breaker.healthy  # no failure was swallowed on the way


@pytest.mark.integration
async def test_every_script_call_names_keys_of_one_slot_on_a_real_cluster(
    recording: RecordingClient,
) -> None:
    await exercise_every_script(recording)  # a CROSSSLOT would have raised here
    sites = script_sites()
    assert len(recording.scripts) == len(sites), f"a script no test here calls: {sites}"
    for _, named in recording.calls:
        slots = {key_slot(name.encode()) for name in named}
        assert len(slots) == 1, f"keys of {len(slots)} slots in one script call: {named}"
    called = {text for text, _ in recording.calls}
    assert called == recording.scripts
    for text in recording.scripts:  # a key built inside the script escapes the check above
        assert not re.search(r"['\"]bg:", text), "a script names a key of its own"


def test_the_scan_finds_the_scripts_it_guards() -> None:
    """The scan is what makes a new script fail the test above: it must see today's."""
    sites = script_sites()
    assert any(s.startswith("metering/redis_store.py") for s in sites)
    assert any(s.startswith("graph/checks/persisted.py") for s in sites)
