"""build_loaders: one request's loaders, sharing one token loader between balances and tokens."""

from __future__ import annotations

from chains.reader import BalanceRequest, Freshness
from chains.registry import ChainRegistry
from core.models import BalanceKey
from loaders.context import build_loaders
from tests.fakes.service import ALICE, DAI, FakeProvider, erc20, make_chain, price_reader


async def test_balances_prime_the_token_loader_the_resolvers_use() -> None:
    eth = FakeProvider("eth", tokens={DAI: erc20("eth", DAI, "DAI")})
    loaders = build_loaders(ChainRegistry({"eth": make_chain(eth)}), price_reader())
    await loaders.balances.load(BalanceRequest(BalanceKey("eth", ALICE, DAI), Freshness(300)))
    assert (await loaders.tokens.load("eth", DAI)).symbol == "DAI"
    assert eth.rounds == 1


async def test_each_request_gets_loaders_of_its_own() -> None:
    eth = FakeProvider("eth", tokens={DAI: erc20("eth", DAI, "DAI")})
    registry = ChainRegistry({"eth": make_chain(eth)})
    first, second = build_loaders(registry, price_reader()), build_loaders(registry, price_reader())
    assert first.tokens is not second.tokens and first.balances is not second.balances
    first.tokens.prime(erc20("eth", DAI, "primed in another request"))
    assert (await second.tokens.load("eth", DAI)).symbol == "DAI"  # read (then cached), not primed
