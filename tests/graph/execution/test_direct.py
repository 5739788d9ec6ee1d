"""The direct executor answers exactly as graphql-core's own: data, errors, paths, order.

First on a small schema built to hit every edge (nulls in non-null fields, values a scalar
refuses, resolvers behind `served_from`, async fields inside served objects, lists whose
items fail), then on the service's schema with generated operations, both executors reading
the same cached values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries

from graph.checks.documents import Document
from graph.execution import direct as executor_module
from graph.execution.direct import SERVED_FROM, Child, Leaf, direct_fields, executor_for
from graph.execution.run import run
from graph.schema.subgraph import build_schema
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline, offline_service, offline_settings
from tests.graph.test_fuzz import SCALARS


@strawberry.type
class Inner:
    n: int
    text: str | None
    big: int
    known: strawberry.Private[int | None] = None

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later-{self.n}"

    @strawberry.field(metadata={SERVED_FROM: "known"})
    def explained(self) -> int | None:
        if self.known is None:
            raise ValueError(f"no value for {self.n}")
        return self.known


@strawberry.type
class Row:
    name: str
    inner: Inner
    maybe: Inner | None
    tags: list[str]

    @strawberry.field
    def computed(self) -> int:
        return len(self.name)


def row(name: Any, n: int, *, big: int = 1, known: int | None = 7, maybe: bool = True) -> Row:
    inner = Inner(n=n, text=None if n % 2 else f"t{n}", big=big, known=known)
    return Row(name=name, inner=inner, maybe=inner if maybe else None, tags=[name or "", "x"])


GOOD = [row("a", 1), row("bb", 2, maybe=False), row("ccc", 3, known=None)]


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return GOOD

    @strawberry.field
    def nameless(self) -> list[Row]:  # a non-null `name` that is None: the list is lost
        return [row("a", 1), row(None, 2)]

    @strawberry.field
    def nullable_items(self) -> list[Row | None] | None:
        return [row("a", 1), None, row(None, 3), row("d", 4, big=2**40)]

    @strawberry.field
    async def async_rows(self) -> list[Row]:
        await asyncio.sleep(0)
        return GOOD

    @strawberry.field
    def one(self) -> Row | None:
        return row("z", 9, big=2**40)


SMALL = strawberry.Schema(query=Query)._schema
FIELDS = "name computed tags inner { n text big later explained __typename } maybe { n }"
CASES = [
    f"{{ rows {{ {FIELDS} }} }}",
    f"{{ nameless {{ {FIELDS} }} }}",
    f"{{ nullableItems {{ {FIELDS} }} }}",
    "{ nullableItems { name } }",
    "{ nullableItems { inner { big } } }",
    f"{{ asyncRows {{ {FIELDS} }} }}",
    "{ one { inner { big n } maybe { big } } }",
    "{ rows { b: name a: name, ...F, ... on Row { inner { n } } } } fragment F on Row { tags }",
    "query($s: Boolean!) { rows { name @skip(if: $s) inner @include(if: $s) { n } } }",
    "{ rows { __typename inner { __typename explained } } }",
    # wholly plain selections: compiled rows, and rows they must hand back (None, 2^40)
    "{ rows { name inner { n text big explained __typename } maybe { n text } } }",
    "{ nullableItems { x: name inner { big } maybe { n } } }",
]
COMPILED = CASES[-2:]


def results(query: str, variables: dict[str, Any] | None = None) -> list[Any]:
    """The same operation through graphql-core's executor and through ours: data, errors
    (message and path) and the order of the top-level keys."""

    async def once(executor: Any) -> ExecutionResult:
        outcome = execute(SMALL, parse(query), variable_values=variables, executor_class=executor)
        result = outcome if isinstance(outcome, ExecutionResult) else await outcome
        await asyncio.sleep(0.01)  # what a failed list leaves behind settles in the loop
        return result

    answers = []
    for executor in (None, executor_for(SMALL)):
        result = asyncio.run(once(executor))
        errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
        answers.append((result.data, errors, list((result.data or {}).items())))
    return answers


@pytest.mark.parametrize("query", CASES)
def test_the_direct_executor_answers_as_graphql_core_does(query: str) -> None:
    variables = {"s": True} if "$s" in query else None
    stock, direct = results(query, variables)
    assert direct == stock
    if "$s" in query:
        assert results(query, {"s": False})[0] == results(query, {"s": False})[1]


def test_the_cases_reach_every_edge() -> None:
    """The comparisons above mean something only if these paths are taken."""
    plan = direct_fields(SMALL)
    assert isinstance(plan["Row"]["name"], Leaf) and isinstance(plan["Row"]["inner"], Child)
    explained = plan["Inner"]["explained"]
    assert isinstance(explained, Leaf) and explained == Leaf("known", explained.serialize, True)
    assert "later" not in plan["Inner"] and "computed" not in plan["Row"]
    data, errors, _ = results(CASES[2])[0]
    assert data["nullableItems"][1] is None and data["nullableItems"][2] is None
    assert any("non-nullable" in message for message, _ in errors)
    assert any("32-bit" in message for message, _ in errors)
    data, errors, _ = results(CASES[1])[0]  # a non-null item lost: the whole answer is null
    assert data is None and errors[0] == (
        "Cannot return null for non-nullable field Row.name.",
        ("nameless", 1, "name"),
    )


def test_plain_selections_are_built_by_compiled_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last cases take the compiled path, and hand rows back to graphql-core."""
    built: list[dict[str, Any] | None] = []
    compile_rows = executor_module._builder

    def counting(ops: Any) -> Any:
        build = compile_rows(ops)

        def counted(source: Any) -> Any:
            built.append(build(source))
            return built[-1]

        return counted

    monkeypatch.setattr(executor_module, "_builder", counting)
    for query in COMPILED:
        stock, direct = results(query)
        assert direct == stock
    assert any(row is not None for row in built) and None in built


def test_the_service_schema_is_mostly_served_directly() -> None:
    plan = direct_fields(build_schema()._schema)
    assert {"chain", "rawAmount", "blockNumber", "lastUpdated", "amount", "token"} <= set(
        plan["Balance"]
    )
    assert {"address", "symbol", "decimals"} <= set(plan["Token"])
    assert "valueUsd" not in plan["Balance"]  # async: graphql-core's


# --- the service's schema, generated operations ------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Offline]:
    yield from offline_service(offline_settings(tmp_path_factory.mktemp("executor")))


def both(service: Offline, document: Document) -> list[dict[str, Any]]:
    pipeline = service.api.services.pipeline
    request = SimpleNamespace(state=SimpleNamespace(request_id="differential"))

    async def once(executor: Any) -> dict[str, Any]:
        context = pipeline.context(request)  # type: ignore[arg-type]
        body = await run(pipeline.schema, document, None, None, context, executor)
        body["errors"] = sorted(map(repr, body.get("errors", [])))
        return body

    portal = service.api.client.portal
    assert portal is not None
    return [portal.call(once, executor) for executor in (None, pipeline.executor, None)]


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(query=queries(build_schema()._schema, custom_scalars=SCALARS))
def test_generated_operations_answer_alike_on_both_executors(service: Offline, query: str) -> None:
    document = service.api.services.pipeline.planner.documents.load(query)
    if not isinstance(document, Document) or document.operation(None) is None:
        return  # refused before execution: nothing to compare
    warm, direct, again = both(service, document)
    if warm != again:  # a value that changes between runs (a cache expiry): not comparable
        return
    assert direct == warm, query


RICH = """query($pairs: [BalanceKeyInput!]!, $reps: [_Any!]!) {
  chains { __typename id name family chainId nativeToken { symbol decimals priceUsd } }
  a: account(address: "%(alice)s") {
    address
    balances(includeZero: true) {
      chain rawAmount amount valueUsd blockNumber lastUpdated unconfirmedRawDelta
      token { chain address tokenId standard symbol name decimals logo isSpam priceUsd }
      account { address }
    }
    portfolio { totalUsd complete unpricedCount byChain { chain totalUsd } }
  }
  bad: account(address: "0xnope") { address }
  balances(pairs: $pairs) { chain rawAmount amount token { symbol decimals } }
  _entities(representations: $reps) {
    ... on Account { address balances { rawAmount } }
    ... on Token { symbol decimals }
  }
}"""


def test_a_rich_operation_answers_alike_with_data_and_errors(service: Offline) -> None:
    query = RICH % {"alice": stark.ALICE}
    variables = {
        "pairs": [
            {"account": stark.ALICE, "chain": "starknet", "token": stark.TOKEN},
            {"account": "0xnope", "chain": "starknet", "token": "native"},
            {"account": stark.BOB, "chain": "starknet", "token": stark.MISSING},
        ],
        "reps": [
            {"__typename": "Account", "address": stark.BOB},
            {"__typename": "Token", "chain": "starknet", "address": stark.TOKEN},
            {"__typename": "Account", "address": "nope"},
        ],
    }
    document = service.api.services.pipeline.planner.documents.load(query)
    assert isinstance(document, Document), document
    pipeline = service.api.services.pipeline
    request = SimpleNamespace(state=SimpleNamespace(request_id="rich"))

    async def once(executor: Any) -> dict[str, Any]:
        context = pipeline.context(request)  # type: ignore[arg-type]
        return await run(pipeline.schema, document, None, variables, context, executor)

    portal = service.api.client.portal
    assert portal is not None
    stock = portal.call(once, None)
    direct = portal.call(once, pipeline.executor)
    assert direct == stock
    assert stock["data"]["a"]["balances"] and stock["data"]["bad"] is None
    assert stock["data"]["balances"][1] is None and stock["data"]["_entities"][1]["symbol"]
    assert {e["extensions"]["code"] for e in stock["errors"]} >= {"INVALID_ADDRESS"}
