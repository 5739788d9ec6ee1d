"""Live balances end to end: a real anvil, the service under uvicorn, a graphql-transport-ws
client. Blocks are mined by transactions (automine); the followers poll every 0.1 s."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak

from settings import Settings
from tests.conftest import Devnet, devnet_settings, live_server
from tests.graph.streams.client import metric, parties, send_usdc, session, usdc_of

POLL = 0.1


def live_settings(tmp_path: Path, devnet: Devnet, **overrides: Any) -> Settings:
    return devnet_settings(tmp_path, devnet, poll_interval=POLL, **overrides)


def reads_reach(base: str, count: int) -> bool:
    return metric(base, "live_block_reads_total") >= count


async def wait_until(check: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def test_the_snapshot_then_a_transfer_with_its_block_and_previous_value(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 0, 1)
    before = usdc_of(own_devnet, holder)
    with live_server(live_settings(tmp_path, own_devnet)) as base:
        async with session(base) as live:
            await live.subscribe("1", {"accounts": [holder.lower()], "tokens": [usdc]})
            (snapshot,) = await live.events(1)
            assert snapshot["account"] == holder  # canonical, whatever case was sent
            assert snapshot["previousRawAmount"] is None
            assert snapshot["balance"]["rawAmount"] == str(before)
            assert snapshot["balance"]["token"]["symbol"] == "USDC"
            block = await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 250)
            (change,) = await live.events(1)
            assert change["blockNumber"] == str(block)
            assert change["balance"]["blockNumber"] == str(block)
            assert change["previousRawAmount"] == str(before)
            assert change["balance"]["rawAmount"] == str(before + 250)
            assert Decimal(change["balance"]["amount"]) == Decimal(before + 250) / 10**6
            await live.complete("1")


async def test_a_native_transfer_is_pushed(tmp_path: Path, own_devnet: Devnet) -> None:
    chain = own_devnet.chain
    receiver, sender = own_devnet.eoa, chain.accounts()[5]
    before = chain.get_balance(receiver)
    with live_server(live_settings(tmp_path, own_devnet)) as base:
        async with session(base) as live:
            await live.subscribe("n", {"accounts": [receiver], "tokens": ["native"]})
            (snapshot,) = await live.events(1)
            assert snapshot["balance"]["rawAmount"] == str(before)
            assert snapshot["balance"]["token"]["symbol"] == "ETH"
            receipt = await asyncio.to_thread(chain.send_value, receiver, 10**18, sender=sender)
            (change,) = await live.events(1)
            assert change["blockNumber"] == str(int(receipt["blockNumber"], 16))
            assert change["previousRawAmount"] == str(before)
            assert change["balance"]["rawAmount"] == str(before + 10**18)
            assert Decimal(change["balance"]["amount"]) == Decimal(before + 10**18) / 10**18


async def test_without_tokens_the_rows_are_native_and_the_list_and_zeros_are_left_out(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    holder = own_devnet.sample.holders[2]
    with live_server(live_settings(tmp_path, own_devnet)) as base:
        async with session(base) as live:
            await live.subscribe("a", {"accounts": [holder]})
            rows = await live.events(4)
            symbols = sorted(r["balance"]["token"]["symbol"] for r in rows)
            assert symbols == ["ETH", "MKR", "USDC", "WETH"]
            assert {r["previousRawAmount"] for r in rows} == {None}
            stranger = "0x" + "5" * 40  # holds nothing: every row is zero
            await live.subscribe("z", {"accounts": [stranger]})
            await live.subscribe("Z", {"accounts": [stranger], "zero": True})
            zeros = await live.events(4)  # only "Z" speaks: "z" has no row to show
            assert {r["balance"]["rawAmount"] for r in zeros} == {"0"}


async def test_two_clients_on_one_wallet_cost_one_read_per_block_and_none_once_gone(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 1, 2)
    variables = {"accounts": [holder], "tokens": [usdc, "native"]}
    with live_server(live_settings(tmp_path, own_devnet)) as base:
        async with session(base) as one, session(base) as two:
            await one.subscribe("1", variables)
            await one.events(2)
            reads = metric(base, "live_block_reads_total")
            await two.subscribe("2", variables)
            assert len(await two.events(2)) == 2  # the snapshot, from what the follower holds
            assert metric(base, "live_block_reads_total") == reads
            calls = metric(base, "upstream_requests_total", method="eth_call")
            blocks = [await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 7)]
            for client in (one, two):
                (change,) = await client.events(1)
                assert change["blockNumber"] == str(blocks[-1])
            blocks.append(await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 8))
            for client in (one, two):
                (change,) = await client.events(1)
                assert change["blockNumber"] == str(blocks[-1])
            read = metric(base, "upstream_requests_total", method="eth_call") - calls
            assert read == len(blocks)  # one aggregate3 per block, for both clients
            assert metric(base, "live_watched_lookups", chain="devnet") == 2
            await one.complete("1")
            await two.complete("2")
            await wait_until(lambda: metric(base, "live_watched_lookups", chain="devnet") == 0)
            calls = metric(base, "upstream_requests_total", chain="devnet")
            await asyncio.to_thread(chain.mine, 3)
            await asyncio.sleep(5 * POLL)
            assert metric(base, "upstream_requests_total", chain="devnet") == calls  # stopped


async def test_a_block_that_moves_none_of_the_watched_tokens_reads_only_native_rows(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, sample = own_devnet.chain, own_devnet.sample
    holder = sample.holders[0]
    tokens = [sample.token(s).address for s in ("USDC", "WETH", "MKR")] + ["native"]
    with live_server(live_settings(tmp_path, own_devnet, full_refresh_blocks=1000)) as base:
        async with session(base) as live:
            await live.subscribe("b", {"accounts": [holder], "tokens": tokens})
            await live.events(4)
            looked = metric(base, "live_lookups_read_total")
            reads = metric(base, "live_block_reads_total")
            await asyncio.to_thread(chain.mine, 1)  # an empty block: its bloom rules out all
            await wait_until(lambda: metric(base, "live_block_reads_total") > reads)
            assert metric(base, "live_lookups_read_total") - looked == 1  # the native row
            usdc = sample.token("USDC").address
            await asyncio.to_thread(send_usdc, chain, own_devnet, sample.holders[2], holder, 3)
            (change,) = await live.events(1)
            assert change["balance"]["token"]["address"] == usdc


async def test_a_reorg_corrects_a_pushed_value(tmp_path: Path, own_devnet: Devnet) -> None:
    chain, holder, other, usdc = parties(own_devnet, 0, 1)
    before = usdc_of(own_devnet, holder)
    with live_server(live_settings(tmp_path, own_devnet)) as base:
        async with session(base) as live:
            await live.subscribe("r", {"accounts": [holder], "tokens": [usdc]})
            await live.events(1)
            block = await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 1000)
            (pushed,) = await live.events(1)
            assert pushed["balance"]["rawAmount"] == str(before + 1000)
            # The block with the transfer is replaced by an empty one at the same height.
            await asyncio.to_thread(chain.rpc, "anvil_reorg", [1, []])
            (corrected,) = await live.events(1)
            assert corrected["blockNumber"] == str(block)
            assert corrected["previousRawAmount"] == str(before + 1000)
            assert corrected["balance"]["rawAmount"] == str(before)
            assert usdc_of(own_devnet, holder) == before
            assert metric(base, "live_reorgs_total", chain="devnet") >= 1


async def test_new_heads_arrive_over_the_node_s_websocket(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 2, 0)
    ws = own_devnet.url.replace("http://", "ws://")
    settings = devnet_settings(tmp_path, own_devnet, ws_urls=[ws], poll_interval=60)
    with live_server(settings) as base:
        async with session(base) as live:
            await live.subscribe("h", {"accounts": [holder], "tokens": [usdc]})
            (snapshot,) = await live.events(1)
            block = await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 9)
            (change,) = await live.events(1, wait=5)  # a 60 s poll could not have told it
            assert change["blockNumber"] == str(block)
            assert int(change["balance"]["rawAmount"]) == int(snapshot["balance"]["rawAmount"]) + 9
            polls = metric(base, "upstream_requests_total", method="eth_getBlockByNumber")
            assert polls <= 2  # the first head, and one when the subscription started


@pytest.mark.parametrize("transport", ["websocket"])
async def test_metrics_count_connections_subscriptions_and_pushes(
    tmp_path: Path, own_devnet: Devnet, transport: str
) -> None:
    chain, sample = own_devnet.chain, own_devnet.sample
    holder = sample.holders[1]
    usdc = sample.token("USDC").address
    with live_server(live_settings(tmp_path, own_devnet)) as base:
        async with session(base) as live:
            await live.subscribe("m", {"accounts": [holder], "tokens": [usdc]})
            await live.events(1)
            assert metric(base, "live_connections", transport=transport) == 1
            assert metric(base, "live_subscriptions") == 1
            await asyncio.to_thread(send_usdc, chain, own_devnet, sample.holders[0], holder, 1)
            await live.events(1)
            await wait_until(lambda: metric(base, "live_pushes_total", chain="devnet") == 1)
            assert metric(base, "live_push_lag_seconds_count", chain="devnet") == 1
        await wait_until(lambda: metric(base, "live_connections", transport=transport) == 0)
        assert metric(base, "live_subscriptions") == 0


async def test_a_balance_moved_without_an_event_is_caught_by_the_full_refresh(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, sample = own_devnet.chain, own_devnet.sample
    holder, usdc = sample.holders[2], sample.token("USDC").address
    settings = live_settings(tmp_path, own_devnet, full_refresh_blocks=5)
    with live_server(settings) as base:
        async with session(base) as live:
            await live.subscribe("x", {"accounts": [holder], "tokens": [usdc, "native"]})
            rows = {r["balance"]["token"]["symbol"]: r for r in await live.events(2)}
            snapshot = rows["USDC"]  # read whole at this block
            start, before = int(snapshot["blockNumber"]), int(snapshot["balance"]["rawAmount"])
            # A rebase: the balance moves in storage, with no Transfer (TestToken's slot 4).
            slot = keccak(bytes.fromhex(holder[2:].rjust(64, "0")) + (4).to_bytes(32, "big"))
            value = "0x" + (before + 77).to_bytes(32, "big").hex()
            await asyncio.to_thread(
                chain.rpc, "anvil_setStorageAt", [usdc, "0x" + slot.hex(), value]
            )
            for mined in range(1, 5):  # the bloom rules those blocks out: not read
                await asyncio.to_thread(chain.mine, 1)
                await wait_until(partial(reads_reach, base, mined + 1))
                assert metric(base, "live_lookups_read_total") == 2 + mined  # the native row
            with pytest.raises(TimeoutError):
                await live.receive(wait=3 * POLL)
            await asyncio.to_thread(chain.mine, 1)  # the fifth: every row is read
            (caught,) = await live.events(1)
            assert caught["blockNumber"] == str(start + 5)
            assert caught["previousRawAmount"] == str(before)
            assert caught["balance"]["rawAmount"] == str(before + 77)


async def test_a_row_that_cannot_be_read_is_retried_alone_and_said_once(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, sample = own_devnet.chain, own_devnet.sample
    holder = sample.holders[0]
    broken = await asyncio.to_thread(chain.deploy, "RevertingToken", "Broken", "BRK", 18)
    tokens = [sample.token("USDC").address, sample.token("WETH").address, "native", broken]
    with live_server(live_settings(tmp_path, own_devnet, full_refresh_blocks=1000)) as base:
        async with session(base) as live:
            await live.subscribe("t", {"accounts": [holder], "tokens": tokens})
            messages = [await live.receive() for _ in range(4)]
            failed = [m["payload"] for m in messages if m["payload"].get("errors")]
            assert len(failed) == 1 and failed[0]["data"] is None
            error = failed[0]["errors"][0]["extensions"]
            assert (error["code"], error["token"]) == ("TOKEN_CALL_FAILED", broken)
            for mined in range(1, 3):
                looked = metric(base, "live_lookups_read_total")
                await asyncio.to_thread(chain.mine, 1)
                await wait_until(partial(reads_reach, base, mined + 1))
                # the native row and the broken one: the bloom still rules the others out
                assert metric(base, "live_lookups_read_total") - looked == 2
            with pytest.raises(TimeoutError):
                await live.receive(wait=3 * POLL)  # its failure was said once
