"""Endpoints: try a chain's URLs in order, fail over only on node trouble, cool failures down."""

from __future__ import annotations

import asyncio
import logging

import pytest

from chains.transport.endpoints import Endpoints
from core.errors import (
    ChainError,
    TokenCallFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from core.metrics import Metrics
from settings import Secret

KEY = "SECRETKEY42"
URLS = [Secret(f"https://{host}.example/v1/{KEY}?key={KEY}") for host in ("a", "b", "c")]


class Script:
    """Each endpoint (by host) answers or raises from its own queue; the last item repeats."""

    def __init__(self, **replies: list[str | ChainError]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, bool]] = []

    async def attempt(self, endpoint: Secret, is_last: bool) -> str:
        host = endpoint.label.removeprefix("https://").split(".")[0]
        self.calls.append((host, is_last))
        queue = self.replies[host]
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, ChainError):
            raise reply
        return reply

    def hosts(self) -> list[str]:
        return [host for host, _ in self.calls]


def endpoints(metrics: Metrics | None = None, cooldown: float = 30, n: int = 3) -> Endpoints:
    return Endpoints("base", URLS[:n], metrics or Metrics(), cooldown=cooldown)


async def test_the_first_endpoint_answers_and_no_other_is_tried() -> None:
    script = Script(a=["from a"], b=["from b"], c=["from c"])
    assert await endpoints().first_answer(script.attempt) == "from a"
    assert script.calls == [("a", False)]


@pytest.mark.parametrize(
    "trouble",
    [UpstreamError("503"), UpstreamTimeout("slow"), UpstreamRateLimited("429")],
    ids=["error", "timeout", "rate-limited"],
)
async def test_node_trouble_fails_over_in_order_and_is_counted(trouble: UpstreamError) -> None:
    metrics = Metrics()
    script = Script(a=[trouble], b=[trouble], c=["from c"])
    assert await endpoints(metrics).first_answer(script.attempt) == "from c"
    assert script.calls == [("a", False), ("b", False), ("c", True)]
    assert metrics.upstream_errors.get(chain="base", code=trouble.code) == 2


@pytest.mark.parametrize(
    "answer",
    [UpstreamRefused("revert"), TokenCallFailed("no code")],
    ids=["refused", "token-call-failed"],
)
async def test_a_definite_answer_is_raised_at_once_never_retried(answer: ChainError) -> None:
    metrics = Metrics()
    script = Script(a=[answer], b=["from b"], c=["from c"])
    with pytest.raises(type(answer)) as info:
        await endpoints(metrics).first_answer(script.attempt)
    assert info.value is answer
    assert script.hosts() == ["a"]
    assert metrics.upstream_errors.total() == 0


async def test_when_every_endpoint_fails_the_last_failure_is_raised() -> None:
    last = UpstreamRateLimited("c is limiting")
    script = Script(a=[UpstreamError("a")], b=[UpstreamTimeout("b")], c=[last])
    with pytest.raises(UpstreamRateLimited) as info:
        await endpoints().first_answer(script.attempt)
    assert info.value is last


async def test_a_failed_endpoint_goes_to_the_back_while_it_cools_down() -> None:
    script = Script(a=[UpstreamError("a"), "from a"], b=["from b"], c=["from c"])
    pool = endpoints(cooldown=30)
    assert await pool.first_answer(script.attempt) == "from b"
    assert await pool.first_answer(script.attempt) == "from b"
    assert script.hosts() == ["a", "b", "b"]


async def test_cooling_endpoints_are_tried_oldest_failure_first() -> None:
    script = Script(
        a=[UpstreamError("a1"), UpstreamError("a2")],
        b=[UpstreamError("b1"), "b answers", UpstreamError("b3")],
        c=["c answers", UpstreamError("c2")],
    )
    pool = endpoints(cooldown=30)
    assert await pool.first_answer(script.attempt) == "c answers"  # a, b failed
    assert await pool.first_answer(script.attempt) == "b answers"  # c fails, then a, b
    assert script.hosts() == ["a", "b", "c", "c", "a", "b"]
    script.calls.clear()
    with pytest.raises(UpstreamError):
        await pool.first_answer(script.attempt)
    assert script.hosts() == ["b", "c", "a"]  # healthy b, then c (older failure) before a


async def test_after_the_cool_down_the_configured_order_is_back() -> None:
    script = Script(a=[UpstreamError("a"), "from a"], b=["from b"])
    pool = endpoints(cooldown=0.05, n=2)
    assert await pool.first_answer(script.attempt) == "from b"
    await asyncio.sleep(0.08)
    assert await pool.first_answer(script.attempt) == "from a"
    assert script.hosts() == ["a", "b", "a"]


async def test_a_cooling_endpoint_is_still_tried_when_nothing_else_answers() -> None:
    script = Script(a=[UpstreamError("a"), "a is back"])
    pool = endpoints(cooldown=3600, n=1)
    with pytest.raises(UpstreamError):
        await pool.first_answer(script.attempt)
    assert await pool.first_answer(script.attempt) == "a is back"
    assert script.calls == [("a", True), ("a", True)]


def test_at_least_one_endpoint_is_required() -> None:
    with pytest.raises(ValueError, match="base: at least one endpoint is required"):
        Endpoints("base", [], Metrics(), cooldown=30)


async def test_failures_are_logged_by_label_never_by_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="chains.transport.endpoints")
    script = Script(a=[UpstreamError("node answered HTTP 503")], b=["ok"])
    await endpoints().first_answer(script.attempt)
    (record,) = caplog.records
    assert (
        record.getMessage() == "base: endpoint 0:https://a.example/… failed: node answered HTTP 503"
    )
    assert KEY not in caplog.text
