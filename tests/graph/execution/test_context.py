"""Context.report: errors beside the data, at the field's path. An error about one item is
reported at that item; a failure met by many rows (no item) is reported once."""

from __future__ import annotations

import strawberry

from core.errors import PriceUnavailable, ServiceError, UpstreamError
from graph.execution.context import Context, Info
from tests.fakes.service import make_scope

REPORTS: list[tuple[ServiceError, tuple[str | int, ...]]] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self, info: Info) -> list[int]:
        for error, path in REPORTS:
            info.context.report(info, error, *path)
        return [1, 2, 3]


async def reported(*reports: tuple[ServiceError, tuple[str | int, ...]]) -> Context:
    REPORTS[:] = reports
    context = Context(scope=make_scope(), request_id="r-1")
    result = await strawberry.Schema(Query).execute("{ items }", context_value=context)
    assert result.errors is None and result.data == {"items": [1, 2, 3]}
    return context


async def test_an_error_is_placed_under_the_field_with_its_extensions() -> None:
    down = UpstreamError("node down", chain="base", account="0xA")
    context = await reported((down, (1, "balances")))
    (error,) = context.partial_errors
    assert error.path == ["items", 1, "balances"]
    assert error.message == "node down" and error.original_error is down
    assert error.extensions == down.extensions


async def test_one_failure_met_many_times_without_an_item_is_reported_once() -> None:
    outage = PriceUnavailable("DefiLlama failed: HTTP 503")
    context = await reported(*[(outage, ()) for _ in range(3)])
    assert [e.path for e in context.partial_errors] == [["items"]]


async def test_equal_errors_are_one_failure_even_as_different_objects() -> None:
    context = await reported(
        (UpstreamError("node down", chain="base"), ()),
        (UpstreamError("node down", chain="base"), ()),
    )
    assert len(context.partial_errors) == 1


async def test_the_same_error_about_several_items_is_reported_at_each() -> None:
    bad = UpstreamError("node down", chain="base")
    context = await reported((bad, (0,)), (bad, (2,)), (bad, (2,)))
    assert [e.path for e in context.partial_errors] == [["items", 0], ["items", 2]]


async def test_errors_that_differ_in_code_message_or_key_are_all_reported() -> None:
    context = await reported(
        (UpstreamError("node down", chain="base"), ()),
        (UpstreamError("node down", chain="eth"), ()),
        (UpstreamError("node slow", chain="base"), ()),
        (PriceUnavailable("node down", chain="base"), ()),
    )
    assert len(context.partial_errors) == 4
