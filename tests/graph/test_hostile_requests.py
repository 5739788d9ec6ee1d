"""Requests an attacker (or an unlucky client) sends: each is answered small, fast and coded.

Every test here failed on the code before the request pipeline was bounded (issue 8, items
1-7 and 14): the fan-out document hung the worker, the CPU bomb executed, the long address
came back 50 times twice, invalid documents were persisted, a bad entity key nulled its
neighbours, repeated bad pairs lost their errors, and Cache-Control echoed any maxAge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    Api,
    Devnet,
    cache_control,
    dead_chain,
    devnet_settings,
    errors_by_code,
    fresh_for,
    issue_key,
    serve,
)


def fan_out(levels: int) -> str:
    """Each fragment spreads the previous one twice: 2^levels aliases once expanded."""
    fragments = ["fragment F0 on Chain { a: id }"] + [
        f"fragment F{i} on Chain {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    return "{ chains { ...F%d } }\n%s" % (levels, "\n".join(fragments))


@pytest.mark.timeout(20)
def test_a_fragment_fan_out_is_refused_without_expanding_it(api: Api) -> None:
    body = api.query(fan_out(30))
    assert "data" not in body  # refused before execution
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert "about 2^30 aliases" in error["message"]
    assert api.client.get("/health").status_code == 200


def test_a_cpu_bomb_is_refused_before_execution(api: Api, devnet: Devnet) -> None:
    addresses = [devnet.holder] * 100
    aliases = " ".join(
        f"a{i}: accounts(addresses: $a) {{ balances {{ rawAmount }} }}" for i in range(49)
    )
    body = api.query("query($a: [String!]!) { %s }" % aliases, {"a": addresses})
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert "asks for 19600 balance lookups" in error["message"]  # 49 x 100 x 4 listed tokens
    assert api.upstream() == 0


def test_an_oversized_variable_list_is_refused_before_coercion(api: Api, devnet: Devnet) -> None:
    pairs = [{"account": devnet.holder, "chain": "devnet", "token": "native"}] * 8_000  # < 1 MiB
    body = api.query(
        "query($p: [BalanceKeyInput!]!) { balances(pairs: $p) { rawAmount } }", {"p": pairs}
    )
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert api.upstream() == 0


def test_a_huge_address_is_not_echoed_back(api: Api) -> None:
    address = "0x" + "f" * 600_000
    aliases = " ".join(f"a{i}: account(address: $a) {{ address }}" for i in range(50))
    response = api.client.post(
        "/graphql",
        json={"query": "query($a: String!) { %s }" % aliases, "variables": {"a": address}},
    )
    assert response.status_code == 200
    assert len(response.content) < 2_000, len(response.content)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_address_literal_longer_than_any_address_is_refused(api: Api) -> None:
    body = api.query('{ account(address: "%s") { address } }' % ("0x" + "a" * 1000))
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aaaa" * 20 not in json.dumps(body)


def test_errors_quote_at_most_a_short_excerpt_of_input(api: Api) -> None:
    long_but_allowed = "0x" + "g" * 500
    body = api.query(
        '{ balance(account: "%s", chain: "devnet", token: "native") { rawAmount } }'
        % long_but_allowed
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID_ADDRESS"
    assert len(json.dumps(error)) < 600
    assert "(502 characters)" in error["message"]


def persisted(query: str) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_only_valid_documents_are_persisted(api: Api) -> None:
    invalid = "{ chains { nope } }"
    registered = api.client.post(
        "/graphql", json={"query": invalid, "extensions": persisted(invalid)}
    )
    assert registered.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    replay = api.client.post("/graphql", json={"extensions": persisted(invalid)})
    assert replay.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    valid = "{ chains { id } }"
    api.client.post("/graphql", json={"query": valid, "extensions": persisted(valid)})
    again = api.client.post("/graphql", json={"extensions": persisted(valid)})
    assert again.json() == {"data": {"chains": [{"id": "devnet"}]}}


def test_the_shared_persisted_query_store_is_bounded(
    tmp_path: Path, devnet: Devnet, redis_url: str
) -> None:
    import redis

    settings = devnet_settings(
        tmp_path, devnet, cache={"redis_url": redis_url}, documents={"persisted_max_entries": 5}
    )
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    for api in serve(settings):
        for i in range(12):
            query = "query Q%d { chains { id } }" % i
            response = api.client.post(
                "/graphql", json={"query": query, "extensions": persisted(query)}
            )
            assert response.json()["data"] == {"chains": [{"id": "devnet"}]}
        huge = "query Big { chains { id } }" + " " * 70_000  # over persisted_max_bytes
        api.client.post("/graphql", json={"query": huge, "extensions": persisted(huge)})
    stored: dict[bytes, bytes] = client.hgetall("bg:v1:{apq}:docs")  # type: ignore[assignment]
    assert len(stored) == 5
    assert {v.decode() for v in stored.values()} == {
        "query Q%d { chains { id } }" % i for i in range(7, 12)
    }


ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Account { address balances(tokens: ["native"]) { rawAmount } } } }"""


def test_a_malformed_account_key_resolves_and_reports_where_it_hurts(
    api: Api, devnet: Devnet
) -> None:
    representations = [
        {"__typename": "Account", "address": devnet.holder},
        {"__typename": "Account", "address": "0xnot-an-address"},
    ]
    body = api.query(ENTITIES, {"r": representations})
    good, bad = body["data"]["_entities"]
    assert good["balances"][0]["rawAmount"] == str(devnet.chain.get_balance(devnet.holder))
    assert bad == {"address": "0xnot-an-address", "balances": []}
    (error,) = body["errors"]
    assert error["path"] == ["_entities", 1, "balances"]
    assert error["extensions"]["code"] == "INVALID_ADDRESS"


@pytest.mark.parametrize(
    "representation",
    [
        {"__typename": "Account"},
        {"__typename": "Account", "address": 7},
        {"__typename": "Account", "addres": "0x0"},
        {"__typename": "Wallet", "address": "0x0"},
        {"address": "0x0"},
    ],
)
def test_a_broken_representation_is_bad_user_input_at_its_index(
    api: Api, devnet: Devnet, representation: dict[str, Any]
) -> None:
    body = api.query(
        ENTITIES, {"r": [{"__typename": "Account", "address": devnet.holder}, representation]}
    )
    assert body["data"]["_entities"][0]["address"] == devnet.holder
    assert body["data"]["_entities"][1] is None
    (error,) = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["_entities", 1], "BAD_USER_INPUT")


def test_entities_obey_the_accounts_limit(tmp_path: Path, devnet: Devnet) -> None:
    for api in serve(devnet_settings(tmp_path, devnet, limits={"max_accounts": 3})):
        references = [{"__typename": "Account", "address": devnet.holder}] * 4
        body = api.query(
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            {"r": references},
        )
        assert body["data"] is None  # `_entities: [_Entity]!` is the federation spec's type
        assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


def test_a_repeated_bad_pair_has_an_error_at_each_index(api: Api, devnet: Devnet) -> None:
    bad = '{ account: "0xbad", chain: "devnet", token: "native" }'
    good = '{ account: "%s", chain: "devnet", token: "native" }' % devnet.holder
    body = api.query("{ balances(pairs: [%s, %s, %s]) { rawAmount } }" % (bad, good, bad))
    assert [row is None for row in body["data"]["balances"]] == [True, False, True]
    paths = [e["path"] for e in body["errors"]]
    assert paths == [["balances", 0], ["balances", 2]]


def test_a_repeated_bad_address_has_an_error_at_each_index(api: Api, devnet: Devnet) -> None:
    body = api.query('{ accounts(addresses: ["nope", "%s", "nope"]) { address } }' % devnet.holder)
    assert [e["path"] for e in body["errors"]] == [["accounts", 0], ["accounts", 2]]


def test_accounts_over_its_limit_nulls_only_itself(tmp_path: Path, devnet: Devnet) -> None:
    for api in serve(devnet_settings(tmp_path, devnet, limits={"max_accounts": 2})):
        body = api.query(
            '{ chains { id } accounts(addresses: ["%s", "%s", "%s"]) { address } }'
            % ((devnet.holder,) * 3)
        )
        assert body["data"] == {"chains": [{"id": "devnet"}], "accounts": None}
        assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


def test_cache_control_is_capped_and_private_for_api_keys(tmp_path: Path, devnet: Devnet) -> None:
    query = (
        '{ balance(account: "%s", chain: "devnet", token: "native", maxAge: 2147483647) '
        "{ rawAmount } }" % devnet.holder
    )
    settings = devnet_settings(tmp_path, devnet)
    key = issue_key(settings, "alice")
    for api in serve(settings):
        public = api.client.get("/graphql", params={"query": query})
        assert cache_control(public)[0] == "public"
        assert cache_control(public)[1] in fresh_for(300)
        for header, value in (
            ("api-key", key),
            ("x-api-key", key),
            ("authorization", f"Bearer {key}"),
        ):
            keyed = api.client.get("/graphql", params={"query": query}, headers={header: value})
            scope, age = cache_control(keyed)
            assert scope == "private" and age in fresh_for(300), header


@pytest.fixture
def dead_only(tmp_path: Path, devnet: Devnet) -> Iterator[Api]:
    prices = {"sources": ["static"], "static": {"down:native": "3000"}}
    settings = devnet_settings(tmp_path, devnet, extra_chains={"down": dead_chain()}, prices=prices)
    yield from serve(settings)


def test_a_portfolio_with_every_chain_failed_is_unknown_not_zero(
    dead_only: Api, devnet: Devnet
) -> None:
    body = dead_only.query(
        '{ account(address: "%s") { portfolio(chains: ["down"]) '
        "{ totalUsd complete failedChains updatedAt byChain { chain } } } }" % devnet.holder
    )
    assert body["data"]["account"]["portfolio"] == {
        "totalUsd": None,
        "complete": False,
        "failedChains": ["down"],
        "updatedAt": None,
        "byChain": [],
    }
    assert set(errors_by_code(body)) == {"UPSTREAM_PROVIDER_ERROR"}
