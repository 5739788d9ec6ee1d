"""What a query costs upstream, counted on `/metrics` against a real anvil node, and what a
warm one costs in this process: parses, cache lookups and decodes (issue 10's structure)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.services import Contexts
from tests.conftest import CHAIN_ID, Api, Devnet, dead_chain, dead_url, devnet_settings, serve

TOKENS = 200

QUERY = """query($a: String!, $maxAge: Int, $force: Boolean) { account(address: $a) {
  balances(includeZero: true, maxAge: $maxAge, forceRefresh: $force) {
    rawAmount blockNumber lastUpdated token { symbol decimals } } } }"""


@pytest.fixture(scope="session")
def many_tokens(devnet: Devnet) -> list[dict[str, Any]]:
    """200 more ERC-20s in the token list; the holder owns a known amount of every 10th."""
    entries = []
    for i in range(TOKENS):
        address = devnet.chain.deploy("TestToken", f"Bulk {i}", f"BLK{i}", i % 19)
        if i % 10 == 0:
            devnet.chain.transact(address, "mint(address,uint256)", devnet.holder, 10**6 + i)
        entries.append(
            {
                "chainId": CHAIN_ID,
                "address": address,
                "name": f"Bulk {i}",
                "symbol": f"BLK{i}",
                "decimals": i % 19,
            }
        )
    return entries


@pytest.fixture
def big_api(tmp_path: Path, devnet: Devnet, many_tokens: list[dict[str, Any]]) -> Iterator[Api]:
    yield from serve(devnet_settings(tmp_path, devnet, tokens=many_tokens))


def test_cold_account_over_200_listed_tokens_is_one_request_and_warm_is_zero(
    big_api: Api, devnet: Devnet, many_tokens: list[dict[str, Any]]
) -> None:
    cold = big_api.query(QUERY, {"a": devnet.holder})
    rows = cold["data"]["account"]["balances"]
    assert len(rows) == TOKENS + 4 and "errors" not in cold
    assert big_api.upstream() == 1
    by_symbol = {r["token"]["symbol"]: r for r in rows}
    assert by_symbol["BLK10"]["rawAmount"] == str(10**6 + 10)
    assert by_symbol["BLK11"]["rawAmount"] == "0"

    contexts = big_api.services.pipeline.context
    assert isinstance(contexts, Contexts)
    views = contexts.views
    assert len(views.rows) == len(views.objects) == TOKENS + 4  # each row built once

    # The same request again: the whole answer, kept as bytes. Nothing parsed, looked up,
    # decoded or read.
    warm = big_api.query(QUERY, {"a": devnet.holder})
    assert big_api.upstream() == 1
    assert warm["data"] == cold["data"]  # same lastUpdated: it is the read time, not serve time
    metrics = big_api.services.metrics
    assert metrics.response_cache.get(result="hit") == 1
    assert metrics.cache_lookups.total() == 204  # the cold request's misses only
    assert big_api.services.pipeline.planner.documents.parses == 1

    # New variables, same document: executed, every value from this process's store (no
    # parse, no decode of stored bytes, no upstream request).
    other = big_api.query(QUERY, {"a": devnet.holder, "maxAge": 299})
    assert other["data"] == cold["data"] and big_api.upstream() == 1
    assert metrics.cache_lookups.get(result="hit") == 204
    assert metrics.cache_lookups.get(result="shared") == 0
    assert big_api.services.pipeline.planner.documents.parses == 1
    assert len(views.rows) == len(views.objects) == TOKENS + 4  # the same rows, not rebuilt

    text = big_api.client.get("/metrics").text
    assert re.search(
        r'upstream_requests_total\{chain="devnet",method="eth_call"\} 1\.0$', text, re.M
    )
    assert re.search(r'response_cache_total\{result="hit"\} 1\.0$', text, re.M)


def test_chunks_of_batch_size_each_cost_one_request_and_agree(
    tmp_path: Path, devnet: Devnet, many_tokens: list[dict[str, Any]]
) -> None:
    settings = devnet_settings(tmp_path, devnet, tokens=many_tokens, batch_size=50)
    for api in serve(settings):
        body = api.query(QUERY, {"a": devnet.holder})
        assert len(body["data"]["account"]["balances"]) == TOKENS + 4
        # 204 lookups, 49 per chunk (one slot reads the block number): 5 aggregate3 calls
        assert api.upstream() == 5
        by_symbol = {
            r["token"]["symbol"]: r["rawAmount"] for r in body["data"]["account"]["balances"]
        }
        assert all(by_symbol[f"BLK{i}"] == str(10**6 + i) for i in range(0, TOKENS, 10))


def test_max_age_and_force_refresh(api: Api, devnet: Devnet) -> None:
    query = """query($a: String!, $maxAge: Int, $force: Boolean) {
      balance(account: $a, chain: "devnet", token: "native", maxAge: $maxAge,
              forceRefresh: $force) { rawAmount blockNumber lastUpdated } }"""
    account = devnet.chain.accounts()[5]
    first = api.query(query, {"a": account})["data"]["balance"]
    devnet.chain.set_balance(account, 123 * 10**18)
    devnet.chain.mine()
    cached = api.query(query, {"a": account})["data"]["balance"]
    assert cached == first and api.upstream() == 1
    forced = api.query(query, {"a": account, "force": True})["data"]["balance"]
    assert forced["rawAmount"] == str(123 * 10**18) and api.upstream() == 2
    assert forced["lastUpdated"] > first["lastUpdated"]
    assert int(forced["blockNumber"]) > int(first["blockNumber"])
    devnet.chain.set_balance(account, 7)
    zero_age = api.query(query, {"a": account, "maxAge": 0})["data"]["balance"]
    assert zero_age["rawAmount"] == "7" and api.upstream() == 3
    long_age = api.query(query, {"a": account, "maxAge": 3600})["data"]["balance"]
    assert long_age == zero_age and api.upstream() == 3


def test_one_request_per_chain_across_fields_aliases_and_accounts(api: Api, devnet: Devnet) -> None:
    a, b, c = devnet.sample.holders
    usdc = devnet.sample.token("USDC").address
    body = api.query(
        """query($a: String!, $b: String!, $c: String!, $t: String!) {
          x: account(address: $a) { balances { rawAmount } }
          y: account(address: $b) { balances(maxAge: 10) { rawAmount } }
          z: balance(account: $c, chain: "devnet", token: $t) { rawAmount }
          p: balances(pairs: [{account: $a, chain: "devnet", token: $t}]) { rawAmount }
        }""",
        {"a": a, "b": b, "c": c, "t": usdc},
    )
    assert "errors" not in body
    assert body["data"]["z"]["rawAmount"] == str(devnet.sample.balance(c, "USDC"))
    assert api.upstream() == 1


def test_a_dead_chain_drops_only_its_rows_with_one_error(tmp_path: Path, devnet: Devnet) -> None:
    down = dead_chain()
    settings = devnet_settings(tmp_path, devnet, extra_chains={"down": down})
    for api in serve(settings):
        body = api.query(
            """query($a: String!) { account(address: $a) {
                 balances { chain token { symbol } } } }""",
            {"a": devnet.holder},
        )
        chains = {r["chain"] for r in body["data"]["account"]["balances"]}
        assert chains == {"devnet"}
        (error,) = body["errors"]
        assert error["path"] == ["account", "balances"]
        assert error["extensions"] == {
            "code": "UPSTREAM_PROVIDER_ERROR",
            "chain": "down",
            "account": devnet.holder,
            "retryable": True,
        }
        assert api.upstream("down") == 1


def test_failover_to_the_second_rpc_url(tmp_path: Path, devnet: Devnet) -> None:
    settings = devnet_settings(tmp_path, devnet, rpc_urls=[dead_url(), devnet.url])
    for api in serve(settings):
        query = '{ balance(account: "%s", chain: "devnet", token: "native") { rawAmount } }'
        body = api.query(query % devnet.holder)
        assert body["data"]["balance"]["rawAmount"] == str(devnet.chain.get_balance(devnet.holder))
        assert api.upstream() == 2  # the dead endpoint, then the live one
        api.query(query % devnet.sample.holders[1])
        assert api.upstream() == 3  # the dead one cools down: straight to the live one


def test_without_multicall3_a_pinned_json_rpc_batch_reads_the_same_values(
    tmp_path: Path, devnet: Devnet
) -> None:
    for api in serve(devnet_settings(tmp_path, devnet, multicall3="")):
        body = api.query(QUERY, {"a": devnet.holder})
        rows = {r["token"]["symbol"]: r for r in body["data"]["account"]["balances"]}
        assert rows["USDC"]["rawAmount"] == str(devnet.sample.balance(devnet.holder, "USDC"))
        assert rows["ETH"]["rawAmount"] == str(devnet.chain.get_balance(devnet.holder))
        metrics = api.services.metrics.upstream_requests
        assert metrics.get(chain="devnet", method="eth_blockNumber") == 1
        assert metrics.get(chain="devnet", method="batch") == 1
