"""Keys, rate limits and credits through the whole app (issue 9), on the offline service.

Every refusal is checked for what it must not do: read upstream (the fake Starknet node
records every batch it gets) or charge credits.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chains.starknet.provider import ETH_ADDRESS, STRK_ADDRESS
from metering import admin, keys
from metering.store import StoreUnavailable
from settings import Settings
from tests.conftest import credits, issue_key
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline, offline_service, offline_settings

LIMITS = {
    "anonymous": {"balance": "3/min", "balances": "2/min", "account": "2/min"},
    "plans": {"pro": {"balance": "5/min"}},
}
BALANCE = (
    '{ balance(account: "%s", chain: "starknet", token: "native") { rawAmount } }' % stark.ALICE
)
PAIRS = """query($p: [BalanceKeyInput!]!, $f: Boolean) {
  balances(pairs: $p, forceRefresh: $f) { rawAmount } }"""
TOKENS = ("native", ETH_ADDRESS, stark.TOKEN, STRK_ADDRESS, "native")


def twenty_pairs() -> list[dict[str, str]]:
    """20 lookups: 2 accounts x 5 tokens, twice."""
    pairs = [
        {"account": account, "chain": "starknet", "token": token}
        for account in (stark.ALICE, stark.BOB)
        for token in TOKENS
    ]
    return pairs * 2


def metered_settings(tmp_path: Path, **sections: Any) -> Settings:
    sections.setdefault("rate_limits", LIMITS)
    sections.setdefault("auth", {})
    sections["auth"] = {"data_dir": str(tmp_path / "data"), **sections["auth"]}
    return offline_settings(tmp_path, **sections)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return metered_settings(tmp_path)


@pytest.fixture
def metered(settings: Settings) -> Iterator[Offline]:
    yield from offline_service(settings)


def post(offline: Offline, body: Any, **headers: str) -> httpx.Response:
    response: httpx.Response = offline.api.client.post("/graphql", json=body, headers=headers)
    return response


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body, body
    (only,) = body["errors"]
    found: dict[str, Any] = only
    return found


def keys_list(settings: Settings) -> dict[str, dict[str, Any]]:
    out = io.StringIO()
    assert admin.run(argparse.Namespace(action="list", json=True), settings, out) == 0
    return {r["name"]: r for r in map(json.loads, out.getvalue().splitlines())}


# --- anonymous callers: per client address, per class ----------------------------------------


def test_the_fourth_anonymous_balance_call_is_429_with_retry_after_and_reads_nothing(
    metered: Offline,
) -> None:
    answers = [post(metered, {"query": BALANCE}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"3"}
    reset = int(answers[-1].headers["x-ratelimit-reset"])
    assert time.time() < reset <= time.time() + 121
    batches = len(metered.node.batches)
    refused = post(metered, {"query": BALANCE, "variables": {}})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 120
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-credits-charged"] == "0"
    assert refused.headers["cache-control"] == "no-store"
    extensions = error(refused)["extensions"]
    assert extensions["code"] == "RATE_LIMITED" and extensions["retryable"] is True
    assert extensions["rateClass"] == "balance" and extensions["retryAfter"] >= 1
    assert len(metered.node.batches) == batches  # nothing read upstream
    # other classes have their own windows; free fields are free
    assert post(metered, {"query": "{ chains { id } }"}).status_code == 200
    account = post(metered, {"query": '{ account(address: "%s") { address } }' % stark.ALICE})
    assert account.status_code == 200 and account.headers["x-ratelimit-limit"] == "2"


def test_a_key_whose_stored_balance_is_corrupt_is_refused_with_503_never_served_free(
    settings: Settings, metered: Offline
) -> None:
    """Issue 18, defect 5: on SQLite a balance pushed past 2^63 - 1 became a REAL and the key
    unlimited; on Redis a balance stored as "1e+20" made every request a plain-text 500."""
    key = issue_key(settings, "overflowing", credits=10)
    store = settings.auth.store_dir() / "metering.sqlite3"
    with sqlite3.connect(store) as db:
        db.execute("UPDATE api_keys SET credits = 9223372036854775807 + 1")
    refused = post(metered, {"query": BALANCE}, **{"x-api-key": key})
    assert refused.status_code == 503
    extensions = error(refused)["extensions"]
    assert extensions["code"] == "METERING_UNAVAILABLE" and extensions["retryable"] is False
    assert len(metered.node.batches) == 0
    listed = keys_list(settings)["overflowing"]
    assert listed["credits"] is None and "not a whole number" in listed["damaged"]


def test_introspection_has_a_rate_class_of_its_own(tmp_path: Path) -> None:
    """Issue 18, defect 7: 1,000 schema queries in a row cost ~30 ms of CPU each, unmetered."""
    limits = {"anonymous": {"introspection": "2/min"}, "plans": {}}
    schema = {"query": "{ __schema { types { name } } }"}
    for offline in offline_service(metered_settings(tmp_path, rate_limits=limits)):
        answers = [post(offline, schema) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert error(answers[-1])["extensions"]["rateClass"] == "introspection"
        assert post(offline, {"query": "{ __typename chains { id } }"}).status_code == 200


def test_aliases_are_calls_and_a_request_over_the_whole_limit_is_told_to_split(
    metered: Offline,
) -> None:
    four = "{ %s }" % " ".join(f"a{i}: {BALANCE[2:-2]}" for i in range(4))
    refused = post(metered, {"query": four})
    assert refused.status_code == 429 and "retry-after" not in refused.headers
    extensions = error(refused)["extensions"]
    assert extensions["retryable"] is False and "split it" in error(refused)["message"]
    two = "{ %s }" % " ".join(f"a{i}: {BALANCE[2:-2]}" for i in range(2))
    assert post(metered, {"query": two}).headers["x-ratelimit-remaining"] == "1"


def test_the_tightest_class_a_request_used_is_the_one_reported(metered: Offline) -> None:
    both = '{ %s account(address: "%s") { address } }' % (BALANCE[2:-2], stark.ALICE)
    answer = post(metered, {"query": both})
    # balance: 2 of 3 left; account: 1 of 2 left -> account is the tighter
    assert (answer.headers["x-ratelimit-limit"], answer.headers["x-ratelimit-remaining"]) == (
        "2",
        "1",
    )


def test_clients_behind_a_trusted_proxy_are_told_apart_and_nobody_else_is(
    tmp_path: Path,
) -> None:
    settings = metered_settings(tmp_path, server={"trusted_proxies": ["10.0.0.0/8"]})
    for proxied in offline_service(settings, peer=("10.1.2.3", 4000)):
        for _ in range(3):
            assert post(
                proxied, {"query": BALANCE}, **{"x-forwarded-for": "198.51.100.1"}
            ).is_success
        assert (
            post(proxied, {"query": BALANCE}, **{"x-forwarded-for": "198.51.100.1"}).status_code
            == 429
        )
        other = post(proxied, {"query": BALANCE}, **{"x-forwarded-for": "6.6.6.6, 198.51.100.2"})
        assert other.status_code == 200  # its own window (and the spoofed left part ignored)
    direct = metered_settings(tmp_path / "direct")
    for client in offline_service(direct, peer=("203.0.113.5", 4000)):
        for i in range(3):
            assert post(
                client, {"query": BALANCE}, **{"x-forwarded-for": f"198.51.100.{i}"}
            ).is_success
        spoof = post(client, {"query": BALANCE}, **{"x-forwarded-for": "198.51.100.99"})
        assert spoof.status_code == 429  # an untrusted peer's X-Forwarded-For is ignored


# --- keys -------------------------------------------------------------------------------------


def test_a_key_with_50_credits_runs_two_20_lookup_queries_then_gets_402_reading_nothing(
    settings: Settings, metered: Offline
) -> None:
    key = issue_key(settings, "alice", credits=50)
    body = {"query": PAIRS, "variables": {"p": twenty_pairs()}}
    first, second = (
        post(metered, body, **{"x-api-key": key}),
        post(metered, body, **{"api-key": key}),
    )
    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["balances"][0]["rawAmount"] == str(7 * 10**18)
    assert (credits(first), credits(second)) == (("20", "30"), ("20", "10"))
    batches = len(metered.node.batches)
    forced = {"query": PAIRS, "variables": {"p": twenty_pairs(), "f": True}}
    refused = post(metered, forced, authorization=f"Bearer {key}")
    assert refused.status_code == 402
    assert credits(refused) == ("0", "10")
    extensions = error(refused)["extensions"]
    assert extensions == {
        "code": "INSUFFICIENT_CREDITS",
        "retryable": False,
        "cost": 20,
        "credits": 10,
    }
    assert len(metered.node.batches) == batches
    listed = keys_list(settings)["alice"]
    assert (listed["credits"], listed["spent"], listed["requests"]) == (10, 40, 2)


def test_refused_requests_charge_nothing(settings: Settings, metered: Offline) -> None:
    key = issue_key(settings, "alice", credits=100)
    auth = {"x-api-key": key}
    invalid = post(metered, {"query": "{ balance { nope } }"}, **auth)
    unknown_variable = post(metered, {"query": PAIRS, "variables": {"p": [{"account": 1}]}}, **auth)
    too_big = post(
        metered, {"query": PAIRS, "variables": {"p": twenty_pairs() * 300}}, **auth
    )  # 6,000 lookups > max_lookups
    not_json = metered.api.client.post(
        "/graphql", content=b"{", headers={**auth, "content-type": "application/json"}
    )
    for refused in (invalid, unknown_variable, too_big, not_json):
        assert refused.headers["x-credits-charged"] == "0", refused.text
        assert "errors" in refused.json()
    assert keys_list(settings)["alice"]["credits"] == 100
    served = post(metered, {"query": BALANCE}, **auth)
    assert served.headers["x-credits-charged"] == "1"
    assert served.headers["x-credits-remaining"] == "99"


@pytest.mark.parametrize(
    "presented",
    [
        {"x-api-key": keys.new_key()},  # well formed, never issued
        {"x-api-key": "not a key"},
        {"api-key": "bgk_" + "A" * 43},
        {"authorization": "Bearer " + keys.new_key()},
    ],
)
def test_a_wrong_key_is_401_before_anything_is_parsed_or_read(
    metered: Offline, presented: dict[str, str]
) -> None:
    for body in ({"query": BALANCE}, {"query": "{ not parsed"}):
        refused = post(metered, body, **presented)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert error(refused)["extensions"] == {"code": "INVALID_API_KEY", "retryable": False}
    assert metered.node.batches == []


def test_an_unknown_key_is_told_which_store_was_searched_without_echoing_the_key(
    settings: Settings, metered: Offline
) -> None:
    # A key made with another --config lands in another store: the 401 says which one this
    # service reads, so the mistake can be seen.
    key = keys.new_key()
    refused = post(metered, {"query": BALANCE}, **{"x-api-key": key})
    message = error(refused)["message"]
    assert refused.status_code == 401
    assert str(settings.auth.store_dir() / "metering.sqlite3") in message
    assert key not in refused.text and key[4:12] not in refused.text


def test_a_revoked_key_is_401_at_once_and_conflicting_keys_are_not_guessed_between(
    settings: Settings, metered: Offline
) -> None:
    key, other = issue_key(settings, "alice"), issue_key(settings, "bob")
    assert post(metered, {"query": BALANCE}, **{"x-api-key": key}).status_code == 200
    assert admin.run(argparse.Namespace(action="revoke", name="alice"), settings) == 0
    refused = post(metered, {"query": BALANCE}, **{"x-api-key": key})  # its record was cached
    assert refused.status_code == 401 and error(refused)["extensions"]["code"] == "INVALID_API_KEY"
    assert post(metered, {"query": BALANCE}, **{"x-api-key": key}).status_code == 401
    metrics = metered.api.client.get("/metrics").text  # each refusal counted once
    assert 'key_requests_total{key="alice",outcome="invalid_key"} 1.0' in metrics
    assert 'key_requests_total{key="invalid",outcome="invalid_key"} 1.0' in metrics
    both = post(metered, {"query": BALANCE}, **{"x-api-key": other, "api-key": key})
    assert both.status_code == 401 and "more than one" in error(both)["message"]


def test_keys_follow_their_plan_per_key_and_keys_without_one_are_not_limited(
    settings: Settings, metered: Offline
) -> None:
    pro, free = issue_key(settings, "pro", plan="pro"), issue_key(settings, "free")
    answers = [post(metered, {"query": BALANCE}, **{"x-api-key": pro}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["x-ratelimit-limit"] == "5"
    assert "x-credits-remaining" not in answers[0].headers  # no balance to report
    assert "x-credits-remaining" not in answers[-1].headers
    for _ in range(8):
        unlimited = post(metered, {"query": BALANCE}, **{"x-api-key": free})
        assert unlimited.status_code == 200 and "x-ratelimit-limit" not in unlimited.headers
    # neither key touched the anonymous window of the same address
    assert post(metered, {"query": BALANCE}).headers["x-ratelimit-remaining"] == "2"


def test_a_keyed_429_reports_the_credits_left_as_every_keyed_answer_does(
    settings: Settings, metered: Offline
) -> None:
    key = issue_key(settings, "capped", credits=100, plan="pro")
    answers = [post(metered, {"query": BALANCE}, **{"x-api-key": key}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    expected = [("1", str(99 - i)) for i in range(5)] + [("0", "95")]
    assert [credits(a) for a in answers] == expected


def test_required_auth_refuses_anonymous_calls_but_still_serves_graphiql(tmp_path: Path) -> None:
    settings = metered_settings(tmp_path, auth={"required": True})
    key = issue_key(settings, "alice")
    for service in offline_service(settings):
        refused = post(service, {"query": "{ chains { id } }"})
        assert refused.status_code == 401 and "needs an API key" in error(refused)["message"]
        assert post(service, {"query": "{ chains { id } }"}, **{"x-api-key": key}).is_success
        page = service.api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "x-api-key" in page.text


def test_keyed_get_responses_are_private_and_cors_exposes_the_metering_headers(
    settings: Settings, metered: Offline
) -> None:
    key = issue_key(settings, "alice", credits=10)
    answer = metered.api.client.get(
        "/graphql",
        params={"query": BALANCE},
        headers={"x-api-key": key, "origin": "https://a.example"},
    )
    assert answer.headers["cache-control"].startswith("private, ")
    exposed = answer.headers["access-control-expose-headers"].lower()
    for header in (
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-credits-charged",
        "x-credits-remaining",
    ):
        assert header in exposed


def test_the_key_never_reaches_logs_errors_or_metrics_but_its_name_is_counted(
    settings: Settings, metered: Offline, caplog: pytest.LogCaptureFixture
) -> None:
    key = issue_key(settings, "alice", credits=30)
    caplog.set_level(logging.DEBUG)
    texts = [
        post(metered, {"query": BALANCE}, **{"x-api-key": key}).text,
        post(
            metered, {"query": PAIRS, "variables": {"p": twenty_pairs()}}, **{"x-api-key": key}
        ).text,
        post(
            metered, {"query": PAIRS, "variables": {"p": twenty_pairs()}}, **{"x-api-key": key}
        ).text,
        post(metered, {"query": BALANCE}, **{"x-api-key": key[:-1] + "x"}).text,
        post(metered, {"query": BALANCE}, **{"x-api-key": key, "api-key": key[:-1] + "y"}).text,
    ]
    metrics = metered.api.client.get("/metrics").text
    secret = key.removeprefix(keys.PREFIX)
    for text in (*texts, metrics, caplog.text):
        assert secret[:8] not in text and secret[-8:] not in text
    assert 'key_requests_total{key="alice",outcome="admitted"} 2.0' in metrics
    assert 'key_requests_total{key="alice",outcome="insufficient_credits"} 1.0' in metrics
    assert 'key_credits_total{key="alice"} 21.0' in metrics
    assert 'key_requests_total{key="invalid",outcome="invalid_key"} 2.0' in metrics


def test_a_store_that_cannot_answer_refuses_keys_and_keeps_limiting_anonymous_calls(
    settings: Settings, metered: Offline, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = issue_key(settings, "alice", credits=10)
    assert post(metered, {"query": BALANCE}, **{"x-api-key": key}).status_code == 200
    store = metered.api.services.pipeline.meter.store

    async def down(*args: object) -> None:
        raise StoreUnavailable("test: the store is down")

    monkeypatch.setattr(store, "charge", down)
    monkeypatch.setattr(store, "lookup", down)
    refused = post(metered, {"query": BALANCE}, **{"x-api-key": key})
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert error(refused)["extensions"] == {"code": "METERING_UNAVAILABLE", "retryable": True}
    anonymous = [post(metered, {"query": BALANCE}).status_code for _ in range(4)]
    assert anonymous == [200, 200, 200, 429]  # this process's own window meanwhile
