"""BalanceLoader: every lookup of a request in one reader round per chain, errors as values."""

from __future__ import annotations

import asyncio

import pytest

from chains.reader import BalanceRequest, Freshness
from core.errors import TokenCallFailed, UpstreamError
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenRef
from loaders.balances import BalanceLoader
from tests.fakes.service import ALICE, BOB, DAI, USDC, FakeProvider, erc20, make_chain, make_scope

BROKEN = TokenRef("0x" + "3" * 40)


def request(chain: str, account: str, token: TokenRef, max_age: int = 300) -> BalanceRequest:
    return BalanceRequest(BalanceKey(chain, account, token), Freshness(max_age))


def loader(*providers: FakeProvider) -> BalanceLoader:
    return make_scope(*(make_chain(p) for p in providers)).loaders.balances


async def test_lookups_of_one_request_cost_one_round_per_chain_in_request_order() -> None:
    eth = FakeProvider("eth", balances={(ALICE, USDC): 5, (BOB, NATIVE_TOKEN): 7})
    base = FakeProvider("base", balances={(ALICE, NATIVE_TOKEN): 9})
    balances = loader(eth, base)
    asked = [
        request("eth", ALICE, USDC),
        request("base", ALICE, NATIVE_TOKEN),
        request("eth", BOB, NATIVE_TOKEN),
    ]
    outcomes = await balances.load_many(asked)
    assert [o.raw_amount for o in outcomes if isinstance(o, BalanceReading)] == [5, 9, 7]
    assert [o.key for o in outcomes if isinstance(o, BalanceReading)] == [r.key for r in asked]
    assert (eth.rounds, base.rounds) == (1, 1)


async def test_concurrent_loads_in_one_tick_share_the_round() -> None:
    eth = FakeProvider("eth", balances={(ALICE, USDC): 5, (BOB, USDC): 6})
    balances = loader(eth)
    first, second = await asyncio.gather(
        balances.load(request("eth", ALICE, USDC)), balances.load(request("eth", BOB, USDC))
    )
    assert (first.raw_amount, second.raw_amount) == (5, 6)
    assert eth.rounds == 1


async def test_the_same_balance_asked_with_two_max_ages_is_one_sub_call() -> None:
    eth = FakeProvider("eth", balances={(ALICE, USDC): 5})
    balances = loader(eth)
    outcomes = await balances.load_many(
        [request("eth", ALICE, USDC, max_age=10), request("eth", ALICE, USDC, max_age=600)]
    )
    assert [o.raw_amount for o in outcomes if isinstance(o, BalanceReading)] == [5, 5]
    assert eth.reads[0][0] == [BalanceKey("eth", ALICE, USDC)]


async def test_a_failed_lookup_is_a_value_in_load_many_and_raised_by_load() -> None:
    eth = FakeProvider("eth", failures={BROKEN: TokenCallFailed("balanceOf reverted")})
    balances = loader(eth)
    good, bad = await balances.load_many(
        [request("eth", ALICE, NATIVE_TOKEN), request("eth", ALICE, BROKEN)]
    )
    assert isinstance(good, BalanceReading)
    assert isinstance(bad, TokenCallFailed) and bad.token == str(BROKEN) and bad.account == ALICE
    with pytest.raises(TokenCallFailed):
        await loader(eth).load(request("eth", BOB, BROKEN))


async def test_one_chain_down_leaves_the_other_chains_answers() -> None:
    eth = FakeProvider("eth", balances={(ALICE, NATIVE_TOKEN): 1})
    down = FakeProvider("down")
    down.down = UpstreamError("node unreachable")
    outcomes = await loader(eth, down).load_many(
        [request("down", ALICE, NATIVE_TOKEN), request("eth", ALICE, NATIVE_TOKEN)]
    )
    assert isinstance(outcomes[0], UpstreamError) and outcomes[0].chain == "down"
    assert isinstance(outcomes[1], BalanceReading) and outcomes[1].raw_amount == 1


async def test_metadata_read_with_a_balance_primes_the_token_loader() -> None:
    eth = FakeProvider("eth", tokens={DAI: erc20("eth", DAI, "DAI")})
    scope = make_scope(make_chain(eth))
    await scope.loaders.balances.load(request("eth", ALICE, DAI))
    assert eth.reads == [([BalanceKey("eth", ALICE, DAI)], [DAI])]  # one round for both
    assert (await scope.loaders.tokens.load("eth", DAI)).symbol == "DAI"
    assert eth.rounds == 1


async def test_a_provider_bug_is_raised_not_served_as_a_value() -> None:
    eth = FakeProvider("eth")
    eth.crash = RuntimeError("provider bug")
    with pytest.raises(RuntimeError, match="provider bug"):
        await loader(eth).load_many([request("eth", ALICE, NATIVE_TOKEN)])
