"""Live balances when things go wrong: a node down mid-stream, a key out of credits, a client
that stops reading. Real anvil, real server, real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.conftest import Devnet, devnet_settings, issue_key, live_server
from tests.fakes.relay import Relay
from tests.graph.streams.client import (
    CHANGES,
    PROTOCOL,
    Session,
    metric,
    parties,
    send_usdc,
    session,
    usdc_of,
    ws_url,
)
from tests.graph.streams.test_live import POLL, wait_until


async def test_an_outage_is_an_error_event_and_the_subscription_catches_up(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 0, 1)
    before = usdc_of(own_devnet, holder)
    with Relay(own_devnet.url) as relay:
        settings = devnet_settings(
            tmp_path, own_devnet, rpc_urls=[relay.url], poll_interval=POLL, timeout=1, cooldown=0.2
        )
        with live_server(settings) as base:
            async with session(base) as live:
                await live.subscribe("o", {"accounts": [holder], "tokens": [usdc]})
                await live.events(1)
                relay.down = True
                failed = await live.receive()
                assert failed["type"] == "next" and failed["payload"]["data"] is None
                (error,) = failed["payload"]["errors"]
                assert error["extensions"]["code"] == "UPSTREAM_PROVIDER_ERROR"
                assert error["extensions"]["chain"] == "devnet"
                assert error["extensions"]["retryable"] is True
                assert error["path"] == ["balanceChanges"]
                moved = await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 40)
                await asyncio.sleep(5 * POLL)  # still down: nothing more is said
                relay.down = False
                (caught_up,) = await live.events(1)
                assert caught_up["previousRawAmount"] == str(before)
                assert caught_up["balance"]["rawAmount"] == str(before + 40)
                assert int(caught_up["blockNumber"]) >= moved
                block = await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 2)
                (after,) = await live.events(1)  # still open, still following
                assert after["blockNumber"] == str(block)


async def test_a_key_out_of_credits_ends_the_subscription(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 1, 0)
    settings = devnet_settings(tmp_path, own_devnet, poll_interval=POLL)
    # 1 to subscribe (one lookup), then 1 per change
    key = await asyncio.to_thread(issue_key, settings, "live", credits=3)
    with live_server(settings) as base:
        async with session(base, {"x-api-key": key}) as live:
            await live.subscribe("c", {"accounts": [holder], "tokens": [usdc]})
            await live.events(1)
            for amount in (1, 2):
                await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, amount)
                await live.events(1)
            await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 3)
            ended = await live.receive()
            assert ended["type"] == "error" and ended["id"] == "c", ended
            (error,) = ended["payload"]
            assert error["extensions"]["code"] == "INSUFFICIENT_CREDITS"
            assert error["extensions"]["credits"] == 0
            await wait_until(lambda: metric(base, "live_subscriptions") == 0)
            await live.subscribe("c", {"accounts": [holder], "tokens": [usdc]})  # id free again
            refused = await live.receive()
            assert refused["payload"][0]["extensions"]["code"] == "INSUFFICIENT_CREDITS"


def _big_changes() -> str:
    """Events of ~1 kB each: the socket's buffers fill in a few blocks."""
    copies = " ".join(f"r{n}: rawAmount" for n in range(40))
    return CHANGES.replace("balance { rawAmount", f"balance {{ {copies} rawAmount")


async def test_a_client_that_stops_reading_is_closed_and_never_delays_the_others(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    sample = own_devnet.sample
    sender, receivers = sample.holders[0], own_devnet.chain.accounts()[4:10]
    usdc = sample.token("USDC").address
    variables: dict[str, Any] = {"accounts": receivers, "tokens": [usdc], "zero": True}
    settings = devnet_settings(tmp_path, own_devnet, poll_interval=POLL, live={"max_pending": 3})
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # inherited by connections
    with live_server(settings, sock=listener) as base:
        async with session(base) as fast, _slow_client(base) as slow:
            await slow.subscribe("s", variables, _big_changes())
            await slow.events(len(receivers))
            await fast.subscribe("f", variables, _big_changes())
            await fast.events(len(receivers))
            for _ in range(60):  # the slow one reads no more from here on
                block = await asyncio.to_thread(
                    own_devnet.chain.transfers_in_one_block, usdc, sender, receivers
                )
                changes = await fast.events(len(receivers), wait=5)
                assert {c["blockNumber"] for c in changes} == {str(block)}  # never held back
                if metric(base, "live_subscriptions") == 1:
                    break
            assert metric(base, "live_subscriptions") == 1  # the slow one was closed
            code = await _drain(slow)
            assert code == 4413


@asynccontextmanager
async def _slow_client(base: str) -> AsyncIterator[Session]:
    """A client that can stop reading: a small receive buffer, one message queued at most."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
    options: dict[str, Any] = {"sock": raw, "compression": None, "max_queue": 1}
    async with connect(ws_url(base), subprotocols=[Subprotocol(PROTOCOL)], **options) as ws:
        live = Session(ws)
        await live.send({"type": "connection_init", "payload": {}})
        assert (await live.receive())["type"] == "connection_ack"
        yield live


async def _drain(slow: Session) -> int:
    """Read what the server had sent, until its close: the close code."""

    async def forever() -> None:
        while True:
            await slow.receive(wait=10)

    with pytest.raises(ConnectionClosed) as closed:
        await forever()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code
