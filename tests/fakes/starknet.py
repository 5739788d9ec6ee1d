"""A Starknet node that answers as the Starknet JSON-RPC spec (v0.7/v0.8) describes.

Batch replies come in shuffled order, results are arrays of canonical felts (the spec's FELT
pattern), `starknet_call` fails with errors 20 (CONTRACT_NOT_FOUND), 21 (ENTRYPOINT_NOT_FOUND,
v0.8 only) and 40 (CONTRACT_ERROR, with the spec's `revert_error` data, nested in v0.8 and a
string in v0.7), and `starknet_blockNumber` answers a plain integer.

Selectors and encodings are written out independently of `chains.starknet.felts` (published
values, the starknet.js ByteArray vectors) so a codec bug cannot hide behind itself.

`connect` builds the provider the way the registry does (Starknet's definite codes are
answers), on a mock transport routed to a `Node`.
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

from chains.base import Reading
from chains.starknet.history import StarknetHistory
from chains.starknet.provider import DEFINITE_CODES, ETH_ADDRESS, STRK_ADDRESS, StarknetProvider
from chains.transport.jsonrpc import JsonRpcClient
from core.metrics import Metrics
from core.models import NATIVE, NATIVE_TOKEN, BalanceKey, ChainFamily, TokenRef
from settings import ChainConfig, NativeAsset, Secret

CHAIN = "starknet"
URL = "https://starknet.example/rpc"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# sn_keccak selectors as published (starknet.js, pathfinder, Cairo token sources)
BALANCE_OF = 0x2E4263AFAD30923C891518314C3C95DBE830A16874E8ABC5777A9A20B54C76E
TRANSFER = 0x99CD8BDE557814842A3121E8DDFD433A539B8C9F14BF31EBF108D12E6196E9
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


@dataclass(frozen=True)
class Revert:
    """A Cairo panic inside the called function."""

    reason: str


Function = Callable[[list[int]], list[int] | Revert]


class NodeError(Exception):
    """A JSON-RPC error object the node answers with instead of a result."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            self.body["data"] = data


@dataclass(frozen=True)
class Transfer:
    """One `Transfer` event the node emitted; `legacy` puts from/to in the data, not the keys."""

    contract: str
    block: int
    sender: str
    receiver: str
    value: int
    legacy: bool = False
    transaction: int = 0


GENESIS_TIME = 1_700_000_000
BLOCK_TIME = 6


@dataclass
class Node:
    """A Starknet node: contracts are `address -> {selector -> function(calldata)}`.

    History: `transfers` are the `Transfer` events it serves from `starknet_getEvents` (paged
    by `chunk_size` with opaque continuation tokens); block n was made at `GENESIS_TIME +
    BLOCK_TIME * n`; a contract of `deployed` exists from that block on (others from 0); a
    `balanceOf` at a block number of a contract with transfers is their sum up to it."""

    contracts: dict[str, dict[int, Function]]
    block: int = 812_345
    spec: str = "0.8"
    status: int = 200
    advance_per_request: bool = False
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    singles: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    transfers: list[Transfer] = field(default_factory=list)
    deployed: dict[str, int] = field(default_factory=dict)
    continuation: str | None = None
    """When set, every getEvents page answers with this token (a node that never ends)."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.status != 200:
            return httpx.Response(self.status, text="<html>service unavailable</html>")
        body = json.loads(request.content)
        if isinstance(body, dict):
            self.singles.append(body)
            return httpx.Response(200, json=self._reply(body))
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
        if method == "starknet_getEvents":
            return self._events(params)
        if method == "starknet_getBlockWithTxHashes":
            number = self._block_number(params[0] if isinstance(params, list) else None)
            return {"block_number": number, "timestamp": GENESIS_TIME + BLOCK_TIME * number}
        if method == "starknet_getClassHashAt":
            number = self._block_number(params[0])
            contract = int(params[1], 16)
            since = {int(a, 16): b for a, b in self.deployed.items()}.get(contract, 0)
            if number < since:
                raise NodeError(20, "Contract not found")
            return "0x5ffbcfeb50d200a0677c48a129a11245a3fc519d1d98d76882d1c9a1b19c6ed"
        raise NodeError(-32601, "Method not found")

    def _block_number(self, block_id: Any) -> int:
        number = block_id.get("block_number") if isinstance(block_id, dict) else None
        if type(number) is not int or number < 0:
            raise NodeError(-32602, "Invalid params")
        if number > self.block:
            raise NodeError(24, "Block not found")
        return number

    def _events(self, params: Any) -> dict[str, Any]:
        (query,) = params
        start = self._block_number(query["from_block"])
        end = self._block_number(query["to_block"])
        contract = int(query["address"], 16) if "address" in query else None
        keys = query.get("keys", [])
        matching = [
            t
            for t in self.transfers
            if (contract is None or int(t.contract, 16) == contract)
            and start <= t.block <= end
            and _keys_match(keys, _keys_of(t))
        ]
        token = query.get("continuation_token")
        first = 0 if self.continuation is not None or token is None else int(token)
        page = matching[first : first + query["chunk_size"]]
        answer: dict[str, Any] = {"events": [self._event(t) for t in page]}
        if self.continuation is not None:
            answer["continuation_token"] = self.continuation
        elif first + len(page) < len(matching):
            answer["continuation_token"] = str(first + len(page))
        return answer

    def _event(self, transfer: Transfer) -> dict[str, Any]:
        value = [hex(transfer.value & (2**128 - 1)), hex(transfer.value >> 128)]
        parties = [transfer.sender, transfer.receiver]
        return {
            "from_address": transfer.contract,
            "keys": _keys_of(transfer),
            "data": (parties if transfer.legacy else []) + value,
            "block_hash": hex(10**6 + transfer.block),
            "block_number": transfer.block,
            "transaction_hash": hex(transfer.transaction or 10**9 + transfer.block),
        }

    def balance_at(self, contract: str, account: str, block: int) -> int:
        total = 0
        for t in self.transfers:
            if int(t.contract, 16) == int(contract, 16) and t.block <= block:
                sign = (int(t.receiver, 16) == int(account, 16)) - (
                    int(t.sender, 16) == int(account, 16)
                )
                total += t.value * sign
        return total

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
            or not (block_id in ("latest", "pending") or isinstance(block_id, dict))
        ):
            raise NodeError(-32602, "Invalid params")
        address = int(request["contract_address"], 16)
        selector = int(request["entry_point_selector"], 16)
        if isinstance(block_id, dict):
            number = self._block_number(block_id)
            if selector == BALANCE_OF and any(
                int(t.contract, 16) == address for t in self.transfers
            ):
                value = self.balance_at(hex(address), request["calldata"][0], number)
                return [hex(value & (2**128 - 1)), hex(value >> 128)]
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


def _keys_of(transfer: Transfer) -> list[str]:
    """Cairo 1 puts `from` and `to` in the keys; the legacy layout only the selector."""
    return [hex(TRANSFER)] + ([] if transfer.legacy else [transfer.sender, transfer.receiver])


def _keys_match(wanted: list[list[str]], keys: list[str]) -> bool:
    """The spec's key filter: position by position, any of the listed felts (an empty list:
    any value); an event with fewer keys than a constrained position does not match."""
    for position, alternatives in enumerate(wanted):
        if not alternatives:
            continue
        if position >= len(keys) or int(keys[position], 16) not in {
            int(a, 16) for a in alternatives
        }:
            return False
    return True


def short_string(text: str) -> list[int]:
    """A Cairo short string: one felt of big-endian ASCII (at most 31 bytes)."""
    return [int.from_bytes(text.encode(), "big")]


def byte_array(text: str) -> list[int]:
    """A Cairo `ByteArray`: `[n, word_0 .. word_n-1, pending_word, pending_word_len]`."""
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
    """STRK, ETH and a USDC-like token with known holdings of ALICE and BOB, plus `extra`."""
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
    """A `StarknetProvider` wired to a fake `Node`, with the metrics it counts into."""

    provider: StarknetProvider
    node: Node
    metrics: Metrics
    history: StarknetHistory

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
        provider = StarknetProvider(config, rpc, lambda: NOW, native_contract=native)
        yield Harness(provider, node, metrics, StarknetHistory(CHAIN, rpc, provider))


def ref(token: str) -> TokenRef:
    """`native` or a contract address as a `TokenRef`."""
    return NATIVE_TOKEN if token == NATIVE else TokenRef(token)


def key(account: str, token: str) -> BalanceKey:
    """A Starknet balance key."""
    return BalanceKey(CHAIN, account, ref(token))
