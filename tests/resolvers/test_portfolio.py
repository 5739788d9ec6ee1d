"""Portfolio totals: the sum of what the filters keep, never mistaken for the whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chains.registry import Chain
from core.errors import TokenCallFailed, UpstreamError
from core.models import NATIVE_TOKEN, TokenMeta, TokenRef, TokenStandard
from prices.base import PriceKey
from resolvers.account import Selection
from resolvers.portfolio import ChainTotal, portfolio
from tests.fakes.prices import Counting
from tests.fakes.service import ALICE, DAI, USDC, Clock, FakeProvider, erc20, make_chain, make_scope

ETH_USD, USDC_USD = "3000", "0.9998"
BROKEN = TokenRef("0x" + "6" * 40)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def eth_provider(clock: Clock | None = None) -> FakeProvider:
    return FakeProvider(
        "eth",
        balances={
            (ALICE, NATIVE_TOKEN): 2 * 10**18,
            (ALICE, USDC): 1_234_500_000,
            (ALICE, DAI): 5 * 10**18,
        },
        clock=clock,
    )


def eth_chain(provider: FakeProvider, *extra: TokenMeta) -> Chain:
    """ETH, USDC and DAI listed (plus `extra`); Alice holds 2 ETH, 1234.5 USDC and 5 DAI."""
    listed = [erc20("eth", USDC, "USDC", 6), erc20("eth", DAI, "DAI"), *extra]
    return make_chain(provider, listed=listed)


def prices(*extra: tuple[PriceKey, str]) -> Counting:
    return Counting(
        {PriceKey("eth", NATIVE_TOKEN): ETH_USD, PriceKey("eth", USDC): USDC_USD, **dict(extra)}
    )


async def test_total_sums_the_kept_rows_and_an_unpriced_holding_makes_it_incomplete() -> None:
    scope = make_scope(eth_chain(eth_provider()), prices=[prices()])
    result, errors = await portfolio(scope, ALICE, Selection(), None, None)
    usd = Decimal(2) * Decimal(ETH_USD) + Decimal("1234.5") * Decimal(USDC_USD)
    assert result.total_usd == usd == Decimal("7234.2531")
    assert result.by_chain == [ChainTotal("eth", usd)]
    assert (result.complete, result.unpriced_count, result.failed_chains) == (False, 1, [])
    assert errors == []


async def test_everything_priced_and_read_is_complete() -> None:
    scope = make_scope(
        eth_chain(eth_provider()),
        prices=[prices((PriceKey("eth", DAI), "1"))],
    )
    result, _ = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.complete and result.unpriced_count == 0
    assert result.total_usd == Decimal("7239.2531")


async def test_the_dust_filter_shapes_the_total_not_the_unpriced_count() -> None:
    scope = make_scope(eth_chain(eth_provider()), prices=[prices()])
    result, _ = await portfolio(scope, ALICE, Selection(min_value_usd=Decimal(5000)), None, None)
    assert result.total_usd == Decimal(6000)  # USDC (1234 USD) is below the floor
    assert result.unpriced_count == 1  # DAI is held and unpriced whatever the floor


async def test_a_failed_chain_is_named_and_the_others_still_add_up() -> None:
    down = FakeProvider("down")
    down.down = UpstreamError("node unreachable")
    scope = make_scope(
        eth_chain(eth_provider()),
        make_chain(down),
        prices=[prices((PriceKey("eth", DAI), "1"))],
    )
    result, errors = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.failed_chains == ["down"] and result.complete is False
    assert result.total_usd == Decimal("7239.2531")
    assert [(e.code, e.chain) for e in errors] == [("UPSTREAM_PROVIDER_ERROR", "down")]


async def test_an_unreadable_token_makes_it_incomplete_without_failing_the_chain() -> None:
    provider = eth_provider()
    provider.failures[BROKEN] = TokenCallFailed("balanceOf reverted")
    scope = make_scope(
        eth_chain(provider, erc20("eth", BROKEN, "BRK")),
        prices=[prices((PriceKey("eth", DAI), "1"))],
    )
    result, errors = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.complete is False and result.failed_chains == []
    assert [e.code for e in errors] == ["TOKEN_CALL_FAILED"]


async def test_spam_is_neither_summed_nor_counted_as_unpriced() -> None:
    provider = eth_provider()
    provider.balances[(ALICE, BROKEN)] = 10**20
    spam = TokenMeta("eth", BROKEN, TokenStandard.ERC20, "SPAM", "Spam", 18, spam=True)
    scope = make_scope(
        eth_chain(provider, spam),
        prices=[prices((PriceKey("eth", DAI), "1"), (PriceKey("eth", BROKEN), "100"))],
    )
    result, _ = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.complete and result.unpriced_count == 0
    assert result.total_usd == Decimal("7239.2531")


async def test_updated_at_is_the_oldest_read_among_the_summed_values() -> None:
    old, new = Clock(T0), Clock(T0 + timedelta(minutes=4))
    l2 = FakeProvider("l2", balances={(ALICE, NATIVE_TOKEN): 10**18}, clock=new)
    scope = make_scope(
        eth_chain(eth_provider(old)),
        make_chain(l2),
        prices=[prices((PriceKey("l2", NATIVE_TOKEN), ETH_USD))],
    )
    result, _ = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.updated_at == T0
    assert [c.chain for c in result.by_chain] == ["eth", "l2"]


async def test_an_empty_account_totals_zero_as_of_its_reads() -> None:
    provider = FakeProvider("eth", clock=Clock(T0))
    scope = make_scope(make_chain(provider), prices=[prices()])
    result, _ = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.total_usd == 0 and result.by_chain == [] and result.complete
    assert result.updated_at == T0  # zero balances were read, at T0


async def test_with_no_chain_read_the_total_is_unknown_not_zero() -> None:
    down = FakeProvider("down")
    down.down = UpstreamError("node unreachable")
    scope = make_scope(make_chain(down), prices=[prices()])
    result, errors = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.total_usd is None and result.updated_at is None
    assert (result.complete, result.failed_chains, result.by_chain) == (False, ["down"], [])
    assert [e.code for e in errors] == ["UPSTREAM_PROVIDER_ERROR"]
