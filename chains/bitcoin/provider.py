"""Bitcoin through an Esplora REST API (Blockstream's esplora/electrs, mempool.space).

A round is one `GET /address/{addr}` per distinct account plus one `GET /blocks/tip/height`,
all sent concurrently under a per-provider semaphore. Confirmed balance is
`chain_stats.funded_txo_sum - chain_stats.spent_txo_sum`; the mempool's net change is the
reading's `unconfirmed_delta`. Endpoints are tried in order with the same failover and
cool-down rules as `JsonRpcClient`; a definite HTTP 400 (Esplora refusing the address) is
never retried. Base URLs may carry API keys: messages and logs name them by `Secret.label`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from chains.base import Reading
from chains.bitcoin.addresses import NETWORKS, normalize_bitcoin_address
from chains.transport.endpoints import Endpoints
from core.clock import Clock, utcnow
from core.errors import (
    ChainError,
    TokenCallFailed,
    UnsupportedToken,
    UpstreamError,
    UpstreamRefused,
)
from core.http import parse_json, raise_for_status, read_capped, upstream_errors
from core.metrics import Metrics
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
from core.text import excerpt
from settings import ChainConfig, Secret

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_HEIGHT = re.compile(r"[0-9]{1,10}")
_STATS_FIELDS = (
    "funded_txo_count",
    "funded_txo_sum",
    "spent_txo_count",
    "spent_txo_sum",
    "tx_count",
)


class BitcoinProvider:
    """`ChainProvider` for Bitcoin over Esplora: native balances with their mempool delta."""

    family = ChainFamily.BITCOIN

    def __init__(
        self,
        config: ChainConfig,
        http: httpx.AsyncClient,
        metrics: Metrics,
        *,
        network: str = "mainnet",
        concurrency: int | None = None,
        clock: Clock = utcnow,
    ) -> None:
        if not config.rpc_urls:
            raise ValueError(f"{config.id}: at least one Esplora URL is required")
        if network not in NETWORKS:
            raise ValueError(f"{config.id}: unknown Bitcoin network {network!r}")
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"{config.id}: concurrency must be at least 1")
        self._config = config
        self._chain = config.id
        self._endpoints = Endpoints(
            config.id,
            config.rpc_urls,
            metrics,
            cooldown=config.cooldown,
            threshold=config.failure_threshold,
        )
        self._http = http
        self._metrics = metrics
        self._network = network
        self._semaphore = asyncio.Semaphore(concurrency or config.max_connections)
        self._clock = clock

    def endpoint_states(self) -> dict[str, str]:
        return self._endpoints.states()

    def normalize_account(self, text: str) -> str:
        return normalize_bitcoin_address(text, self._network)

    def normalize_token(self, text: str) -> TokenRef:
        if text.strip().lower() in NATIVE_ALIASES:
            return NATIVE_TOKEN
        raise UnsupportedToken(f"Bitcoin has no tokens ({excerpt(text)}); use native", token=text)

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading:
        accounts = list(dict.fromkeys(k.account for k in balances if k.token.is_native))
        answers: list[tuple[int, int] | ChainError] = []
        tip: int | None = None
        if accounts:  # metadata alone needs no request
            answers, tip = await asyncio.gather(
                asyncio.gather(*(self._address_stats(a) for a in accounts)), self._tip_height()
            )
        read_at = self._clock()
        by_account = dict(zip(accounts, answers, strict=True))
        return Reading(
            balances=[self._balance(k, by_account.get(k.account), tip, read_at) for k in balances],
            tokens=[self._token(t) for t in tokens],
        )

    def _balance(
        self,
        key: BalanceKey,
        answer: tuple[int, int] | ChainError | None,
        tip: int | None,
        read_at: datetime,
    ) -> BalanceReading | ChainError:
        about = key.labels
        if not key.token.is_native or answer is None:
            return TokenCallFailed("Bitcoin has no tokens; only native balances exist", **about)
        if isinstance(answer, ChainError):
            return answer.about(**about)
        confirmed, pending = answer
        return BalanceReading(key, confirmed, tip, read_at, unconfirmed_delta=pending)

    def _token(self, token: TokenRef) -> TokenMeta | ChainError:
        if not token.is_native:
            return TokenCallFailed(
                "Bitcoin has no tokens; use native", chain=self._chain, token=str(token)
            )
        native = self._config.native
        return TokenMeta(
            chain=self._chain,
            token=NATIVE_TOKEN,
            standard=TokenStandard.NATIVE,
            symbol=native.symbol,
            name=native.name,
            decimals=native.decimals,
            logo=native.logo,
        )

    async def _address_stats(self, address: str) -> tuple[int, int] | ChainError:
        try:
            return await self._get(
                f"/address/{address}",
                "GET /address",
                lambda body: self._parse_stats(address, body),
                what=f"the address {address}",
            )
        except ChainError as exc:
            return exc

    async def tip_height(self) -> int:
        """The newest block's height; raises `ChainError`."""
        return await self._get(
            "/blocks/tip/height", "GET /blocks/tip/height", self._parse_tip, what="tip height"
        )

    async def get(self, path: str, method: str, parse: Callable[[bytes], _T], *, what: str) -> _T:
        """`parse` of the first good answer to `GET path` (history reads other paths with the
        same failover, caps and metrics)."""
        return await self._get(path, method, parse, what=what)

    def malformed(self, detail: str) -> UpstreamError:
        return self._malformed(detail)

    async def _tip_height(self) -> int | None:
        try:
            return await self.tip_height()
        except ChainError as exc:
            log.warning("%s: tip height unavailable: %s", self._chain, exc.message)
            return None

    async def _get(self, path: str, method: str, parse: Callable[[bytes], _T], *, what: str) -> _T:
        """`parse` of the first good answer, failing over on node trouble (`UpstreamError`)."""
        return await self._endpoints.first_answer(
            lambda endpoint, _last: self._get_parsed(endpoint, path, method, parse, what)
        )

    async def _get_parsed(
        self, endpoint: Secret, path: str, method: str, parse: Callable[[bytes], _T], what: str
    ) -> _T:
        return parse(await self._get_once(endpoint, path, method, what))

    async def _get_once(self, endpoint: Secret, path: str, method: str, what: str) -> bytes:
        self._metrics.upstream_requests.inc(chain=self._chain, method=method)
        base = httpx.URL(endpoint.value)
        url = base.copy_with(path=base.path.rstrip("/") + path)
        timeout = self._config.timeout
        async with self._semaphore:
            started = time.perf_counter()
            try:
                with upstream_errors(self._chain):
                    async with asyncio.timeout(timeout):
                        answer = await read_capped(
                            self._http,
                            "GET",
                            url,
                            upstream=self._chain,
                            limit=self._config.max_response_bytes,
                            io_timeout=timeout,
                        )
            finally:
                self._metrics.upstream_latency.labels(chain=self._chain, method=method).observe(
                    time.perf_counter() - started
                )
        if answer.status == 400:  # definite: never fail over
            raise UpstreamRefused(
                f"Esplora rejected {what} on {self._chain} (HTTP 400)", chain=self._chain
            )
        raise_for_status(self._chain, answer)
        return answer.body

    def _parse_tip(self, body: bytes) -> int:
        text = body.decode("ascii", "replace").strip()
        if not _HEIGHT.fullmatch(text):
            raise self._malformed("tip height is not an integer")
        return int(text)

    def _parse_stats(self, address: str, body: bytes) -> tuple[int, int]:
        try:
            payload: Any = parse_json(self._chain, body)
        except UpstreamError:
            raise self._malformed("not JSON") from None
        if not isinstance(payload, dict) or payload.get("address") != address:
            raise self._malformed("not the requested address")
        sums: list[int] = []
        for section in ("chain_stats", "mempool_stats"):
            stats = payload.get(section)
            if not isinstance(stats, dict):
                raise self._malformed(f"{section} missing")
            for name in _STATS_FIELDS:
                value = stats.get(name)
                if type(value) is not int or value < 0:
                    raise self._malformed(f"{section}.{name} is not a non-negative integer")
            sums += [stats["funded_txo_sum"], stats["spent_txo_sum"]]
        confirmed, pending = sums[0] - sums[1], sums[2] - sums[3]
        if confirmed < 0:
            raise self._malformed("confirmed balance is negative")
        return confirmed, pending

    def _malformed(self, detail: str) -> UpstreamError:
        return UpstreamError(
            f"{self._chain} node sent a malformed Esplora answer ({detail})", chain=self._chain
        )
