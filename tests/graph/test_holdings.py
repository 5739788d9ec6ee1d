"""Holdings as portfolio apps show them, through GraphQL on anvil: ordered by value, a page at a
time with a count, bad cursors refused beside the siblings, and the 24h fields served."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, Devnet, devnet_settings, errors_by_code, serve

PAGE = """query($a: String!, $first: Int, $after: String, $order: BalanceOrder) {
  account(address: $a) {
    balancesPage(orderBy: $order, first: $first, after: $after, minValueUsd: "0") {
      totalCount pageInfo { hasNextPage endCursor }
      rows { valueUsd valueUsdChange24h token { symbol priceChange24h priceUsd24hAgo } }
    }
    portfolio { totalUsd change24hUsd change24hPercent }
  } }"""


@pytest.fixture
def priced(tmp_path: Path, devnet: Devnet) -> Iterator[Api]:
    sample = devnet.sample
    static = {
        "devnet:native": "3000",
        f"devnet:{sample.token('USDC').address}": "1",
        f"devnet:{sample.token('WETH').address}": "3000",
        f"devnet:{sample.token('MKR').address}": "1500",
    }
    prices = {"sources": ["static"], "static": static}
    yield from serve(devnet_settings(tmp_path, devnet, prices=prices))


def page(api: Api, devnet: Devnet, **variables: Any) -> dict[str, Any]:
    body = api.query(PAGE, {"a": devnet.holder, **variables})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["account"]
    return result


def test_rows_come_by_value_a_page_at_a_time_with_the_set_s_count(
    priced: Api, devnet: Devnet
) -> None:
    whole = page(priced, devnet, order="VALUE_USD_DESC")["balancesPage"]
    values = [Decimal(r["valueUsd"]) for r in whole["rows"]]
    assert values == sorted(values, reverse=True) and len(values) == whole["totalCount"] == 4
    seen: list[str] = []
    after = None
    while True:
        found = page(priced, devnet, order="VALUE_USD_DESC", first=3, after=after)
        connection = found["balancesPage"]
        assert connection["totalCount"] == 4
        seen += [r["token"]["symbol"] for r in connection["rows"]]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert seen == [r["token"]["symbol"] for r in whole["rows"]]


def test_a_cursor_that_is_not_ours_empties_that_field_and_its_siblings_are_served(
    priced: Api, devnet: Devnet
) -> None:
    body = priced.query(PAGE, {"a": devnet.holder, "after": "forged", "first": 2})
    (error,) = errors_by_code(body)["BAD_USER_INPUT"]
    assert "cursor" in error["message"]
    account = body["data"]["account"]
    assert account["balancesPage"]["rows"] == [] and account["balancesPage"]["totalCount"] == 0
    assert account["portfolio"]["totalUsd"] is not None


def test_static_prices_do_not_move_so_the_24h_change_is_zero_not_null(
    priced: Api, devnet: Devnet
) -> None:
    found = page(priced, devnet, order="SYMBOL_ASC")
    for row in found["balancesPage"]["rows"]:
        assert Decimal(row["valueUsdChange24h"]) == 0
        assert row["token"]["priceChange24h"] == "0"  # a known zero, not null
        assert row["token"]["priceUsd24hAgo"] is not None
    portfolio = found["portfolio"]
    assert (portfolio["change24hUsd"], portfolio["change24hPercent"]) == ("0", "0")


FILTERED = """query($a: String!, $min: Decimal, $first: Int, $after: String) {
  account(address: $a) {
    balancesPage(orderBy: VALUE_USD_DESC, first: $first, after: $after, minValueUsd: $min) {
      totalCount pageInfo { hasNextPage endCursor } rows { valueUsd token { symbol } } } } }"""


def test_filters_apply_before_ordering_and_paging_and_the_count_counts_what_survives(
    priced: Api, devnet: Devnet
) -> None:
    rows = page(priced, devnet, order="VALUE_USD_DESC")["balancesPage"]["rows"]
    tokens = [r for r in rows if r["token"]["symbol"] != "ETH"]
    floor = max(Decimal(r["valueUsd"]) for r in tokens)  # only the richest token is kept
    kept = [r["token"]["symbol"] for r in rows if r in tokens and Decimal(r["valueUsd"]) >= floor]
    expected = [r["token"]["symbol"] for r in rows if r["token"]["symbol"] in {"ETH", *kept}]
    assert len(expected) < len(rows)  # the filter removes rows
    seen: list[str] = []
    after = None
    while True:
        variables = {"a": devnet.holder, "min": str(floor), "first": 1, "after": after}
        body = priced.query(FILTERED, variables)
        assert "errors" not in body, body
        connection = body["data"]["account"]["balancesPage"]
        assert connection["totalCount"] == len(expected)
        seen += [r["token"]["symbol"] for r in connection["rows"]]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert seen == expected
