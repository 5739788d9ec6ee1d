"""The one place where foreign HTTP failures become our errors.

`upstream_errors` turns httpx timeouts, transport failures, HTTP 429/5xx and undecodable
bodies into the `UpstreamError` tree (`chains.errors`), naming the upstream. Every transport
(JSON-RPC, Esplora REST, price APIs) reads through it, so a new failure mode is mapped once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from chains.errors import UpstreamError, UpstreamRateLimited, UpstreamTimeout


@contextmanager
def upstream_errors(chain: str) -> Iterator[None]:
    """Translate httpx and decoding failures into `UpstreamError`s naming the chain."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"{chain} node timed out", chain=chain) from exc
    except httpx.RequestError as exc:  # transport failures, undecodable bodies, redirects
        raise UpstreamError(
            f"{chain} node unreachable ({type(exc).__name__})", chain=chain
        ) from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status == 429:
            raise UpstreamRateLimited(f"{chain} node is rate limiting us", chain=chain) from exc
        raise UpstreamError(f"{chain} node answered HTTP {status}", chain=chain) from exc
    except (ValueError, RecursionError) as exc:  # not JSON, bad UTF-8, absurdly nested
        raise UpstreamError(f"{chain} node sent a body that is not JSON", chain=chain) from exc
    except TimeoutError as exc:  # the overall deadline of one attempt (asyncio.timeout)
        raise UpstreamTimeout(f"{chain} node timed out", chain=chain) from exc
