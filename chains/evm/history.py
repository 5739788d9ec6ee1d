"""EVM history: token timelines from `eth_getLogs`, deployment blocks, headers, past balances.

- `movements` scans a block range with both filters of `chains.evm.logs` in one JSON-RPC
  batch per sub-range. The sub-range adapts: a node refusing a range or a result size, or
  an answer over `max_response_bytes` (`RangeTooLarge`), gets half of it (or the end it
  suggests) until it passes; so does a range too slow to answer (twice in a row at most,
  then the timeout stands). After each success the span grows by the density just seen:
  at most double, and only so far as the next answer should stay within a quarter of
  `max_response_bytes` (so a dense timeline never grows into the cap by itself), up to
  `log_range_max` and below the last span refused (forgotten after a few successes).
- `first_block` finds a token contract's deployment block by a search on `eth_getCode`,
  fifteen blocks per batch: about six requests on a 20-million-block chain. A pruned node
  cannot answer for old blocks; the scan then starts at genesis (logs need no state).
- `block_times` reads headers (`eth_getBlockByNumber`) in batches of up to 100.
- `balances_at` is `EvmProvider.read_at`: Multicall3 at the block's tag.

Native ETH moves without logs, so its timeline is `HistoryUnavailable`; its balance at a
block is an ordinary read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from chains.evm.hexdata import hex_bytes, hex_quantity
from chains.evm.logs import Filters, get_logs
from chains.evm.provider import EvmProvider
from chains.history.base import Movement
from chains.history.blocks import first_block_where, in_batches
from chains.history.budget import UNMETERED, ScanMeter
from chains.history.spans import AdaptiveSpan, results_within
from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.errors import (
    ArchiveNodeRequired,
    ChainError,
    HistoryUnavailable,
    RangeTooLarge,
    TokenCallFailed,
    UpstreamError,
    UpstreamTimeout,
)
from core.metrics import Metrics
from core.models import BalanceKey, BalanceReading, TokenRef
from settings import ChainConfig

log = logging.getLogger(__name__)

_SPLITS = (RangeTooLarge, UpstreamTimeout)
"""What a log range answers when it must be smaller: refused or too large, or too slow."""
_SLOW_SPLITS = 2
"""Timeouts in a row a scan answers by halving its range; the next one stands."""


class EvmHistory:
    """`HistorySource` for EVM chains."""

    def __init__(
        self,
        config: ChainConfig,
        rpc: JsonRpcClient,
        provider: EvmProvider,
        *,
        archive: JsonRpcClient | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.chain = config.id
        self._rpc = rpc
        self._archive = archive or rpc
        self._provider = provider
        target = results_within(config.max_response_bytes)
        self._spans = AdaptiveSpan(config.log_range, config.log_range_max, target)
        self._metrics = metrics or Metrics()

    async def head(self) -> int:
        return await self._rpc.call("eth_blockNumber", [], parse=self._number)

    async def block_times(self, blocks: Sequence[int]) -> dict[int, int]:
        return await in_batches(blocks, self._headers)

    async def first_block(self, token: TokenRef) -> int:
        if token.is_native:
            return 0
        contract = token.contract
        try:
            deployed = await first_block_where(
                await self.head(), lambda blocks: self._codes(contract, blocks)
            )
        except ArchiveNodeRequired:
            log.info("%s: no state for old blocks; scanning %s from genesis", self.chain, token)
            return 0
        if deployed is None:
            raise TokenCallFailed(
                f"{contract} has no contract code on {self.chain}",
                chain=self.chain,
                token=str(token),
            )
        return deployed

    async def movements(
        self, account: str, token: TokenRef, start: int, end: int, meter: ScanMeter = UNMETERED
    ) -> list[Movement]:
        if token.is_native:
            raise HistoryUnavailable(
                f"native {self.chain} balances move without logs: their timeline needs a trace "
                "method this service does not use; balances at a block (atBlock, atTime) work",
                chain=self.chain,
                account=account,
                token=str(token),
            )
        filters = Filters(token.contract, account, token)
        found: list[Movement] = []
        position, slow = start, 0
        while position <= end:
            stop = self._spans.window(position, end, downward=False)[1]
            answers = await get_logs(self._rpc, filters.params(position, stop), _SPLITS)
            if isinstance(answers, ChainError):
                slow = slow + 1 if isinstance(answers, UpstreamTimeout) else 0
                if stop == position or slow > _SLOW_SPLITS:  # nothing smaller will do
                    raise answers.about(chain=self.chain, account=account, token=token)
                suggested = answers.suggested_end if isinstance(answers, RangeTooLarge) else None
                reason = "slow" if slow else "too_large"
                self._metrics.log_range_splits.inc(chain=self.chain, reason=reason)
                self._spans.refused(position, stop, suggested)
                continue
            found += filters.movements(self.chain, answers, position, stop)
            meter.read(len(found))
            position, slow = stop + 1, 0
            results = sum(len(a) for a in answers if isinstance(a, list))
            self._spans.accepted(results, stop - position + 1)
        return found

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError]:
        return await self._provider.read_at(keys, block)

    async def _codes(self, contract: str, blocks: list[int]) -> list[bool]:
        """Whether `contract` has code at each block (archive nodes answer for old ones)."""
        answers = await self._archive.batch(
            [RpcCall("eth_getCode", [contract, hex(b)]) for b in blocks], label="eth_getCode"
        )
        codes: list[bool] = []
        for answer in answers:
            if isinstance(answer, ChainError):
                raise answer
            code = hex_bytes(answer)
            if code is None:
                raise UpstreamError(f"{self.chain} node sent malformed code", chain=self.chain)
            codes.append(bool(code))
        return codes

    async def _headers(self, blocks: list[int]) -> list[int]:
        answers = await self._rpc.batch(
            [RpcCall("eth_getBlockByNumber", [hex(b), False]) for b in blocks],
            label="eth_getBlockByNumber",
        )
        return [self._timestamp(b, a) for b, a in zip(blocks, answers, strict=True)]

    def _timestamp(self, block: int, answer: Any) -> int:
        if isinstance(answer, ChainError):
            raise answer
        number = hex_quantity(answer.get("number"), digits=16) if isinstance(answer, dict) else None
        stamp = (
            hex_quantity(answer.get("timestamp"), digits=16) if isinstance(answer, dict) else None
        )
        if number != block or stamp is None:
            raise UpstreamError(
                f"{self.chain} node sent no or a malformed header for block {block}",
                chain=self.chain,
            )
        return stamp

    def _number(self, raw: Any) -> int:
        number = hex_quantity(raw, digits=16)
        if number is None:
            raise UpstreamError(
                f"{self.chain} node sent a malformed block number", chain=self.chain
            )
        return number
