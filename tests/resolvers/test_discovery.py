"""Discovered tokens join the listed ones in one read; `discover` follows the chain's setting
unless the caller says otherwise; the cost model prices discovery before any I/O."""

from __future__ import annotations

import asyncio
import dataclasses

from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from chains.discovery.service import BackgroundScans, Discovery
from chains.registry import Chain, ChainRegistry
from core.errors import DiscoveryUnavailable
from core.models import NATIVE_TOKEN, ChainFamily, TokenRef
from graph.checks.cost import CostModel
from graph.schema.subgraph import build_schema
from resolvers.account import Selection, account_balances
from settings import LimitsConfig
from tests.fakes.discovery import ScriptedChain, ScriptedRanges
from tests.fakes.service import ALICE, BOB, USDC, FakeProvider, erc20, make_chain, make_scope

FOUND = TokenRef("0x00000000000000000000000000000000000F00D1")
DEPTH = 4
SCHEMA = build_schema()._schema


def discovering_chain(provider: FakeProvider, script: ScriptedChain) -> Chain:
    chain = make_chain(provider, listed=[erc20(provider.chain, USDC, "USDC", 6)])
    service = Discovery(
        provider.chain,
        [ScriptedRanges(script)],
        head=script.read_head,
        finality_depth=DEPTH,
        from_block=0,
        max_tokens=100,
        budget=BackgroundScans(4),
    )
    return dataclasses.replace(chain, discovery=service)


def script() -> ScriptedChain:
    chain = ScriptedChain(head=500)
    chain.move(ALICE, 100, FOUND)
    chain.move(BOB, 200, FOUND)
    return chain


async def test_found_tokens_are_read_with_the_listed_ones_in_one_round() -> None:
    provider = FakeProvider(
        "eth",
        balances={(ALICE, FOUND): 7, (ALICE, USDC): 3, (BOB, FOUND): 9},
        tokens={FOUND: erc20("eth", FOUND, "FND", 18)},
    )
    scope = make_scope(discovering_chain(provider, script()))
    selection = Selection(min_value_usd=None, include_zero=True)
    alice, bob = await asyncio.gather(
        account_balances(scope, ALICE, selection, None, None),
        account_balances(scope, BOB, selection, None, None),
    )
    assert {r.reading.key.token: r.reading.raw_amount for r in alice[0]} == {
        NATIVE_TOKEN: 0,
        USDC: 3,
        FOUND: 7,
    }
    assert {r.reading.key.token for r in bob[0]} == {NATIVE_TOKEN, USDC, FOUND}
    assert alice[1] == [] and bob[1] == []
    assert provider.rounds == 1  # both accounts, listed and found: one round


async def test_discover_false_reads_the_list_only_and_true_says_where_it_cannot() -> None:
    provider = FakeProvider("eth", balances={(ALICE, FOUND): 7})
    plain = FakeProvider("plain")
    scope = make_scope(discovering_chain(provider, script()), make_chain(plain))
    off = Selection(include_zero=True, discover=False)
    rows, errors = await account_balances(scope, ALICE, off, None, None)
    assert FOUND not in {r.reading.key.token for r in rows} and errors == []
    on = Selection(include_zero=True, discover=True)
    rows, errors = await account_balances(scope, ALICE, on, None, None)
    assert FOUND in {r.reading.key.token for r in rows}
    assert [(type(e), e.chain) for e in errors] == [(DiscoveryUnavailable, "plain")]
    named = Selection(tokens=["native"], include_zero=True, discover=True)
    rows, _ = await account_balances(scope, ALICE, named, None, None)
    assert {r.reading.key.token for r in rows} == {NATIVE_TOKEN}  # named tokens: exactly those


async def test_asking_bitcoin_to_discover_is_not_an_error_it_has_no_tokens() -> None:
    satoshi = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    scope = make_scope(make_chain(FakeProvider("btc", family=ChainFamily.BITCOIN)))
    rows, errors = await account_balances(
        scope, satoshi, Selection(include_zero=True, discover=True), None, None
    )
    assert [r.reading.key.token for r in rows] == [NATIVE_TOKEN] and errors == []


async def test_discovery_is_priced_before_any_io_and_what_was_found_is_priced_next_time() -> None:
    provider = FakeProvider("eth")
    moves = script()
    moves.move(ALICE, 150, USDC)  # listed: found too, but already priced with the list
    chain = discovering_chain(provider, moves)
    registry = ChainRegistry({"eth": chain})
    model = CostModel(SCHEMA, registry, LimitsConfig(discovery_lookups=10))
    query = 'query($d: Boolean) { account(address: "%s") { balances(discover: $d) { rawAmount } } }'

    def cost(discover: bool | None) -> int:
        document = parse(query % ALICE)
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        definitions = operation.variable_definitions or ()
        variables = get_variable_values(SCHEMA, definitions, {"d": discover})
        assert not isinstance(variables, list)
        return model.price(document, operation, variables).lookups

    listed = 2  # native and USDC
    assert cost(False) == listed
    assert cost(None) == listed + 10  # cold: the scan's fixed cost
    assert chain.discovery is not None
    await chain.discovery.discover(ALICE)
    assert cost(None) == listed + 10 + 1  # the token it found beyond the list is now known
    assert provider.rounds == 0  # pricing read nothing
