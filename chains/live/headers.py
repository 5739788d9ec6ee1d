"""Where a follower learns of new blocks: a node's newest head, asked for or pushed.

    HeadSource        latest() -> Head
    ├── EvmHeads      eth_getBlockByNumber("latest"): number, hash, parent, time, logsBloom
    └── NumberHeads   a family's own head number (Starknet, Bitcoin): no hash, so no reorg
                      check and no pre-filter; every block is read whole

`parse_header` also decodes the headers `eth_subscribe("newHeads")` pushes (chains.live.newheads):
the same object, strictly checked (a malformed header is node trouble, never a guess).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from chains.evm.hexdata import hex_bytes, hex_quantity
from chains.heads import Head
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import UpstreamError

_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
BLOOM_BYTES = 256


class HeadSource(Protocol):
    """A chain's newest head, read from its node (raises `ChainError`)."""

    async def latest(self) -> Head: ...


class EvmHeads:
    """`HeadSource` for EVM chains: the newest header, one request."""

    def __init__(self, chain: str, rpc: JsonRpcClient) -> None:
        self.chain = chain
        self._rpc = rpc

    async def latest(self) -> Head:
        params: list[object] = ["latest", False]
        return await self._rpc.call(
            "eth_getBlockByNumber", params, parse=lambda raw: parse_header(self.chain, raw)
        )


class NumberHeads:
    """`HeadSource` from a head number alone (a family's `HistorySource.head`)."""

    def __init__(self, number: Callable[[], Awaitable[int]]) -> None:
        self._number = number

    async def latest(self) -> Head:
        return Head(await self._number())


def parse_header(chain: str, raw: Any) -> Head:
    """An EVM block header as nodes send it (`eth_getBlockByNumber`, `newHeads`)."""
    if not isinstance(raw, dict):
        raise _malformed(chain, "no header")
    number = hex_quantity(raw.get("number"), digits=16)
    stamp = hex_quantity(raw.get("timestamp"), digits=16)
    block, parent = raw.get("hash"), raw.get("parentHash")
    bloom = hex_bytes(raw.get("logsBloom")) if raw.get("logsBloom") is not None else None
    if number is None or stamp is None:
        raise _malformed(chain, "a header without a number or a timestamp")
    if not all(isinstance(h, str) and _HASH.fullmatch(h) for h in (block, parent)):
        raise _malformed(chain, "a header without a hash or a parent hash")
    if bloom is not None and len(bloom) != BLOOM_BYTES:
        bloom = None  # an odd bloom is no bloom: the block is read whole
    return Head(number, str(block).lower(), str(parent).lower(), stamp, bloom)


def _malformed(chain: str, what: str) -> UpstreamError:
    return UpstreamError(f"{chain} node sent {what}", chain=chain)
