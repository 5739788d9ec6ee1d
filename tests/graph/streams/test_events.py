"""Each event of a subscription is executed on its own: the errors one event reports beside
its data (a price source down) are that event's alone, never carried into the next."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import Devnet, dead_url, devnet_settings, live_server
from tests.graph.streams.client import parties, session
from tests.graph.streams.test_live import POLL

PRICED = """subscription($accounts: [String!]!, $tokens: [String!]) {
  balanceChanges(accounts: $accounts, chains: ["devnet"], tokens: $tokens) {
    blockNumber balance { rawAmount valueUsd token { symbol } }
  }
}"""


async def test_each_event_reports_its_own_errors_and_no_other_s(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 0, 2)
    prices = {  # native is priced; USDC falls through to a source that is down
        "sources": ["static", "defillama"],
        "static": {"devnet:native": "2000"},
        "defillama_url": dead_url(),
        "timeout": 1,
    }
    settings = devnet_settings(tmp_path, own_devnet, poll_interval=POLL, prices=prices)
    with live_server(settings) as base:
        async with session(base) as live:
            await live.subscribe("p", {"accounts": [holder], "tokens": ["native", usdc]}, PRICED)
            snapshot = [(await live.receive())["payload"] for _ in range(2)]
            by_symbol = {
                p["data"]["balanceChanges"]["balance"]["token"]["symbol"]: p for p in snapshot
            }
            assert "errors" not in by_symbol["ETH"]
            usdc_errors = by_symbol["USDC"]["errors"]
            assert [e["extensions"]["code"] for e in usdc_errors] == ["PRICE_UNAVAILABLE"]
            assert usdc_errors[0]["path"] == ["balanceChanges", "balance", "valueUsd"]
            await asyncio.to_thread(chain.send_value, holder, 10**15, sender=other)
            change = (await live.receive())["payload"]
            assert change["data"]["balanceChanges"]["balance"]["token"]["symbol"] == "ETH"
            assert change["data"]["balanceChanges"]["balance"]["valueUsd"] is not None
            assert "errors" not in change, change  # the USDC row's error stayed with its event
