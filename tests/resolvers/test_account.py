"""Account-level reading: the whole selection is checked before a single upstream request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Api, Devnet, devnet_settings, serve

QUERY = """query($a: String!, $min: Decimal, $t: [String!], $c: [String!]) {
  account(address: $a) { balances(minValueUsd: $min, tokens: $t, chains: $c) { rawAmount } }
}"""
PORTFOLIO = """query($a: String!, $min: Decimal, $c: [String!]) {
  account(address: $a) { portfolio(minValueUsd: $min, chains: $c) { totalUsd } }
}"""


@pytest.fixture
def priced(tmp_path: Path, devnet: Devnet) -> Iterator[Api]:
    prices = {"sources": ["static"], "static": {"devnet:native": "3000"}}
    yield from serve(devnet_settings(tmp_path, devnet, prices=prices, limits={"max_tokens": 3}))


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"min": "-0.01"}, "BAD_USER_INPUT"),
        ({"t": ["native"] * 4}, "COST_LIMIT_EXCEEDED"),
        ({"c": ["devnet"] * 12}, "COST_LIMIT_EXCEEDED"),
    ],
)
def test_a_bad_selection_is_refused_with_no_upstream_request(
    priced: Api, devnet: Devnet, variables: dict[str, object], code: str
) -> None:
    queries = (
        {"balances": QUERY} if "t" in variables else {"balances": QUERY, "portfolio": PORTFOLIO}
    )
    for field, query in queries.items():
        body = priced.query(query, {"a": devnet.holder, **variables})
        (error,) = body["errors"]
        assert (error["extensions"]["code"], error["path"]) == (code, ["account", field])
    assert priced.upstream() == 0


def test_a_good_selection_reads_once(priced: Api, devnet: Devnet) -> None:
    body = priced.query(QUERY, {"a": devnet.holder, "min": "0", "t": ["native"]})
    assert "errors" not in body, body
    assert priced.upstream() == 1


def test_chain_ids_spelled_differently_are_one_chain(api: Api, devnet: Devnet) -> None:
    body = api.query(
        '{ account(address: "%s") { balances(chains: ["devnet", "Devnet", " devnet"], '
        'tokens: ["native"]) { chain rawAmount } } }' % devnet.holder
    )
    assert len(body["data"]["account"]["balances"]) == 1
