"""Explicit balance lookups: one pair, or many answered in order with errors in place."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chains.registry import Chain
from core.errors import (
    BadUserInput,
    CostLimitExceeded,
    InvalidAddress,
    ServiceError,
    TokenCallFailed,
    TokenMetadataUnavailable,
    UnsupportedChain,
    UpstreamTimeout,
)
from core.models import (
    NATIVE_TOKEN,
    BalanceKey,
    BalanceReading,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from resolvers.balances import PairInput, amount, balance, balance_pairs, with_tokens
from resolvers.rows import BalanceRow
from settings import LimitsConfig
from tests.fakes.service import ALICE, DAI, USDC, FakeProvider, erc20, make_chain, make_scope

BROKEN = TokenRef("0x" + "7" * 40)
AT = datetime(2026, 1, 1, tzinfo=UTC)


def eth() -> tuple[FakeProvider, Chain]:
    provider = FakeProvider(
        "eth",
        balances={(ALICE, USDC): 1_234_500_000, (ALICE, NATIVE_TOKEN): 10**18},
        failures={BROKEN: TokenCallFailed("balanceOf reverted")},
    )
    return provider, make_chain(provider, listed=[erc20("eth", USDC, "USDC", 6)])


def reading(token: TokenRef, raw: int) -> BalanceReading:
    return BalanceReading(BalanceKey("eth", ALICE, token), raw, 1, AT)


async def test_pairs_are_answered_in_order_with_each_error_in_its_place() -> None:
    provider, chain = eth()
    scope = make_scope(chain)
    outcomes = await balance_pairs(
        scope,
        [
            PairInput(ALICE.lower(), "eth", str(USDC)),
            PairInput("0x123", "eth", "native"),
            PairInput(ALICE, "solana", "native"),
            PairInput(ALICE, "ETH", str(BROKEN)),
            PairInput(ALICE, "eth", "native"),
        ],
        None,
        None,
    )
    assert [type(o).__name__ for o in outcomes] == [
        "BalanceRow",
        "InvalidAddress",
        "UnsupportedChain",
        "TokenCallFailed",
        "BalanceRow",
    ]
    first, last = outcomes[0], outcomes[4]
    assert isinstance(first, BalanceRow) and first.reading.raw_amount == 1_234_500_000
    assert first.reading.key.account == ALICE and first.token.symbol == "USDC"
    assert isinstance(last, BalanceRow) and last.token.standard is TokenStandard.NATIVE
    assert provider.rounds == 1
    assert scope.lookups == 3  # only the pairs that parsed are charged


async def test_more_pairs_than_the_limit_are_refused_before_any_read() -> None:
    provider, chain = eth()
    scope = make_scope(chain, limits=LimitsConfig(max_pairs=2))
    pairs = [PairInput(ALICE, "eth", "native")] * 3
    with pytest.raises(CostLimitExceeded, match="at most 2 pairs per call, got 3"):
        await balance_pairs(scope, pairs, None, None)
    assert await balance_pairs(scope, pairs[:2], None, None)
    assert provider.rounds == 1


async def test_a_negative_max_age_refuses_the_whole_call() -> None:
    provider, chain = eth()
    with pytest.raises(BadUserInput):
        await balance_pairs(make_scope(chain), [PairInput(ALICE, "eth", "native")], -1, None)
    assert provider.rounds == 0


async def test_one_balance_is_served_with_its_token_and_its_freshness_recorded() -> None:
    _, chain = eth()
    scope = make_scope(chain)
    row = await balance(scope, ALICE, "eth", str(USDC), 30, None)
    assert (row.reading.raw_amount, row.token.decimals) == (1_234_500_000, 6)
    read = row.reading.read_at.timestamp()
    assert scope.hints.expires_at(read + 1) == read + 30 and scope.lookups == 1


async def test_one_balance_raises_the_error_that_prevented_it() -> None:
    _, chain = eth()
    scope = make_scope(chain)
    with pytest.raises(UnsupportedChain, match="unknown chain 'solana'; this service knows: eth"):
        await balance(scope, ALICE, "solana", "native", None, None)
    with pytest.raises(InvalidAddress):
        await balance(scope, ALICE, "eth", "USDC", None, None)
    with pytest.raises(TokenCallFailed):
        await balance(scope, ALICE, "eth", str(BROKEN), None, None)


async def test_unreadable_metadata_leaves_fields_unknown_and_keeps_why() -> None:
    _, chain = eth()
    scope = make_scope(chain)
    erc1155 = TokenRef(str(DAI), 7)
    rows = await with_tokens(scope, [reading(DAI, 5), reading(erc1155, 2)])
    assert [r.token.standard for r in rows] == [TokenStandard.ERC20, TokenStandard.ERC1155]
    for row in rows:
        assert (row.token.symbol, row.token.decimals) == (None, None)
        assert isinstance(row.token_error, TokenCallFailed)


async def test_spam_is_flagged_by_the_spam_policy() -> None:
    provider = FakeProvider("eth")
    flagged = TokenMeta("eth", DAI, TokenStandard.ERC20, "DAI", "Dai", 18, spam=True)
    scope = make_scope(make_chain(provider, listed=[flagged, erc20("eth", USDC, "USDC", 6)]))
    rows = await with_tokens(scope, [reading(DAI, 1), reading(USDC, 1)])
    assert [r.spam for r in rows] == [True, False]


def test_amount_is_exact_when_decimals_are_known() -> None:
    row = BalanceRow(reading(USDC, 1_234_500_000), erc20("eth", USDC, "USDC", 6))
    assert amount(row) == Decimal("1234.5")


def test_unknown_decimals_raise_token_metadata_unavailable_naming_the_key() -> None:
    row = BalanceRow(reading(DAI, 5), erc20("eth", DAI, "DAI", None))
    with pytest.raises(TokenMetadataUnavailable, match="rawAmount is exact") as info:
        amount(row)
    assert (info.value.chain, info.value.account, info.value.token) == ("eth", ALICE, str(DAI))


def test_unknown_decimals_after_a_failed_read_raise_that_failure_naming_the_key() -> None:
    unknown = TokenMeta("eth", DAI, TokenStandard.ERC20, None, None, None)
    row = BalanceRow(reading(DAI, 5), unknown, token_error=UpstreamTimeout("node timed out"))
    with pytest.raises(ServiceError) as info:
        amount(row)
    assert info.value.code == "UPSTREAM_TIMEOUT" and info.value.retryable
    assert (info.value.chain, info.value.account, info.value.token) == ("eth", ALICE, str(DAI))


@pytest.mark.parametrize(("garbled", "retryable"), [(True, True), (False, False)])
def test_unknown_decimals_say_whether_asking_again_can_help(garbled: bool, retryable: bool) -> None:
    token = TokenRef("0x" + "6" * 40)
    meta = TokenMeta("eth", token, TokenStandard.ERC20, "ODD", "Odd", None, garbled=garbled)
    row = BalanceRow(BalanceReading(BalanceKey("eth", "0x" + "7" * 40, token), 5, 1, AT), meta)
    with pytest.raises(TokenMetadataUnavailable) as info:
        amount(row)
    assert info.value.extensions["retryable"] is retryable
    assert info.value.extensions["account"] == "0x" + "7" * 40  # about the row it failed
    assert ("garbled" in info.value.message) is garbled
