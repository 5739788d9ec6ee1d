"""FallbackSources: sources tried in order, each asked only for what is still unpriced."""

from __future__ import annotations

from decimal import Decimal

from core.errors import PriceUnavailable
from core.models import NATIVE_TOKEN, TokenRef
from prices.base import PriceKey, Quote
from prices.fallback import FallbackSources
from prices.static import StaticPrices
from tests.fakes.prices import QUOTED_AT as NOW
from tests.fakes.prices import Counting

USDC = PriceKey("ethereum", TokenRef("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
ETH = PriceKey("ethereum", NATIVE_TOKEN)
NFT = PriceKey("ethereum", TokenRef("0x5Af0D9827E0c53E4799BB226655A1de152A425a5", 7))


async def test_sources_are_tried_in_order_for_what_is_still_unpriced() -> None:
    static = StaticPrices({ETH: Decimal("3000")}, lambda: NOW)
    second = Counting({USDC: "1.0001", ETH: "9999"})
    found = await FallbackSources([static, second]).quotes([ETH, USDC, NFT])
    assert found[ETH] == Quote(Decimal("3000"), NOW, "static")
    assert found[USDC] == Quote(Decimal("1.0001"), NOW, "counting")
    assert NFT not in found and second.asked == [[USDC, NFT]]


async def test_a_failed_source_makes_only_its_leftovers_unavailable() -> None:
    static = StaticPrices({ETH: Decimal("3000")}, lambda: NOW)
    found = await FallbackSources([static, Counting({}, fail=True)]).quotes([ETH, USDC])
    assert isinstance(found[ETH], Quote)
    error = found[USDC]
    assert isinstance(error, PriceUnavailable) and error.retryable
