"""SpamPolicy: the list's tags, the operator's deny list, and a heuristic for unlisted tokens."""

from __future__ import annotations

import pytest

from chains.registry import ChainRegistry
from chains.tokens.spam import SpamPolicy
from core.models import NATIVE_TOKEN, TokenMeta, TokenRef, TokenStandard
from settings import ConfigError, SpamConfig
from tests.fakes.service import FakeProvider, make_chain

CONTRACT = "0x5Af0D9827E0c53E4799BB226655A1de152A425a5"
TOKEN = TokenRef(CONTRACT)


def meta(
    symbol: str | None = "TKN",
    name: str | None = "Token",
    token: TokenRef = TOKEN,
    chain: str = "eth",
    spam: bool = False,
) -> TokenMeta:
    standard = TokenStandard.NATIVE if token.is_native else TokenStandard.ERC20
    return TokenMeta(chain, token, standard, symbol, name, 18, spam=spam)


def policy(*deny: str, heuristic: bool = True) -> SpamPolicy:
    config = SpamConfig.model_validate({"deny": list(deny), "heuristic": heuristic})
    return SpamPolicy.configured(
        config, ChainRegistry({"eth": make_chain(FakeProvider("eth"))}).normalize_token
    )


@pytest.mark.parametrize(
    ("symbol", "name"),
    [
        ("$ CLAIM", "Visit claim-rewards.xyz"),
        ("USDC", "https://usdc-airdrop.site"),
        ("ETH", "www.eth-gift.com"),
        ("REWARD", "Reward Token"),
        ("X", "t.me/freetokens"),
        ("AIRDROP", "Airdrop"),
        ("V", "Voucher"),
        ("FREE ETH", "Free"),
        ("bonus", "Bonus"),
        ("TKN", "Uniswap.finance"),
        ("TKN", "CLAIM NOW"),
    ],
)
def test_unlisted_tokens_that_advertise_are_spam(symbol: str, name: str) -> None:
    assert policy().is_spam(meta(symbol, name), listed=False)


@pytest.mark.parametrize(
    ("symbol", "name"),
    [
        ("USDC", "USD Coin"),
        ("RECLAIM", "Reclaim Protocol"),  # bait words only as whole words
        ("FREEDOM", "Freedom Token"),
        ("RWD", "Rewardable"),
        ("COMP", "Compound"),  # no domain without its dot
        (None, None),  # unknown text is not evidence
        ("", ""),
    ],
)
def test_unlisted_tokens_with_plain_names_are_not_spam(
    symbol: str | None, name: str | None
) -> None:
    assert not policy().is_spam(meta(symbol, name), listed=False)


def test_listed_tokens_are_trusted_unless_the_list_tags_them() -> None:
    bait = meta("$ CLAIM", "Visit claim-rewards.xyz")
    assert not policy().is_spam(bait, listed=True)
    assert policy().is_spam(meta(spam=True), listed=True)


def test_the_heuristic_can_be_switched_off() -> None:
    assert not policy(heuristic=False).is_spam(meta("$ CLAIM", "claim.xyz"), listed=False)
    assert policy(heuristic=False).is_spam(meta(spam=True), listed=False)


def test_the_deny_list_flags_a_contract_and_every_id_of_it() -> None:
    deny = policy(f"eth:{CONTRACT}")
    assert deny.is_spam(meta(), listed=True)
    assert deny.is_spam(meta(token=TokenRef(CONTRACT, 7)), listed=True)
    assert not deny.is_spam(
        TokenMeta("base", TokenRef(CONTRACT), TokenStandard.ERC20, "T", "T", 18), listed=True
    )


def test_the_deny_list_can_name_one_id_of_a_contract() -> None:
    deny = policy(f"eth:{CONTRACT}:7")
    assert deny.is_spam(meta(token=TokenRef(CONTRACT, 7)), listed=True)
    assert not deny.is_spam(meta(token=TokenRef(CONTRACT, 8)), listed=True)
    assert not deny.is_spam(meta(), listed=True)


def test_the_native_asset_is_never_spam() -> None:
    native = meta("$ CLAIM", "claim.xyz", token=NATIVE_TOKEN, spam=True)
    assert not policy("eth:native").is_spam(native, listed=False)


def test_a_deny_entry_matches_whatever_the_case_of_its_address() -> None:
    assert policy(f"eth:{CONTRACT.lower()}").is_spam(meta(), listed=True)
    assert policy(f"eth:{CONTRACT.upper().replace('0X', '0x')}").is_spam(meta(), listed=True)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("solana:0x1", "unknown chain 'solana'"),
        ("eth:USDC", "'USDC' is not an EVM address"),
    ],
)
def test_a_deny_entry_that_names_nothing_is_a_config_error(entry: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"^\[spam\] deny {entry}: .*{problem}"):
        policy(entry)
