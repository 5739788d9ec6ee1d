"""StarknetProvider against a mocked node that answers as the Starknet JSON-RPC spec (v0.7/v0.8)
describes: batch replies in shuffled order, results as arrays of canonical felts, `starknet_call`
errors 20 / 21 / 40 with the spec's messages and data, `starknet_blockNumber` as an integer.

Selectors and encodings are written out independently of `chains.felts` (published values, the
starknet.js ByteArray vectors) so a codec bug cannot hide behind itself.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from chains.base import Reading
from chains.errors import ChainError, InvalidAddress, TokenCallFailed, UpstreamError
from chains.metrics import Metrics
from chains.models import (
    NATIVE,
    NATIVE_TOKEN,
    BalanceKey,
    BalanceReading,
    ChainFamily,
    TokenMeta,
    TokenRef,
)
from chains.starknet import felts
from chains.starknet.provider import DEFINITE_CODES, ETH_ADDRESS, STRK_ADDRESS, StarknetProvider
from chains.transport.jsonrpc import JsonRpcClient
from settings import ChainConfig, NativeAsset, Secret

CHAIN = "starknet"
URL = "https://starknet.example/rpc"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# sn_keccak selectors as published (starknet.js, pathfinder, Cairo token sources)
BALANCE_OF = 0x2E4263AFAD30923C891518314C3C95DBE830A16874E8ABC5777A9A20B54C76E
DECIMALS = 0x4C4FB1AB068F6039D5780C68DD0FA2F8742CCEB3426D19667778CA7F3518A9
SYMBOL = 0x216B05C387BAB9AC31918A3E61672F4618601F3C598A2F3F2710F37053E1EA4
NAME = 0x361458367E696363FBCC70777D07EBBD2394E89FD0ADCAF147FACCD1D294D60

ALICE = "0x" + "0" * 61 + "a11"
BOB = "0x05d7eb3b2c286dc823a8d6fe71283c28ec04ef5845593ef3260f2f82a9c3b978"
TOKEN = "0x053c91253bc9682c04929ca02ed00b3e423f6710d2ee7e0d5ebb06f3ecf368a8"
LEGACY = "0x0" + "1" * 63
MISSING = "0x0" + "dead" * 15 + "bee"
REVERTS = "0x0" + "bad" * 21

_FELT = re.compile(r"0x(0|[a-fA-F1-9][a-fA-F0-9]{0,62})")  # the spec's FELT pattern


# ---------------------------------------------------------------------------------------------
# The node


@dataclass(frozen=True)
class Revert:
    """A Cairo panic inside the called function."""

    reason: str


Function = Callable[[list[int]], list[int] | Revert]


class NodeError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            self.body["data"] = data


@dataclass
class Node:
    """A Starknet node: contracts are `address -> {selector -> function(calldata)}`."""

    contracts: dict[str, dict[int, Function]]
    block: int = 812_345
    spec: str = "0.8"
    status: int = 200
    advance_per_request: bool = False
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.status != 200:
            return httpx.Response(self.status, text="<html>service unavailable</html>")
        body = json.loads(request.content)
        assert isinstance(body, list), "the provider always sends JSON-RPC batches"
        self.batches.append(body)
        replies = [self._reply(item) for item in body]
        self.rng.shuffle(replies)
        if self.advance_per_request:
            self.block += 1
        return httpx.Response(200, json=replies)

    def _reply(self, item: dict[str, Any]) -> dict[str, Any]:
        envelope = {"jsonrpc": "2.0", "id": item["id"]}
        try:
            if item.get("jsonrpc") != "2.0" or not isinstance(item.get("id"), int):
                raise NodeError(-32600, "Invalid Request")
            return {**envelope, "result": self._dispatch(item["method"], item.get("params"))}
        except NodeError as exc:
            return {**envelope, "error": exc.body}

    def _dispatch(self, method: str, params: Any) -> Any:
        if method == "starknet_blockNumber":
            if params not in ([], {}, None):
                raise NodeError(-32602, "Invalid params")
            return self.block
        if method == "starknet_call":
            return self._call(params)
        raise NodeError(-32601, "Method not found")

    def _call(self, params: Any) -> list[str]:
        if isinstance(params, dict):  # by-name
            request, block_id = params.get("request"), params.get("block_id")
        elif isinstance(params, list) and len(params) == 2:  # by-position
            request, block_id = params
        else:
            raise NodeError(-32602, "Invalid params")
        if (
            not isinstance(request, dict)
            or set(request) != {"contract_address", "entry_point_selector", "calldata"}
            or not isinstance(request["calldata"], list)
            or not all(
                isinstance(f, str) and _FELT.fullmatch(f)
                for f in [request["contract_address"], request["entry_point_selector"]]
                + request["calldata"]
            )
            or block_id not in ("latest", "pending")
        ):
            raise NodeError(-32602, "Invalid params")
        address = int(request["contract_address"], 16)
        selector = int(request["entry_point_selector"], 16)
        contract = {int(a, 16): fns for a, fns in self.contracts.items()}.get(address)
        if contract is None:
            raise NodeError(20, "Contract not found")
        function = contract.get(selector)
        if function is None:
            if self.spec == "0.7":  # 0.7 has no ENTRYPOINT_NOT_FOUND for calls
                raise NodeError(
                    40,
                    "Contract error",
                    {"revert_error": f"Entry point {hex(selector)} not found in contract."},
                )
            raise NodeError(21, "Requested entrypoint does not exist in the contract")
        outcome = function([int(f, 16) for f in request["calldata"]])
        if isinstance(outcome, Revert):
            inner = {
                "contract_address": hex(address),
                "class_hash": "0x5ffbcfeb50d200a0677c48a129a11245a3fc519d1d98d76882d1c9a1b19c6ed",
                "selector": hex(selector),
                "error": outcome.reason,
            }
            revert = inner if self.spec == "0.8" else f"Error in the called contract: {inner}"
            raise NodeError(40, "Contract error", {"revert_error": revert})
        return [hex(f) for f in outcome]


def short_string(text: str) -> list[int]:
    return [int.from_bytes(text.encode(), "big")]


def byte_array(text: str) -> list[int]:
    raw = text.encode()
    cut = len(raw) - len(raw) % 31
    words = [int.from_bytes(raw[i : i + 31], "big") for i in range(0, cut, 31)]
    return [len(words), *words, int.from_bytes(raw[cut:], "big"), len(raw) - cut]


def erc20(
    holdings: dict[str, int],
    *,
    decimals: int = 18,
    symbol: list[int] | None = None,
    name: list[int] | None = None,
) -> dict[int, Function]:
    """A Cairo 1 ERC-20: `balanceOf(account) -> u256` as [low, high]."""
    by_account = {int(a, 16): v for a, v in holdings.items()}

    def balance_of(calldata: list[int]) -> list[int] | Revert:
        if len(calldata) != 1:
            return Revert("Failed to deserialize param #1")
        value = by_account.get(calldata[0], 0)
        return [value & (2**128 - 1), value >> 128]

    functions: dict[int, Function] = {
        BALANCE_OF: balance_of,
        DECIMALS: lambda _: [decimals],
    }
    if symbol is not None:
        functions[SYMBOL] = lambda _: symbol
    if name is not None:
        functions[NAME] = lambda _: name
    return functions


def mainnet(extra: dict[str, dict[int, Function]] | None = None) -> Node:
    return Node(
        {
            STRK_ADDRESS: erc20(
                {ALICE: 7 * 10**18, BOB: 1},
                symbol=short_string("STRK"),
                name=short_string("Starknet Token"),
            ),
            ETH_ADDRESS: erc20({ALICE: 3 * 10**17}, symbol=short_string("ETH")),
            TOKEN: erc20(
                {ALICE: 5 * 2**128 + 42, BOB: 2**200},
                decimals=6,
                symbol=byte_array("USDC"),
                name=byte_array("USD Coin"),
            ),
            **(extra or {}),
        }
    )


@dataclass
class Harness:
    provider: StarknetProvider
    node: Node
    metrics: Metrics

    @property
    def requests(self) -> int:
        return self.metrics.upstream_requests.total(chain=CHAIN)

    async def read(self, balances: list[BalanceKey], tokens: list[str] | None = None) -> Reading:
        return await self.provider.read(balances, [ref(t) for t in tokens or []])


@asynccontextmanager
async def connect(
    node: Node, *, batch_size: int = 500, native: str = STRK_ADDRESS
) -> AsyncIterator[Harness]:
    """The provider as the registry builds it: Starknet's definite codes are answers."""
    config = ChainConfig(
        id=CHAIN,
        name="Starknet",
        family=ChainFamily.STARKNET,
        chain_id=None,
        rpc_urls=(Secret(URL),),
        native=NativeAsset(symbol="STRK", name="Starknet Token", decimals=18),
        multicall3=None,
        batch_size=batch_size,
    )
    metrics = Metrics()
    async with httpx.AsyncClient(transport=httpx.MockTransport(node.handler)) as http:
        rpc = JsonRpcClient(
            CHAIN,
            [Secret(URL)],
            http,
            metrics,
            timeout=10,
            cooldown=30,
            definite_codes=DEFINITE_CODES,
        )
        yield Harness(
            StarknetProvider(config, rpc, lambda: NOW, native_contract=native), node, metrics
        )


def ref(token: str) -> TokenRef:
    return NATIVE_TOKEN if token == NATIVE else TokenRef(token)


def key(account: str, token: str) -> BalanceKey:
    return BalanceKey(CHAIN, account, ref(token))


def reading(value: BalanceReading | ChainError) -> BalanceReading:
    assert isinstance(value, BalanceReading), value
    return value


def meta(value: TokenMeta | ChainError) -> TokenMeta:
    assert isinstance(value, TokenMeta), value
    return value


# ---------------------------------------------------------------------------------------------
# Codecs


def test_selectors_are_the_published_sn_keccak_values() -> None:
    assert [felts.selector(n) for n in ("balanceOf", "decimals", "symbol", "name")] == [
        BALANCE_OF,
        DECIMALS,
        SYMBOL,
        NAME,
    ]


def test_byte_array_decodes_the_starknet_js_vectors() -> None:
    two_words = [
        2,
        0x4142434445464748494A4B4C4D4E4F505152535455565758595A3132333435,
        0x4141414445464748494A4B4C4D4E4F505152535455565758595A3132333435,
        0x41,
        1,
    ]
    assert felts.decode_text(two_words) == (
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ12345AAADEFGHIJKLMNOPQRSTUVWXYZ12345A"
    )
    assert felts.decode_text([0, 310939249775, 5]) == "Hello"


def test_u256_rejects_limbs_of_129_bits_and_wrong_lengths() -> None:
    assert felts.decode_u256([2**128 - 1, 2**128 - 1]) == 2**256 - 1
    assert felts.decode_u256([2**128, 0]) is None
    assert felts.decode_u256([0, 2**128]) is None
    assert felts.decode_u256([]) is None
    assert felts.decode_u256([1, 2, 3]) is None
    assert felts.decode_u256([2**250]) == 2**250  # a lone felt from an old Cairo 0 token
    assert felts.decode_u256([2**251]) is None


def test_text_rejects_malformed_byte_arrays_and_unprintable_bytes() -> None:
    assert felts.decode_text([1, 0x41, 0]) is None  # length says 1 word, none of 31 bytes given
    assert felts.decode_text([0, 0x4142, 1]) is None  # pending word longer than its length
    assert felts.decode_text([0, 0, 0]) is None  # empty
    assert felts.decode_text([0xFFFE]) is None  # not UTF-8
    assert felts.decode_text([0x07]) is None  # a control character


# ---------------------------------------------------------------------------------------------
# Addresses


async def test_accounts_are_zero_padded_and_lowercased() -> None:
    async with connect(mainnet()) as h:
        assert h.provider.normalize_account("0x1") == "0x" + "0" * 63 + "1"
        assert (
            h.provider.normalize_account(
                " 0x49D36570D4E46F48E99674BD3FCC84644DDD6B96F7C741B1562B82F9E004DC7 "
            )
            == ETH_ADDRESS
        )
        assert h.provider.normalize_account(STRK_ADDRESS) == STRK_ADDRESS
        evm = "0x00000000219ab540356cBB839Cbe05303d7705Fa"  # 40 digits: also a Starknet address
        assert h.provider.normalize_account(evm) == "0x" + "0" * 24 + evm[2:].lower()
        assert h.provider.normalize_token("0x" + "f" * 62) == TokenRef("0x00" + "f" * 62)
        assert h.provider.normalize_account("0x7" + "f" * 62) == "0x07" + "f" * 62  # 2**251 - 1


@pytest.mark.parametrize(
    "text",
    [
        "0x" + "0" * 65,  # 65 digits
        "0x" + "8" + "0" * 62,  # exactly 2**251
        "0x" + "f" * 63,  # a 252-bit number
        "0xabcg",  # not hex
        "0x",  # no digits
        "49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7",  # no prefix
        "0x-1",
        "native",  # not an account
        "",
    ],
)
async def test_invalid_addresses_are_rejected(text: str) -> None:
    async with connect(mainnet()) as h:
        with pytest.raises(InvalidAddress, match="Starknet address"):
            h.provider.normalize_account(text)
        if text != "native":
            with pytest.raises(InvalidAddress):
                h.provider.normalize_token(text)


async def test_native_aliases_map_to_native() -> None:
    async with connect(mainnet()) as h:
        for text in ("native", " NATIVE ", "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"):
            assert h.provider.normalize_token(text) == NATIVE_TOKEN


# ---------------------------------------------------------------------------------------------
# Balances


async def test_u256_balance_above_2_128_combines_low_and_high() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([key(ALICE, TOKEN), key(BOB, TOKEN)])
    assert reading(result.balances[0]).raw_amount == 5 * 2**128 + 42
    assert reading(result.balances[1]).raw_amount == 2**200


async def test_native_reads_balance_of_on_the_strk_contract() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([key(ALICE, NATIVE)])
    assert reading(result.balances[0]).raw_amount == 7 * 10**18
    assert reading(result.balances[0]).key == key(ALICE, NATIVE)
    (call,) = [c for c in h.node.batches[0] if c["method"] == "starknet_call"]
    assert int(call["params"][0]["contract_address"], 16) == int(STRK_ADDRESS, 16)


async def test_native_contract_is_configurable() -> None:
    async with connect(mainnet(), native=ETH_ADDRESS) as h:
        result = await h.read([key(ALICE, NATIVE)])
    assert reading(result.balances[0]).raw_amount == 3 * 10**17


async def test_calls_have_the_spec_shape_with_canonical_felts() -> None:
    async with connect(mainnet()) as h:
        await h.read([key(ALICE, NATIVE)])
    (batch,) = h.node.batches
    assert batch[0]["method"] == "starknet_blockNumber"
    call = batch[1]
    assert call["method"] == "starknet_call"
    assert call["params"] == [
        {
            "contract_address": "0x4718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d",
            "entry_point_selector": hex(BALANCE_OF),
            "calldata": ["0xa11"],
        },
        "latest",
    ]


async def test_single_felt_balance_of_an_old_contract_is_accepted() -> None:
    old: dict[int, Function] = {BALANCE_OF: lambda _: [123_456]}
    async with connect(mainnet({LEGACY: old})) as h:
        result = await h.read([key(ALICE, LEGACY)])
    assert reading(result.balances[0]).raw_amount == 123_456


async def test_a_result_that_is_not_a_u256_is_token_call_failed() -> None:
    odd: dict[int, Function] = {BALANCE_OF: lambda _: [1, 2, 3]}
    wide: dict[int, Function] = {BALANCE_OF: lambda _: [2**128, 0]}
    async with connect(mainnet({LEGACY: odd, REVERTS: wide})) as h:
        result = await h.read([key(ALICE, LEGACY), key(ALICE, REVERTS), key(ALICE, TOKEN)])
    for failed, token in zip(result.balances[:2], (LEGACY, REVERTS), strict=True):
        assert isinstance(failed, TokenCallFailed)
        assert (failed.chain, failed.account, failed.token) == (CHAIN, ALICE, token)
    assert reading(result.balances[2]).raw_amount == 5 * 2**128 + 42


@pytest.mark.parametrize("spec", ["0.7", "0.8"])
async def test_reverting_and_missing_contracts_fail_only_their_key(spec: str) -> None:
    """With `definite_codes`, errors 20/21/40 are the chain's answer, not node trouble."""
    node = mainnet({REVERTS: {BALANCE_OF: lambda _: Revert("u256_sub Overflow")}, LEGACY: {}})
    node.spec = spec
    async with connect(node) as h:
        result = await h.read(
            [key(ALICE, TOKEN), key(ALICE, MISSING), key(ALICE, REVERTS), key(ALICE, LEGACY)]
        )
    assert reading(result.balances[0]).raw_amount == 5 * 2**128 + 42
    for failed, token in zip(result.balances[1:], (MISSING, REVERTS, LEGACY), strict=True):
        assert isinstance(failed, TokenCallFailed), failed
        assert (failed.chain, failed.account, failed.token) == (CHAIN, ALICE, token)
        assert "balanceOf" in failed.message and token in failed.message
        assert not failed.retryable


async def test_http_503_fails_every_key_with_chain_account_and_token() -> None:
    node = mainnet()
    node.status = 503
    async with connect(node) as h:
        result = await h.read([key(ALICE, NATIVE), key(BOB, TOKEN)], [TOKEN])
    for failed, (account, token) in zip(
        result.balances, [(ALICE, NATIVE), (BOB, TOKEN)], strict=True
    ):
        assert isinstance(failed, UpstreamError)
        assert (failed.chain, failed.account, failed.token) == (CHAIN, account, token)
        assert failed.retryable
    (token_error,) = result.tokens
    assert isinstance(token_error, UpstreamError)
    assert (token_error.chain, token_error.token) == (CHAIN, TOKEN)


async def test_a_malformed_block_number_fails_the_chunk() -> None:
    node = mainnet()
    node.block = -1
    async with connect(node) as h:
        result = await h.read([key(ALICE, NATIVE)])
    (failed,) = result.balances
    assert isinstance(failed, UpstreamError)
    assert (failed.chain, failed.account, failed.token) == (CHAIN, ALICE, NATIVE)


async def test_many_balances_take_one_request() -> None:
    accounts = [f"0x{i:064x}" for i in range(1, 41)]
    async with connect(mainnet()) as h:
        result = await h.read([key(a, t) for a in accounts for t in (NATIVE, TOKEN)], [TOKEN])
    assert h.requests == 1
    assert len(h.node.batches[0]) == 1 + 80 + 3
    assert all(isinstance(b, BalanceReading) for b in result.balances)


async def test_batch_size_5_with_12_lookups_sends_3_requests() -> None:
    balances = [key(a, t) for a in (ALICE, BOB) for t in (NATIVE, TOKEN, ETH_ADDRESS)]
    async with connect(mainnet(), batch_size=5) as h:
        result = await h.read(balances, [TOKEN, STRK_ADDRESS])  # 6 + 2 * 3 = 12 calls
    assert h.requests == 3
    assert all(len(b) <= 5 and b[0]["method"] == "starknet_blockNumber" for b in h.node.batches)
    amounts = [reading(b).raw_amount for b in result.balances]
    assert amounts == [7 * 10**18, 5 * 2**128 + 42, 3 * 10**17, 1, 2**200, 0]
    assert [meta(t).symbol for t in result.tokens] == ["USDC", "STRK"]
    assert [meta(t).decimals for t in result.tokens] == [6, 18]


async def test_every_reading_carries_the_block_number_of_its_batch() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([key(ALICE, NATIVE), key(BOB, TOKEN), key(BOB, ETH_ADDRESS)])
    assert [reading(b).block_number for b in result.balances] == [812_345] * 3
    assert all(reading(b).read_at == NOW for b in result.balances)


async def test_chunks_answered_at_different_blocks_keep_their_own_number() -> None:
    node = mainnet()
    node.advance_per_request = True
    async with connect(node, batch_size=3) as h:  # 2 calls + blockNumber per request
        result = await h.read([key(ALICE, NATIVE), key(BOB, NATIVE), key(ALICE, TOKEN)])
    blocks = [reading(b).block_number for b in result.balances]
    assert blocks[0] == blocks[1]
    assert {blocks[0], blocks[2]} == {812_345, 812_346}


# ---------------------------------------------------------------------------------------------
# Token metadata


async def test_short_string_metadata_and_decimals() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([], [STRK_ADDRESS])
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == ("STRK", "Starknet Token", 18)
    assert (token.chain, str(token.token), token.standard.value) == (CHAIN, STRK_ADDRESS, "ERC20")


async def test_byte_array_metadata_longer_than_31_bytes() -> None:
    long_name = "Wrapped Bridged Staked Starknet Token (Ω edition)"
    assert len(long_name.encode()) > 31
    contract = erc20({}, decimals=8, symbol=byte_array("wstSTRK"), name=byte_array(long_name))
    async with connect(mainnet({LEGACY: contract})) as h:
        result = await h.read([], [LEGACY])
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == ("wstSTRK", long_name, 8)


async def test_unreadable_metadata_is_unknown_never_a_default() -> None:
    odd = erc20({}, decimals=300, symbol=[0xFFFE], name=[3, 1, 2])
    async with connect(mainnet({LEGACY: odd})) as h:
        result = await h.read([], [LEGACY])
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == (None, None, None)


async def test_missing_metadata_views_are_unknown_fields() -> None:
    """ENTRYPOINT_NOT_FOUND (a definite code) leaves the field unknown, not the token failed."""
    async with connect(mainnet()) as h:
        result = await h.read([], [ETH_ADDRESS])  # the mock ETH has no `name`
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == ("ETH", None, 18)


async def test_native_metadata_reads_the_native_contract() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([], [NATIVE])
    token = meta(result.tokens[0])
    assert (token.token, token.standard.value) == (NATIVE_TOKEN, "NATIVE")
    assert (token.symbol, token.name, token.decimals) == ("STRK", "Starknet Token", 18)
