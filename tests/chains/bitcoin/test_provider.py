"""BitcoinProvider against the fake Esplora of `tests.fakes.esplora` (Blockstream's API.md)."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from chains.bitcoin.provider import BitcoinProvider
from core.errors import (
    ChainError,
    InvalidAddress,
    UnsupportedToken,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from core.metrics import Metrics
from core.models import (
    NATIVE,
    NATIVE_TOKEN,
    BalanceReading,
    ChainFamily,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from tests.fakes.esplora import (
    ACCOUNTS,
    CHAIN,
    GENESIS,
    NOW,
    P2SH,
    P2TR,
    P2WPKH,
    TIP,
    FakeEsplora,
    Handler,
    config,
    key,
    provider,
    stats,
    transport,
)

KEY = "KEY123"


def reading(value: BalanceReading | ChainError) -> BalanceReading:
    assert isinstance(value, BalanceReading), value
    return value


def error(value: BalanceReading | ChainError) -> ChainError:
    assert isinstance(value, ChainError), value
    return value


async def test_confirmed_balance_mempool_delta_and_tip_height() -> None:
    fake = FakeEsplora(
        wallets={
            GENESIS: (stats(funded=150_000, spent=50_000), stats(spent=30_000)),
            P2WPKH: (stats(), stats(funded=5_000)),
            P2TR: (stats(funded=7, spent=7), stats(funded=2, spent=2)),
        }
    )
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([key(GENESIS), key(P2WPKH), key(P2TR)], [])
    genesis, segwit, taproot = (reading(v) for v in result.balances)
    assert genesis == BalanceReading(key(GENESIS), 100_000, TIP, NOW, unconfirmed_delta=-30_000)
    assert (segwit.raw_amount, segwit.unconfirmed_delta, segwit.block_number) == (0, 5_000, TIP)
    assert (taproot.raw_amount, taproot.unconfirmed_delta) == (0, 0)
    assert result.tokens == []


async def test_unknown_address_reads_zero() -> None:
    fake = FakeEsplora()
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([key(P2SH)], [])
    assert reading(result.balances[0]) == BalanceReading(key(P2SH), 0, TIP, NOW, 0)


async def test_two_keys_for_one_account_send_one_address_request() -> None:
    fake = FakeEsplora(wallets={GENESIS: (stats(funded=42), stats())})
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, metrics).read([key(GENESIS), key(GENESIS)], [])
    assert [reading(v).raw_amount for v in result.balances] == [42, 42]
    assert sorted(fake.paths()) == sorted([f"/address/{GENESIS}", "/blocks/tip/height"])
    assert metrics.upstream_requests.get(chain=CHAIN, method="GET /address") == 1
    assert metrics.upstream_requests.get(chain=CHAIN, method="GET /blocks/tip/height") == 1


async def test_a_round_runs_all_requests_concurrently() -> None:
    fake = FakeEsplora(delay=0.05)
    accounts = ACCOUNTS[:5]
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics(), concurrency=8).read([key(a) for a in accounts], [])
    assert all(isinstance(v, BalanceReading) for v in result.balances)
    assert len(fake.requests) == len(accounts) + 1
    assert fake.max_in_flight == len(accounts) + 1  # the tip request travels with the others


async def test_never_more_than_concurrency_requests_in_flight() -> None:
    fake = FakeEsplora(delay=0.02)
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, metrics, concurrency=3).read([key(a) for a in ACCOUNTS], [])
    assert [reading(v).key.account for v in result.balances] == ACCOUNTS
    assert len(fake.requests) == len(ACCOUNTS) + 1
    assert fake.max_in_flight == 3
    assert metrics.upstream_requests.total(chain=CHAIN) == len(ACCOUNTS) + 1


async def test_rate_limited_only_endpoint_is_upstream_rate_limited_per_key() -> None:
    fake = FakeEsplora(status=429, status_body=b"Too Many Requests")
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, metrics).read([key(GENESIS), key(P2WPKH)], [])
    for account, value in zip([GENESIS, P2WPKH], result.balances, strict=True):
        failure = error(value)
        assert isinstance(failure, UpstreamRateLimited)
        assert failure.extensions == {
            "code": "UPSTREAM_RATE_LIMITED",
            "chain": CHAIN,
            "account": account,
            "token": NATIVE,
            "retryable": True,
        }
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_RATE_LIMITED") == 3


async def test_failover_from_a_503_endpoint_and_cooldown() -> None:
    bad = FakeEsplora(status=503, delay=0.01)  # both requests of the round reach it
    good = FakeEsplora(wallets={GENESIS: (stats(funded=9), stats())})
    hosts: dict[str, FakeEsplora | Handler] = {"bad.example": bad, "good.example": good}
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport(hosts)) as http:
        btc = provider(http, metrics, "https://bad.example/api", "https://good.example/api")
        first = await btc.read([key(GENESIS)], [])
        assert reading(first.balances[0]) == BalanceReading(key(GENESIS), 9, TIP, NOW, 0)
        assert len(bad.requests) == 2  # the address and the tip both tried it first
        second = await btc.read([key(GENESIS)], [])
    assert reading(second.balances[0]).raw_amount == 9
    assert len(bad.requests) == 2  # cooling down: the good endpoint goes first now
    assert len(good.requests) == 4
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_PROVIDER_ERROR") == 2


async def test_transport_failure_and_timeout_fail_over() -> None:
    async def unreachable(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # both requests of the round reach it before it fails
        raise httpx.ConnectError("connection refused", request=request)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        raise httpx.ReadTimeout("timed out", request=request)

    good = FakeEsplora(wallets={P2SH: (stats(funded=1), stats())})
    hosts: dict[str, FakeEsplora | Handler] = {
        "down.example": unreachable,
        "slow.example": slow,
        "good.example": good,
    }
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport(hosts)) as http:
        urls = ("https://down.example/api", "https://slow.example/api", "https://good.example/api")
        result = await provider(http, metrics, *urls).read([key(P2SH)], [])
        assert reading(result.balances[0]).raw_amount == 1
        only_slow = await provider(http, Metrics(), urls[1]).read([key(P2SH)], [])
    assert isinstance(error(only_slow.balances[0]), UpstreamTimeout)
    assert metrics.upstream_errors.get(chain=CHAIN, code="UPSTREAM_TIMEOUT") == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"\xff\xfe",
        b"[]",
        json.dumps({"address": P2SH, "chain_stats": stats(), "mempool_stats": stats()}).encode(),
        json.dumps({"chain_stats": stats(), "mempool_stats": stats()}).encode(),
        json.dumps({"address": GENESIS, "chain_stats": stats()}).encode(),
        json.dumps({"address": GENESIS, "chain_stats": [], "mempool_stats": stats()}).encode(),
        json.dumps(
            {"address": GENESIS, "chain_stats": stats(funded=1, spent=2), "mempool_stats": stats()}
        ).encode(),
        json.dumps(
            {"address": GENESIS, "chain_stats": stats(), "mempool_stats": stats(funded=-1)}
        ).encode(),
        json.dumps(
            {
                "address": GENESIS,
                "chain_stats": {**stats(), "funded_txo_sum": 1.5},
                "mempool_stats": stats(),
            }
        ).encode(),
        json.dumps(
            {
                "address": GENESIS,
                "chain_stats": {**stats(), "spent_txo_sum": "0"},
                "mempool_stats": stats(),
            }
        ).encode(),
        json.dumps(
            {
                "address": GENESIS,
                "chain_stats": {**stats(), "tx_count": True},
                "mempool_stats": stats(),
            }
        ).encode(),
        json.dumps(
            {
                "address": GENESIS,
                "chain_stats": stats(),
                "mempool_stats": {"funded_txo_sum": 0, "spent_txo_sum": 0},
            }
        ).encode(),
    ],
)
async def test_malformed_answers_are_upstream_errors(body: bytes) -> None:
    fake = FakeEsplora(bodies={GENESIS: body})
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([key(GENESIS), key(P2SH)], [])
    failure = error(result.balances[0])
    assert type(failure) is UpstreamError
    assert "malformed Esplora answer" in failure.message
    assert (failure.chain, failure.account, failure.retryable) == (CHAIN, GENESIS, True)
    assert reading(result.balances[1]).block_number == TIP  # the other key is unaffected


async def test_http_400_is_a_definite_error_never_retried_elsewhere() -> None:
    testnet_only = "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ"
    first = FakeEsplora()
    second = FakeEsplora()
    hosts: dict[str, FakeEsplora | Handler] = {"a.example": first, "b.example": second}
    metrics = Metrics()
    async with httpx.AsyncClient(transport=transport(hosts)) as http:
        btc = provider(http, metrics, "https://a.example/api", "https://b.example/api")
        result = await btc.read([key(testnet_only), key(GENESIS)], [])
    failure = error(result.balances[0])
    assert type(failure) is UpstreamRefused
    assert failure.extensions == {
        "code": "UPSTREAM_REFUSED",
        "chain": CHAIN,
        "account": testnet_only,
        "token": NATIVE,
        "retryable": False,
    }
    assert "rejected the address" in failure.message and testnet_only in failure.message
    assert reading(result.balances[1]).raw_amount == 0
    assert second.requests == []
    assert metrics.upstream_errors.total(chain=CHAIN) == 0


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(200, text="eight hundred"),
        httpx.Response(200, text="-1"),
        httpx.Response(200, text=""),
    ],
)
async def test_tip_failure_leaves_block_number_none(reply: httpx.Response) -> None:
    fake = FakeEsplora(wallets={GENESIS: (stats(funded=5), stats(funded=1))}, tip_reply=reply)
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([key(GENESIS)], [])
    assert reading(result.balances[0]) == BalanceReading(key(GENESIS), 5, None, NOW, 1)


async def test_tip_height_tolerates_a_trailing_newline() -> None:
    fake = FakeEsplora(tip_reply=httpx.Response(200, text=f"{TIP}\n"))
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([key(GENESIS)], [])
    assert reading(result.balances[0]).block_number == TIP


async def test_token_metadata_is_the_configured_native_asset_without_requests() -> None:
    fake = FakeEsplora()
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([], [NATIVE_TOKEN])
    assert result.tokens == [
        TokenMeta(CHAIN, NATIVE_TOKEN, TokenStandard.NATIVE, "BTC", "Bitcoin", 8)
    ]
    assert result.balances == []
    assert fake.requests == []


async def test_a_token_key_is_an_error_without_a_request() -> None:
    token = "0x" + "11" * 20
    fake = FakeEsplora()
    async with httpx.AsyncClient(transport=transport({"esplora.example": fake})) as http:
        result = await provider(http, Metrics()).read([key(GENESIS, token)], [TokenRef(token)])
    assert "no tokens" in error(result.balances[0]).message
    meta = result.tokens[0]
    assert isinstance(meta, ChainError) and meta.token == token
    assert [p for p in fake.paths() if p.startswith("/address")] == []


async def test_normalize_token_and_account_rules() -> None:
    async with httpx.AsyncClient(transport=transport({})) as http:
        btc = provider(http, Metrics())
        testnet = BitcoinProvider(
            config("https://esplora.example/api"), http, Metrics(), network="testnet"
        )
    for text in ["native", " NATIVE ", "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"]:
        assert btc.normalize_token(text) == NATIVE_TOKEN
    for text in ["0x" + "11" * 20, "BTC", "", GENESIS]:
        with pytest.raises(UnsupportedToken, match="Bitcoin has no tokens") as info:
            btc.normalize_token(text)
        assert info.value.extensions["code"] == "UNSUPPORTED_TOKEN"
    assert btc.normalize_account(P2WPKH.upper()) == P2WPKH
    assert btc.normalize_account(GENESIS) == GENESIS
    with pytest.raises(InvalidAddress, match="wrong network"):
        btc.normalize_account("tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54")
    assert testnet.normalize_account("mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ").startswith("mzK2")
    with pytest.raises(InvalidAddress, match="wrong network"):
        testnet.normalize_account(GENESIS)
    assert btc.family is ChainFamily.BITCOIN


async def test_no_error_message_or_log_line_carries_the_url_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_urls = [
        f"https://limited.example/{KEY}/api?key={KEY}",
        f"https://down.example/{KEY}/api?key={KEY}",
        f"https://broken.example/{KEY}/api?key={KEY}",
    ]
    prefix = f"/{KEY}/api"
    limited = FakeEsplora(prefix=prefix, status=429, status_body=f"slow down {KEY}".encode())
    down = FakeEsplora(prefix=prefix, status=503, status_body=f"no {KEY} here".encode())
    broken = FakeEsplora(
        prefix=prefix,
        tip_reply=httpx.Response(200, text=f"bad {KEY}"),
        bodies={GENESIS: f"not json {KEY}".encode()},
    )
    hosts: dict[str, FakeEsplora | Handler] = {
        "limited.example": limited,
        "down.example": down,
        "broken.example": broken,
    }
    testnet_only = "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ"
    async with httpx.AsyncClient(transport=transport(hosts)) as http:
        btc = provider(http, Metrics(), *secret_urls)
        result = await btc.read([key(GENESIS), key(testnet_only)], [NATIVE_TOKEN])
    errors = [error(v) for v in result.balances]
    assert isinstance(errors[0], UpstreamError) and type(errors[1]) is UpstreamRefused
    # The key did reach the endpoints, path and query intact ...
    assert all(r.url.params["key"] == KEY for r in broken.requests)
    assert sorted(broken.paths()) == sorted(
        [f"/address/{GENESIS}", f"/address/{testnet_only}", "/blocks/tip/height"]
    )
    # ... but no error, extension or log line of ours shows it.
    shown = [e.message for e in errors] + [repr(e) for e in errors]
    shown += [json.dumps(e.extensions) for e in errors]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("chains")]
    assert ours, "failures should be logged"
    assert all(KEY not in text for text in shown + ours), shown + ours
    assert any("https://down.example/…" in line for line in ours)
