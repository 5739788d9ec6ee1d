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
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = " ".join(f"a{i}: chains {{ id }}" for i in range(60))
    assert "errors" in api.query("{ %s }" % aliases)
    assert api.upstream() == 0


def test_lookup_budget_caps_a_request_across_aliases(tmp_path: Path, devnet: Devnet) -> None:
    settings = devnet_settings(tmp_path, devnet, limits={"max_lookups": 6})
    for api in serve(settings):
        query = (
            '{ a: account(address: "%s") { balances { rawAmount } } '
            'b: account(address: "%s") { balances { rawAmount } } }'
        )
        body = api.query(query % (devnet.holder, devnet.sample.holders[1]))
        assert len(body["data"]["a"]["balances"]) == 4  # four lookups fit the budget
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert error["path"] == ["b", "balances"]


def test_oversized_chain_lists_are_refused(api: Api, devnet: Devnet) -> None:
    chains = ", ".join(f'"c{i}"' for i in range(500))
    body = api.query(
        '{ account(address: "%s") { balances(chains: [%s]) { chain } } }' % (devnet.holder, chains)
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
