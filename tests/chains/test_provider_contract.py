"""The `ChainProvider` contract, run against every family.

EVM runs against a real anvil node; Starknet and Bitcoin run against the spec-shaped fake
node and fake Esplora of `tests.fakes` (no such server can run here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from chains.base import ChainProvider
from chains.evm.provider import EvmProvider
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import ChainError, InvalidAddress
from core.metrics import Metrics
from core.models import NATIVE, NATIVE_TOKEN, BalanceKey, BalanceReading, TokenRef
from settings import Secret
from tests.conftest import Devnet, dead_url, devnet_settings
from tests.fakes import esplora as btc
from tests.fakes import starknet as stark


@dataclass
class Case:
    provider: ChainProvider
    broken: ChainProvider
    expected: dict[BalanceKey, int]
    metrics: Metrics
    invalid_account: str
    requests_per_round: Callable[[int], int]
    """Upstream HTTP requests for one round that reads this many distinct accounts."""

    @property
    def requests(self) -> int:
        return self.metrics.upstream_requests.total()


@asynccontextmanager
async def evm_case(devnet: Devnet, tmp_path: Path) -> AsyncIterator[Case]:
    config = devnet_settings(tmp_path, devnet).chains["devnet"]
    metrics = Metrics()
    usdc = TokenRef(devnet.sample.token("USDC").address)
    expected = {}
    for holder in devnet.sample.holders:
        expected[BalanceKey("devnet", holder, NATIVE_TOKEN)] = devnet.chain.get_balance(holder)
        expected[BalanceKey("devnet", holder, usdc)] = devnet.sample.balance(holder, "USDC")
    async with httpx.AsyncClient() as http:
        good = JsonRpcClient("devnet", config.rpc_urls, http, metrics, timeout=10, cooldown=30)
        bad = JsonRpcClient(
            "devnet", [Secret(dead_url())], http, Metrics(), timeout=10, cooldown=30
        )
        yield Case(
            EvmProvider(config, good),
            EvmProvider(config, bad),
            expected,
            metrics,
            "0x1234",
            lambda accounts: 1,
        )


@asynccontextmanager
async def starknet_case() -> AsyncIterator[Case]:
    async with stark.connect(stark.mainnet()) as good, stark.connect(stark.Node({})) as bad:
        bad.node.status = 503
        expected = {
            stark.key(stark.ALICE, NATIVE): 7 * 10**18,
            stark.key(stark.ALICE, stark.TOKEN): 5 * 2**128 + 42,
            stark.key(stark.BOB, stark.TOKEN): 2**200,
            stark.key(stark.BOB, NATIVE): 1,
        }
        yield Case(
            good.provider, bad.provider, expected, good.metrics, "0xnot-hex", lambda accounts: 1
        )


@asynccontextmanager
async def bitcoin_case() -> AsyncIterator[Case]:
    fake = btc.FakeEsplora(
        wallets={
            btc.GENESIS: (btc.stats(funded=5_000_000_000 + 7), btc.stats()),
            btc.P2SH: (btc.stats(funded=900, spent=400), btc.stats(funded=5)),
        }
    )
    down = btc.FakeEsplora(status=503)
    metrics = Metrics()
    hosts = {"esplora.example": fake, "down.example": down}
    async with httpx.AsyncClient(transport=btc.transport(hosts)) as http:
        good = btc.provider(http, metrics, "https://esplora.example/api")
        bad = btc.provider(http, Metrics(), "https://down.example/api")
        expected = {btc.key(btc.GENESIS): 5_000_000_007, btc.key(btc.P2SH): 500}
        yield Case(good, bad, expected, metrics, "bc1qinvalid", lambda accounts: accounts + 1)


FAMILIES = [pytest.param("evm", marks=pytest.mark.integration), "starknet", "bitcoin"]
"""EVM needs anvil (an integration test); the fakes of the other families run anywhere."""


@pytest.fixture(params=FAMILIES)
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Case]:
    if request.param == "evm":
        maker = evm_case(request.getfixturevalue("devnet"), tmp_path)
    elif request.param == "starknet":
        maker = starknet_case()
    else:
        maker = bitcoin_case()
    async with maker as made:
        yield made


async def test_values_come_back_in_request_order_with_duplicates(case: Case) -> None:
    keys = list(case.expected)
    asked = keys + keys[::-1]
    reading = await case.provider.read(asked, [])
    assert len(reading.balances) == len(asked) and reading.tokens == []
    for key, outcome in zip(asked, reading.balances, strict=True):
        assert isinstance(outcome, BalanceReading), outcome
        assert outcome.key == key and outcome.raw_amount == case.expected[key]
        assert outcome.block_number is not None


async def test_one_read_is_one_round_of_requests(case: Case) -> None:
    keys = list(case.expected)
    await case.provider.read(keys, [])
    assert case.requests == case.requests_per_round(len({k.account for k in keys}))


async def test_a_dead_node_fails_every_key_with_its_context(case: Case) -> None:
    keys = list(case.expected)
    reading = await case.broken.read(keys, [])
    for key, outcome in zip(keys, reading.balances, strict=True):
        assert isinstance(outcome, ChainError), outcome
        assert outcome.retryable is True
        assert (outcome.chain, outcome.account, outcome.token) == (
            key.chain,
            key.account,
            str(key.token),
        )


async def test_addresses_are_validated_and_canonical(case: Case) -> None:
    with pytest.raises(InvalidAddress):
        case.provider.normalize_account(case.invalid_account)
    assert case.provider.normalize_token("native") == NATIVE_TOKEN
    assert case.provider.normalize_token("NATIVE") == NATIVE_TOKEN
    for key in case.expected:
        canonical = case.provider.normalize_account(key.account)
        assert canonical == key.account == case.provider.normalize_account(canonical)


async def test_an_empty_read_costs_nothing(case: Case) -> None:
    reading = await case.provider.read([], [])
    assert reading.balances == [] and reading.tokens == [] and case.requests == 0
