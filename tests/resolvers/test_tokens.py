"""Token and chain resolvers: metadata with its spam flag, chains in configuration order."""

from __future__ import annotations

import pytest

from core.errors import InvalidAddress, UnsupportedChain
from core.models import TokenMeta, TokenRef, TokenStandard
from resolvers.tokens import chains, token
from tests.fakes.service import DAI, USDC, FakeProvider, erc20, make_chain, make_scope

BAIT = TokenRef("0x" + "8" * 40)


async def test_a_listed_token_is_served_from_the_list_and_trusted() -> None:
    provider = FakeProvider("eth")
    scope = make_scope(make_chain(provider, listed=[erc20("eth", USDC, "Visit claim.xyz", 6)]))
    meta, spam = await token(scope, "ETH", str(USDC).lower())
    assert (meta.token, meta.decimals, spam) == (USDC, 6, False)  # listed: no heuristic
    assert provider.rounds == 0


async def test_an_unlisted_token_is_read_and_judged_by_the_spam_heuristic() -> None:
    bait = TokenMeta("eth", BAIT, TokenStandard.ERC20, "$ CLAIM", "Visit claim-rewards.xyz", 18)
    provider = FakeProvider("eth", tokens={BAIT: bait, DAI: erc20("eth", DAI, "DAI")})
    scope = make_scope(make_chain(provider))
    assert await token(scope, "eth", str(BAIT)) == (bait, True)
    assert (await token(scope, "eth", str(DAI)))[1] is False


async def test_bad_chain_and_bad_address_are_user_errors() -> None:
    scope = make_scope(make_chain(FakeProvider("eth")))
    with pytest.raises(UnsupportedChain):
        await token(scope, "solana", "native")
    with pytest.raises(InvalidAddress) as info:
        await token(scope, "eth", "0x12")
    assert (info.value.chain, info.value.token) == ("eth", "0x12")


async def test_chains_are_listed_in_configuration_order() -> None:
    scope = make_scope(*(make_chain(FakeProvider(c)) for c in ("eth", "base", "arb")))
    assert [c.id for c in chains(scope)] == ["eth", "base", "arb"]
