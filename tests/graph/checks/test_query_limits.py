"""Query cost limits: deep, alias-heavy, over-budget and over-long queries are refused."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api, Devnet, devnet_settings, serve


def test_deep_and_alias_heavy_queries_are_refused_before_any_lookup(
    api: Api, devnet: Devnet
) -> None:
    deep = (
        '{ account(address: "%s") { balances { account { balances { account { balances {'
        " account { balances { account { balances { account { address } } } } } } } } } } } }"
    )
    body = api.query(deep % devnet.holder)
    assert "data" not in body  # a request error: nothing was executed
    (error,) = body["errors"]
    assert error["message"] == "the query is 11 levels deep; at most 10"
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    aliases = " ".join(f"a{i}: chains {{ id }}" for i in range(60))
    (error,) = api.query("{ %s }" % aliases)["errors"]
    assert error["message"] == "the query has 60 aliases once fragments are expanded; at most 50"
    assert api.upstream() == 0


def test_lookup_budget_refuses_a_request_across_aliases_before_any_read(
    tmp_path: Path, devnet: Devnet
) -> None:
    settings = devnet_settings(tmp_path, devnet, limits={"max_lookups": 6})
    for api in serve(settings):
        query = (
            '{ a: account(address: "%s") { balances { rawAmount } } '
            'b: account(address: "%s") { balances { rawAmount } } }'
        )
        body = api.query(query % (devnet.holder, devnet.sample.holders[1]))
        assert "data" not in body  # refused whole, before execution: 2 x 4 listed tokens > 6
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert "asks for 8 balance lookups; at most 6" in error["message"]
        assert api.upstream() == 0
        one = api.query('{ a: account(address: "%s") { balances { rawAmount } } }' % devnet.holder)
        assert len(one["data"]["a"]["balances"]) == 4 and "errors" not in one  # 4 fit in 6


def test_a_page_of_balances_is_priced_as_every_row_it_orders(
    tmp_path: Path, devnet: Devnet
) -> None:
    """`balancesPage` reads every row to order them: it costs what `balances` costs, whatever
    `first` says, and an alias per page multiplies it."""
    settings = devnet_settings(tmp_path, devnet, limits={"max_lookups": 6})
    for api in serve(settings):
        page = "p%d: balancesPage(first: 1, orderBy: SYMBOL_ASC) { totalCount rows { rawAmount } }"
        query = '{ account(address: "%s") { %s } }'
        (error,) = api.query(query % (devnet.holder, f"{page % 1} {page % 2}"))["errors"]
        assert "asks for 8 balance lookups; at most 6" in error["message"]
        assert api.upstream() == 0
        one = api.query(query % (devnet.holder, page % 1))
        assert one["data"]["account"]["p1"]["totalCount"] >= 1 and "errors" not in one


def test_oversized_chain_lists_are_refused(api: Api, devnet: Devnet) -> None:
    chains = ", ".join(f'"c{i}"' for i in range(500))
    body = api.query(
        '{ account(address: "%s") { balances(chains: [%s]) { chain } } }' % (devnet.holder, chains)
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
