"""Executing a document, and errors in responses: ours keep their code beside the data,
anything else is masked with the request id and logged."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from graphql import GraphQLError

from chains.base import Reading
from chains.evm.provider import EvmProvider
from chains.starknet.provider import StarknetProvider
from core.errors import InvalidAddress
from core.models import BalanceKey
from graph.checks.documents import Document, DocumentCache
from graph.execution.context import Context
from graph.execution.run import public, run
from graph.schema.subgraph import build_schema
from settings import LimitsConfig
from tests.conftest import Api, Devnet
from tests.fakes import esplora
from tests.fakes import starknet as stark
from tests.fakes.service import FakeProvider, make_chain, make_scope
from tests.graph.conftest import Offline


async def _explode(
    self: EvmProvider | StarknetProvider, balances: Sequence[BalanceKey], tokens: Sequence[str]
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


# --- offline and in-process ----------------------------------------------------------------


def test_an_unexpected_error_on_another_family_is_masked_too(
    offline: Offline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(StarknetProvider, "read", _explode)
    with caplog.at_level(logging.ERROR, logger="balance_graph.errors"):
        response = offline.api.client.post(
            "/graphql",
            json={
                "query": '{ chains { id } b: balance(account: "%s", chain: "starknet", '
                'token: "native") { rawAmount } }' % stark.ALICE
            },
            headers={"X-Request-ID": "req-7"},
        )
    body = response.json()
    assert body["data"] == {"chains": [{"id": "starknet"}, {"id": "bitcoin"}], "b": None}
    (error,) = body["errors"]
    assert (error["message"], error["path"]) == ("Internal error", ["b"])
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-7",
        "retryable": True,
    }
    assert "hunter2" not in response.text
    (record,) = [r for r in caplog.records if r.name == "balance_graph.errors"]
    assert record.getMessage() == "request req-7: unexpected error at b"
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


def test_errors_reported_beside_data_keep_their_code_and_place(offline: Offline) -> None:
    body = offline.api.query(
        "query($a: [String!]!) { accounts(addresses: $a) { address } }",
        {"a": [stark.ALICE, "nope", esplora.P2TR]},
    )
    assert body["data"]["accounts"] == [{"address": stark.ALICE}, None, {"address": esplora.P2TR}]
    (error,) = body["errors"]
    assert error["path"] == ["accounts", 1]
    assert error["extensions"]["code"] == "INVALID_ADDRESS"
    assert error["extensions"]["account"] == "nope"


def test_our_errors_are_shown_as_they_are_and_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    ours = GraphQLError("bad address", original_error=InvalidAddress("bad address"), path=["a"])
    with caplog.at_level(logging.ERROR, logger="balance_graph.errors"):
        assert public(ours, "req-9") is ours
    assert caplog.records == []


@pytest.mark.parametrize(
    ("error", "where"),
    [
        (GraphQLError("bug", original_error=RuntimeError("hunter2"), path=["b", 0, "c"]), "b.0.c"),
        (GraphQLError("whole", original_error=KeyError("hunter2")), "(operation)"),
        (GraphQLError("no original: hunter2", path=["d"]), "d"),
    ],
)
def test_anything_else_is_masked_and_logged_with_the_request_id(
    error: GraphQLError, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="balance_graph.errors"):
        shown = public(error, "req-9")
    assert shown.message == "Internal error" and shown.path == error.path
    assert shown.extensions == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-9",
        "retryable": True,
    }
    assert "hunter2" not in str(shown.formatted)
    (record,) = caplog.records
    assert record.getMessage() == f"request req-9: unexpected error at {where}"
    assert record.exc_info is not None  # the cause reaches the operator's log


async def test_run_appends_the_errors_reported_beside_the_data() -> None:
    schema = build_schema()._schema
    document = DocumentCache(schema, LimitsConfig(), 10**6).load(
        '{ chains { id } accounts(addresses: ["nope", "0x12"]) { address } }'
    )
    assert isinstance(document, Document)
    context = Context(scope=make_scope(make_chain(FakeProvider("eth"))), request_id="r-1")
    body = await run(schema, document, None, None, context)
    assert body["data"] == {"chains": [{"id": "eth"}], "accounts": [None, None]}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["accounts", 0], "INVALID_ADDRESS"),
        (["accounts", 1], "INVALID_ADDRESS"),
    ]
