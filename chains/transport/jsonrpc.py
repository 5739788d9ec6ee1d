"""JSON-RPC 2.0 over HTTP, with failover that also covers answers that are wrong.

`JsonRpcClient` tries a chain's endpoints in order (`Endpoints`). An attempt is the whole
exchange: the HTTP request, reading the answer (capped, streamed), decoding the JSON,
matching ids, and the caller's own `parse` of the result. Anything malformed at any of
these steps (a wrong id, a short batch, an `aggregate3` answer of the wrong length) is
node trouble and moves on to the next endpoint; a definite answer (a revert, invalid
params: `UpstreamRefused`) never does.

Two answers are told apart by their text, because nodes give them no code of their own (and
this is the one place that reads an error's text): a log query refused for its range or
result size ("query returned more than 10000 results", "block range too large", often -32005,
which otherwise means rate limiting) is `RangeTooLarge`, with the range end the node
suggests when it names one (it does not fail over: the history scanner splits the range);
and, on a client for reads at past blocks (`past=True`, with its own endpoint health so they
never open the circuits of current reads), a pruned node's "missing trie node" or "header
not found" is `ArchiveNodeRequired`, which fails over to the next node. On other clients
those texts stay node trouble (a lagging node behind a load balancer says "header not
found" too).

What a caller can provoke never opens a circuit by itself (`Endpoints`): an error the node
answered with, an answer over `max_response_bytes` and a slow log scan are `shaped`, and
count against an endpoint only when another one answers the same request. A log query's
answer over the size cap is `RangeTooLarge`, like a node's own "too many results".

Endpoint URLs may carry API keys: messages and logs name endpoints by `Secret.label` only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import httpx

from chains.transport.endpoints import Endpoints
from core.errors import (
    ArchiveNodeRequired,
    ChainError,
    RangeTooLarge,
    UpstreamError,
    UpstreamOversized,
    UpstreamRateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from core.http import parse_json, raise_for_status, read_capped, upstream_errors
from core.metrics import Metrics
from settings import Secret

log = logging.getLogger(__name__)

# JSON-RPC error codes that are the chain's definite answer; any other code is treated as
# node trouble worth another endpoint. 3 is "execution reverted" (EIP-1474/geth).
_DEFINITE_CODES = frozenset({3, -32600, -32602, -32700})
_RATE_LIMIT_CODES = frozenset({-32005, 429})
_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_PRUNED = re.compile(
    r"missing trie node|header not found|historical state|state (?:is )?not available"
    r"|state histor(?:y|ies)|pruned|old data not available",
    re.IGNORECASE,
)
_RANGE = re.compile(
    r"more than \d+ results|returned more than|block range|range (?:is )?too (?:large|wide|big)"
    r"|log response size|too many (?:blocks|logs|results)|response size|max(?:imum)? range"
    r"|exceed(?:s|ed)? (?:the )?max",
    re.IGNORECASE,
)
_SUGGESTED = re.compile(r"\[\s*0x[0-9a-fA-F]+\s*,\s*(0x[0-9a-fA-F]+)\s*\]")
"""Alchemy's "this block range should work: [0x1, 0x2]"."""
_SCANS = frozenset({"eth_getLogs", "starknet_getEvents"})
"""Methods whose cost is the block range a caller's history asks for: their timeouts are
`shaped` (a dense range is slow on any node), never the node's fault alone."""
_RANGED = frozenset({"eth_getLogs"})
"""Methods whose answer grows with the range asked: one over `max_response_bytes` is
`RangeTooLarge` (the scanner splits it), not a failure of any node."""

_T = TypeVar("_T")
BatchResults = list[Any | ChainError]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class RpcCall:
    method: str
    params: list[Any]


class JsonRpcClient:
    """Sends one chain's JSON-RPC requests through its own `httpx.AsyncClient` (its pool)."""

    def __init__(
        self,
        chain: str,
        endpoints: Sequence[Secret],
        http: httpx.AsyncClient,
        metrics: Metrics,
        *,
        timeout: float,
        cooldown: float,
        threshold: int = 3,
        max_response_bytes: int = 32 * 1024 * 1024,
        max_concurrency: int = 32,
        definite_codes: frozenset[int] = frozenset(),
        past: bool = False,
        role: str = "",
    ) -> None:
        self._chain = chain
        self.endpoints = Endpoints(
            chain,
            endpoints,
            metrics,
            cooldown=cooldown,
            threshold=threshold,
            role=role or ("archive" if past else ""),
        )
        self._http = http
        self._metrics = metrics
        self._timeout = timeout
        self._limit = max_response_bytes
        # Requests beyond the pool's size wait here, in order: httpcore's own queue costs
        # CPU quadratic in its length (200 waiters on a hung node slowed every chain).
        self._slots = asyncio.Semaphore(max_concurrency)
        # Codes a chain family defines as the chain's answer (e.g. Starknet's CONTRACT_ERROR).
        self._definite = _DEFINITE_CODES | definite_codes
        self._past = past
        self._ids = itertools.count(1)

    @overload
    async def call(self, method: str, params: list[Any]) -> Any: ...

    @overload
    async def call(self, method: str, params: list[Any], *, parse: Callable[[Any], _T]) -> _T: ...

    async def call(
        self, method: str, params: list[Any], *, parse: Callable[[Any], Any] = _same
    ) -> Any:
        """One request's `parse`d result; raises `ChainError` on failure.

        `parse` runs inside the attempt: an `UpstreamError` it raises fails over.
        """
        request_id = next(self._ids)
        content = _encode({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})

        async def attempt(endpoint: Secret, last: bool) -> Any:
            payload = await self._exchange(endpoint, content, method)
            item = _as_object(self._chain, payload)
            return parse(_unwrap(self._chain, item, request_id, self._definite, self._past))

        return await self.endpoints.first_answer(attempt)

    @overload
    async def batch(self, calls: Sequence[RpcCall], *, label: str = "batch") -> BatchResults: ...

    @overload
    async def batch(
        self,
        calls: Sequence[RpcCall],
        *,
        parse: Callable[[BatchResults], _T],
        label: str = "batch",
    ) -> _T: ...

    async def batch(
        self,
        calls: Sequence[RpcCall],
        *,
        parse: Callable[[BatchResults], Any] = _same,
        label: str = "batch",
    ) -> Any:
        """One HTTP request carrying many calls; `parse` gets the results in call order,
        errors as values. `label` is the request's `method` on `/metrics` (history names
        its batches after their one method: `eth_getLogs`, `eth_getBlockByNumber`).

        Responses may arrive in any order and are matched by id. A batch answered with node
        trouble, missing, extra or malformed items fails over; on the last endpoint, each
        missing or failed call becomes an `UpstreamError` for that call alone.
        """
        ids = [next(self._ids) for _ in calls]
        content = _encode(
            [
                {"jsonrpc": "2.0", "id": i, "method": c.method, "params": c.params}
                for i, c in zip(ids, calls, strict=True)
            ]
        )

        async def attempt(endpoint: Secret, last: bool) -> Any:
            payload = await self._exchange(endpoint, content, label)
            return parse(self._match(payload, ids, strict=not last))

        return await self.endpoints.first_answer(attempt)

    def _match(self, payload: Any, ids: list[int], *, strict: bool) -> BatchResults:
        chain = self._chain
        if isinstance(payload, dict):  # some nodes answer a whole batch with one error
            _unwrap(chain, payload, None, self._definite, self._past)
        if not isinstance(payload, list):
            raise UpstreamError(f"{chain} node answered a batch with a non-array", chain=chain)
        by_id = {
            item["id"]: item
            for item in payload
            if isinstance(item, dict) and type(item.get("id")) is int
        }
        if strict and (len(payload) != len(ids) or set(by_id) != set(ids)):
            raise UpstreamError(f"{chain} node answered a batch with the wrong ids", chain=chain)
        results: BatchResults = []
        for request_id in ids:
            item = by_id.get(request_id)
            try:
                if item is None:
                    raise UpstreamError(f"{chain} node left a batch call unanswered", chain=chain)
                if strict and _is_node_trouble(item.get("error"), self._definite):
                    _unwrap(
                        chain, item, request_id, self._definite, self._past
                    )  # raises: fail over
                results.append(_unwrap(chain, item, request_id, self._definite, self._past))
            except UpstreamError:
                if strict:
                    raise
                results.append(_last_resort(chain, item, request_id, self._definite, self._past))
            except ChainError as exc:
                results.append(exc)
        return results

    async def _exchange(self, endpoint: Secret, content: bytes, method: str) -> Any:
        """POST `content`, read the capped answer, decode it; node trouble raises."""
        self._metrics.upstream_requests.inc(chain=self._chain, method=method)
        started = time.perf_counter()
        try:
            # httpx times each read; the deadline bounds the whole attempt (a node that
            # trickles one byte every few seconds must not hold every request that joined).
            with upstream_errors(self._chain):
                async with asyncio.timeout(self._timeout), self._slots:
                    answer = await read_capped(
                        self._http,
                        "POST",
                        endpoint.value,
                        upstream=self._chain,
                        limit=self._limit,
                        io_timeout=self._timeout,
                        content=content,
                        headers=_HEADERS,
                    )
        except UpstreamOversized as exc:
            if method in _RANGED:
                raise RangeTooLarge(
                    f"{self._chain} node's answer is over max_response_bytes", chain=self._chain
                ) from exc
            raise
        except UpstreamTimeout as exc:
            if method in _SCANS:
                raise exc.of_request() from exc
            raise
        finally:
            self._metrics.upstream_latency.labels(chain=self._chain, method=method).observe(
                time.perf_counter() - started
            )
        raise_for_status(self._chain, answer)
        return parse_json(self._chain, answer.body)


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _last_resort(
    chain: str,
    item: dict[str, Any] | None,
    request_id: int,
    definite: frozenset[int],
    past: bool,
) -> ChainError:
    """The error value of one call that failed on the last endpoint there is."""
    try:
        if item is None:
            raise UpstreamError(f"{chain} node left a batch call unanswered", chain=chain)
        _unwrap(chain, item, request_id, definite, past)
    except ChainError as exc:
        return exc
    return UpstreamError(f"{chain} node sent a malformed JSON-RPC response", chain=chain)


def _suggested_end(message: str, data: Any) -> int | None:
    """The range end a node proposes (Infura's `data.to`, Alchemy's `[from, to]`)."""
    end = data.get("to") if isinstance(data, dict) else None
    if end is None:
        match = _SUGGESTED.search(message)
        end = match.group(1) if match else None
    if not isinstance(end, str) or not end.startswith("0x") or len(end) > 18:
        return None
    try:
        return int(end, 16)
    except ValueError:
        return None


def _as_object(chain: str, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise UpstreamError(
            f"{chain} node sent a JSON-RPC response that is not an object", chain=chain
        )
    return payload


def _error_code(error: Any) -> int | None:
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _is_node_trouble(error: Any, definite: frozenset[int]) -> bool:
    return error is not None and _error_code(error) not in definite


def _unwrap(
    chain: str,
    item: dict[str, Any],
    request_id: int | None,
    definite: frozenset[int],
    past: bool = False,
) -> Any:
    """The `result` of one JSON-RPC response object, or the mapped error."""
    error = item.get("error")
    if error is not None:
        code = _error_code(error)
        message = error.get("message") if isinstance(error, dict) else None
        # The node's own text can name accounts or projects: it goes to the log, not clients.
        log.info("%s: JSON-RPC error %s: %s", chain, code, str(message)[:200])
        detail = f"JSON-RPC error {code}"
        text = str(message or "")[:1000]
        data = error.get("data") if isinstance(error, dict) else None
        if _RANGE.search(text):
            raise RangeTooLarge(
                f"{chain} node refused the range ({detail})",
                chain=chain,
                suggested_end=_suggested_end(text, data),
            )
        if past and _PRUNED.search(text):
            raise ArchiveNodeRequired(
                f"{chain} node no longer has that block's state ({detail}): an archive node "
                "(archive_rpc_urls) is required",
                chain=chain,
            )
        if code in _RATE_LIMIT_CODES:
            raise UpstreamRateLimited(f"{chain} node is rate limiting us ({detail})", chain=chain)
        if code in definite:
            raise UpstreamRefused(f"{chain} node refused the call ({detail})", chain=chain)
        # The node answered, with an error that may be about what was asked (a contract that
        # burns its gas, a call the node aborts): another node decides whose it was.
        raise UpstreamError(f"{chain} node failed ({detail})", chain=chain).of_request()
    if item.get("jsonrpc") != "2.0" or "result" not in item:
        raise UpstreamError(f"{chain} node sent a malformed JSON-RPC response", chain=chain)
    if request_id is not None and item.get("id") != request_id:
        raise UpstreamError(f"{chain} node answered a different request id", chain=chain)
    return item["result"]
