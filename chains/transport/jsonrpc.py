"""JSON-RPC 2.0 over HTTP with endpoint failover.

`JsonRpcClient` tries a chain's endpoints in order,
moving on only for node trouble (never for a definite answer such as a revert) and sending
an endpoint that failed to the back of the line for a cool-down.

Endpoint URLs may carry API keys: messages and logs name endpoints by `Secret.label` only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from chains.errors import ChainError, UpstreamError, UpstreamRateLimited, UpstreamRefused
from chains.metrics import Metrics
from chains.transport.endpoints import Endpoints
from chains.transport.http import upstream_errors
from settings import Secret

log = logging.getLogger(__name__)

# JSON-RPC error codes that are the chain's definite answer; any other code is treated as
# node trouble worth another endpoint. 3 is "execution reverted" (EIP-1474/geth).
_DEFINITE_CODES = frozenset({3, -32600, -32602, -32700})
_RATE_LIMIT_CODES = frozenset({-32005, 429})
_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class RpcCall:
    method: str
    params: list[Any]


class JsonRpcClient:
    """Sends JSON-RPC requests for one chain through a shared `httpx.AsyncClient`."""

    def __init__(
        self,
        chain: str,
        endpoints: Sequence[Secret],
        http: httpx.AsyncClient,
        metrics: Metrics,
        *,
        timeout: float,
        cooldown: float,
        definite_codes: frozenset[int] = frozenset(),
    ) -> None:
        self._chain = chain
        self._endpoints = Endpoints(chain, endpoints, metrics, cooldown=cooldown)
        self._http = http
        self._metrics = metrics
        self._timeout = timeout
        # Codes a chain family defines as the chain's answer (e.g. Starknet's CONTRACT_ERROR).
        self._definite = _DEFINITE_CODES | definite_codes
        self._ids = itertools.count(1)

    async def call(self, method: str, params: list[Any]) -> Any:
        """One request, one result; raises `ChainError` on failure."""
        request_id = next(self._ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        payload = await self._post(body, method)
        return _unwrap(self._chain, _as_object(self._chain, payload), request_id, self._definite)

    async def batch(self, calls: Sequence[RpcCall]) -> list[Any | ChainError]:
        """One HTTP request carrying many calls; results in call order, errors as values.

        Responses may arrive in any order and are matched by id; a missing or malformed
        response becomes an `UpstreamError` for that call alone.
        """
        ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": c.method, "params": c.params}
            for i, c in zip(ids, calls, strict=True)
        ]
        payload = await self._post(body, "batch")
        if isinstance(payload, dict):  # some nodes answer a whole batch with one error
            _unwrap(self._chain, payload, None, self._definite)
        if not isinstance(payload, list):
            raise UpstreamError(
                f"{self._chain} node answered a batch with a non-array", chain=self._chain
            )
        by_id = {
            item["id"]: item
            for item in payload
            if isinstance(item, dict) and isinstance(item.get("id"), int)
        }
        results: list[Any | ChainError] = []
        for request_id in ids:
            item = by_id.get(request_id)
            if item is None:
                results.append(
                    UpstreamError(
                        f"{self._chain} node left a batch call unanswered", chain=self._chain
                    )
                )
                continue
            try:
                results.append(_unwrap(self._chain, item, request_id, self._definite))
            except ChainError as exc:
                results.append(exc)
        return results

    async def _post(self, body: Any, method: str) -> Any:
        content = json.dumps(body, separators=(",", ":")).encode()
        return await self._endpoints.first_answer(
            lambda endpoint, last: self._post_once(endpoint, content, method, last=last)
        )

    async def _post_once(self, endpoint: Secret, content: bytes, method: str, *, last: bool) -> Any:
        self._metrics.upstream_requests.inc(chain=self._chain, method=method)
        # httpx times each read; the deadline bounds the whole attempt (a node that trickles
        # one byte every few seconds must not hold every request that joined this read).
        with upstream_errors(self._chain):
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(
                    endpoint.value,
                    content=content,
                    headers={"content-type": "application/json", "accept": "application/json"},
                    timeout=self._timeout,
                )
            response.raise_for_status()
            if len(response.content) > _MAX_RESPONSE_BYTES:
                raise UpstreamError(f"{self._chain} node sent an oversized body", chain=self._chain)
            payload = json.loads(response.content)
        items = payload if isinstance(payload, list) else [payload]
        troubled = [
            i
            for i in items
            if isinstance(i, dict) and _is_node_trouble(i.get("error"), self._definite)
        ]
        if troubled and (isinstance(payload, dict) or not last):
            # Node trouble in any answer (rate limit, missing block): another node may do better.
            _unwrap(self._chain, troubled[0], None, self._definite)
        return payload


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
    chain: str, item: dict[str, Any], request_id: int | None, definite: frozenset[int]
) -> Any:
    """The `result` of one JSON-RPC response object, or the mapped error."""
    error = item.get("error")
    if error is not None:
        code = _error_code(error)
        message = error.get("message") if isinstance(error, dict) else None
        # The node's own text can name accounts or projects: it goes to the log, not clients.
        log.info("%s: JSON-RPC error %s: %s", chain, code, str(message)[:200])
        detail = f"JSON-RPC error {code}"
        if code in _RATE_LIMIT_CODES:
            raise UpstreamRateLimited(f"{chain} node is rate limiting us ({detail})", chain=chain)
        if code in definite:
            raise UpstreamRefused(f"{chain} node refused the call ({detail})", chain=chain)
        raise UpstreamError(f"{chain} node failed ({detail})", chain=chain)
    if item.get("jsonrpc") != "2.0" or "result" not in item:
        raise UpstreamError(f"{chain} node sent a malformed JSON-RPC response", chain=chain)
    if request_id is not None and item.get("id") != request_id:
        raise UpstreamError(f"{chain} node answered a different request id", chain=chain)
    return item["result"]
