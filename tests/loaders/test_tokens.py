"""TokenLoader: listed tokens cost nothing, the rest one read per chain, failures as values."""

from __future__ import annotations

import pytest

from core.errors import TokenCallFailed
from core.models import TokenMeta, TokenRef
from loaders.tokens import TokenLoader
from tests.fakes.service import DAI, USDC, FakeProvider, erc20, make_chain, make_scope

WBTC = TokenRef("0x" + "2" * 40)


def loader(*providers: FakeProvider, listed: bool = True) -> TokenLoader:
    chains = [
        make_chain(p, listed=[erc20(p.chain, USDC, "USDC", 6)] if listed else []) for p in providers
    ]
    return make_scope(*chains).loaders.tokens


async def test_listed_tokens_are_answered_without_reading_the_chain() -> None:
    provider = FakeProvider("eth")
    tokens = loader(provider)
    meta = await tokens.load("eth", USDC)
    (many,) = await tokens.load_many([("eth", USDC)])
    assert (meta.symbol, meta.decimals) == ("USDC", 6)
    assert many == meta
    assert provider.rounds == 0


async def test_unlisted_tokens_cost_one_read_per_chain_answered_in_key_order() -> None:
    eth = FakeProvider("eth", tokens={DAI: erc20("eth", DAI, "DAI"), WBTC: erc20("eth", WBTC, "W")})
    base = FakeProvider("base", tokens={DAI: erc20("base", DAI, "bDAI")})
    tokens = loader(eth, base)
    metas = await tokens.load_many([("eth", DAI), ("base", DAI), ("eth", USDC), ("eth", WBTC)])
    assert [m.symbol for m in metas if isinstance(m, TokenMeta)] == [
        "DAI",
        "bDAI",
        "USDC",
        "W",
    ]
    assert eth.reads == [([], [DAI, WBTC])]
    assert base.reads == [([], [DAI])]


async def test_an_unreadable_token_is_a_value_in_load_many_and_raised_by_load() -> None:
    provider = FakeProvider("eth", tokens={DAI: erc20("eth", DAI, "DAI")})
    tokens = loader(provider)
    good, bad = await tokens.load_many([("eth", DAI), ("eth", WBTC)])
    assert isinstance(good, TokenMeta) and good.symbol == "DAI"
    assert isinstance(bad, TokenCallFailed) and (bad.chain, bad.token) == ("eth", str(WBTC))
    with pytest.raises(TokenCallFailed):
        await tokens.load("eth", WBTC)


async def test_primed_metadata_costs_no_read() -> None:
    provider = FakeProvider("eth")
    tokens = loader(provider)
    tokens.prime(erc20("eth", DAI, "DAI", 18))
    assert (await tokens.load("eth", DAI)).symbol == "DAI"
    assert provider.rounds == 0


async def test_a_provider_bug_is_raised_not_served_as_a_value() -> None:
    provider = FakeProvider("eth")
    provider.crash = RuntimeError("provider bug")
    tokens = loader(provider)
    with pytest.raises(RuntimeError, match="provider bug"):
        await tokens.load_many([("eth", DAI)])
