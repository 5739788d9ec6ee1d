"""Errors in responses: ours keep their code beside the data, anything else is masked."""

from __future__ import annotations

import logging
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


def test_expected_errors_are_not_logged_as_errors(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        body = api.query('{ account(address: "nope") { address } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ADDRESS"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_bad_argument_on_root_balances_keeps_its_siblings(api: Api, devnet: Devnet) -> None:
    body = api.query(
        '{ chains { id } b: balance(account: "%s", chain: "devnet", token: "native") '
        "{ rawAmount } balances(pairs: [], maxAge: -1) { chain } }" % devnet.holder
    )
    assert body["data"]["chains"] == [{"id": "devnet"}]
    assert body["data"]["b"]["rawAmount"] == str(devnet.chain.get_balance(devnet.holder))
    assert body["data"]["balances"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
