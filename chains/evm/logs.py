"""Token transfer logs: the `eth_getLogs` filters that find one account's movements of one
token, and strict decoding of what comes back.

    ERC-20    Transfer(address indexed from, address indexed to, uint256 value)
    ERC-721   Transfer(address indexed from, address indexed to, uint256 indexed tokenId)
    ERC-1155  TransferSingle(address indexed operator, address indexed from,
                             address indexed to, uint256 id, uint256 value)
              TransferBatch(address indexed operator, address indexed from,
                            address indexed to, uint256[] ids, uint256[] values)

ERC-20 and ERC-721 share `Transfer`'s topic: an ERC-20 log has three topics and the value
in its data, an ERC-721 log four topics and no data (one token moves: the count changes
by one). An account is found by two filters, one with it as sender and one as receiver; a
transfer to oneself matches both and is one movement of 0. Decoding is strict: anything
not shaped as the event promises, or not about the account asked (neither its sender nor
its receiver), is node trouble (`UpstreamError`), never a guessed delta.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chains.evm.hexdata import hex_bytes, hex_quantity
from chains.evm.multicall import selector_topic
from chains.history.base import Movement
from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.errors import ChainError, RangeTooLarge, UpstreamError
from core.models import TokenRef

TRANSFER = selector_topic("Transfer(address,address,uint256)")
TRANSFER_SINGLE = selector_topic("TransferSingle(address,address,address,uint256,uint256)")
TRANSFER_BATCH = selector_topic("TransferBatch(address,address,address,uint256[],uint256[])")
_WORD = 32
_MAX_BATCH_IDS = 10_000


@dataclass(frozen=True)
class Filters:
    """The two `eth_getLogs` filters (sender, receiver) of one account and token."""

    contract: str
    account: str
    token: TokenRef

    def params(self, start: int, end: int) -> list[dict[str, Any]]:
        """Both filters over blocks `start`..`end`, inclusive."""
        account = "0x" + bytes(12).hex() + self.account[2:].lower()
        if self.token.token_id is None:
            topics: list[list[Any]] = [[TRANSFER, account], [TRANSFER, None, account]]
        else:
            kinds = [TRANSFER_SINGLE, TRANSFER_BATCH]
            topics = [[kinds, None, account], [kinds, None, None, account]]
        return [
            {"address": self.contract, "fromBlock": hex(start), "toBlock": hex(end), "topics": t}
            for t in topics
        ]

    def movements(self, chain: str, answers: list[Any], start: int, end: int) -> list[Movement]:
        """The movements both filters' answers tell, each log once, in chain order."""
        seen: dict[tuple[int, int], Movement] = {}
        for answer in answers:
            if not isinstance(answer, list):
                raise _malformed(chain, "eth_getLogs answered with a non-array")
            for raw in answer:
                log = Log.parse(chain, raw, start, end, self.contract)
                if log is None:
                    continue
                delta = self._delta(chain, log)
                if delta is not None:
                    seen[(log.block, log.index)] = Movement(
                        log.block, log.index, log.transaction, log.index, delta, log.timestamp
                    )
        return sorted(seen.values())

    def _delta(self, chain: str, log: Log) -> int | None:
        """The signed change `log` makes to the account's balance; `None` when the log is
        about another ERC-1155 id."""
        topics = log.topics
        if self.token.token_id is None:
            if topics[0] != TRANSFER or len(topics) not in (3, 4):
                raise _malformed(chain, "a Transfer log with the wrong topics")
            if len(topics) == 3:
                value = _uint(chain, log.data) if len(log.data) == _WORD else None
            else:
                value = 1 if not log.data else None
            if value is None:
                raise _malformed(chain, "a Transfer log with the wrong data")
            sender, receiver = topics[1], topics[2]
        else:
            if len(topics) != 4 or topics[0] not in (TRANSFER_SINGLE, TRANSFER_BATCH):
                raise _malformed(chain, "an ERC-1155 log with the wrong topics")
            pairs = erc1155_amounts(chain, topics[0], log.data)
            amounts = [v for i, v in pairs if i == self.token.token_id]
            if not amounts:
                return None
            value = sum(amounts)
            sender, receiver = topics[2], topics[3]
        account = self.account.lower()
        received, sent = topic_address(receiver) == account, topic_address(sender) == account
        if not (received or sent):  # both filters name the account as one or the other
            raise _malformed(chain, "a transfer log that neither sends nor receives the account")
        return value * (received - sent)


@dataclass(frozen=True)
class Log:
    """One log, every field checked."""

    address: str
    """The emitting contract, lower-case."""
    block: int
    index: int
    transaction: str
    topics: list[str]
    data: bytes
    timestamp: int | None

    @classmethod
    def parse(
        cls, chain: str, raw: Any, start: int, end: int, contract: str | None = None
    ) -> Log | None:
        """A validated log in `start`..`end` (of `contract`, when given); `None` for one a
        reorg removed."""
        if not isinstance(raw, dict):
            raise _malformed(chain, "a log that is not an object")
        if raw.get("removed") is True:
            return None
        address = raw.get("address")
        if not isinstance(address, str) or hex_bytes(address) is None or len(address) != 42:
            raise _malformed(chain, "a log without a contract address")
        if contract is not None and address.lower() != contract.lower():
            raise _malformed(chain, "a log of another contract")
        block, index = (
            hex_quantity(raw.get("blockNumber"), digits=16),
            hex_quantity(raw.get("logIndex"), digits=16),
        )
        transaction, data = raw.get("transactionHash"), hex_bytes(raw.get("data"))
        topics = raw.get("topics")
        if (
            block is None
            or index is None
            or not start <= block <= end
            or not _is_word(transaction)
            or data is None
            or not isinstance(topics, list)
            or not 1 <= len(topics) <= 4
            or not all(_is_word(t) for t in topics)
        ):
            raise _malformed(chain, "a log with missing or malformed fields")
        stamp = hex_quantity(
            raw.get("blockTimestamp"), digits=16
        )  # newer nodes add it; else read headers
        return cls(
            address.lower(),
            block,
            index,
            str(transaction).lower(),
            [t.lower() for t in topics],
            data,
            stamp,
        )


def erc1155_amounts(chain: str, topic: str, data: bytes) -> list[tuple[int, int]]:
    """The (id, value) pairs a TransferSingle or TransferBatch log (`topic`) moves."""
    return _single(chain, data) if topic == TRANSFER_SINGLE else _batch(chain, data)


def _single(chain: str, data: bytes) -> list[tuple[int, int]]:
    if len(data) != 2 * _WORD:
        raise _malformed(chain, "a TransferSingle log with the wrong data")
    return [(_uint(chain, data[:_WORD]), _uint(chain, data[_WORD:]))]


def _batch(chain: str, data: bytes) -> list[tuple[int, int]]:
    """`(ids, values)` of a TransferBatch: two dynamic uint256 arrays of one length."""
    if len(data) < 4 * _WORD:
        raise _malformed(chain, "a TransferBatch log with the wrong data")
    ids = _array(chain, data, _uint(chain, data[:_WORD]))
    values = _array(chain, data, _uint(chain, data[_WORD : 2 * _WORD]))
    if len(ids) != len(values):
        raise _malformed(chain, "a TransferBatch log with ids and values of different lengths")
    return list(zip(ids, values, strict=True))


def _array(chain: str, data: bytes, at: int) -> list[int]:
    if at % _WORD or at + _WORD > len(data):
        raise _malformed(chain, "a TransferBatch log with a bad offset")
    length = _uint(chain, data[at : at + _WORD])
    body = at + _WORD
    if length > _MAX_BATCH_IDS or body + length * _WORD > len(data):
        raise _malformed(chain, "a TransferBatch log with a bad length")
    return [_uint(chain, data[body + i * _WORD : body + (i + 1) * _WORD]) for i in range(length)]


def _uint(chain: str, word: bytes) -> int:
    if len(word) != _WORD:
        raise _malformed(chain, "a short word")
    return int.from_bytes(word, "big")


async def get_logs(
    rpc: JsonRpcClient,
    filters: Sequence[dict[str, Any]],
    splits: tuple[type[ChainError], ...] = (RangeTooLarge,),
) -> list[Any] | ChainError:
    """Every filter's `eth_getLogs` answer, in one batch; or the error that says the range
    must be smaller (`RangeTooLarge` from the node or the size cap, and any of `splits`).
    Any other failure raises."""
    calls = [RpcCall("eth_getLogs", [f]) for f in filters]
    try:
        answers = await rpc.batch(calls, label="eth_getLogs")
    except splits as exc:
        return exc
    for answer in answers:
        if isinstance(answer, RangeTooLarge):
            return answer
        if isinstance(answer, ChainError):
            raise answer
    return list(answers)


def topic_address(topic: str) -> str:
    """The address an indexed topic holds, lower-case (topics are lower-cased on parsing)."""
    return "0x" + topic[-40:]


def _is_word(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 66 and hex_bytes(value) is not None


def _malformed(chain: str, what: str) -> UpstreamError:
    return UpstreamError(f"{chain} node sent {what}", chain=chain)
