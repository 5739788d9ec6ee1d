"""One Esplora host that answers as Blockstream's esplora API.md says.

`GET /address/:address` -> JSON `{address, chain_stats, mempool_stats}` (each with
`funded_txo_count`, `funded_txo_sum`, `spent_txo_count`, `spent_txo_sum`, `tx_count`); an
unknown but valid address has all-zero stats, an invalid one gets HTTP 400 with a text body.
`GET /blocks/tip/height` -> the height as plain text. `GET /address/:address/txs/chain` ->
the 25 newest confirmed transactions (`txid`, `vin[].prevout`, `vout[]`, `status`), and
`.../txs/chain/:last_seen_txid` the 25 before that one. `GET /blocks/:height` -> up to 10
blocks from that height down, each with its `timestamp`. Anything else is 404.

`transport` routes each host to its fake (or to a handler that fails the way a real network
does); `provider` builds a `BitcoinProvider` on it with a fixed clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from chains.bitcoin.addresses import normalize_bitcoin_address
from chains.bitcoin.provider import BitcoinProvider
from core.errors import InvalidAddress
from core.metrics import Metrics
from core.models import NATIVE, NATIVE_TOKEN, BalanceKey, ChainFamily, TokenRef
from settings import ChainConfig, NativeAsset, Secret

CHAIN = "bitcoin"
NOW = datetime(2024, 4, 20, 12, 0, tzinfo=UTC)
TIP = 840_000
GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
P2WPKH = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
P2TR = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
# Further valid mainnet addresses (Bitcoin Core key_io_valid.json), for many-account rounds.
MORE = [
    "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo",
    "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm",
    "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv",
    "bc1p83n3au0rjylefxq2nc2xh2y4jzz4pm6zxj4mw5pagdjjr2a9f36s6jjnnu",
    "1FjL87pn8ky6Vbavd1ZHeChRXtoxwRGCRd",
    "3BZECeAH8gSKkjrTx8PwMrNQBLG18yHpvf",
]
ACCOUNTS = [GENESIS, P2SH, P2WPKH, P2TR, *MORE]


def stats(funded: int = 0, spent: int = 0) -> dict[str, int]:
    """One `chain_stats`/`mempool_stats` object (one output per side when non-zero)."""
    return {
        "funded_txo_count": int(funded > 0),
        "funded_txo_sum": funded,
        "spent_txo_count": int(spent > 0),
        "spent_txo_sum": spent,
        "tx_count": int(funded > 0) + int(spent > 0),
    }


@dataclass
class FakeEsplora:
    """One Esplora host. `status` answers every request with that HTTP status instead."""

    wallets: dict[str, tuple[dict[str, int], dict[str, int]]] = field(default_factory=dict)
    height: int = TIP
    prefix: str = "/api"
    network: str = "mainnet"
    delay: float = 0.0
    status: int | None = None
    status_body: bytes = b"unavailable"
    tip_reply: httpx.Response | None = None
    bodies: dict[str, bytes] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Confirmed transactions by address, newest first, as Esplora lists them."""

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix(self.prefix) for r in self.requests]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return self._answer(request)
        finally:
            self.in_flight -= 1

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.status is not None:
            return httpx.Response(self.status, content=self.status_body)
        path = request.url.path.removeprefix(self.prefix)
        if request.method == "GET" and path == "/blocks/tip/height":
            return self.tip_reply or httpx.Response(200, text=str(self.height))
        if request.method == "GET" and "/txs/chain" in path:
            return self._txs(path)
        if request.method == "GET" and path.startswith("/blocks/") and path[8:].isdigit():
            top = min(int(path[8:]), self.height)
            blocks = [
                {"id": f"{h:064x}", "height": h, "timestamp": block_time(h), "tx_count": 1}
                for h in range(top, max(top - 10, -1), -1)
            ]
            return httpx.Response(200, json=blocks)
        if request.method == "GET" and path.startswith("/address/"):
            address = path.removeprefix("/address/")
            if address in self.bodies:
                return httpx.Response(200, content=self.bodies[address])
            try:
                normalize_bitcoin_address(address, self.network)
            except InvalidAddress:
                return httpx.Response(400, text="Invalid Bitcoin address")
            chain, mempool = self.wallets.get(address, (stats(), stats()))
            body = {"address": address, "chain_stats": chain, "mempool_stats": mempool}
            return httpx.Response(200, json=body)
        return httpx.Response(404, text="Not Found")

    def _txs(self, path: str) -> httpx.Response:
        address, _, last = path.removeprefix("/address/").partition("/txs/chain")
        txs = self.history.get(address, [])
        start = 0
        if last:
            ids = [t["txid"] for t in txs]
            start = ids.index(last.removeprefix("/")) + 1
        return httpx.Response(200, json=txs[start : start + 25])


GENESIS_TIME = 1_231_006_505


def block_time(height: int) -> int:
    """Block `height` was made ten minutes after the one before."""
    return GENESIS_TIME + 600 * height


def tx(
    number: int,
    height: int,
    inputs: list[tuple[str, int] | None],
    outputs: list[tuple[str, int]],
) -> dict[str, Any]:
    """A confirmed transaction as Esplora serves it; an input `None` is a coinbase."""
    return {
        "txid": f"{number:064x}",
        "version": 2,
        "locktime": 0,
        "vin": [
            {"txid": "00" * 32, "vout": 4294967295, "prevout": None, "is_coinbase": True}
            if spent is None
            else {
                "txid": f"{number + 10**6:064x}",
                "vout": 0,
                "is_coinbase": False,
                "prevout": {
                    "scriptpubkey": "0014" + "ab" * 20,
                    "scriptpubkey_type": "v0_p2wpkh",
                    "scriptpubkey_address": spent[0],
                    "value": spent[1],
                },
            }
            for spent in inputs
        ],
        "vout": [
            {
                "scriptpubkey": "0014" + "cd" * 20,
                "scriptpubkey_type": "v0_p2wpkh",
                "scriptpubkey_address": address,
                "value": value,
            }
            for address, value in outputs
        ],
        "size": 222,
        "weight": 561,
        "fee": 141,
        "status": {
            "confirmed": True,
            "block_height": height,
            "block_hash": f"{height:064x}",
            "block_time": block_time(height),
        },
    }


Handler = Callable[[httpx.Request], Any]
"""An async function answering (or failing) a request in place of a fake host."""


def transport(hosts: Mapping[str, FakeEsplora | Handler]) -> httpx.MockTransport:
    """Route each request to the fake serving its host."""

    async def handler(request: httpx.Request) -> httpx.Response:
        target = hosts[request.url.host]
        if isinstance(target, FakeEsplora):
            return await target.handle(request)
        result: httpx.Response = await target(request)
        return result

    return httpx.MockTransport(handler)


def config(*urls: str) -> ChainConfig:
    """A mainnet Bitcoin chain reading from the Esplora base `urls`, in order."""
    return ChainConfig(
        id=CHAIN,
        name="Bitcoin",
        family=ChainFamily.BITCOIN,
        chain_id=None,
        rpc_urls=tuple(Secret(u) for u in urls),
        native=NativeAsset(symbol="BTC", name="Bitcoin", decimals=8),
        multicall3=None,
        timeout=5.0,
    )


def provider(
    http: httpx.AsyncClient, metrics: Metrics, *urls: str, concurrency: int = 8
) -> BitcoinProvider:
    """The provider on `urls` (default: the one fake host `esplora.example`), clock at NOW."""
    return BitcoinProvider(
        config(*(urls or ("https://esplora.example/api",))),
        http,
        metrics,
        concurrency=concurrency,
        clock=lambda: NOW,
    )


def key(account: str, token: str = NATIVE) -> BalanceKey:
    """A Bitcoin balance key (native unless a token is given, which Bitcoin refuses)."""
    return BalanceKey(CHAIN, account, NATIVE_TOKEN if token == NATIVE else TokenRef(token))
