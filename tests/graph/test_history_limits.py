"""History fields are priced and bounded before any I/O, like balances: hostile arguments
are refused with a code, and what is read is charged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chains.history.blocks import search_price
from chains.history.budget import scan_price
from chains.history.timelines import COLD_SCAN
from settings import Settings
from tests.conftest import credits, errors_by_code, issue_key
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline, offline_service, offline_settings

PORTFOLIO = """query($a: String!, $from: DateTime!, $to: DateTime!, $i: HistoryInterval) {
  account(address: $a) { portfolioHistory(from: $from, to: $to, interval: $i) { at totalUsd } } }"""
HISTORY = """query($a: String!, $first: Int, $after: String) { account(address: $a) {
  balanceHistory(chain: "starknet", token: "native", first: $first, after: $after) {
    events { delta } } } }"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return offline_settings(tmp_path, auth={"data_dir": str(tmp_path / "data")})


@pytest.fixture
def offline(settings: Settings) -> Iterator[Offline]:
    yield from offline_service(settings)


def post(
    offline: Offline, query: str, variables: dict[str, object], **headers: str
) -> httpx.Response:
    response: httpx.Response = offline.api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response


def test_a_century_of_hourly_points_is_refused_at_once_without_reading(offline: Offline) -> None:
    started = time.perf_counter()
    response = post(
        offline,
        PORTFOLIO,
        {
            "a": stark.ALICE,
            "from": "1925-01-01T00:00:00Z",
            "to": "2025-01-01T00:00:00Z",
            "i": "HOUR",
        },
    )
    assert time.perf_counter() - started < 1
    assert errors_by_code(response.json()).keys() == {"COST_LIMIT_EXCEEDED"}
    assert offline.api.upstream("starknet") == 0


def test_points_over_the_limit_are_refused_even_when_the_lookups_fit(offline: Offline) -> None:
    response = post(
        offline,
        PORTFOLIO,
        {
            "a": stark.ALICE,
            "from": "2024-01-01T00:00:00Z",
            "to": "2025-06-01T00:00:00Z",
            "i": "DAY",
        },
    )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert "points" in error["message"] or "lookups" in error["message"]
    assert offline.api.upstream("starknet") == 0


def test_a_backward_range_is_bad_user_input(offline: Offline) -> None:
    response = post(
        offline,
        PORTFOLIO,
        {"a": stark.ALICE, "from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
    )
    assert errors_by_code(response.json()).keys() == {"BAD_USER_INPUT"}
    assert offline.api.upstream("starknet") == 0


@pytest.mark.parametrize("first", [0, -5, 1_001, 2**31 - 1])
def test_a_page_size_out_of_bounds_is_refused_before_reading(offline: Offline, first: int) -> None:
    response = post(offline, HISTORY, {"a": stark.ALICE, "first": first})
    assert errors_by_code(response.json()).keys() == {"COST_LIMIT_EXCEEDED"}
    assert offline.api.upstream("starknet") == 0


@pytest.mark.parametrize("cursor", ["garbage", "", "YmdoMTox", "a" * 400])
def test_a_forged_cursor_is_bad_user_input_before_reading(offline: Offline, cursor: str) -> None:
    response = post(offline, HISTORY, {"a": stark.ALICE, "after": cursor})
    assert errors_by_code(response.json()).keys() == {"BAD_USER_INPUT"}
    assert offline.api.upstream("starknet") == 0


def test_both_points_at_once_are_refused_and_siblings_served(offline: Offline) -> None:
    query = """query($a: String!) { account(address: $a) {
      then: balances(atBlock: 5, atTime: "2024-01-01T00:00:00Z") { rawAmount }
      now: balances(chains: ["starknet"], tokens: ["native"]) { rawAmount } } }"""
    body = post(offline, query, {"a": stark.ALICE}).json()
    assert errors_by_code(body).keys() == {"BAD_USER_INPUT"}
    assert body["data"]["account"]["then"] == []
    assert body["data"]["account"]["now"] == [{"rawAmount": str(7 * 10**18)}]


def test_a_history_page_is_charged_the_scan_it_may_need(
    settings: Settings, offline: Offline
) -> None:
    """Issue 18, defect 4: a page was charged `first`, whatever the scan behind it cost. A
    timeline whose token's first block is unknown is priced the search and one request of
    scan; once the search has found the block, a longer scan is refused (retryable, nothing
    more read) and the same request, sent again, is priced and charged the whole scan."""
    key = issue_key(settings, "alice", credits=200)
    head, final = offline.node.block, offline.node.block - 32  # Starknet's finality depth
    cold = search_price(head) + COLD_SCAN + 1
    response = post(offline, HISTORY, {"a": stark.ALICE, "first": 7}, **{"x-api-key": key})
    assert credits(response) == (str(cold), str(200 - cold))
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "HISTORY_REPRICED" and error["extensions"]["retryable"]
    scans = offline.api.upstream_requests("starknet_getEvents", chain="starknet")
    assert scans == 0  # refused before the scan it was not paid for
    whole = scan_price(final + 1, 10_000) + 1  # the deployment is block 0: all final blocks
    again = post(offline, HISTORY, {"a": stark.ALICE, "first": 7}, **{"x-api-key": key})
    assert "errors" not in again.json(), again.json()
    assert credits(again) == (str(whole), str(200 - cold - whole))
    warm = post(offline, HISTORY, {"a": stark.ALICE, "first": 7}, **{"x-api-key": key})
    assert credits(warm) == ("1", str(199 - cold - whole))  # only what is newer than final
