"""Starknet history: `Transfer` events of a token contract, headers, deployment, past balances.

    starknet_getEvents             {from_block, to_block, address, keys: [[Transfer]],
                                    chunk_size, continuation_token} -> {events, continuation_token?}
    starknet_getBlockWithTxHashes  a block's `timestamp`, many blocks per JSON-RPC batch
    starknet_getClassHashAt        CONTRACT_NOT_FOUND (20) before the contract's deployment

`Transfer` comes in two layouts: Cairo 1 (OpenZeppelin) puts `from` and `to` in the keys
and the u256 value in the data; older contracts (and the fee tokens) put all four in the
data. Events cannot be filtered by a data field, so the scan reads every `Transfer` of the
token in the range, a page of `CHUNK` events per request, and keeps the account's. Every
felt is checked; a continuation that repeats or never ends is node trouble, never a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from chains.history.base import Movement
from chains.history.blocks import first_block_where, in_batches
from chains.history.budget import UNMETERED, ScanMeter
from chains.starknet import felts
from chains.starknet.provider import StarknetProvider
from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.errors import (
    ArchiveNodeRequired,
    ChainError,
    TokenCallFailed,
    UpstreamError,
    UpstreamRefused,
)
from core.models import BalanceKey, BalanceReading, TokenRef

log = logging.getLogger(__name__)

TRANSFER = felts.selector("Transfer")
CHUNK = 1_000
"""Events per `starknet_getEvents` page."""
MAX_PAGES = 2_000
_U128 = 2**128


class StarknetHistory:
    """`HistorySource` for Starknet."""

    def __init__(
        self,
        chain: str,
        rpc: JsonRpcClient,
        provider: StarknetProvider,
        *,
        archive: JsonRpcClient | None = None,
    ) -> None:
        self.chain = chain
        self._rpc = rpc
        self._archive = archive or rpc
        self._provider = provider

    async def head(self) -> int:
        return await self._rpc.call("starknet_blockNumber", [], parse=self._number)

    async def block_times(self, blocks: Sequence[int]) -> dict[int, int]:
        return await in_batches(blocks, self._headers)

    async def first_block(self, token: TokenRef) -> int:
        contract = self._provider.contract(token)
        try:
            deployed = await first_block_where(
                await self.head(), lambda blocks: self._deployed(contract, blocks)
            )
        except ArchiveNodeRequired:
            log.info("%s: no state for old blocks; scanning %s from genesis", self.chain, token)
            return 0
        if deployed is None:
            raise TokenCallFailed(
                f"{contract} is not deployed on {self.chain}", chain=self.chain, token=str(token)
            )
        return deployed

    async def movements(
        self, account: str, token: TokenRef, start: int, end: int, meter: ScanMeter = UNMETERED
    ) -> list[Movement]:
        contract = self._provider.contract(token)
        me = int(account, 16)
        found: list[Movement] = []
        order: dict[int, int] = {}
        continuation: str | None = None
        for _ in range(MAX_PAGES):
            page: dict[str, Any] = {
                "from_block": {"block_number": start},
                "to_block": {"block_number": end},
                "address": contract,
                "keys": [[felts.to_hex(TRANSFER)]],
                "chunk_size": CHUNK,
            }
            if continuation is not None:
                page["continuation_token"] = continuation
            events, following = await self._rpc.call(
                "starknet_getEvents",
                [page],
                parse=lambda raw: self._page(raw, contract, start, end),
            )
            for block, transaction, sender, receiver, value in events:
                if me not in (sender, receiver):
                    continue
                position = order.get(block, 0)
                order[block] = position + 1
                delta = value * ((receiver == me) - (sender == me))
                found.append(Movement(block, position, transaction, None, delta))
            meter.read(len(found))
            if following is None:
                return found
            if following == continuation:
                raise self._malformed("the same continuation token again")
            continuation = following
        raise UpstreamError(
            f"{self.chain}: more than {MAX_PAGES} pages of Transfer events", chain=self.chain
        )

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError]:
        return await self._provider.read_at(keys, block)

    def _page(
        self, raw: Any, contract: str, start: int, end: int
    ) -> tuple[list[tuple[int, str, int, int, int]], str | None]:
        """(block, transaction, from, to, value) of each Transfer, and the next page's token."""
        events, following = events_page(self.chain, raw)
        transfers = [t for t in (self._transfer(e, contract, start, end) for e in events) if t]
        return transfers, following

    def _transfer(
        self, event: Any, contract: str, start: int, end: int
    ) -> tuple[int, str, int, int, int] | None:
        if not isinstance(event, dict):
            raise self._malformed("an event that is not an object")
        source = felts.parse_felt(event.get("from_address"))
        keys, data = felts.parse_felts(event.get("keys")), felts.parse_felts(event.get("data"))
        block = event.get("block_number")
        transaction = felts.parse_felt(event.get("transaction_hash"))
        if (
            source != int(contract, 16)
            or keys is None
            or data is None
            or type(block) is not int
            or not start <= block <= end
            or transaction is None
        ):
            raise self._malformed("an event with missing or malformed fields")
        if not keys or keys[0] != TRANSFER:
            raise self._malformed("an event that is not the Transfer asked for")
        if len(keys) == 3 and len(data) == 2:  # Cairo 1: from, to in the keys
            sender, receiver, low, high = keys[1], keys[2], data[0], data[1]
        elif len(keys) == 1 and len(data) == 4:  # legacy: everything in the data
            sender, receiver, low, high = data
        else:
            return None  # another event named Transfer: not a fungible transfer
        if low >= _U128 or high >= _U128:
            raise self._malformed("a Transfer value that is not a u256")
        return block, f"0x{transaction:064x}", sender, receiver, low + (high << 128)

    async def _deployed(self, contract: str, blocks: list[int]) -> list[bool]:
        answers = await self._archive.batch(
            [RpcCall("starknet_getClassHashAt", [{"block_number": b}, contract]) for b in blocks],
            label="starknet_getClassHashAt",
        )
        deployed: list[bool] = []
        for answer in answers:
            if isinstance(answer, UpstreamRefused):  # CONTRACT_NOT_FOUND: not deployed yet
                deployed.append(False)
            elif isinstance(answer, ChainError):
                raise answer
            elif felts.parse_felt(answer) is None:
                raise self._malformed("a malformed class hash")
            else:
                deployed.append(True)
        return deployed

    async def _headers(self, blocks: list[int]) -> list[int]:
        answers = await self._rpc.batch(
            [RpcCall("starknet_getBlockWithTxHashes", [{"block_number": b}]) for b in blocks],
            label="starknet_getBlockWithTxHashes",
        )
        stamps: list[int] = []
        for block, answer in zip(blocks, answers, strict=True):
            if isinstance(answer, ChainError):
                raise answer
            number = answer.get("block_number") if isinstance(answer, dict) else None
            stamp = answer.get("timestamp") if isinstance(answer, dict) else None
            if number != block or type(stamp) is not int or stamp <= 0:
                raise self._malformed(f"no or a malformed header for block {block}")
            stamps.append(stamp)
        return stamps

    def _number(self, raw: Any) -> int:
        if type(raw) is not int or raw < 0:
            raise self._malformed("a malformed block number")
        return raw

    def _malformed(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self.chain} node sent {what}", chain=self.chain)


def events_page(chain: str, raw: Any) -> tuple[list[Any], str | None]:
    """A `starknet_getEvents` answer's events (at most `CHUNK`) and its continuation token."""
    events = raw.get("events") if isinstance(raw, dict) else None
    following = raw.get("continuation_token") if isinstance(raw, dict) else None
    if not isinstance(events, list) or len(events) > CHUNK:
        raise UpstreamError(
            f"{chain} node sent a getEvents answer without an events list", chain=chain
        )
    if following is not None and (not isinstance(following, str) or len(following) > 1024):
        raise UpstreamError(f"{chain} node sent a malformed continuation token", chain=chain)
    return events, following
