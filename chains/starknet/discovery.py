"""Starknet discovery from the chain's own events (`logs`): `Transfer`s to the account.

    starknet_getEvents   {from_block, to_block, keys: [[Transfer], [], [account]],
                          chunk_size, continuation_token} -> {events, continuation_token?}

No contract address: every contract's `Transfer` whose third key is the account, that is
the Cairo 1 (OpenZeppelin) layout, which puts `from` and `to` in the keys. Tokens of the
legacy layout (everything in the data, the fee tokens among them) cannot be filtered by
recipient, so they stay list-only. Pages follow the continuation token; a token that
repeats, or more pages than `MAX_PAGES` for one range, is node trouble, never a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chains.discovery.base import Chunk, Seen, scan_adaptively
from chains.history.spans import AdaptiveSpan
from chains.starknet import felts
from chains.starknet.history import CHUNK, TRANSFER, events_page
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import RangeTooLarge, UpstreamError
from core.models import TokenRef

MAX_PAGES = 100
"""Pages of one range; past it the span is narrowed, as for a node's refusal."""


class StarknetEventDiscovery:
    """`RangeSource` of a Starknet chain."""

    name = "logs"

    def __init__(
        self,
        chain: str,
        rpc: JsonRpcClient,
        span: AdaptiveSpan,
        normalize: Callable[[str], TokenRef],
    ) -> None:
        self.chain = chain
        self._rpc = rpc
        self._span = span
        self._normalize = normalize

    async def scan(self, account: str, low: int, high: int, *, downward: bool) -> Chunk:
        me = int(account, 16)

        async def read(start: int, end: int) -> tuple[Seen, None]:
            return await self._pages(me, start, end), None  # pages, not results, are bounded

        return await scan_adaptively(self._span, self.chain, account, low, high, downward, read)

    async def _pages(self, me: int, start: int, end: int) -> Seen:
        seen: Seen = {}
        continuation: str | None = None
        for _ in range(MAX_PAGES):
            page: dict[str, Any] = {
                "from_block": {"block_number": start},
                "to_block": {"block_number": end},
                "keys": [[felts.to_hex(TRANSFER)], [], [felts.to_hex(me)]],
                "chunk_size": CHUNK,
            }
            if continuation is not None:
                page["continuation_token"] = continuation
            raw = await self._rpc.call("starknet_getEvents", [page])
            events, following = events_page(self.chain, raw)
            for event in events:
                contract, block = self._transfer(event, me, start, end)
                token = self._normalize(felts.to_hex(contract))
                seen[token] = max(seen.get(token, -1), block)
            if following is None:
                return seen
            if following == continuation:
                raise self._malformed("the same continuation token again")
            continuation = following
        raise RangeTooLarge(f"{self.chain}: more than {MAX_PAGES} pages", chain=self.chain)

    def _transfer(self, event: Any, me: int, start: int, end: int) -> tuple[int, int]:
        """The contract and block of a `Transfer` to `me`."""
        if not isinstance(event, dict):
            raise self._malformed("an event that is not an object")
        contract = felts.parse_felt(event.get("from_address"))
        keys = felts.parse_felts(event.get("keys"))
        block = event.get("block_number")
        if (
            contract is None
            or keys is None
            or type(block) is not int
            or not start <= block <= end
            or len(keys) != 3
            or keys[0] != TRANSFER
            or keys[2] != me
        ):
            raise self._malformed("an event that is not the Transfer asked for")
        return contract, block

    def _malformed(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self.chain} node sent {what}", chain=self.chain)
