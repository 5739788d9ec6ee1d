"""JsonRpcClient against real, scripted, misbehaving HTTP servers on loopback ports."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.errors import (
    ChainError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from core.metrics import Metrics
from graph.logs import log_config
from settings import Secret
from tests.fakes.http_server import (
    SECRET,
    Reply,
    Script,
    ScriptedServer,
    as_json,
    error_for,
    result_for,
)

CHAIN = "testchain"


MakeServer = Callable[..., ScriptedServer]


def dead_url() -> str:
    """A loopback URL with nothing listening (bound once to get a free port, then closed)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v2/{SECRET}?apikey={SECRET}"


def client(
    http: httpx.AsyncClient, metrics: Metrics, *urls: str, timeout: float = 5.0
) -> JsonRpcClient:
    return JsonRpcClient(
        CHAIN, [Secret(u) for u in urls], http, metrics, timeout=timeout, cooldown=30
    )


def assert_no_secret(exc: BaseException) -> None:
    texts = [str(exc), repr(exc), *(str(a) for a in exc.args)]
    if isinstance(exc, ChainError):
        texts += [exc.message, json.dumps(exc.extensions)]
    for text in texts:
        assert SECRET not in text, text


async def test_call_returns_result_and_counts_the_request(make_server: MakeServer) -> None:
    server = make_server(result_for(lambda req: {"echo": req["params"]}))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, server.url())
        result = await rpc.call("eth_getBalance", ["0xabc", "latest"])
    assert result == {"echo": ["0xabc", "latest"]}
    assert metrics.upstream_requests.get(chain=CHAIN, method="eth_getBalance") == 1
    assert metrics.upstream_errors.total() == 0
    [request] = server.requests
    assert request["jsonrpc"] == "2.0"
    assert request["method"] == "eth_getBalance"
    assert request["params"] == ["0xabc", "latest"]


async def test_http_429_is_rate_limited_and_retryable(make_server: MakeServer) -> None:
    server = make_server(Reply(status=429, body=b"slow down"))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), server.url())
        with pytest.raises(UpstreamRateLimited) as info:
            await rpc.call("eth_blockNumber", [])
    assert info.value.extensions["retryable"] is True
    assert info.value.extensions["code"] == "UPSTREAM_RATE_LIMITED"
    assert info.value.extensions["chain"] == CHAIN
    assert_no_secret(info.value)


async def test_http_503_is_an_upstream_error(make_server: MakeServer) -> None:
    server = make_server(Reply(status=503, body=b"maintenance"))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, server.url())
        with pytest.raises(UpstreamError) as info:
            await rpc.call("eth_blockNumber", [])
    assert type(info.value) is UpstreamError
    assert "503" in info.value.message
    assert info.value.extensions["retryable"] is True
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_PROVIDER_ERROR") == 1
    assert_no_secret(info.value)


@pytest.mark.parametrize(
    "body", [b"<html>bad gateway</html>", b"", b'{"jsonrpc": "2.0", "id": 1, ', b"\xff\xfe\x00"]
)
async def test_body_that_is_not_json_is_an_upstream_error(
    make_server: MakeServer, body: bytes
) -> None:
    server = make_server(Reply(body=body))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), server.url())
        with pytest.raises(UpstreamError) as info:
            await rpc.call("eth_blockNumber", [])
    assert type(info.value) is UpstreamError
    assert_no_secret(info.value)


@pytest.mark.parametrize("body", [b"[]", b"42", b'"result"', b"null"])
async def test_single_call_answered_with_a_non_object_is_an_upstream_error(
    make_server: MakeServer, body: bytes
) -> None:
    server = make_server(Reply(body=body))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), server.url())
        with pytest.raises(UpstreamError):
            await rpc.call("eth_blockNumber", [])


async def test_jsonrpc_code_32005_is_rate_limited(make_server: MakeServer) -> None:
    server = make_server(error_for(-32005, "limit exceeded"))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), server.url())
        with pytest.raises(UpstreamRateLimited) as info:
            await rpc.call("eth_call", [{}, "latest"])
    assert info.value.extensions["retryable"] is True
    assert_no_secret(info.value)


async def test_jsonrpc_rate_limit_fails_over_to_the_next_endpoint(make_server: MakeServer) -> None:
    limited = make_server(error_for(-32005))
    good = make_server(result_for(lambda req: "0x2a"))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, limited.url(), good.url())
        assert await rpc.call("eth_blockNumber", []) == "0x2a"
    assert (len(limited.requests), len(good.requests)) == (1, 1)
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_RATE_LIMITED") == 1


async def test_revert_is_a_definite_answer_and_not_retried_elsewhere(
    make_server: MakeServer,
) -> None:
    first = make_server(error_for(3, "execution reverted"))
    second = make_server(result_for(lambda req: "0x01"))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, first.url(), second.url())
        with pytest.raises(UpstreamRefused) as info:
            await rpc.call("eth_call", [{}, "latest"])
    assert len(first.requests) == 1
    assert len(second.requests) == 0
    assert info.value.extensions["retryable"] is False
    assert "JSON-RPC error 3" in info.value.message
    assert "execution reverted" not in info.value.message  # node text is logged, not served
    assert metrics.upstream_requests.get(chain=CHAIN, method="eth_call") == 1
    assert metrics.upstream_errors.total() == 0
    assert_no_secret(info.value)


async def test_slow_node_times_out(make_server: MakeServer) -> None:
    server = make_server(Reply(body=b'{"jsonrpc":"2.0","id":1,"result":"0x1"}', delay=2.0))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), server.url(), timeout=0.3)
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout) as info:
            await rpc.call("eth_blockNumber", [])
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert info.value.extensions["code"] == "UPSTREAM_TIMEOUT"
    assert info.value.extensions["retryable"] is True
    assert_no_secret(info.value)


@pytest.mark.parametrize("first_kind", ["dead-port", "http-503"])
async def test_failover_then_failed_endpoint_is_skipped_while_cooling_down(
    make_server: MakeServer, first_kind: str
) -> None:
    bad = make_server(Reply(status=503)) if first_kind == "http-503" else None
    bad_url = bad.url() if bad is not None else dead_url()
    good = make_server(result_for(lambda req: f"ok-{req['id']}"))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, bad_url, good.url())

        first = await rpc.call("eth_chainId", [])
        assert first == f"ok-{good.requests[0]['id']}"
        assert metrics.upstream_requests.get(chain=CHAIN, method="eth_chainId") == 2
        assert metrics.upstream_errors.total(chain=CHAIN) == 1

        second = await rpc.call("eth_chainId", [])
        assert second == f"ok-{good.requests[1]['id']}"
        assert metrics.upstream_requests.get(chain=CHAIN, method="eth_chainId") == 3
        assert metrics.upstream_errors.total(chain=CHAIN) == 1
    assert len(good.requests) == 2
    if bad is not None:
        assert len(bad.requests) == 1


async def test_endpoint_is_tried_first_again_after_cooldown(make_server: MakeServer) -> None:
    flaky = make_server(Reply(status=503), result_for(lambda req: "flaky"))
    other = make_server(result_for(lambda req: "other"))
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient(
            CHAIN,
            [Secret(flaky.url()), Secret(other.url())],
            http,
            Metrics(),
            timeout=5,
            cooldown=0.2,
        )
        assert await rpc.call("eth_chainId", []) == "other"
        await asyncio.sleep(0.25)
        assert await rpc.call("eth_chainId", []) == "flaky"
    assert (len(flaky.requests), len(other.requests)) == (2, 1)


async def test_when_every_endpoint_fails_the_last_error_is_raised(
    make_server: MakeServer,
) -> None:
    unavailable = make_server(Reply(status=503))
    limited = make_server(Reply(status=429))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, unavailable.url(), limited.url())
        with pytest.raises(UpstreamRateLimited):
            await rpc.call("eth_blockNumber", [])
        other_order = client(http, Metrics(), limited.url(), unavailable.url())
        with pytest.raises(UpstreamError) as info:
            await other_order.call("eth_blockNumber", [])
    assert type(info.value) is UpstreamError
    assert metrics.upstream_requests.get(chain=CHAIN, method="eth_blockNumber") == 2
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_PROVIDER_ERROR") == 1
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_RATE_LIMITED") == 1


async def test_every_endpoint_dead_raises_upstream_error_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), dead_url(), dead_url())
        with pytest.raises(UpstreamError) as info:
            await rpc.call("eth_blockNumber", [])
    assert type(info.value) is UpstreamError
    assert_no_secret(info.value)
    ours = [r.getMessage() for r in caplog.records if r.name == "chains.transport.endpoints"]
    assert len(ours) == 2  # each failed endpoint is logged ...
    assert all(SECRET not in m and "http://127.0.0.1/" in m for m in ours)  # ... by its label


def batch_reply(
    order: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    item: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> Callable[[Any], Reply]:
    """Answer a batch: one item per request (None drops it), then reorder them."""

    def reply(requests: Any) -> Reply:
        items = [i for i in (item(r) for r in requests) if i is not None]
        return as_json(order(items))

    return reply


def ok(request: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request["id"], "result": f"r-{request['params'][0]}"}


CALLS = [RpcCall("eth_getBalance", [f"acct{n}", "latest"]) for n in range(5)]


async def test_batch_matches_reordered_responses_by_id(make_server: MakeServer) -> None:
    def shuffle(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [items[i] for i in (3, 0, 4, 1, 2)]

    server = make_server(batch_reply(lambda items: items[::-1], ok), batch_reply(shuffle, ok))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        rpc = client(http, metrics, server.url())
        assert await rpc.batch(CALLS) == [f"r-acct{n}" for n in range(5)]
        assert await rpc.batch(CALLS) == [f"r-acct{n}" for n in range(5)]
    assert metrics.upstream_requests.get(chain=CHAIN, method="batch") == 2
    sent = server.requests[0]
    assert [r["params"][0] for r in sent] == [f"acct{n}" for n in range(5)]
    assert len({r["id"] for r in sent}) == 5


async def test_batch_item_with_an_error_is_an_error_value_in_its_slot(
    make_server: MakeServer,
) -> None:
    def item(request: dict[str, Any]) -> dict[str, Any]:
        param = request["params"][0]
        if param == "acct1":
            error = {"code": 3, "message": "execution reverted"}
            return {"jsonrpc": "2.0", "id": request["id"], "error": error}
        if param == "acct3":
            error = {"code": -32000, "message": "header not found"}
            return {"jsonrpc": "2.0", "id": request["id"], "error": error}
        return ok(request)

    server = make_server(batch_reply(lambda items: items[::-1], item))
    async with httpx.AsyncClient() as http:
        results = await client(http, Metrics(), server.url()).batch(CALLS)
    assert len(results) == 5
    assert [results[i] for i in (0, 2, 4)] == ["r-acct0", "r-acct2", "r-acct4"]
    assert isinstance(results[1], UpstreamRefused)
    assert "JSON-RPC error 3" in results[1].message
    assert "execution reverted" not in results[1].message
    assert type(results[3]) is UpstreamError  # the only endpoint: the slot carries it
    assert "JSON-RPC error -32000" in results[3].message


async def test_batch_with_node_trouble_in_an_item_fails_over_to_the_next_endpoint(
    make_server: MakeServer,
) -> None:
    def lagging(request: dict[str, Any]) -> dict[str, Any]:
        if request["params"][0] == "acct2":  # e.g. a pinned block this node has not seen yet
            error = {"code": -32000, "message": "header not found"}
            return {"jsonrpc": "2.0", "id": request["id"], "error": error}
        return ok(request)

    first = make_server(batch_reply(lambda items: items, lagging))
    second = make_server(batch_reply(lambda items: items, ok))
    metrics = Metrics()
    async with httpx.AsyncClient() as http:
        results = await client(http, metrics, first.url(), second.url()).batch(CALLS)
    assert results == [f"r-acct{n}" for n in range(5)]
    assert metrics.upstream_requests.get(chain=CHAIN, method="batch") == 2


async def test_absurdly_nested_json_is_an_upstream_error(make_server: MakeServer) -> None:
    server = make_server(Reply(body=b"[" * 100_000 + b"]" * 100_000))
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamError, match="not JSON"):
            await client(http, Metrics(), server.url()).call("eth_blockNumber", [])


async def test_batch_item_missing_from_the_answer_is_an_upstream_error_in_its_slot(
    make_server: MakeServer,
) -> None:
    def item(request: dict[str, Any]) -> dict[str, Any] | None:
        return None if request["params"][0] == "acct2" else ok(request)

    server = make_server(batch_reply(lambda items: items, item))
    async with httpx.AsyncClient() as http:
        results = await client(http, Metrics(), server.url()).batch(CALLS)
    assert [results[i] for i in (0, 1, 3, 4)] == ["r-acct0", "r-acct1", "r-acct3", "r-acct4"]
    assert type(results[2]) is UpstreamError
    assert results[2].extensions["chain"] == CHAIN


async def test_batch_answered_with_a_non_array_raises(make_server: MakeServer) -> None:
    server = make_server(as_json({"jsonrpc": "2.0", "id": 1, "result": "0x1"}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamError):
            await client(http, Metrics(), server.url()).batch(CALLS)


async def test_single_call_answered_with_a_different_id_is_an_upstream_error(
    make_server: MakeServer,
) -> None:
    server = make_server(lambda req: as_json({"jsonrpc": "2.0", "id": req["id"] + 7, "result": 1}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamError) as info:
            await client(http, Metrics(), server.url()).call("eth_blockNumber", [])
    assert type(info.value) is UpstreamError
    assert "id" in info.value.message


@pytest.mark.parametrize(
    "response",
    [
        {"id": 1, "result": "0x1"},  # no jsonrpc version
        {"jsonrpc": "2.0", "id": 1},  # neither result nor error
        {"jsonrpc": "1.0", "id": 1, "result": "0x1"},
    ],
)
async def test_malformed_single_response_is_an_upstream_error(
    make_server: MakeServer, response: dict[str, Any]
) -> None:
    server = make_server(as_json(response))
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamError):
            await client(http, Metrics(), server.url()).call("eth_blockNumber", [])


async def test_no_message_or_log_contains_the_endpoint_secret(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    replies: list[Script] = [
        Reply(status=503, body=f"no key {SECRET}".encode()),
        Reply(status=429),
        Reply(body=b"not json"),
        error_for(-32005),
        error_for(-32000),
        error_for(3),
        Reply(body=b'{"jsonrpc":"2.0","id":1,"result":"0x1"}', delay=2.0),
    ]
    raised: list[BaseException] = []
    async with httpx.AsyncClient() as http:
        for reply in replies:
            server = make_server(reply)
            rpc = client(http, Metrics(), server.url(), dead_url(), timeout=0.3)
            with pytest.raises(ChainError) as info:
                await rpc.call("eth_blockNumber", [])
            raised.append(info.value)
    assert len(raised) == len(replies)
    for exc in raised:
        assert_no_secret(exc)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("chains")]
    # every failed endpoint is logged, by label (the revert is an answer, not a failure)
    failed = [m for m in ours if "failed:" in m]
    assert len(failed) == 2 * (len(replies) - 1)
    assert all(SECRET not in message for message in ours)


# --- bugs: foreign failures that escape the mapping -------------------------------------


async def test_body_with_a_broken_content_encoding_is_an_upstream_error_and_fails_over(
    make_server: MakeServer,
) -> None:
    # A node (or proxy) that claims gzip but sends plain bytes. httpx raises
    # httpx.DecodingError, which is not a TransportError, so `upstream_errors` lets it escape.
    broken = make_server(Reply(body=b"definitely not gzip", headers={"Content-Encoding": "gzip"}))
    good = make_server(result_for(lambda req: "0x1"))
    async with httpx.AsyncClient() as http:
        rpc = client(http, Metrics(), broken.url(), good.url())
        assert await rpc.call("eth_blockNumber", []) == "0x1"


@pytest.mark.parametrize(
    "error", [{"code": [3], "message": "x"}, {"code": {"n": 3}, "message": "x"}]
)
async def test_error_object_with_an_unhashable_code_is_an_upstream_error(
    make_server: MakeServer, error: dict[str, Any]
) -> None:
    server = make_server(lambda req: as_json({"jsonrpc": "2.0", "id": req["id"], "error": error}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamError):
            await client(http, Metrics(), server.url()).call("eth_blockNumber", [])


async def test_batch_item_with_an_unhashable_id_does_not_crash_the_batch(
    make_server: MakeServer,
) -> None:
    def item(request: dict[str, Any]) -> dict[str, Any]:
        answer = ok(request)
        if request["params"][0] == "acct0":
            answer["id"] = [request["id"]]
        return answer

    server = make_server(batch_reply(lambda items: items, item))
    async with httpx.AsyncClient() as http:
        results = await client(http, Metrics(), server.url()).batch(CALLS)
    assert type(results[0]) is UpstreamError
    assert results[1:] == [f"r-acct{n}" for n in range(1, 5)]


async def test_service_logs_at_info_level_never_contain_the_endpoint_secret(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx logs "HTTP Request: POST <full URL>" at INFO; with the service's own logging
    # config (what `balance-graph serve` and every worker use) those lines must not appear.
    logging.config.dictConfig(log_config("info"))
    root = logging.getLogger()
    root.addHandler(caplog.handler)
    try:
        server = make_server(result_for(lambda req: "0x1"))
        failing = make_server(Reply(status=503))
        async with httpx.AsyncClient() as http:
            rpc = JsonRpcClient(
                "chain-x",
                [Secret(failing.url()), Secret(server.url())],
                http,
                Metrics(),
                timeout=2,
                cooldown=30,
            )
            assert await rpc.call("eth_blockNumber", []) == "0x1"
    finally:
        root.removeHandler(caplog.handler)
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    messages = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    assert any("chain-x: endpoint" in m for m in messages)  # the failover was logged...
    assert [m for m in messages if SECRET in m] == []  # ...and nothing logged the key
