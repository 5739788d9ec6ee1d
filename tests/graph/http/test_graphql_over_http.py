"""GraphQL over HTTP: the graphql-http audit, content negotiation, GET rules, APQ, caching."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    Devnet,
    cache_control,
    devnet_settings,
    fresh_for,
    live_server,
    run_node_test,
)

pytestmark = pytest.mark.integration

AUDIT = str(Path(__file__).with_name("audit.test.mjs"))


@pytest.fixture(scope="module")
def server(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(devnet_settings(tmp_path_factory.mktemp("http"), devnet)) as url:
        yield url


def test_graphql_http_audit_passes_every_check(server: str) -> None:
    output = run_node_test(AUDIT, {"BG_URL": f"{server}/graphql"})
    summary = json.loads(next(line for line in output.splitlines() if '"audits"' in line))
    assert summary["warn"] == 0 and summary["error"] == 0 and summary["ok"] == summary["audits"]


def test_media_types_and_request_error_statuses(server: str) -> None:
    url, bad = f"{server}/graphql", {"query": "{ nope }"}
    strict = httpx.post(url, json=bad, headers={"accept": "application/graphql-response+json"})
    assert strict.status_code == 400 and "data" not in strict.json()
    assert strict.headers["content-type"].startswith("application/graphql-response+json")
    legacy = httpx.post(url, json=bad, headers={"accept": "application/json"})
    assert legacy.status_code == 200 and "data" not in legacy.json()
    assert legacy.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert httpx.post(url, json=bad, headers={"accept": "text/csv"}).status_code == 406
    unsupported = httpx.post(
        url, content=b"{ chains { id } }", headers={"content-type": "text/plain"}
    )
    assert unsupported.status_code == 415


def test_get_runs_queries_but_refuses_mutations_with_405(server: str) -> None:
    url = f"{server}/graphql"
    ok = httpx.get(url, params={"query": "{ chains { id } }"})
    assert ok.status_code == 200 and ok.json()["data"]["chains"] == [{"id": "devnet"}]
    refused = httpx.get(url, params={"query": "mutation { x }"})
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


def test_get_responses_are_cacheable_for_the_smallest_max_age(server: str, devnet: Devnet) -> None:
    url = f"{server}/graphql"
    query = (
        '{ a: balance(account: "%s", chain: "devnet", token: "native", maxAge: 90) { rawAmount } '
        'b: balance(account: "%s", chain: "devnet", token: "native", maxAge: 30) { rawAmount } }'
        % (devnet.holder, devnet.holder)
    )
    scope, age = cache_control(httpx.get(url, params={"query": query}))
    assert scope == "public" and age in fresh_for(30)
    private = httpx.get(
        url, params={"query": query}, headers={"authorization": "Basic dXNlcjpwYXNz"}
    )
    scope, age = cache_control(private)
    assert scope == "private" and age in fresh_for(30)
    forced = query.replace("maxAge: 30", "forceRefresh: true")
    assert httpx.get(url, params={"query": forced}).headers["cache-control"] == "no-store"
    failing = '{ balance(account: "0xnope", chain: "devnet", token: "native") { rawAmount } }'
    assert httpx.get(url, params={"query": failing}).headers["cache-control"] == "no-store"
    assert httpx.post(url, json={"query": query}).headers["cache-control"] == "no-store"


def test_automatic_persisted_queries_over_post_and_get(server: str) -> None:
    url, query = f"{server}/graphql", "{ chains { id name } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    ext = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    missing = httpx.post(url, json={"extensions": ext})
    assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = httpx.post(url, json={"query": query, "extensions": ext})
    assert registered.json()["data"]["chains"][0]["id"] == "devnet"
    by_get = httpx.get(url, params={"extensions": json.dumps(ext)})
    assert by_get.status_code == 200 and by_get.json() == registered.json()
    assert by_get.headers["cache-control"].startswith("public, max-age=")
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    mismatch = httpx.post(url, json={"query": query, "extensions": wrong})
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


def test_persisted_queries_are_shared_through_redis(
    tmp_path: Path, devnet: Devnet, redis_url: str
) -> None:
    query = "{ chains { id } }"
    ext = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    settings = devnet_settings(tmp_path, devnet, environ={"REDIS_URL": redis_url})
    with live_server(settings) as first:
        httpx.post(f"{first}/graphql", json={"query": query, "extensions": ext})
    with live_server(settings) as second:  # another replica: only Redis connects them
        answer = httpx.get(f"{second}/graphql", params={"extensions": json.dumps(ext)})
    assert answer.json() == {"data": {"chains": [{"id": "devnet"}]}}
