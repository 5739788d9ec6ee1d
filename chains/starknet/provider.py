"""Starknet: every balance and metadata lookup of a round as `starknet_call`s in JSON-RPC batches.

A round is one HTTP request per chunk of `batch_size` JSON-RPC calls, chunks sent concurrently.
Each chunk starts with `starknet_blockNumber`, and the values of a chunk carry that number: the
block the batch was answered at. The calls themselves run against `latest` and are not pinned
to it, so a block landing while the node works through the batch can make the number differ by
one from the state the calls read (pinning `block_id: {"block_number": n}` would cost a second
round).

Starknet has no native coin apart from a contract: the chain's `native` asset is the fee token
contract given to the provider (STRK by default), read with `balanceOf` like any ERC-20.

`read_at` reads balances as of a past block: the same calls with
`block_id: {"block_number": n}`, through the `archive` client when one is given; `read_block`
the same at a recent block (live balances) through the usual nodes.

The client passed in should treat Starknet's definite `starknet_call` errors
(`DEFINITE_CODES`: contract not found, entry point not found, contract error) as answers, not
node trouble; those become `TokenCallFailed` (balances) or unknown fields (metadata).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chains.base import Answer, Chunk, Reading, read_in_chunks
from chains.starknet import felts
from chains.starknet.addresses import normalize_address
from chains.transport.jsonrpc import JsonRpcClient, RpcCall
from core.clock import Clock, utcnow
from core.errors import ChainError, TokenCallFailed, UpstreamError, UpstreamRefused
from core.models import (
    NATIVE_ALIASES,
    NATIVE_TOKEN,
    BalanceKey,
    BalanceReading,
    ChainFamily,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from settings import ChainConfig

ETH_ADDRESS = "0x049d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7"
STRK_ADDRESS = "0x04718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d"

DEFINITE_CODES = frozenset({20, 21, 40})
"""`starknet_call` errors that are the chain's answer (spec v0.7/v0.8): CONTRACT_NOT_FOUND,
ENTRYPOINT_NOT_FOUND, CONTRACT_ERROR. Pass them as the JSON-RPC client's `definite_codes`."""

BALANCE_OF = felts.selector("balanceOf")
DECIMALS = felts.selector("decimals")
SYMBOL = felts.selector("symbol")
NAME = felts.selector("name")


@dataclass(frozen=True)
class _Call:
    contract: str
    entry_point: int
    calldata: tuple[str, ...] = ()

    def rpc(self, block: int | None = None) -> RpcCall:
        request = {
            "contract_address": felts.to_hex(int(self.contract, 16)),
            "entry_point_selector": felts.to_hex(self.entry_point),
            "calldata": [felts.to_hex(int(arg, 16)) for arg in self.calldata],
        }
        block_id: str | dict[str, int] = "latest" if block is None else {"block_number": block}
        return RpcCall("starknet_call", [request, block_id])


_Felts = list[int] | ChainError
"""One call's felts, or its error: an `UpstreamRefused` is the chain's definite refusal."""


class StarknetProvider:
    """`ChainProvider` for Starknet: ERC-20 `balanceOf` / metadata views over JSON-RPC batches."""

    family = ChainFamily.STARKNET

    def __init__(
        self,
        config: ChainConfig,
        rpc: JsonRpcClient,
        clock: Clock = utcnow,
        *,
        native_contract: str = STRK_ADDRESS,
        archive: JsonRpcClient | None = None,
    ) -> None:
        self._chain = config.id
        self._chunk = max(1, config.batch_size - 1)  # one slot of each chunk reads the block
        self._rpc = rpc
        self._archive = archive or rpc
        self._clock = clock
        self._native = normalize_address(native_contract)

    def endpoint_states(self) -> dict[str, str]:
        return self._rpc.endpoints.states()

    def normalize_account(self, text: str) -> str:
        return normalize_address(text)

    def normalize_token(self, text: str) -> TokenRef:
        if text.strip().lower() in NATIVE_ALIASES:
            return NATIVE_TOKEN
        return TokenRef(normalize_address(text))

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading:
        answers = await read_in_chunks(
            self._chain,
            [_Call(self._contract(k.token), BALANCE_OF, (k.account,)) for k in balances],
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
        """Each balance as of a recent `block` (live balances), through the usual nodes."""
        return await self._read_pinned(balances, block, self._rpc)

    async def _read_pinned(
        self, balances: Sequence[BalanceKey], block: int, rpc: JsonRpcClient
    ) -> list[BalanceReading | ChainError]:
        async def run(calls: list[_Call]) -> Chunk[_Felts]:
            answers = await rpc.batch([c.rpc(block) for c in calls])
            return Chunk(block, self._clock(), [self._answer(a) for a in answers])

        answers = await read_in_chunks(
            self._chain,
            [_Call(self._contract(k.token), BALANCE_OF, (k.account,)) for k in balances],
            [],
            self._chunk,
            run,
        )
        return [self._balance(k, a) for k, a in zip(balances, answers.balances, strict=True)]

    def contract(self, token: TokenRef) -> str:
        """The contract holding `token`'s balances (the fee token for `native`)."""
        return self._contract(token)

    def _metadata_calls(self, token: TokenRef) -> dict[str, _Call]:
        contract = self._contract(token)
        return {
            "decimals": _Call(contract, DECIMALS),
            "symbol": _Call(contract, SYMBOL),
            "name": _Call(contract, NAME),
        }

    def _contract(self, token: TokenRef) -> str:
        return self._native if token.is_native else token.contract

    def _balance(
        self, key: BalanceKey, answer: Answer[_Felts] | ChainError
    ) -> BalanceReading | ChainError:
        about = key.labels
        if isinstance(answer, ChainError):
            return answer.about(**about)
        result = answer.result
        contract = self._contract(key.token)
        if isinstance(result, UpstreamRefused):
            return TokenCallFailed(f"balanceOf on {contract} failed: {result.message}", **about)
        if isinstance(result, ChainError):
            return result.about(**about)
        value = felts.decode_u256(result)
        if value is None:
            return TokenCallFailed(
                f"balanceOf on {contract} returned {len(result)} felts instead of a u256",
                **about,
            )
        return BalanceReading(key, value, answer.block_number, answer.read_at)

    def _token(
        self, token: TokenRef, answers: dict[str, Answer[_Felts]] | ChainError
    ) -> TokenMeta | ChainError:
        if isinstance(answers, ChainError):  # the whole chunk failed
            return answers.about(chain=self._chain, token=token)
        views: dict[str, list[int] | None] = {}
        for name, answer in answers.items():
            result = answer.result
            if isinstance(result, UpstreamRefused):  # the chain refused this view: field unknown
                views[name] = None
            elif isinstance(result, ChainError):  # node trouble: retry later
                return result.about(chain=self._chain, token=token)
            else:
                views[name] = result
        dec, sym, nam = views["decimals"], views["symbol"], views["name"]
        decimals = felts.decode_decimals(dec) if dec is not None else None
        return TokenMeta(
            chain=self._chain,
            token=token,
            standard=TokenStandard.NATIVE if token.is_native else TokenStandard.ERC20,
            decimals=decimals,
            symbol=felts.decode_text(sym) if sym is not None else None,
            name=felts.decode_text(nam) if nam is not None else None,
            garbled=dec is not None and decimals is None,  # answered, but not with a u8
        )

    async def _run(self, calls: list[_Call]) -> Chunk[_Felts]:
        block, answers = await self._rpc.batch(
            [RpcCall("starknet_blockNumber", []), *(c.rpc() for c in calls)],
            parse=self._chunk_answer,
        )
        return Chunk(block, self._clock(), answers)

    def _chunk_answer(self, answers: list[Any]) -> tuple[int, list[_Felts]]:
        """The chunk's block number and each call's felts; a malformed block number is node
        trouble (the next endpoint is tried)."""
        block = answers[0]
        if isinstance(block, ChainError):
            raise block
        if not isinstance(block, int) or isinstance(block, bool) or block < 0:
            raise UpstreamError(
                f"{self._chain} node sent a malformed block number", chain=self._chain
            )
        return block, [self._answer(a) for a in answers[1:]]

    def _answer(self, raw: Any) -> _Felts:
        if isinstance(raw, ChainError):
            return raw
        parsed = felts.parse_felts(raw)
        if parsed is None:
            return UpstreamError(
                f"{self._chain} node sent a malformed starknet_call result", chain=self._chain
            )
        return parsed
