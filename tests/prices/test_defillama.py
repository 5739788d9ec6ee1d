"""DefiLlamaPrices against the coins API fake of `tests.fakes.defillama`: exact decimals,
batched requests, malformed entries unpriced, a failing API PRICE_UNAVAILABLE."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from core.errors import PriceUnavailable
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, TokenRef
from prices.base import PriceKey, Quote
from prices.defillama import DefiLlamaPrices
from tests.fakes.defillama import Llama, coin_id, entry

USDC = PriceKey("ethereum", TokenRef("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
ETH = PriceKey("ethereum", NATIVE_TOKEN)
NFT = PriceKey("ethereum", TokenRef("0x5Af0D9827E0c53E4799BB226655A1de152A425a5", 7))


async def quotes(llama: Llama, keys: list[PriceKey]) -> tuple[dict[PriceKey, Quote], Metrics]:
    metrics = Metrics()
    async with httpx.AsyncClient(transport=httpx.MockTransport(llama.handler)) as http:
        source = DefiLlamaPrices(
            http, metrics, coin_id, base_url="https://coins.example", timeout=10
        )
        return await source.quotes(keys), metrics


async def test_one_request_prices_every_coin_exactly() -> None:
    llama = Llama(
        {
            f"ethereum:{USDC.token.contract.lower()}": entry("0.999830000000000001"),
            "coingecko:ethereum": entry("3000.25"),
        }
    )
    found, metrics = await quotes(llama, [USDC, ETH, NFT])
    assert found[USDC].usd == Decimal("0.999830000000000001")  # no float on the way
    assert found[ETH].usd == Decimal("3000.25")
    assert found[ETH].quoted_at == datetime.fromtimestamp(1_763_800_000, UTC)
    assert NFT not in found  # no coin id: unpriced, not asked
    assert len(llama.paths) == 1 and metrics.upstream_requests.total(chain="defillama") == 1


async def test_many_coins_are_split_into_a_few_requests() -> None:
    keys = [PriceKey("ethereum", TokenRef(f"0x{i:040x}")) for i in range(250)]
    llama = Llama({f"ethereum:0x{i:040x}": entry(str(i)) for i in range(250)})
    found, _ = await quotes(llama, keys)
    assert len(llama.paths) == 3 and len(found) == 250
    assert found[keys[249]].usd == Decimal(249)


@pytest.mark.parametrize(
    "bad",
    ['"1.5"', "-1", "true", "null", "1e999999"],
)
async def test_malformed_entries_are_unpriced_not_guessed(bad: str) -> None:
    llama = Llama(
        {f"ethereum:{USDC.token.contract.lower()}": entry(bad), "coingecko:ethereum": entry("2")}
    )
    found, _ = await quotes(llama, [USDC, ETH])
    assert USDC not in found and found[ETH].usd == Decimal(2)


@pytest.mark.parametrize(
    ("status", "body"), [(429, b""), (502, b"bad gateway"), (200, b"<html>"), (200, b"[]")]
)
async def test_a_failing_api_is_price_unavailable(status: int, body: bytes) -> None:
    with pytest.raises(PriceUnavailable):
        await quotes(Llama({}, status=status, body=body), [USDC])
