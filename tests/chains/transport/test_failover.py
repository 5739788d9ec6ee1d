"""What moves a JSON-RPC call to the next endpoint, and what keeps a sick one out of the way.

Each test failed before attempts covered the whole exchange (issue 8, items 9 and 10): a
first endpoint answering with a wrong id, a short batch or a body its parser refused was
never failed over, a 150 MB answer was buffered whole, and a dead endpoint cost a timeout on
every request.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.errors import RangeTooLarge, UpstreamError, UpstreamTimeout
from core.metrics import Metrics
from settings import Secret
from tests.fakes.http_server import Reply, ScriptedServer, as_json, error_for, result_for

MakeServer = Callable[..., ScriptedServer]
CHAIN = "testchain"


def client(
    http: httpx.AsyncClient,
    metrics: Metrics,
    *servers: ScriptedServer,
    threshold: int = 3,
    cooldown: float = 30,
    limit: int = 1024 * 1024,
) -> JsonRpcClient:
    return JsonRpcClient(
        CHAIN,
        [Secret(s.url()) for s in servers],
        http,
        metrics,
        timeout=5,
        cooldown=cooldown,
        threshold=threshold,
        max_response_bytes=limit,
    )


def wrong_id(request: Any) -> Reply:
    return as_json({"jsonrpc": "2.0", "id": request["id"] + 1000, "result": "0x1"})


async def test_an_answer_with_the_wrong_id_fails_over(make_server: MakeServer) -> None:
    liar, honest = make_server(wrong_id), make_server(result_for(lambda r: "0x2a"))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), liar, honest)
        assert await rpc.call("eth_blockNumber", []) == "0x2a"
    assert (len(liar.requests), len(honest.requests)) == (1, 1)


def short_batch(request: Any) -> Reply:
    answers = [{"jsonrpc": "2.0", "id": c["id"], "result": "0x1"} for c in request[:-1]]
    return as_json(answers)


def full_batch(request: Any) -> Reply:
    return as_json([{"jsonrpc": "2.0", "id": c["id"], "result": "0x2"} for c in request])


async def test_a_batch_missing_answers_fails_over_and_is_lenient_on_the_last_endpoint(
    make_server: MakeServer,
) -> None:
    calls = [RpcCall("eth_chainId", []) for _ in range(3)]
    short, full = make_server(short_batch), make_server(full_batch)
    async with httpx.AsyncClient() as http:
        assert await client(http, Metrics(), short, full).batch(calls) == ["0x2", "0x2", "0x2"]
        alone = await client(http, Metrics(), short).batch(calls)
    assert alone[:2] == ["0x1", "0x1"] and isinstance(alone[2], UpstreamError)


async def test_a_result_the_caller_cannot_parse_fails_over(make_server: MakeServer) -> None:
    garbage, good = (
        make_server(result_for(lambda r: "0xzz")),
        make_server(result_for(lambda r: "0x7")),
    )

    def parse(raw: Any) -> int:
        try:
            return int(raw, 16)
        except ValueError:
            raise UpstreamError("malformed", chain=CHAIN) from None

    async with httpx.AsyncClient() as http:
        assert await client(http, Metrics(), garbage, good).call("x", [], parse=parse) == 7


async def test_a_failing_endpoint_opens_after_the_threshold_and_is_skipped(
    make_server: MakeServer,
) -> None:
    dead, alive = make_server(Reply(status=503)), make_server(result_for(lambda r: "0x1"))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, dead, alive, threshold=2, cooldown=0.3)
        for _ in range(3):  # one failure: the back of the line for the cool-down ...
            assert await rpc.call("eth_chainId", []) == "0x1"
        assert len(dead.requests) == 1
        await asyncio.sleep(0.35)  # ... then first again, failing a second time: open
        assert await rpc.call("eth_chainId", []) == "0x1"
        for _ in range(3):
            assert await rpc.call("eth_chainId", []) == "0x1"
        assert len(dead.requests) == 2
        states = rpc.endpoints.states()
        assert list(states.values()) == ["open", "closed"]
        assert all("SECRET" not in label for label in states)
        assert (
            metrics.endpoint_transitions.get(chain=CHAIN, endpoint=next(iter(states)), state="open")
            == 1
        )


async def test_every_endpoint_open_fails_fast_then_a_probe_closes_it_again(
    make_server: MakeServer,
) -> None:
    flaky = make_server(Reply(status=503), Reply(status=503), result_for(lambda r: "0x9"))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), flaky, threshold=2, cooldown=0.3)
        for _ in range(2):
            with pytest.raises(UpstreamError):
                await rpc.call("eth_chainId", [])
        with pytest.raises(UpstreamError, match="every testchain endpoint is failing"):
            await rpc.call("eth_chainId", [])
        assert len(flaky.requests) == 2  # the fast failure asked nobody
        await asyncio.sleep(0.35)
        assert rpc.endpoints.states() == {next(iter(rpc.endpoints.states())): "half-open"}
        assert await rpc.call("eth_chainId", []) == "0x9"  # the probe
        assert list(rpc.endpoints.states().values()) == ["closed"]


@pytest.mark.parametrize("compressed", [False, True])
async def test_an_oversized_answer_is_refused_as_it_streams(
    make_server: MakeServer, compressed: bool
) -> None:
    payload = b'{"jsonrpc":"2.0","id":1,"result":"' + b"0" * 3_000_000 + b'"}'
    headers = {"Content-Encoding": "gzip"} if compressed else {}
    body = gzip.compress(payload) if compressed else payload
    big, small = (
        make_server(Reply(body=body, headers=headers)),
        make_server(result_for(lambda r: "0x1")),
    )
    async with httpx.AsyncClient() as http:
        # 3 MB over a 1 MB limit (a gzip bomb of ~3 KB just the same) fails over.
        assert await client(http, Metrics(), big, small).call("eth_chainId", []) == "0x1"
        with pytest.raises(UpstreamError, match="oversized body"):
            await client(http, Metrics(), big).call("eth_chainId", [])
    assert len(body) < 10_000 if compressed else len(body) > 1024 * 1024


# --- what a caller can provoke never opens a circuit (issue 18, defect 3) ---------------------


def big(request: Any) -> Reply:
    """2 MB for every call, over the 1 MB limit."""
    if isinstance(request, list):
        return as_json([{"jsonrpc": "2.0", "id": c["id"], "result": []} for c in request] * 30_000)
    return as_json({"jsonrpc": "2.0", "id": request["id"], "result": "0" * 2_000_000})


async def test_an_oversized_answer_never_counts_against_the_endpoint(
    make_server: MakeServer,
) -> None:
    """A log range on a busy token, a contract returning megabytes: what was asked decides
    the size, so no number of them opens the circuit (it took three before)."""
    node = make_server(big)
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), node, threshold=1)
        for _ in range(3):
            with pytest.raises(UpstreamError, match="oversized"):
                await rpc.call("eth_call", [])
        assert list(rpc.endpoints.states().values()) == ["closed"]
        with pytest.raises(RangeTooLarge):  # a log query: split the range, never fail over
            await rpc.batch([RpcCall("eth_getLogs", [{}])], label="eth_getLogs")
    assert len(node.requests) == 4


async def test_an_error_answer_counts_only_once_another_endpoint_answers_the_same(
    make_server: MakeServer,
) -> None:
    aborted = error_for(-32000, "execution aborted (timeout = 5s)")  # a gas-burning contract
    alone, healthy = make_server(aborted), make_server(result_for(lambda r: "0x1"))
    async with httpx.AsyncClient() as http:
        only = client(http, Metrics(), alone, threshold=1)
        for _ in range(3):
            with pytest.raises(UpstreamError):
                await only.call("eth_call", [])
        assert list(only.endpoints.states().values()) == ["closed"]  # no one could answer
        both = client(http, Metrics(), alone, healthy, threshold=1)
        assert await both.call("eth_call", []) == "0x1"
        assert list(both.endpoints.states().values()) == ["open", "closed"]  # it was the node


async def test_a_slow_log_scan_never_counts_but_a_slow_head_does(make_server: MakeServer) -> None:
    slow = make_server(Reply(body=b"[]", delay=1.0))
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient(
            CHAIN, [Secret(slow.url())], http, Metrics(), timeout=0.2, cooldown=30, threshold=1
        )
        with pytest.raises(UpstreamTimeout):
            await rpc.batch([RpcCall("eth_getLogs", [{}])], label="eth_getLogs")
        assert list(rpc.endpoints.states().values()) == ["closed"]
        with pytest.raises(UpstreamTimeout):
            await rpc.call("eth_blockNumber", [])
        assert list(rpc.endpoints.states().values()) == ["open"]
