"""History through GraphQL on the Starknet and Bitcoin fakes: timelines, balances at a block
and at a time, and portfolio points, all from what the spec-shaped nodes serve."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chains.starknet.provider import STRK_ADDRESS
from tests.fakes import esplora
from tests.fakes import starknet as stark
from tests.fakes.starknet import Transfer
from tests.graph.conftest import BTC_USD, Offline, offline_service, offline_settings

ME = esplora.P2WPKH


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Offline]:
    node = stark.mainnet()
    node.block = 40
    node.transfers = [
        Transfer(STRK_ADDRESS, 10, "0x0", stark.ALICE, 500),
        Transfer(STRK_ADDRESS, 25, stark.ALICE, stark.BOB, 120, legacy=True),
    ]
    for served in offline_service(offline_settings(tmp_path), node):
        served.esplora.height = 900
        served.esplora.history[ME] = [
            esplora.tx(2, 850, [(ME, 70_000)], [(esplora.P2SH, 60_000)]),
            esplora.tx(1, 800, [None], [(ME, 70_000)]),
        ]
        yield served


def query(offline: Offline, text: str, **variables: Any) -> dict[str, Any]:
    body = offline.api.query(text, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


HISTORY = """query($a: String!, $c: String!) { account(address: $a) {
  balanceHistory(chain: $c, token: "native") {
    events { blockNumber delta balance timestamp } } } }"""


def test_a_bitcoin_timeline_and_its_balance_at_a_block(offline: Offline) -> None:
    events = query(offline, HISTORY, a=ME, c="bitcoin")["account"]["balanceHistory"]["events"]
    assert [(e["blockNumber"], e["delta"], e["balance"]) for e in events] == [
        ("850", "-70000", "0"),
        ("800", "70000", "70000"),
    ]
    assert (
        events[1]["timestamp"] == datetime.fromtimestamp(esplora.block_time(800), UTC).isoformat()
    )
    at = query(
        offline,
        """query($a: String!) { balance(account: $a, chain: "bitcoin", token: "native",
          atBlock: 849) { rawAmount blockNumber valueUsd } }""",
        a=ME,
    )["balance"]
    assert (at["rawAmount"], at["blockNumber"]) == ("70000", "849")
    assert Decimal(at["valueUsd"]) == Decimal("0.0007") * Decimal(BTC_USD)


def test_a_starknet_timeline_in_both_layouts(offline: Offline) -> None:
    events = query(offline, HISTORY, a=stark.ALICE, c="starknet")["account"]["balanceHistory"][
        "events"
    ]
    assert [(e["blockNumber"], e["delta"], e["balance"]) for e in events] == [
        ("25", "-120", "380"),
        ("10", "500", "500"),
    ]


def test_at_time_on_starknet_reads_the_block_of_that_instant(offline: Offline) -> None:
    instant = stark.GENESIS_TIME + stark.BLOCK_TIME * 24 + 3
    iso = datetime.fromtimestamp(instant, UTC).isoformat()
    rows = query(
        offline,
        """query($a: String!, $t: DateTime) { account(address: $a) {
          balances(chains: ["starknet"], tokens: ["native"], atTime: $t) {
            rawAmount blockNumber } } }""",
        a=stark.ALICE,
        t=iso,
    )["account"]["balances"]
    assert rows == [{"rawAmount": "500", "blockNumber": "24"}]
