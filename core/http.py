"""The one place where foreign HTTP failures become our errors, and bodies are read safely.

- `upstream_errors` turns httpx timeouts, transport failures, HTTP 429/5xx and undecodable
  bodies into the `UpstreamError` tree (`core.errors`), naming the upstream.
- `read_capped` streams a response and stops at `limit` bytes: a node answering 150 MB is
  refused after `limit` bytes arrive, never buffered whole (`UpstreamOversized`, which never
  counts against the node: what was asked decides the size).
- `parse_json` decodes a body into Python values or raises `UpstreamError`: not JSON, bad
  UTF-8, nested 100,000 levels deep, an integer of 5,000 digits all end up there.

Every transport (JSON-RPC, Esplora REST, price APIs) reads through these, so a new failure
mode is mapped once, for everyone.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from core.errors import UpstreamError, UpstreamOversized, UpstreamRateLimited, UpstreamTimeout


@contextmanager
def upstream_errors(upstream: str) -> Iterator[None]:
    """Translate httpx and decoding failures into `UpstreamError`s naming the upstream."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"{upstream} node timed out", chain=upstream) from exc
    except httpx.RequestError as exc:  # transport failures, undecodable bodies, redirects
        raise UpstreamError(
            f"{upstream} node unreachable ({type(exc).__name__})", chain=upstream
        ) from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status == 429:
            raise UpstreamRateLimited(
                f"{upstream} node is rate limiting us", chain=upstream
            ) from exc
        raise UpstreamError(f"{upstream} node answered HTTP {status}", chain=upstream) from exc
    except TimeoutError as exc:  # the overall deadline of one attempt (asyncio.timeout)
        raise UpstreamTimeout(f"{upstream} node timed out", chain=upstream) from exc


@dataclass(frozen=True)
class Answer:
    """A response's status and body, read in full (under the cap)."""

    status: int
    body: bytes


async def read_capped(
    http: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    upstream: str,
    limit: int,
    io_timeout: float,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """Send one request and read at most `limit` bytes of the (decoded) answer.

    `io_timeout` bounds each network operation; callers bound the whole attempt with
    `asyncio.timeout` (a node trickling one byte a second must not hold a request).

    We ask for an uncompressed body; a node that compresses anyway is inflated with a bounded
    decompressor (httpx's own would inflate a gzip bomb in one call). Raises `UpstreamError`
    for a body over the limit or an encoding we cannot bound; HTTP errors are the caller's to
    judge (Esplora's 400 is an answer, a 503 is node trouble), so any status is returned.
    """
    sent = {"accept-encoding": "identity", **(headers or {})}
    async with http.stream(
        method, url, content=content, headers=sent, timeout=io_timeout
    ) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _oversized(upstream)
        try:
            loaded = response.content  # in-process transports hand over a body already read
        except httpx.ResponseNotRead:
            body = _Body(upstream, response.headers.get("content-encoding", ""), limit)
            async for chunk in response.aiter_raw():
                body.feed(chunk)
            return Answer(response.status_code, body.done())
    if len(loaded) > limit:
        raise _oversized(upstream)
    return Answer(response.status_code, loaded)


class _Body:
    """Accumulates a body, inflating gzip/deflate in steps that never exceed the limit."""

    def __init__(self, upstream: str, encoding: str, limit: int) -> None:
        self._upstream, self._limit = upstream, limit
        self._parts: list[bytes] = []
        self._size = 0
        encoding = encoding.strip().lower()
        if encoding in {"", "identity"}:
            self._inflate: Any = None
        elif encoding in {"gzip", "x-gzip", "deflate"}:
            wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
            self._inflate = zlib.decompressobj(wbits)
        else:
            raise UpstreamError(f"{upstream} node sent a {encoding}-encoded body", chain=upstream)

    def feed(self, chunk: bytes) -> None:
        if self._inflate is None:
            self._keep(chunk)
            return
        try:
            data = chunk
            while data:
                self._keep(self._inflate.decompress(data, self._limit - self._size + 1))
                data = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise UpstreamError(
                f"{self._upstream} node sent a corrupt compressed body", chain=self._upstream
            ) from exc

    def done(self) -> bytes:
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise _oversized(self._upstream)
        self._parts.append(data)


def _oversized(upstream: str) -> UpstreamOversized:
    return UpstreamOversized(
        f"{upstream} node sent an oversized body (over max_response_bytes)", chain=upstream
    ).of_request()


def raise_for_status(upstream: str, answer: Answer) -> None:
    """HTTP 429 is rate limiting, any other non-2xx status node trouble."""
    if answer.status == 429:
        raise UpstreamRateLimited(f"{upstream} node is rate limiting us", chain=upstream)
    if not 200 <= answer.status < 300:
        raise UpstreamError(f"{upstream} node answered HTTP {answer.status}", chain=upstream)


def parse_json(upstream: str, body: bytes, **options: Any) -> Any:
    """The JSON value of `body`, or `UpstreamError` for anything a node should not send."""
    try:
        return json.loads(body, **options)
    except (ValueError, RecursionError) as exc:  # ValueError covers bad UTF-8 and huge ints
        raise UpstreamError(
            f"{upstream} node sent a body that is not JSON", chain=upstream
        ) from exc
