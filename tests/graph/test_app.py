"""The Starlette app: request ids, `/health`, `/metrics` and CORS around `/graphql`."""

from __future__ import annotations

import re

from tests.conftest import Api


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
