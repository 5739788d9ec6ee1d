"""EVM discovery from the chain's own events: address-less `eth_getLogs` (`logs`).

One JSON-RPC batch of three filters per block range, matching any contract:

    Transfer(from, to, value|id)          to the account     topics [Transfer, *, account]
    Transfer(from, to, value|id)          from the account   topics [Transfer, account]
    TransferSingle / TransferBatch        to the account     topics [[Single, Batch], *, *, account]

A `Transfer` with three topics is an ERC-20's (the token is the contract), with four an
ERC-721's (the contract: `balanceOf(owner)` counts its NFTs); an ERC-1155 log names ids, and
each id is a token of its own (`<contract>:<id>`). Decoding is strict, as for history: a log
that does not name the account where the filter put it is node trouble, not a token.

The range adapts to the node (`AdaptiveSpan`): a refusal halves it (one block too many is
`RangeTooLarge` to the caller), each success doubles it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chains.discovery.base import Chunk, Seen, scan_adaptively
from chains.evm.logs import (
    TRANSFER,
    TRANSFER_BATCH,
    TRANSFER_SINGLE,
    Log,
    erc1155_amounts,
    get_logs,
    topic_address,
)
from chains.history.spans import AdaptiveSpan
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import ChainError, UpstreamError
from core.models import TokenRef


def _filters(account: str, start: int, end: int) -> list[dict[str, Any]]:
    topic = "0x" + bytes(12).hex() + account[2:].lower()
    window = {"fromBlock": hex(start), "toBlock": hex(end)}
    topics = [
        [TRANSFER, None, topic],
        [TRANSFER, topic],
        [[TRANSFER_SINGLE, TRANSFER_BATCH], None, None, topic],
    ]
    return [{**window, "topics": t} for t in topics]


class EvmLogDiscovery:
    """`RangeSource` of one EVM chain."""

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
        """The family's token parser: found contracts are named as everywhere (EIP-55)."""

    async def scan(self, account: str, low: int, high: int, *, downward: bool) -> Chunk:
        async def read(start: int, end: int) -> tuple[Seen, int]:
            answers = await get_logs(self._rpc, _filters(account, start, end))
            if isinstance(answers, ChainError):
                raise answers
            results = sum(len(a) for a in answers if isinstance(a, list))
            return self._tokens(account.lower(), answers, start, end), results

        return await scan_adaptively(self._span, self.chain, account, low, high, downward, read)

    def _tokens(self, account: str, answers: list[Any], start: int, end: int) -> Seen:
        seen: Seen = {}
        for answer in answers:
            if not isinstance(answer, list):
                raise self._malformed("eth_getLogs answered with a non-array")
            for raw in answer:
                log = Log.parse(self.chain, raw, start, end)
                if log is None:
                    continue
                for token in self._moved(account, log):
                    seen[token] = max(seen.get(token, -1), log.block)
        return seen

    def _moved(self, account: str, log: Log) -> list[TokenRef]:
        """The tokens `log` moved to or from `account`."""
        topics = log.topics
        if topics[0] == TRANSFER and len(topics) in (3, 4):
            if account not in (topic_address(topics[1]), topic_address(topics[2])):
                raise self._malformed("a Transfer log about another account")
            return [self._normalize(log.address)]
        if topics[0] in (TRANSFER_SINGLE, TRANSFER_BATCH) and len(topics) == 4:
            if topic_address(topics[3]) != account:
                raise self._malformed("an ERC-1155 log to another account")
            ids = dict.fromkeys(i for i, _ in erc1155_amounts(self.chain, topics[0], log.data))
            contract = self._normalize(log.address).contract
            return [TokenRef(contract, token_id) for token_id in ids]
        raise self._malformed("a log that is no token transfer")

    def _malformed(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self.chain} node sent {what}", chain=self.chain)
