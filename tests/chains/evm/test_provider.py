"""EvmProvider against a real anvil: one aggregate3 per chunk, the pinned-batch fallback, and
each way a token can fail to answer (revert, no code, no decimals, no Multicall3)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from chains.base import Reading
from chains.evm.provider import EvmProvider
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import ChainError, ChainMisconfigured, TokenCallFailed
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenMeta, TokenRef
from core.models import TokenStandard as Standard
from tests.conftest import Devnet, devnet_settings

Connect = Callable[..., Any]


@pytest.fixture(scope="module")
def nfts(devnet: Devnet) -> dict[str, str]:
    """An ERC-721 the holder owns 2 of, and an ERC-1155 of which it owns 5 of id 7."""
    nft = devnet.chain.deploy("TestNFT", "Devnet Punks", "DPUNK")
    for token_id in (1, 2):
        devnet.chain.transact(nft, "mint(address,uint256)", devnet.holder, token_id)
    multi = devnet.chain.deploy("TestMultiToken")
    devnet.chain.transact(multi, "mint(address,uint256,uint256)", devnet.holder, 7, 5)
    return {"nft": nft, "multi": multi}


class Harness:
    def __init__(self, provider: EvmProvider, metrics: Metrics) -> None:
        self.provider, self.metrics = provider, metrics

    def requests(self, method: str) -> int:
        return self.metrics.upstream_requests.get(chain="devnet", method=method)

    async def read(self, keys: list[BalanceKey], tokens: list[TokenRef] | None = None) -> Reading:
        return await self.provider.read(keys, tokens or [])


@pytest.fixture
def connect(devnet: Devnet, tmp_path: Path) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Harness]:
        config = devnet_settings(tmp_path, devnet, **overrides).chains["devnet"]
        metrics = Metrics()
        async with httpx.AsyncClient() as http:
            rpc = JsonRpcClient("devnet", config.rpc_urls, http, metrics, timeout=10, cooldown=30)
            yield Harness(EvmProvider(config, rpc), metrics)

    return make


def key(devnet: Devnet, token: TokenRef, account: str | None = None) -> BalanceKey:
    return BalanceKey("devnet", account or devnet.holder, token)


def reading(value: BalanceReading | ChainError) -> BalanceReading:
    assert isinstance(value, BalanceReading), value
    return value


def meta(value: TokenMeta | ChainError) -> TokenMeta:
    assert isinstance(value, TokenMeta), value
    return value


def sample(devnet: Devnet, symbol: str) -> TokenRef:
    return TokenRef(devnet.sample.token(symbol).address)


async def test_balances_and_metadata_of_a_round_are_one_aggregate3_at_one_block(
    connect: Connect, devnet: Devnet
) -> None:
    usdc, mkr = sample(devnet, "USDC"), sample(devnet, "MKR")
    async with connect() as h:
        result = await h.read([key(devnet, NATIVE_TOKEN), key(devnet, usdc)], [mkr, usdc])
    native, usdc_balance = (reading(b) for b in result.balances)
    assert native.raw_amount == devnet.chain.get_balance(devnet.holder)
    assert usdc_balance.raw_amount == devnet.sample.balance(devnet.holder, "USDC")
    assert native.block_number == usdc_balance.block_number == devnet.chain.block_number()
    mkr_meta, usdc_meta = (meta(t) for t in result.tokens)
    assert (mkr_meta.symbol, mkr_meta.name, mkr_meta.decimals) == ("MKR", "Maker", 18)  # bytes32
    assert (usdc_meta.symbol, usdc_meta.decimals, usdc_meta.standard) == ("USDC", 6, Standard.ERC20)
    assert h.requests("eth_call") == 1 and h.metrics.upstream_requests.total() == 1


async def test_each_failing_token_fails_only_its_own_key(connect: Connect, devnet: Devnet) -> None:
    usdc = sample(devnet, "USDC")
    async with connect() as h:
        result = await h.read(
            [
                key(devnet, TokenRef(devnet.reverting)),
                key(devnet, TokenRef(devnet.eoa)),
                key(devnet, usdc),
            ]
        )
    reverted, no_code, good = result.balances
    assert isinstance(reverted, TokenCallFailed) and "reverted" in reverted.message
    assert isinstance(no_code, TokenCallFailed) and "returned no data" in no_code.message
    for failed, token in ((reverted, devnet.reverting), (no_code, devnet.eoa)):
        assert (failed.chain, failed.account, failed.token) == ("devnet", devnet.holder, token)
        assert not failed.retryable
    assert reading(good).raw_amount == devnet.sample.balance(devnet.holder, "USDC")


async def test_metadata_unknown_fields_stay_unknown(connect: Connect, devnet: Devnet) -> None:
    async with connect() as h:
        result = await h.read([], [TokenRef(devnet.no_decimals), TokenRef(devnet.eoa)])
    no_decimals, no_code = result.tokens
    assert (meta(no_decimals).symbol, meta(no_decimals).decimals) == ("NODEC", None)
    assert isinstance(no_code, TokenCallFailed)
    assert no_code.message == f"{devnet.eoa} has no contract code on devnet"


async def test_nfts_are_recognised_and_counted(
    connect: Connect, devnet: Devnet, nfts: dict[str, str]
) -> None:
    nft, item = TokenRef(nfts["nft"]), TokenRef(nfts["multi"], 7)
    async with connect() as h:
        result = await h.read([key(devnet, nft), key(devnet, item)], [nft, item])
    assert [reading(b).raw_amount for b in result.balances] == [2, 5]
    erc721, erc1155 = (meta(t) for t in result.tokens)
    assert (erc721.standard, erc721.decimals, erc721.symbol) == (Standard.ERC721, 0, "DPUNK")
    assert (erc1155.standard, erc1155.decimals, erc1155.token) == (Standard.ERC1155, 0, item)


async def test_chunks_of_batch_size_each_cost_one_call_and_agree(
    connect: Connect, devnet: Devnet
) -> None:
    accounts = list(devnet.sample.holders)
    usdc = sample(devnet, "USDC")
    keys = [key(devnet, t, a) for a in accounts for t in (NATIVE_TOKEN, usdc)]
    async with connect(batch_size=3) as h:  # 2 lookups per chunk, beside the block number
        result = await h.read(keys)
    assert h.requests("eth_call") == 3
    for k, value in zip(keys, result.balances, strict=True):
        expected = (
            devnet.chain.get_balance(k.account)
            if k.token.is_native
            else devnet.sample.balance(k.account, "USDC")
        )
        assert reading(value).raw_amount == expected


async def test_no_multicall3_at_the_configured_address_is_chain_misconfigured(
    connect: Connect, devnet: Devnet
) -> None:
    missing = "0x000000000000000000000000000000000000dEaD"
    async with connect(multicall3=missing) as h:
        result = await h.read([key(devnet, NATIVE_TOKEN)], [sample(devnet, "USDC")])
    (balance,), (token,) = result.balances, result.tokens
    assert isinstance(balance, ChainMisconfigured) and isinstance(token, ChainMisconfigured)
    assert balance.extensions["code"] == "CHAIN_MISCONFIGURED" and not balance.retryable
    assert missing in balance.message and 'multicall3 = ""' in balance.message
    assert (balance.chain, balance.account) == ("devnet", devnet.holder)


async def test_without_multicall3_a_pinned_batch_reads_the_same_values(
    connect: Connect, devnet: Devnet
) -> None:
    usdc = sample(devnet, "USDC")
    keys = [key(devnet, NATIVE_TOKEN), key(devnet, usdc), key(devnet, TokenRef(devnet.reverting))]
    async with connect(multicall3="") as h:
        result = await h.read(keys, [usdc])
    native, usdc_balance, reverted = result.balances
    assert reading(native).raw_amount == devnet.chain.get_balance(devnet.holder)
    assert reading(usdc_balance).raw_amount == devnet.sample.balance(devnet.holder, "USDC")
    assert reading(native).block_number == devnet.chain.block_number()
    assert isinstance(reverted, TokenCallFailed)
    assert meta(result.tokens[0]).symbol == "USDC"
    assert (h.requests("eth_blockNumber"), h.requests("batch"), h.requests("eth_call")) == (1, 1, 0)


async def test_account_and_token_input_is_parsed_as_evm(connect: Connect, devnet: Devnet) -> None:
    async with connect() as h:
        assert h.provider.normalize_account(devnet.holder.lower()) == devnet.holder
        assert h.provider.normalize_token(f"{devnet.reverting.lower()}:3") == TokenRef(
            devnet.reverting, 3
        )
