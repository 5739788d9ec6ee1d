"""The Starlette app: request ids, `/health`, `/metrics` and CORS around `/graphql`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from devnet.anvil import find_free_port
from graph.app import create_app
from tests.conftest import Api, Devnet, dead_chain, dead_url, devnet_settings, serve
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline, offline_service, offline_settings


def test_request_ids_are_generated_when_absent_or_unsafe(api: Api) -> None:
    generated = api.client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    sane = api.client.get("/health", headers={"X-Request-ID": "trace-7.b_c"})
    assert sane.headers["x-request-id"] == "trace-7.b_c"
    for unsafe in ("has space", "x" * 65, "<script>"):
        answer = api.client.get("/health", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), unsafe


def test_health_reports_chains_and_cache(api: Api) -> None:
    ready = api.client.get("/health/ready").json()
    assert ready == api.client.get("/health").json()
    assert ready["status"] == "ready" and ready["cache"] == {"healthy": True}
    assert ready["metering"] == {"healthy": True}
    (endpoint,) = ready["chains"]["devnet"]["endpoints"]
    assert ready["chains"]["devnet"] == {"state": "up", "endpoints": {endpoint: "closed"}}
    assert endpoint.startswith("0:http://127.0.0.1/")  # scheme and host only, never a path
    assert api.client.get("/health/live").json() == {"status": "ok"}


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


# --- offline: the same app on the Starknet and Esplora fakes -------------------------------

ALICE_BALANCE = '{ balance(account: "%s", chain: "starknet", token: "native") { rawAmount } }'


def test_health_lists_the_configured_chains_in_order(offline: Offline) -> None:
    health = offline.api.client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ready"
    assert list(health.json()["chains"]) == ["starknet", "bitcoin"]


@pytest.mark.parametrize("path", ["/health", "/metrics", "/graphql?query={chains{id}}", "/nope"])
def test_every_response_echoes_a_sane_request_id(offline: Offline, path: str) -> None:
    answer = offline.api.client.get(path, headers={"X-Request-ID": "abc-123.x_y"})
    assert answer.headers["x-request-id"] == "abc-123.x_y"


@pytest.mark.parametrize(
    "incoming", [None, b"", b"x" * 65, b"has space", b"semi;colon", "ünï".encode(), b"a/b"]
)
def test_a_missing_or_unsafe_request_id_is_replaced(
    offline: Offline, incoming: bytes | None
) -> None:
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    answer = offline.api.client.get("/health", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    other = offline.api.client.get("/health", headers=headers)
    assert other.headers["x-request-id"] != answer.headers["x-request-id"]


def test_metrics_count_what_queries_cost_upstream(offline: Offline) -> None:
    body = offline.api.query(ALICE_BALANCE % stark.ALICE)
    assert body["data"]["balance"]["rawAmount"] == str(7 * 10**18)
    metrics = offline.api.client.get("/metrics")
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert 'upstream_requests_total{chain="starknet",method="batch"} 1.0\n' in metrics.text
    assert 'cache_lookups_total{result="miss"} 1.0\n' in metrics.text


def test_the_app_reads_its_config_from_balance_graph_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[chains.btc]\nfamily = "bitcoin"\nrpc_urls = ["https://esplora.example/api"]\n'
        'native = { symbol = "BTC", name = "Bitcoin", decimals = 8 }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BALANCE_GRAPH_CONFIG", str(config))
    monkeypatch.delenv("REDIS_URL", raising=False)
    with TestClient(create_app()) as client:
        assert list(client.get("/health").json()["chains"]) == ["btc"]


def test_a_dead_redis_is_reported_by_health_while_the_chain_still_answers(
    tmp_path: Path,
) -> None:
    dead = f"redis://127.0.0.1:{find_free_port()}/0"
    settings = offline_settings(tmp_path, cache={"redis_url": dead})
    for service in offline_service(settings):
        body = service.api.query(ALICE_BALANCE % stark.ALICE)
        assert body["data"]["balance"]["rawAmount"] == str(7 * 10**18)
        health = service.api.client.get("/health")
        assert health.json()["cache"] == {"healthy": False}
        # Redis also holds the keys: no keyed request can be admitted here, so not ready.
        assert health.status_code == 503 and health.json()["metering"] == {"healthy": False}


def test_browsers_of_the_configured_origins_only(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, server={"cors_origins": ["https://app.example"]})
    for service in offline_service(settings):
        client = service.api.client
        allowed = client.get("/health", headers={"origin": "https://app.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = client.get("/health", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_readiness_tells_a_dead_chain_from_a_dead_service(tmp_path: Path, devnet: Devnet) -> None:
    down = {**dead_chain(), "failure_threshold": 1}
    for api in serve(devnet_settings(tmp_path, devnet, extra_chains={"down": down})):
        before = api.client.get("/health/ready")
        assert before.json()["status"] == "ready"  # nothing learned yet, so nothing claimed
        api.query(
            '{ balance(account: "%s", chain: "down", token: "native") { rawAmount } }'
            % devnet.holder
        )
        after = api.client.get("/health/ready")
        assert after.status_code == 200  # the healthy chain still serves
        assert after.json()["status"] == "degraded"
        assert after.json()["chains"]["down"]["state"] == "down"
        assert after.json()["chains"]["devnet"]["state"] == "up"
        assert api.client.get("/health/live").status_code == 200


@pytest.mark.parametrize(("requires_chains", "status"), [(False, 200), (True, 503)])
def test_a_replica_whose_every_chain_is_down_stays_ready_unless_told_otherwise(
    tmp_path: Path, devnet: Devnet, requires_chains: bool, status: int
) -> None:
    # Every replica sees the same dead upstream: 503 would empty the load balancer.
    settings = devnet_settings(
        tmp_path,
        devnet,
        rpc_urls=[dead_url()],
        failure_threshold=1,
        server={"ready_requires_chains": requires_chains},
    )
    for api in serve(settings):
        api.query(
            '{ balance(account: "%s", chain: "devnet", token: "native") { rawAmount } }'
            % devnet.holder
        )
        ready = api.client.get("/health/ready")
        assert ready.status_code == status
        assert ready.json()["status"] == ("unavailable" if requires_chains else "degraded")
        assert ready.json()["chains"]["devnet"]["state"] == "down"
        assert ready.json()["metering"] == {"healthy": True}
        assert api.client.get("/health/live").status_code == 200


def test_requests_are_counted_and_timed_per_root_field(offline: Offline) -> None:
    client = offline.api.client
    client.post(
        "/graphql",
        json={"query": '{ chains { id } token(chain: "bitcoin", address: "native") { symbol } }'},
    )
    client.post("/graphql", json={"query": "{ chains { nope } }"})  # refused
    text = client.get("/metrics").text
    for field in ("chains", "token"):
        assert f'graphql_requests_total{{outcome="ok",root_field="{field}"}} 1.0' in text
        assert f'graphql_request_duration_seconds_count{{root_field="{field}"}} 1.0' in text
    assert 'graphql_requests_total{outcome="refused",root_field="-"} 1.0' in text


@pytest.mark.parametrize(
    "path", ["/health", "/health/live", "/metrics", "/nope", "/graphql?query={chains{id}}"]
)
def test_no_response_lets_a_browser_sniff_its_type(offline: Offline, path: str) -> None:
    assert offline.api.client.get(path).headers["x-content-type-options"] == "nosniff"


def test_the_root_points_to_graphiql_and_the_wallet_page_for_browsers_and_for_curl(
    offline: Offline,
) -> None:
    client = offline.api.client
    page = client.get("/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<a href="/graphql">/graphql</a>' in page.text
    assert '<a href="/wallet">/wallet</a>' in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # none at all
    assert "<script" not in page.text
    text = client.get("/", headers={"accept": "*/*"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text.splitlines()[1].startswith("/graphql ")
    assert text.text.splitlines()[2].startswith("/wallet ")
    assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 200
    assert client.get("/wallet", headers={"accept": "text/html"}).status_code == 200
