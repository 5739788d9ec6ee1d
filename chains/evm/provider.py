"""EVM chains: every balance and metadata lookup of a round in as few `eth_call`s as possible.

With Multicall3 (the default) a round is one `aggregate3` per chunk of `batch_size` sub-calls,
chunks sent concurrently, each starting with `getBlockNumber()` so all values of a chunk carry
the block they were read at. Without Multicall3 a round is `eth_blockNumber` followed by one
JSON-RPC batch pinned to that block.

`read_at` reads balances as of a past block the same way, at that block's tag, through the
chain's archive nodes (`archive_rpc_urls`, else its usual ones): one `aggregate3` per chunk.
`read_block` does the same at a recent block (live balances) through the usual nodes.
Before Multicall3 existed at that block (it answers with no code), the chunk is a JSON-RPC
batch pinned to the block instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chains.base import Answer, Chunk, Reading, read_in_chunks
from chains.evm import multicall
from chains.evm.addresses import checksum_evm_address, normalize_evm_token
from chains.evm.hexdata import hex_bytes, hex_quantity
from chains.evm.multicall import Call, CallResult
from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.clock import Clock, utcnow
from core.errors import (
    ChainError,
    ChainMisconfigured,
    NoContractCode,
    TokenCallFailed,
    UpstreamError,
    UpstreamRefused,
)
from core.models import (
    BalanceKey,
    BalanceReading,
    ChainFamily,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from settings import ChainConfig


@dataclass(frozen=True)
class _NativeBalance:
    account: str


_SubCall = Call | _NativeBalance


class EvmProvider:
    """`ChainProvider` for EVM chains."""

    family = ChainFamily.EVM

    def __init__(
        self,
        config: ChainConfig,
        rpc: JsonRpcClient,
        clock: Clock = utcnow,
        *,
        archive: JsonRpcClient | None = None,
    ) -> None:
        self._chain = config.id
        self._multicall3 = config.multicall3
        self._chunk = config.batch_size - 1  # one slot of each chunk reads the block number
        self._rpc = rpc
        self._archive = archive or rpc
        self._clock = clock

    def endpoint_states(self) -> dict[str, str]:
        return self._rpc.endpoints.states()

    def normalize_account(self, text: str) -> str:
        return checksum_evm_address(text)

    def normalize_token(self, text: str) -> TokenRef:
        return normalize_evm_token(text)

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading:
        answers = await read_in_chunks(
            self._chain,
            [self._balance_call(k) for k in balances],
            [self._metadata_calls(t) for t in tokens],
            self._chunk,
            self._run,
        )
        return Reading(
            balances=[self._balance(k, a) for k, a in zip(balances, answers.balances, strict=True)],
            tokens=[self._token(t, a) for t, a in zip(tokens, answers.tokens, strict=True)],
        )

    async def read_at(
        self, balances: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError]:
        """Each balance as of the end of `block` (at most the head), in order."""
        return await self._read_pinned(balances, block, self._archive)

    async def read_block(
        self, balances: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError]:
        """Each balance as of a recent `block` (live balances: the head or just below it),
        through the chain's usual nodes, which keep recent state."""
        return await self._read_pinned(balances, block, self._rpc)

    async def _read_pinned(
        self, balances: Sequence[BalanceKey], block: int, rpc: JsonRpcClient
    ) -> list[BalanceReading | ChainError]:
        async def run(calls: list[_SubCall]) -> Chunk[CallResult]:
            if self._multicall3 is not None:
                try:
                    return await self._run_aggregate3(self._multicall3, calls, block, rpc)
                except ChainMisconfigured:
                    pass  # no Multicall3 yet at that block: ask each call pinned to it
            return await self._run_pinned_batch(calls, block, rpc)

        answers = await read_in_chunks(
            self._chain, [self._balance_call(k) for k in balances], [], self._chunk, run
        )
        return [self._balance(k, a) for k, a in zip(balances, answers.balances, strict=True)]

    def _metadata_calls(self, token: TokenRef) -> dict[str, _SubCall]:
        contract = token.contract
        return {
            "decimals": Call(contract, multicall.decimals()),
            "symbol": Call(contract, multicall.symbol()),
            "name": Call(contract, multicall.name()),
            "erc721": Call(contract, multicall.supports_interface(multicall.ERC721_INTERFACE)),
        }

    def _balance_call(self, key: BalanceKey) -> _SubCall:
        token = key.token
        if token.is_native:
            return _NativeBalance(key.account)
        if token.token_id is not None:  # ERC-1155: one id of a multi-token contract
            return Call(token.contract, multicall.balance_of_id(key.account, token.token_id))
        return Call(token.contract, multicall.balance_of(key.account))

    def _balance(
        self, key: BalanceKey, answer: Answer[CallResult] | ChainError
    ) -> BalanceReading | ChainError:
        if isinstance(answer, ChainError):
            return answer.about(**key.labels)
        result = answer.result
        value = multicall.decode_uint256(result.data) if result.success else None
        if value is not None:
            return BalanceReading(key, value, answer.block_number, answer.read_at)
        if not result.success:
            problem = "reverted"
        elif not result.data:
            return NoContractCode(
                f"balanceOf on {key.token} returned no data (is it a token contract on this "
                "chain, at that block?)",
                **key.labels,
            )
        else:
            problem = f"returned {len(result.data)} bytes instead of a uint256"
        return TokenCallFailed(f"balanceOf on {key.token} {problem}", **key.labels)

    def _token(
        self, token: TokenRef, answers: dict[str, Answer[CallResult]] | ChainError
    ) -> TokenMeta | ChainError:
        if isinstance(answers, ChainError):
            return answers.about(chain=self._chain, token=token)
        results = {name: answer.result for name, answer in answers.items()}
        if all(r.success and not r.data for r in results.values()):
            return TokenCallFailed(
                f"{token.contract} has no contract code on {self._chain}",
                chain=self._chain,
                token=str(token),
            )
        dec, sym, nam, nft = (results[n] for n in ("decimals", "symbol", "name", "erc721"))
        decimals = multicall.decode_decimals(dec.data) if dec.success else None
        garbled = dec.success and decimals is None  # answered, but not with a uint8
        if token.token_id is not None:
            standard = TokenStandard.ERC1155
        elif nft.success and multicall.decode_bool(nft.data):
            standard = TokenStandard.ERC721
        else:
            standard = TokenStandard.ERC20
        if standard is not TokenStandard.ERC20 and decimals is None:
            decimals, garbled = 0, False  # NFT balances are counts
        return TokenMeta(
            chain=self._chain,
            token=token,
            standard=standard,
            decimals=decimals,
            symbol=multicall.decode_text(sym.data) if sym.success else None,
            name=multicall.decode_text(nam.data) if nam.success else None,
            garbled=garbled,
        )

    async def _run(self, calls: list[_SubCall]) -> Chunk[CallResult]:
        if self._multicall3 is None:
            return await self._run_pinned_batch(calls)
        return await self._run_aggregate3(self._multicall3, calls)

    async def _run_aggregate3(
        self,
        target: str,
        calls: list[_SubCall],
        block: int | None = None,
        pinned_rpc: JsonRpcClient | None = None,
    ) -> Chunk[CallResult]:
        subcalls = [Call(target, multicall.get_block_number())]
        subcalls += [
            Call(target, multicall.get_eth_balance(c.account))
            if isinstance(c, _NativeBalance)
            else c
            for c in calls
        ]
        data = multicall.encode_aggregate3(subcalls)
        rpc, tag = (
            (self._rpc, "latest") if block is None else (pinned_rpc or self._archive, hex(block))
        )
        read, results = await rpc.call(
            "eth_call",
            [{"to": target, "data": "0x" + data.hex()}, tag],
            parse=lambda raw: self._aggregate3_answer(target, raw, len(subcalls), block),
        )
        return Chunk(read, self._clock(), results)

    def _aggregate3_answer(
        self, target: str, raw: Any, expected: int, pinned: int | None
    ) -> tuple[int, list[CallResult]]:
        """The block number and each sub-call's result; a malformed answer is node trouble
        (the next endpoint is tried), an empty one a misconfigured chain."""
        answer = hex_bytes(raw)
        if answer == b"":
            raise ChainMisconfigured(
                f"no Multicall3 contract at {target} on {self._chain}: set the chain's "
                'multicall3 address, or multicall3 = "" to read without it',
                chain=self._chain,
            )
        results = multicall.decode_aggregate3(answer, expected) if answer else None
        block = (
            multicall.decode_uint256(results[0].data) if results and results[0].success else None
        )
        if results is None or block is None or pinned not in (None, block):
            raise UpstreamError(
                f"{self._chain} node sent a malformed aggregate3 answer", chain=self._chain
            )
        return block, results[1:]

    async def _run_pinned_batch(
        self,
        calls: list[_SubCall],
        pinned: int | None = None,
        pinned_rpc: JsonRpcClient | None = None,
    ) -> Chunk[CallResult]:
        rpc = self._rpc if pinned is None else pinned_rpc or self._archive
        block = pinned
        if block is None:
            block = await rpc.call("eth_blockNumber", [], parse=self._block_number)
        tag = hex(block)
        results = await rpc.batch(
            [
                RpcCall("eth_getBalance", [c.account, tag])
                if isinstance(c, _NativeBalance)
                else RpcCall("eth_call", [{"to": c.target, "data": "0x" + c.data.hex()}, tag])
                for c in calls
            ],
            parse=lambda answers: self._pinned_results(calls, answers),
        )
        return Chunk(block, self._clock(), results)

    def _block_number(self, raw: Any) -> int:
        block = hex_quantity(raw)
        if block is None:
            raise UpstreamError(
                f"{self._chain} node sent a malformed block number", chain=self._chain
            )
        return block

    def _pinned_results(self, calls: list[_SubCall], answers: list[Any]) -> list[CallResult]:
        results: list[CallResult] = []
        for call, answer in zip(calls, answers, strict=True):
            if isinstance(answer, UpstreamRefused):  # a revert: the chain's definite answer
                results.append(CallResult(False, b""))
            elif isinstance(answer, ChainError):
                raise answer
            elif isinstance(call, _NativeBalance):
                wei = hex_quantity(answer)
                results.append(CallResult(wei is not None, (wei or 0).to_bytes(32, "big")))
            else:
                data = hex_bytes(answer)
                results.append(CallResult(data is not None, data or b""))
        return results
