"""Bitcoin history from Esplora: an address's confirmed transactions, newest first.

    GET /address/:address/txs/chain[/:last_seen_txid]   25 confirmed transactions a page
    GET /blocks/:start_height                            up to 10 blocks, descending
    GET /blocks/tip/height

A transaction's delta for the address is what its outputs pay to it less what its inputs
spent from it (`prevout`; a coinbase input has none). Pages are read from the tip down to
the first block asked, and every field is checked: a page that repeats, goes back up in
height, or never ends is node trouble (`UpstreamError`), never a loop or a guessed amount.
Bitcoin has no state to read at a block: the history service sums the movements instead.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chains.bitcoin.provider import BitcoinProvider
from chains.history.base import Movement
from chains.history.budget import UNMETERED, ScanMeter
from core.errors import ChainError, UnsupportedToken, UpstreamError
from core.http import parse_json
from core.models import BalanceKey, BalanceReading, TokenRef

PAGE = 25
"""Confirmed transactions per page, as Esplora serves them."""
MAX_PAGES = 4_000
"""100,000 transactions: a node still paging beyond is lying or the address is an exchange's."""
BLOCKS_PER_PAGE = 10
_MAX_SATS = 21_000_000 * 100_000_000
_TXID = re.compile(r"[0-9a-f]{64}")
_BECH32 = ("bc1", "tb1", "bcrt1")


@dataclass(frozen=True)
class _Tx:
    txid: str
    height: int
    time: int
    delta: int


class EsploraHistory:
    """`HistorySource` for Bitcoin over the provider's Esplora endpoints."""

    def __init__(self, chain: str, provider: BitcoinProvider) -> None:
        self.chain = chain
        self._provider = provider

    async def head(self) -> int:
        return await self._provider.tip_height()

    async def block_times(self, blocks: Sequence[int]) -> dict[int, int]:
        remaining = sorted(set(blocks), reverse=True)
        starts: list[int] = []
        while remaining:  # one request answers a height and the nine below it
            starts.append(remaining[0])
            remaining = [b for b in remaining if b <= remaining[0] - BLOCKS_PER_PAGE]
        pages = await asyncio.gather(*(self._blocks(start) for start in starts))
        times: dict[int, int] = {}
        for page in pages:
            times.update(page)
        return {b: times[b] for b in blocks}

    async def first_block(self, token: TokenRef) -> int:
        self._native(token)
        return 0

    async def movements(
        self, account: str, token: TokenRef, start: int, end: int, meter: ScanMeter = UNMETERED
    ) -> list[Movement]:
        self._native(token)
        found: list[_Tx] = []
        last: str | None = None
        lowest: int | None = None
        for _ in range(MAX_PAGES):
            path = f"/address/{account}/txs/chain" + (f"/{last}" if last else "")
            page = await self._provider.get(
                path, "GET /address/txs", lambda body: self._page(body, account), what=account
            )
            for tx in page:
                if lowest is not None and tx.height > lowest:
                    raise self._provider.malformed("transactions went back up in height")
                lowest = tx.height
                if start <= tx.height <= end:
                    found.append(tx)
            meter.read(len(found))
            if len(page) < PAGE or (lowest is not None and lowest < start):
                return _ascending(found)
            if page[-1].txid == last:
                raise self._provider.malformed("the same page again")
            last = page[-1].txid
        raise UpstreamError(
            f"{self.chain}: more than {MAX_PAGES * PAGE} transactions for one address",
            chain=self.chain,
            account=account,
        )

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError] | None:
        return None  # no state at a block: the history service sums movements

    def _native(self, token: TokenRef) -> None:
        if not token.is_native:
            raise UnsupportedToken(
                "Bitcoin has no tokens; use native", chain=self.chain, token=str(token)
            )

    async def _blocks(self, start: int) -> dict[int, int]:
        return await self._provider.get(
            f"/blocks/{start}",
            "GET /blocks",
            lambda body: self._block_page(body, start),
            what=f"blocks from {start}",
        )

    def _block_page(self, body: bytes, start: int) -> dict[int, int]:
        blocks = parse_json(self.chain, body)
        if not isinstance(blocks, list) or not blocks or len(blocks) > BLOCKS_PER_PAGE:
            raise self._provider.malformed("not a list of blocks")
        times: dict[int, int] = {}
        for offset, block in enumerate(blocks):
            height = block.get("height") if isinstance(block, dict) else None
            stamp = block.get("timestamp") if isinstance(block, dict) else None
            if height != start - offset or type(stamp) is not int or stamp <= 0:
                raise self._provider.malformed("a block with the wrong height or no time")
            times[height] = stamp
        return times

    def _page(self, body: bytes, account: str) -> list[_Tx]:
        txs = parse_json(self.chain, body)
        if not isinstance(txs, list) or len(txs) > PAGE:
            raise self._provider.malformed("not a page of transactions")
        return [self._tx(tx, account) for tx in txs]

    def _tx(self, tx: Any, account: str) -> _Tx:
        if not isinstance(tx, dict):
            raise self._provider.malformed("a transaction that is not an object")
        txid, status = tx.get("txid"), tx.get("status")
        if not isinstance(txid, str) or not _TXID.fullmatch(txid) or not isinstance(status, dict):
            raise self._provider.malformed("a transaction without txid or status")
        height, stamp = status.get("block_height"), status.get("block_time")
        if status.get("confirmed") is not True or type(height) is not int or height < 0:
            raise self._provider.malformed("an unconfirmed transaction in the confirmed list")
        if type(stamp) is not int or stamp <= 0:
            raise self._provider.malformed("a transaction without a block time")
        received = sum(self._paid(o, account) for o in self._list(tx, "vout"))
        spent = sum(self._paid(i.get("prevout"), account) for i in self._list(tx, "vin"))
        return _Tx(txid, height, stamp, received - spent)

    def _list(self, tx: dict[str, Any], name: str) -> list[dict[str, Any]]:
        items = tx.get(name)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self._provider.malformed(f"a transaction whose {name} is not a list")
        return items

    def _paid(self, output: Any, account: str) -> int:
        """An output's value when it pays `account` (0 otherwise; `None` is a coinbase input)."""
        if output is None:
            return 0
        value = output.get("value") if isinstance(output, dict) else None
        if type(value) is not int or not 0 <= value <= _MAX_SATS:
            raise self._provider.malformed("an output without a valid value")
        address = output.get("scriptpubkey_address")
        return value if isinstance(address, str) and _same(address, account) else 0


def _same(address: str, account: str) -> bool:
    """Esplora may spell a bech32 address in either case; base58 is case-sensitive."""
    if address == account:
        return True
    lower = account.lower()
    return lower.startswith(_BECH32) and address.lower() == lower


def _ascending(newest_first: list[_Tx]) -> list[Movement]:
    movements: list[Movement] = []
    order: dict[int, int] = {}
    for tx in reversed(newest_first):
        position = order.get(tx.height, 0)
        order[tx.height] = position + 1
        movements.append(Movement(tx.height, position, tx.txid, None, tx.delta, tx.time))
    return movements
