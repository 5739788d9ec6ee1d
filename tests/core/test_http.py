"""upstream_errors: each foreign HTTP failure becomes one of our errors, naming the chain."""

from __future__ import annotations

import httpx
import pytest

from core.errors import (
    ServiceError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from core.http import parse_json, upstream_errors

REQUEST = httpx.Request("POST", "https://node.example/v2/KEY")


def status_error(status: int) -> httpx.HTTPStatusError:
    response = httpx.Response(status, request=REQUEST)
    return httpx.HTTPStatusError(f"HTTP {status}", request=REQUEST, response=response)


def mapped(failure: BaseException) -> ServiceError:
    with pytest.raises(ServiceError) as info, upstream_errors("base"):
        raise failure
    assert info.value.chain == "base"
    assert info.value.__cause__ is failure  # the original stays available to the log
    return info.value


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("connect", request=REQUEST),
        httpx.ReadTimeout("read", request=REQUEST),
        httpx.WriteTimeout("write", request=REQUEST),
        httpx.PoolTimeout("pool", request=REQUEST),
        TimeoutError(),  # the deadline of one attempt (asyncio.timeout)
    ],
)
def test_timeouts_are_upstream_timeout(failure: Exception) -> None:
    error = mapped(failure)
    assert type(error) is UpstreamTimeout
    assert error.message == "base node timed out" and error.retryable


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused", request=REQUEST),
        httpx.RemoteProtocolError("peer closed", request=REQUEST),
        httpx.ReadError("reset", request=REQUEST),
        httpx.DecodingError("bad gzip", request=REQUEST),
        httpx.TooManyRedirects("loop", request=REQUEST),
        httpx.UnsupportedProtocol("ftp", request=REQUEST),
    ],
)
def test_transport_failures_are_upstream_errors_naming_the_failure(failure: Exception) -> None:
    error = mapped(failure)
    assert type(error) is UpstreamError and error.retryable
    assert error.message == f"base node unreachable ({type(failure).__name__})"


def test_http_429_is_rate_limited() -> None:
    error = mapped(status_error(429))
    assert type(error) is UpstreamRateLimited
    assert error.code == "UPSTREAM_RATE_LIMITED" and error.retryable


@pytest.mark.parametrize("status", [500, 502, 503, 504, 404, 401])
def test_other_http_statuses_are_upstream_errors_with_the_status(status: int) -> None:
    error = mapped(status_error(status))
    assert type(error) is UpstreamError
    assert error.message == f"base node answered HTTP {status}"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,  # nested deeper than any parser recursion allows
        b"1" * 5_000,  # an integer over Python's 4,300-digit conversion limit
        b"",
    ],
)
def test_bodies_that_are_not_json_are_upstream_errors(body: bytes) -> None:
    with pytest.raises(UpstreamError) as info:
        parse_json("base", body)
    assert type(info.value) is UpstreamError and info.value.retryable
    assert info.value.message == "base node sent a body that is not JSON"


def test_our_own_errors_and_bugs_pass_through_untouched() -> None:
    refused = UpstreamRefused("Esplora rejected the address", chain="bitcoin")
    with pytest.raises(UpstreamRefused) as info, upstream_errors("base"):
        raise refused
    assert info.value is refused
    with pytest.raises(KeyError), upstream_errors("base"):
        raise KeyError("a bug is not node trouble")


def test_a_url_with_a_key_never_reaches_the_message() -> None:
    assert "KEY" not in mapped(httpx.ConnectError(str(REQUEST.url), request=REQUEST)).message
    assert "KEY" not in mapped(status_error(503)).message
