"""PriceReader: the cache in front of the sources keeps quotes and "unpriced", not failures."""

from __future__ import annotations

from decimal import Decimal

from chains.cache.memory import MemoryCache
from core.errors import PriceUnavailable
from core.models import NATIVE_TOKEN, TokenRef
from prices.base import PriceKey, Quote
from prices.fallback import FallbackSources
from prices.reader import PriceReader
from tests.fakes.prices import QUOTED_AT as NOW
from tests.fakes.prices import Counting

USDC = PriceKey("ethereum", TokenRef("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
ETH = PriceKey("ethereum", NATIVE_TOKEN)
NFT = PriceKey("ethereum", TokenRef("0x5Af0D9827E0c53E4799BB226655A1de152A425a5", 7))


async def test_reader_caches_quotes_and_unpriced_but_not_failures() -> None:
    source = Counting({ETH: "3000"})
    reader = PriceReader(FallbackSources([source]), MemoryCache(1000), ttl=60)
    first = await reader.prices([ETH, NFT])
    again = await reader.prices([ETH, NFT, ETH])
    assert first == [Quote(Decimal("3000"), NOW, "counting"), None]
    assert again == [first[0], None, first[0]] and len(source.asked) == 1
    failing = Counting({}, fail=True)
    broken = PriceReader(FallbackSources([failing]), MemoryCache(1000), ttl=60)
    for asked in (1, 2):  # a failure is not cached: the source is asked again
        (outcome,) = await broken.prices([USDC])
        assert isinstance(outcome, PriceUnavailable) and len(failing.asked) == asked


async def test_no_sources_means_no_prices_and_no_work() -> None:
    reader = PriceReader(FallbackSources([]), MemoryCache(1000), ttl=60)
    assert not reader.enabled and await reader.prices([ETH]) == [None]


async def test_a_corrupt_cached_price_is_a_miss_and_asked_again() -> None:
    source = Counting({ETH: "3000"})
    cache = MemoryCache(1000)
    reader = PriceReader(FallbackSources([source]), cache, ttl=60)
    await reader.prices([ETH])
    key = "bg:v1:px:ethereum:native"
    for corrupt in (
        b"not json",
        b'{"usd":"NaN","at":1,"src":"x"}',
        b'{"usd":"-1","at":1,"src":"x"}',
    ):
        await cache.set_many({key: corrupt}, ttl=60)
        (again,) = await reader.prices([ETH])
        assert again == Quote(Decimal("3000"), NOW, "counting")
    assert len(source.asked) == 4


async def test_duplicate_keys_are_asked_once_and_answered_in_place() -> None:
    source = Counting({ETH: "3000", USDC: "1"})
    reader = PriceReader(FallbackSources([source]), MemoryCache(1000), ttl=60)
    eth, usdc, eth_again = await reader.prices([ETH, USDC, ETH])
    assert source.asked == [[ETH, USDC]]
    assert eth == eth_again and isinstance(usdc, Quote) and usdc.usd == Decimal(1)
