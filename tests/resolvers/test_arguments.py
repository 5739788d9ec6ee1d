"""Argument validation: freshness, and addresses parsed by the chain family that reads them."""

from __future__ import annotations

import pytest

from chains.reader import Freshness
from core.errors import BadUserInput, InvalidAddress
from core.models import NATIVE_TOKEN, ChainFamily
from resolvers.arguments import account_on, canonical_account, freshness, token_on
from tests.fakes.service import ALICE, USDC, FakeProvider, make_chain, make_scope

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"  # the genesis block's P2PKH address


async def test_freshness_defaults_to_the_configured_max_age() -> None:
    scope = make_scope(make_chain(FakeProvider("eth")), default_max_age=120)
    assert freshness(scope, None, None) == Freshness(120, force_refresh=False)
    assert freshness(scope, 0, None) == Freshness(0)
    assert freshness(scope, 3600, True) == Freshness(3600, force_refresh=True)


@pytest.mark.parametrize("max_age", [-1, -300])
async def test_a_negative_max_age_is_bad_user_input(max_age: int) -> None:
    scope = make_scope(make_chain(FakeProvider("eth")))
    with pytest.raises(BadUserInput, match=f"maxAge must be zero or more seconds, got {max_age}"):
        freshness(scope, max_age, False)


def test_account_on_answers_the_family_canonical_form() -> None:
    eth = make_chain(FakeProvider("eth"))
    assert account_on(eth, ALICE.lower()) == ALICE


def test_an_invalid_account_names_the_chain_and_the_input() -> None:
    eth = make_chain(FakeProvider("eth"))
    with pytest.raises(InvalidAddress) as info:
        account_on(eth, "0x123")
    assert info.value.extensions == {
        "code": "INVALID_ADDRESS",
        "chain": "eth",
        "account": "0x123",
        "retryable": False,
    }


def test_token_on_parses_native_and_contracts_and_names_a_bad_token() -> None:
    eth = make_chain(FakeProvider("eth"))
    assert token_on(eth, "NATIVE") == NATIVE_TOKEN
    assert token_on(eth, str(USDC).lower()) == USDC
    with pytest.raises(InvalidAddress) as info:
        token_on(eth, "USDC")
    assert (info.value.chain, info.value.token, info.value.account) == ("eth", "USDC", None)


async def test_canonical_account_is_the_form_of_the_first_family_that_accepts_it() -> None:
    scope = make_scope(
        make_chain(FakeProvider("eth")),
        make_chain(FakeProvider("bitcoin", family=ChainFamily.BITCOIN)),
    )
    assert canonical_account(scope.registry, ALICE.lower()) == ALICE
    assert canonical_account(scope.registry, GENESIS) == GENESIS  # refused by EVM, taken by Bitcoin


async def test_an_address_no_family_accepts_raises_the_first_error_naming_the_account() -> None:
    scope = make_scope(
        make_chain(FakeProvider("eth")),
        make_chain(FakeProvider("bitcoin", family=ChainFamily.BITCOIN)),
    )
    with pytest.raises(InvalidAddress, match="is not an EVM address") as info:
        canonical_account(scope.registry, "nope")
    assert info.value.account == "nope"


async def test_with_no_chains_nothing_is_an_address() -> None:
    with pytest.raises(InvalidAddress, match="'0xabc' is not an address") as info:
        canonical_account(make_scope().registry, "0xabc")
    assert info.value.account == "0xabc"


async def test_a_huge_address_is_cut_short_in_the_message() -> None:
    huge = "0x" + "z" * 10_000
    with pytest.raises(InvalidAddress) as info:
        canonical_account(make_scope().registry, huge)
    assert len(info.value.message) < 200 and "(10002 characters)" in info.value.message
    assert info.value.account == huge[:128] + "…"  # what an error echoes is bounded
