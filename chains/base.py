"""The contract between the cache layer and a chain family, and the read loop families share.

    ChainProvider         normalize_account / normalize_token / read(balances, tokens)
    ├── EvmProvider       chains.evm.provider       Multicall3 aggregate3, or a pinned batch
    ├── StarknetProvider  chains.starknet.provider  starknet_call in JSON-RPC batches
    └── BitcoinProvider   chains.bitcoin.provider   Esplora REST, one GET per address

A provider is batch-first: one `read` takes every lookup of one round for its chain and
answers them all, each value or error in place, so callers never pay one upstream round per
pair. `read_in_chunks` is the loop the batching families share: it lays out one sub-call per
balance and a named group of sub-calls per token, sends chunks concurrently, and hands each
balance its answer and each token its answers by name, never by position.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from core.errors import ChainError, UpstreamError
from core.models import BalanceKey, BalanceReading, ChainFamily, TokenMeta, TokenRef

_Call = TypeVar("_Call")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class Reading:
    """The answer to one `read`: same length and order as the request's lists."""

    balances: list[BalanceReading | ChainError]
    tokens: list[TokenMeta | ChainError]


class ChainProvider(Protocol):
    """Reads balances and token metadata of one chain.

    - `normalize_account` / `normalize_token` parse user input into the canonical form of
      the family (raising `InvalidAddress`); keys given to `read` are already canonical.
    - `read` must not raise for a failure of the node or of one key: it returns a
      `ChainError` in that key's place. Values of one upstream call share one block.
    - `endpoint_states` reports what the provider learned of its endpoints (no I/O).
    """

    family: ChainFamily

    def normalize_account(self, text: str) -> str: ...

    def normalize_token(self, text: str) -> TokenRef: ...

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading: ...

    def endpoint_states(self) -> dict[str, str]:
        """Each endpoint's circuit state by label: closed, half-open or open."""
        ...


@dataclass(frozen=True)
class Chunk(Generic[_Result]):
    """A family's answer to one chunk of sub-calls: results in call order, read at one block."""

    block_number: int | None
    read_at: datetime
    results: Sequence[_Result]


@dataclass(frozen=True)
class Answer(Generic[_Result]):
    """One sub-call's raw result, with the block and time its chunk was read at."""

    result: _Result
    block_number: int | None
    read_at: datetime


@dataclass(frozen=True)
class Answers(Generic[_Result]):
    """Every sub-call's answer, regrouped: one per balance, one named group per token.

    A chunk that failed as a whole gives its `ChainError` to every balance in it, and to
    every token with at least one sub-call in it.
    """

    balances: list[Answer[_Result] | ChainError]
    tokens: list[dict[str, Answer[_Result]] | ChainError]


RunChunk = Callable[[list[_Call]], Awaitable[Chunk[_Result]]]
"""Sends one chunk upstream; raises `ChainError` when the chunk as a whole failed."""


async def read_in_chunks(
    chain: str,
    balances: Sequence[_Call],
    tokens: Sequence[Mapping[str, _Call]],
    chunk_size: int,
    run: RunChunk[_Call, _Result],
) -> Answers[_Result]:
    """Every sub-call in chunks of `chunk_size`, sent concurrently by `run`."""
    calls = [*balances, *(call for group in tokens for call in group.values())]
    chunks = [calls[i : i + chunk_size] for i in range(0, len(calls), chunk_size)]
    outcomes = await asyncio.gather(*(_run_one(chain, run, chunk) for chunk in chunks))
    flat: list[Answer[_Result] | ChainError] = []
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        if isinstance(outcome, ChainError):
            flat += [outcome] * len(chunk)
        else:
            flat += [Answer(r, outcome.block_number, outcome.read_at) for r in outcome.results]
    answers = iter(flat)
    by_balance = [next(answers) for _ in balances]
    by_token: list[dict[str, Answer[_Result]] | ChainError] = []
    for group in tokens:
        named = {name: next(answers) for name in group}
        failed = next((a for a in named.values() if isinstance(a, ChainError)), None)
        by_token.append(failed or {n: a for n, a in named.items() if isinstance(a, Answer)})
    return Answers(by_balance, by_token)


async def _run_one(
    chain: str, run: RunChunk[_Call, _Result], chunk: list[_Call]
) -> Chunk[_Result] | ChainError:
    try:
        outcome = await run(chunk)
    except ChainError as exc:
        return exc.about(chain=chain)
    if len(outcome.results) != len(chunk):  # a family bug or a lying node: never misalign
        return UpstreamError(
            f"{chain} node answered {len(outcome.results)} of {len(chunk)} calls", chain=chain
        )
    return outcome
