"""GraphQL over HTTP (graph/http/endpoint.py) on the offline service: negotiation, request
errors, GET rules, persisted queries and Cache-Control (test_graphql_over_http.py runs the
graphql-http audit)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from tests.conftest import cache_control, fresh_for
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline

GRAPHQL_RESPONSE = "application/graphql-response+json"
CHAINS = "{ chains { id } }"
BALANCE = (
    'query($max: Int, $force: Boolean) { balance(account: "%s", chain: "starknet", '
    'token: "native", maxAge: $max, forceRefresh: $force) { rawAmount } }' % stark.ALICE
)


def post(offline: Offline, body: Any, **headers: str) -> httpx.Response:
    response: httpx.Response = offline.api.client.post("/graphql", json=body, headers=headers)
    return response


def get(offline: Offline, params: dict[str, str], **headers: str) -> httpx.Response:
    response: httpx.Response = offline.api.client.get("/graphql", params=params, headers=headers)
    return response


def code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.1, application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, */*", "application/json"),
    ],
)
def test_the_response_media_type_is_negotiated(
    offline: Offline, accept: str | None, media: str
) -> None:
    headers = {} if accept is None else {"accept": accept}
    answer = post(offline, {"query": CHAINS}, **headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{media}; charset=utf-8"
    assert answer.json()["data"]["chains"][0] == {"id": "starknet"}


@pytest.mark.parametrize("accept", ["text/csv", "application/json;q=0", "application/xml"])
def test_an_unacceptable_accept_is_406(offline: Offline, accept: str) -> None:
    answer = post(offline, {"query": CHAINS}, accept=accept)
    assert answer.status_code == 406 and code(answer) == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b'{"query": "{ chains { id } }"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            b'{"query": "{ chains { id } }"}',
            "application/json; charset=latin-1",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (b"", "application/json", 400, "BAD_REQUEST"),
        (b"{not json", "application/json", 400, "BAD_REQUEST"),
        (b'["{ chains { id } }"]', "application/json", 400, "BAD_REQUEST"),
        (b'{"query": 42}', "application/json", 400, "BAD_REQUEST"),
        (
            b'{"query": "{ chains { id } }", "variables": []}',
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
    ],
)
def test_malformed_requests_are_refused_before_execution(
    offline: Offline, content: bytes, content_type: str, status: int, error: str
) -> None:
    answer = offline.api.client.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert answer.status_code == status
    assert "data" not in answer.json()
    assert code(answer) == error
    assert answer.headers["cache-control"] == "no-store"


def test_a_charset_of_utf_8_is_accepted(offline: Offline) -> None:
    answer = offline.api.client.post(
        "/graphql",
        content=json.dumps({"query": CHAINS}).encode(),
        headers={"content-type": 'application/json; charset="UTF-8"'},
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("query", "variables", "error"),
    [
        ("{ chains { id }", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        (BALANCE, {"max": "soon"}, "BAD_USER_INPUT"),
    ],
)
def test_request_errors_are_400_under_graphql_response_json_and_200_under_json(
    offline: Offline, query: str, variables: dict[str, Any] | None, error: str
) -> None:
    body = {"query": query, "variables": variables}
    strict = post(offline, body, accept=GRAPHQL_RESPONSE)
    legacy = post(offline, body, accept="application/json")
    assert (strict.status_code, legacy.status_code) == (400, 200)
    for answer in (strict, legacy):
        assert "data" not in answer.json() and code(answer) == error
    assert offline.node.batches == []  # nothing was executed


def test_get_runs_queries_and_refuses_anything_else_with_405(offline: Offline) -> None:
    assert get(offline, {"query": CHAINS}).json()["data"]["chains"][1] == {"id": "bitcoin"}
    refused = get(offline, {"query": "mutation { x }"})
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert code(refused) == "METHOD_NOT_ALLOWED"
    bad = get(offline, {"query": CHAINS, "variables": "{not json"})
    assert bad.status_code == 400 and code(bad) == "BAD_REQUEST"


def test_get_responses_may_be_cached_for_the_smallest_max_age(offline: Offline) -> None:
    scope, age = cache_control(get(offline, {"query": CHAINS}))
    assert scope == "public" and age in fresh_for(300)
    short = get(offline, {"query": BALANCE, "variables": '{"max": 30}'})
    scope, age = cache_control(short)
    assert scope == "public" and age in fresh_for(30)
    private = get(offline, {"query": BALANCE}, authorization="Basic dXNlcjpwYXNz")
    scope, age = cache_control(private)
    assert scope == "private" and age in fresh_for(300)


def test_post_forced_and_failed_responses_are_never_cached(offline: Offline) -> None:
    assert post(offline, {"query": CHAINS}).headers["cache-control"] == "no-store"
    forced = get(offline, {"query": BALANCE, "variables": '{"force": true}'})
    assert forced.headers["cache-control"] == "no-store"
    failed = get(offline, {"query": '{ account(address: "nope") { address } }'})
    assert failed.json()["errors"] and failed.headers["cache-control"] == "no-store"


def test_serving_prices_caps_the_max_age_at_the_price_ttl(offline: Offline) -> None:
    query = '{ account(address: "%s") { balances { valueUsd } } }' % stark.ALICE
    answer = get(offline, {"query": query})
    assert answer.json()["data"]["account"]["balances"][0]["valueUsd"] == "3.5"
    scope, age = cache_control(answer)
    assert scope == "public" and age in fresh_for(60)


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_automatic_persisted_queries(offline: Offline) -> None:
    digest = hashlib.sha256(CHAINS.encode()).hexdigest()
    unknown = post(offline, {"extensions": apq(digest)})
    assert unknown.status_code == 200 and code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    stored = post(offline, {"query": CHAINS, "extensions": apq(digest)})
    assert stored.json()["data"]["chains"][0] == {"id": "starknet"}
    again = get(offline, {"extensions": json.dumps(apq(digest.upper()))})
    assert again.status_code == 200 and again.json()["data"] == stored.json()["data"]


@pytest.mark.parametrize(
    ("extensions", "query", "error"),
    [
        (apq("0" * 64), CHAINS, "PERSISTED_QUERY_HASH_MISMATCH"),
        (apq("abc"), None, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}, None, "BAD_REQUEST"),
    ],
)
def test_a_bad_persisted_query_is_refused(
    offline: Offline, extensions: dict[str, Any], query: str | None, error: str
) -> None:
    answer = post(offline, {"query": query, "extensions": extensions})
    assert answer.status_code == 400 and code(answer) == error
