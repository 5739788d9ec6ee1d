"""The graphql-transport-ws protocol and what refuses a subscription before any I/O, in
process (Starlette's TestClient). The chain's only node is dead: nothing here may read it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devnet.anvil import find_free_port
from graph.app import create_app
from graph.launch import WS_MAX_MESSAGE, server_options
from settings import Settings, parse_settings
from tests.conftest import dead_url, issue_key, live_server
from tests.graph.streams.client import Session, session

WALLET = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
CHANGES = (
    "subscription($a: [String!]!, $c: [String!], $t: [String!]) "
    "{ balanceChanges(accounts: $a, chains: $c, tokens: $t) { blockNumber } }"
)


def offline_settings(tmp_path: Path, **sections: Any) -> Settings:
    chain = {
        "family": "evm",
        "chain_id": 1,
        "rpc_urls": [dead_url()],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
    }
    raw: dict[str, Any] = {
        "chains": {"mainnet": chain},
        "tokens": {"shipped_lists": False},
        "rate_limits": {"anonymous": {}},
        "auth": {"data_dir": str(tmp_path / "keys")},
        **sections,
    }
    return parse_settings(raw, base_dir=tmp_path, environ={})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(offline_settings(tmp_path))) as client:
        yield client


@contextmanager
def connected(client: TestClient, payload: Any = None, **options: Any) -> Iterator[Any]:
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], **options
    ) as session:
        session.send_json({"type": "connection_init", "payload": payload or {}})
        assert session.receive_json() == {"type": "connection_ack"}
        yield session


def subscribe(session: Any, variables: dict[str, Any], query: str = CHANGES) -> dict[str, Any]:
    session.send_json(
        {"type": "subscribe", "id": "s", "payload": {"query": query, "variables": variables}}
    )
    message: dict[str, Any] = session.receive_json()
    return message


def closed_with(session: Any) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        session.receive_json()
    return closed.value.code


def test_the_protocol_is_negotiated_and_the_legacy_one_refused(client: TestClient) -> None:
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-ws", "graphql-transport-ws"]
    ) as ws:
        assert ws.accepted_subprotocol == "graphql-transport-ws"
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        assert ws.accepted_subprotocol == "graphql-ws"  # echoed, so a browser sees the code
        assert closed_with(ws) == 4406


def test_ping_pong_and_the_state_rules(client: TestClient) -> None:
    with connected(client) as session:
        session.send_json({"type": "ping"})
        assert session.receive_json() == {"type": "pong"}
        session.send_json({"type": "connection_init"})
        assert closed_with(session) == 4429
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": "{ chains { id } }"}})
        assert closed_with(ws) == 4401
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_text("not json")
        assert closed_with(ws) == 4400


def test_a_socket_that_never_initialises_is_closed(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, live={"init_timeout": 0.2})
    with (
        TestClient(create_app(settings)) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        assert closed_with(ws) == 4408


def test_arguments_no_chain_accepts_refuse_the_subscription_with_the_usual_codes(
    client: TestClient,
) -> None:
    with connected(client) as session:
        refused(session)


def refused(session: Any) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"a": ["0x123"]}, "INVALID_ADDRESS"),
        ({"a": [WALLET], "c": ["nowhere"]}, "UNSUPPORTED_CHAIN"),
        ({"a": [WALLET], "t": ["0xnot-a-token"]}, "INVALID_ADDRESS"),
        ({"a": []}, "BAD_USER_INPUT"),
        ({"a": 5}, "BAD_USER_INPUT"),
    ]
    for variables, code in cases:
        answer = subscribe(session, variables)
        assert answer["type"] == "error", answer
        assert answer["id"] == "s"
        assert [e["extensions"]["code"] for e in answer["payload"]] == [code], answer
    session.send_json({"type": "subscribe", "id": "q", "payload": {"query": "{ chains { id } }"}})
    answer = session.receive_json()
    assert answer["type"] == "error" and answer["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_selection_that_would_read_balances_with_every_event_is_refused(
    client: TestClient,
) -> None:
    query = (
        'subscription { balanceChanges(accounts: ["%s"], tokens: ["native"]) '
        "{ balance { account { balances { rawAmount } } } } }" % WALLET
    )
    with connected(client) as session:
        answer = subscribe(session, {}, query)
    assert answer["type"] == "error"
    assert answer["payload"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


def test_a_bad_key_is_refused_at_every_subscribe_not_by_a_closed_socket(
    client: TestClient,
) -> None:
    with connected(client, {"x-api-key": "bgk_" + "x" * 43}) as session:
        answer = subscribe(session, {"a": [WALLET], "t": ["native"]})
    assert answer["type"] == "error"
    assert answer["payload"][0]["extensions"]["code"] == "INVALID_API_KEY"


async def first_for(live: Session, op_id: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Subscribe as `op_id` and return its first answer (others' messages skipped)."""
    await live.subscribe(op_id, variables, CHANGES)
    while True:
        message = await live.receive()
        if message.get("id") == op_id:
            return message


def code_of(message: dict[str, Any]) -> str:
    assert message["type"] == "error", message
    code: str = message["payload"][0]["extensions"]["code"]
    return code


def tokens(count: int) -> list[str]:
    return [f"0x{n:040x}" for n in range(1, count + 1)]


# Subscriptions that run need a real server: Starlette's TestClient cancels a WebSocket app
# the moment it sends the disconnect, racing the app's own cleanup.


async def test_per_caller_limits_on_subscriptions_and_watched_lookups(tmp_path: Path) -> None:
    limits = {"max_watched_lookups": 3, "max_subscriptions_per_caller": 2}
    with live_server(offline_settings(tmp_path, limits=limits)) as base:
        async with session(base) as live:
            big = await first_for(live, "big", {"a": [WALLET], "t": tokens(4)})
            assert code_of(big) == "COST_LIMIT_EXCEEDED"
            # Admitted: its first event says its (dead) node failed.
            assert (await first_for(live, "a", {"a": [WALLET], "t": tokens(2)}))["type"] == "next"
            assert code_of(await first_for(live, "b", {"a": [WALLET], "t": tokens(2)})) == (
                "RATE_LIMITED"
            )
            assert (await first_for(live, "c", {"a": [WALLET], "t": tokens(1)}))["type"] == "next"
            assert code_of(await first_for(live, "d", {"a": [WALLET], "t": tokens(1)})) == (
                "RATE_LIMITED"
            )
            await live.complete("a")
            assert (await first_for(live, "e", {"a": [WALLET], "t": tokens(2)}))["type"] == "next"


async def test_opening_subscriptions_is_a_rate_class(tmp_path: Path) -> None:
    rates = {"anonymous": {"subscribe": "1/min"}}
    with live_server(offline_settings(tmp_path, rate_limits=rates)) as base:
        async with session(base) as live:
            assert (await first_for(live, "1", {"a": [WALLET], "t": tokens(1)}))["type"] == "next"
            refused = await first_for(live, "2", {"a": [WALLET], "t": tokens(1)})
            assert code_of(refused) == "RATE_LIMITED"
            assert refused["payload"][0]["extensions"]["rateClass"] == "subscribe"
            assert refused["payload"][0]["extensions"]["retryable"] is True


def test_a_browser_origin_outside_cors_origins_may_not_open_a_socket(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, server={"cors_origins": ["https://app.example"]})
    with TestClient(create_app(settings)) as client:
        evil = {"origin": "https://evil.example"}
        with (
            pytest.raises((WebSocketDenialResponse, WebSocketDisconnect)),
            client.websocket_connect(
                "/graphql", subprotocols=["graphql-transport-ws"], headers=evil
            ) as ws,
        ):
            ws.receive_json()
        with connected(client, headers={"origin": "https://app.example"}) as session:
            session.send_json({"type": "ping"})
            assert session.receive_json() == {"type": "pong"}
        # The service's own pages (GraphiQL) are of its own origin, listed or not.
        with connected(client, headers={"origin": "http://testserver"}) as session:
            session.send_json({"type": "ping"})
            assert session.receive_json() == {"type": "pong"}


def test_keyed_refusals_charge_nothing(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path)
    key = issue_key(settings, "alice", credits=10)
    with TestClient(create_app(settings)) as client:
        with connected(client, {"x-api-key": key}) as session:
            assert subscribe(session, {"a": ["0x123"]})["type"] == "error"
        headers = {"x-api-key": key}
        answer = client.post("/graphql", json={"query": "{ chains { id } }"}, headers=headers)
        assert answer.headers["x-credits-remaining"] == "10"


async def test_sockets_beyond_the_worker_s_cap_and_oversized_messages_are_refused(
    tmp_path: Path,
) -> None:
    with live_server(offline_settings(tmp_path, live={"max_sockets": 1})) as base:
        async with session(base) as live:
            with pytest.raises(InvalidStatus):
                async with session(base):
                    pass
            await live.send({"type": "ping", "payload": {"pad": "x" * (WS_MAX_MESSAGE + 1)}})
            with pytest.raises(ConnectionClosed) as closed:
                await live.receive()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # The closed one no longer counts, once its handler has unwound: the client may see
        # the close frame a moment before the server gives the slot back.
        for attempt in range(50):
            try:
                async with session(base) as again:
                    await again.send({"type": "ping"})
                    assert (await again.receive())["type"] == "pong"
                break
            except InvalidStatus:
                assert attempt < 49, "the closed socket's slot was never given back"
                await asyncio.sleep(0.05)


def test_a_stopping_server_does_not_wait_forever_for_an_open_stream(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, server={"shutdown_timeout": 1})
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=find_free_port(),
            log_level="warning",
            **server_options(settings.server),
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.config.port}/graphql"
    body = {"query": CHANGES, "variables": {"a": [WALLET], "t": ["native"]}}
    accept = {"accept": "multipart/mixed;subscriptionSpec=1.0,application/json"}
    with httpx.stream("POST", url, json=body, headers=accept, timeout=10) as response:
        assert response.status_code == 200
        chunks = response.iter_bytes()
        for _ in range(3):  # the opening, a heartbeat, the (dead) node's failure: it is open
            next(chunks)
        server.should_exit = True
        thread.join(15)
    assert not thread.is_alive()
