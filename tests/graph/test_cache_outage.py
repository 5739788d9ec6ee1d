"""A Redis that stalls (SIGSTOP) rather than dies (issue 8, item 12), through the whole app.

Before, every request waited out a one-second socket timeout for the whole stall (p99 824 ms,
max 3.1 s), and with no in-process tier a hot query went to the chain on every request.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import Devnet, RedisServer, devnet_settings, issue_key, serve

QUERY = '{ account(address: "%s") { balances(maxAge: %d) { rawAmount } } }'
BALANCE = '{ balance(account: "%s", chain: "devnet", token: "native") { rawAmount } }'


def test_a_stalled_redis_costs_a_few_timeouts_and_hot_values_stay_in_process(
    tmp_path: Path, devnet: Devnet
) -> None:
    with RedisServer() as server:
        cache = {"redis_url": server.url, "redis_timeout": 0.25, "redis_retry_after": 60}
        for api in serve(devnet_settings(tmp_path, devnet, cache=cache)):
            first = api.query(QUERY % (devnet.holder, 300))
            upstream = api.upstream()
            server.freeze()
            try:
                started = time.monotonic()
                for _ in range(10):  # hot: answered from this process, Redis never asked
                    assert api.query(QUERY % (devnet.holder, 300)) == first
                hot = time.monotonic() - started
                assert api.upstream() == upstream
                started = time.monotonic()
                for _ in range(10):  # maxAge 0 consults Redis: 3 timeouts open the breaker
                    body = api.query(QUERY % (devnet.holder, 0))
                    assert body["data"] == first["data"]
                cold = time.monotonic() - started
            finally:
                server.thaw()
            assert hot < 0.25  # not a single Redis timeout
            assert cold < 6 * 0.25  # three timeouts in a row, not one per request
            assert not api.services.redis_breaker.healthy
            ready = api.client.get("/health/ready").json()
            assert ready["cache"] == {"healthy": False}


def test_a_stalled_redis_refuses_keys_fast_and_limits_anonymous_calls_in_process(
    tmp_path: Path, devnet: Devnet
) -> None:
    """Keys cannot be checked without their store: 503, retryable, after three timeouts.
    Anonymous callers are still served, and still limited, by this process alone."""
    with RedisServer() as server:
        cache = {"redis_url": server.url, "redis_timeout": 0.25, "redis_retry_after": 60}
        settings = devnet_settings(
            tmp_path, devnet, cache=cache, rate_limits={"anonymous": {"balance": "4/min"}}
        )
        key = issue_key(settings, "alice", credits=100)
        balance = {"query": BALANCE % devnet.holder}
        for api in serve(settings):
            assert api.client.post("/graphql", json=balance, headers={"x-api-key": key}).is_success
            assert api.client.post("/graphql", json=balance).is_success  # 1 of 4, in Redis
            server.freeze()
            try:
                started = time.monotonic()
                keyed = [
                    api.client.post("/graphql", json=balance, headers={"x-api-key": key})
                    for _ in range(5)
                ]
                keyed_time = time.monotonic() - started
                anonymous = [api.client.post("/graphql", json=balance) for _ in range(5)]
            finally:
                server.thaw()
            assert {r.status_code for r in keyed} == {503}
            assert keyed[0].json()["errors"][0]["extensions"]["code"] == "METERING_UNAVAILABLE"
            assert keyed[0].headers["retry-after"] == "60"
            assert keyed_time < 5 * 0.25  # 3 timeouts open the breaker, not one per request
            # the process's own window starts empty: 4 served, then 429
            assert [r.status_code for r in anonymous] == [200, 200, 200, 200, 429]
