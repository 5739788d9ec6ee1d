"""Prices at a past instant: DefiLlama's historical endpoint, the static constant, the
fallback order, and the reader's cache (immutable answers kept, failures not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from chains.cache.memory import MemoryCache
from core.errors import PriceUnavailable
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, TokenRef
from prices.base import PriceKey, Quote
from prices.defillama import DefiLlamaPrices
from prices.fallback import FallbackSources
from prices.reader import PriceReader
from prices.static import StaticPrices
from tests.fakes.defillama import Llama, coin_id, entry

USDC = PriceKey("ethereum", TokenRef("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
ETH = PriceKey("ethereum", NATIVE_TOKEN)
AT = datetime(2024, 3, 1, 12, tzinfo=UTC)
T = int(AT.timestamp())
USDC_ID = f"ethereum:{USDC.token.contract.lower()}"


def llama() -> Llama:
    return Llama(
        {"coingecko:ethereum": entry("9999")},  # the current price: never used for the past
        history={
            T - 600: {"coingecko:ethereum": entry("3412.120000000000000001", T - 600)},
            T + 3 * 3600: {USDC_ID: entry("0.9991", T + 3 * 3600)},
            T - 86_400: {"coingecko:ethereum": entry("3000", T - 86_400)},
        },
    )


def source(fake: Llama, metrics: Metrics, http: httpx.AsyncClient) -> DefiLlamaPrices:
    return DefiLlamaPrices(http, metrics, coin_id, base_url="https://coins.example", timeout=10)


async def test_defillama_quotes_a_past_instant_exactly_in_one_request() -> None:
    fake, metrics = llama(), Metrics()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        found = await source(fake, metrics, http).quotes_at([ETH, USDC], AT)
    assert found[ETH].usd == Decimal("3412.120000000000000001")
    assert found[ETH].quoted_at == AT - timedelta(seconds=600)
    assert found[USDC].usd == Decimal("0.9991")
    assert fake.paths == [f"/prices/historical/{T}/coingecko:ethereum,{USDC_ID}"]
    assert fake.queries == ["searchWidth=6h"]
    assert metrics.upstream_requests.get(chain="defillama", method="GET /prices/historical") == 1


async def test_a_quote_farther_than_the_search_width_is_no_price() -> None:
    far = Llama({}, history={T: {USDC_ID: entry("1", T - 7 * 3600)}})  # a lying timestamp
    async with httpx.AsyncClient(transport=httpx.MockTransport(far.handler)) as http:
        assert await source(far, Metrics(), http).quotes_at([USDC], AT) == {}


async def test_the_static_source_has_one_price_for_all_time() -> None:
    static = StaticPrices({ETH: Decimal("3000.25")}, lambda: datetime.now(UTC))
    found = await static.quotes_at([ETH, USDC], AT)
    assert found == {ETH: Quote(Decimal("3000.25"), AT, "static")}


async def test_fallback_asks_the_next_source_only_for_what_is_still_unpriced() -> None:
    fake = Llama({}, history={T: {"coingecko:ethereum": entry("3100", T)}})
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        static = StaticPrices({ETH: Decimal("1"), USDC: Decimal("1")}, lambda: AT)
        found = await FallbackSources([source(fake, Metrics(), http), static]).quotes_at(
            [ETH, USDC], AT
        )
    eth = found[ETH]
    assert isinstance(eth, Quote) and eth.usd == Decimal("3100")
    usdc = found[USDC]
    assert isinstance(usdc, Quote) and usdc.source == "static"


async def test_the_reader_keeps_past_prices_per_instant_and_never_keeps_failures() -> None:
    fake = llama()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        reader = PriceReader(FallbackSources([source(fake, Metrics(), http)]), MemoryCache(100), 60)
        first = await reader.priced_at([ETH, USDC], AT)
        again = await reader.priced_at([ETH, USDC], AT)
        assert [p.outcome for p in first] == [p.outcome for p in again]
        assert len(fake.paths) == 1  # kept
        day_before = await reader.priced_at([ETH], AT - timedelta(days=1))
        assert isinstance(day_before[0].outcome, Quote)
        assert day_before[0].outcome.usd == Decimal("3000")  # its own entry, not the later one
        now = await reader.priced([ETH])
        assert isinstance(now[0].outcome, Quote) and now[0].outcome.usd == Decimal("9999")
        fake.status = 503
        (failed,) = await reader.priced_at([ETH], AT + timedelta(days=2))
        assert isinstance(failed.outcome, PriceUnavailable)
        fake.status = 200
        (unpriced,) = await reader.priced_at([ETH], AT + timedelta(days=2))
        assert unpriced.outcome is None  # asked again (failure not kept); none then: null, not 0
