"""BodySizeLimit: a request body over the limit is refused with 413 before any parsing."""

from __future__ import annotations

from tests.conftest import Api


def test_oversized_bodies_are_refused(api: Api) -> None:
    huge = api.client.post(
        "/graphql",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
