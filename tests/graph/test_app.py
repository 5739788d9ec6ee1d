"""HTTP-level behaviour: request ids, masking of unexpected errors, health, query limits."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import pytest

from chains.base import Reading
from chains.evm.provider import EvmProvider
from chains.models import BalanceKey
from tests.conftest import Api, Devnet


async def _explode(
    self: EvmProvider, balances: Sequence[BalanceKey], tokens: Sequence[str]
) -> Reading:
    raise RuntimeError("database password is hunter2")


def test_unexpected_errors_are_masked_logged_with_the_request_id_and_contained(
    api: Api, devnet: Devnet, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(EvmProvider, "read", _explode)
    with caplog.at_level(logging.ERROR):
        response = api.client.post(
            "/graphql",
            json={
                "query": '{ chains { id } b: balance(account: "%s", chain: "devnet", '
                'token: "native") { rawAmount } }' % devnet.holder
            },
            headers={"X-Request-ID": "req-42"},
        )
    body = response.json()
    assert response.headers["x-request-id"] == "req-42"
    assert body["data"] == {"chains": [{"id": "devnet"}], "b": None}
    (error,) = body["errors"]
    assert error["message"] == "Internal error"
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-42",
        "retryable": True,
    }
    assert "hunter2" not in response.text
    assert "req-42" in caplog.text and "hunter2" in caplog.text  # operators see the cause


def test_request_ids_are_generated_when_absent_or_unsafe(api: Api) -> None:
    generated = api.client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    sane = api.client.get("/health", headers={"X-Request-ID": "trace-7.b_c"})
    assert sane.headers["x-request-id"] == "trace-7.b_c"
    for unsafe in ("has space", "x" * 65, "<script>"):
        answer = api.client.get("/health", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), unsafe


def test_health_reports_chains_and_cache(api: Api) -> None:
    assert api.client.get("/health").json() == {
        "status": "ok",
        "chains": ["devnet"],
        "cache": {"healthy": True},
    }


def test_expected_errors_are_not_logged_as_errors(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        body = api.query('{ account(address: "nope") { address } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ADDRESS"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


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


def test_lookup_budget_caps_a_request_across_aliases(tmp_path: object, devnet: Devnet) -> None:
    from tests.conftest import devnet_settings, serve

    settings = devnet_settings(tmp_path, devnet, limits={"max_lookups": 6})  # type: ignore[arg-type]
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


def test_browsers_on_other_origins_may_call_the_api(api: Api) -> None:
    preflight = api.client.options(
        "/graphql",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, apollographql-client-name",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    answer = api.client.post(
        "/graphql", json={"query": "{ chains { id } }"}, headers={"origin": "https://app.example"}
    )
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in answer.headers["access-control-expose-headers"]
