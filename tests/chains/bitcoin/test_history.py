"""Bitcoin history against a spec-shaped Esplora: exact per-transaction deltas, paging from
the tip, block times ten to a request, and lying pages refused instead of looped on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from chains.bitcoin.history import EsploraHistory
from core.errors import UnsupportedToken, UpstreamError
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, TokenRef
from tests.fakes.esplora import (
    CHAIN,
    P2SH,
    P2WPKH,
    FakeEsplora,
    block_time,
    provider,
    transport,
    tx,
)

ME = P2WPKH
OTHER = P2SH


def life() -> list[dict[str, Any]]:
    """Newest first: a coinbase to me, a payment in, a spend with change, a self-send."""
    return [
        tx(5, 840, [(ME, 40_000)], [(ME, 39_000)]),  # to myself: -1,000 fee
        tx(4, 830, [(ME, 70_000), (ME, 30_000)], [(OTHER, 60_000), (ME.upper(), 39_000)]),
        tx(3, 820, [(OTHER, 80_000)], [(ME, 70_000), (OTHER, 9_000)]),
        tx(2, 820, [(OTHER, 50_000)], [(ME, 30_000), (OTHER, 19_000)]),
        tx(1, 800, [None], [(ME, 625_000_000)]),
    ]


@asynccontextmanager
async def history(*fakes: FakeEsplora) -> AsyncIterator[tuple[EsploraHistory, Metrics]]:
    hosts = {f"esplora{i}.example": fake for i, fake in enumerate(fakes)}
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport(hosts)) as http:
        urls = [f"https://{host}/api" for host in hosts]
        yield EsploraHistory(CHAIN, provider(http, metrics, *urls)), metrics


async def test_each_transaction_is_one_exact_movement_oldest_first() -> None:
    fake = FakeEsplora(history={ME: life()}, height=900)
    async with history(fake) as (source, _):
        moves = await source.movements(ME, NATIVE_TOKEN, 0, 900)
    assert [(m.block_number, m.order, m.delta) for m in moves] == [
        (800, 0, 625_000_000),
        (820, 0, 30_000),
        (820, 1, 70_000),
        (830, 0, -61_000),  # spent 100,000, change 39,000 (Esplora's upper-case bech32)
        (840, 0, -1_000),
    ]
    assert moves[0].transaction_hash == f"{1:064x}" and moves[0].log_index is None
    assert moves[0].timestamp == block_time(800)


async def test_pages_stop_below_the_range_and_keep_only_it() -> None:
    many = [tx(i, 1_000 - i, [(OTHER, 2)], [(ME, 1)]) for i in range(1, 61)]  # 60 txs
    fake = FakeEsplora(history={ME: many}, height=1_000)
    async with history(fake) as (source, metrics):
        moves = await source.movements(ME, NATIVE_TOKEN, 960, 990)
        assert [m.block_number for m in moves] == list(range(960, 991))
        assert metrics.upstream_requests.get(chain=CHAIN, method="GET /address/txs") == 2
        everything = await source.movements(ME, NATIVE_TOKEN, 0, 1_000)
        assert len(everything) == 60
    paths = fake.paths()
    assert paths[1] == f"/address/{ME}/txs/chain/{25:064x}"


async def test_block_times_come_ten_to_a_request() -> None:
    fake = FakeEsplora(height=1_000)
    async with history(fake) as (source, _):
        times = await source.block_times([995, 991, 990, 500, 0])
    assert times == {b: block_time(b) for b in (995, 991, 990, 500, 0)}
    assert sorted(fake.paths()) == ["/blocks/0", "/blocks/500", "/blocks/995"]


async def test_bitcoin_has_no_tokens_and_no_state_at_a_block() -> None:
    async with history(FakeEsplora()) as (source, _):
        with pytest.raises(UnsupportedToken):
            await source.movements(ME, TokenRef("0x" + "11" * 20), 0, 10)
        assert await source.first_block(NATIVE_TOKEN) == 0
        assert await source.balances_at([], 5) is None


@pytest.mark.parametrize(
    "lie",
    [
        [tx(1, 800, [None], [(ME, 1)]), tx(2, 801, [None], [(ME, 1)])],  # heights go up
        [{**tx(1, 800, [None], [(ME, 1)]), "txid": "zz"}],
        [{**tx(1, 800, [None], [(ME, 1)]), "status": {"confirmed": False}}],
        [tx(1, 800, [None], [(ME, -5)])],
        [tx(1, 800, [None], [(ME, 21_000_000 * 10**8 + 1)])],
    ],
)
async def test_lying_pages_are_node_trouble(lie: list[dict[str, Any]]) -> None:
    async with history(FakeEsplora(history={ME: lie})) as (source, _):
        with pytest.raises(UpstreamError):
            await source.movements(ME, NATIVE_TOKEN, 0, 900)


async def test_a_node_serving_the_same_page_forever_is_refused() -> None:
    page = [tx(i, 900, [(OTHER, 2)], [(ME, 1)]) for i in range(1, 26)]

    async def same_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page)

    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport({"esplora.example": same_page})) as http:
        source = EsploraHistory(CHAIN, provider(http, metrics))
        with pytest.raises(UpstreamError, match="same page"):
            await source.movements(ME, NATIVE_TOKEN, 0, 900)
    assert metrics.upstream_requests.get(chain=CHAIN, method="GET /address/txs") == 2


async def test_a_failing_host_fails_over_to_the_next() -> None:
    down = FakeEsplora(status=503)
    up = FakeEsplora(history={ME: life()}, height=900)
    async with history(down, up) as (source, _):
        moves = await source.movements(ME, NATIVE_TOKEN, 0, 900)
    assert len(moves) == 5 and len(down.requests) == 1
