"""`accounts`: every account's lookups of a request share one round per chain (two anvils)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devnet.anvil import Anvil
from devnet.chain import DevChain
from tests.conftest import CHAIN_ID, Devnet, devnet_settings, serve

ACCOUNTS, TOKENS, SECOND_CHAIN_ID = 20, 50, 31338


def deploy_tokens(chain: DevChain, chain_id: int, holder: str) -> list[dict[str, Any]]:
    entries = []
    for i in range(TOKENS):
        address = chain.deploy("TestToken", f"T{i}", f"T{i}", 6)
        if i % 7 == 0:
            chain.transact(address, "mint(address,uint256)", holder, 1_000 + i)
        entries.append(
            {
                "chainId": chain_id,
                "address": address,
                "name": f"T{i}",
                "symbol": f"T{i}",
                "decimals": 6,
            }
        )
    return entries


@pytest.fixture(scope="module")
def second_chain(devnet: Devnet) -> Iterator[tuple[Anvil, list[dict[str, Any]]]]:
    with Anvil(chain_id=SECOND_CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        chain.install_multicall3()
        yield anvil, deploy_tokens(chain, SECOND_CHAIN_ID, devnet.holder)


def test_twenty_accounts_by_fifty_tokens_on_two_chains_is_one_round_per_chain(
    tmp_path: Path, devnet: Devnet, second_chain: tuple[Anvil, list[dict[str, Any]]]
) -> None:
    anvil2, tokens2 = second_chain
    tokens1 = deploy_tokens(devnet.chain, CHAIN_ID, devnet.holder)
    (tmp_path / "second.json").write_text(
        '{"name": "second", "tokens": %s}' % str(tokens2).replace("'", '"'), encoding="utf-8"
    )
    second = {
        "family": "evm",
        "chain_id": SECOND_CHAIN_ID,
        "rpc_urls": [anvil2.url],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
        "tokens": "second.json",
    }
    settings = devnet_settings(tmp_path, devnet, tokens=tokens1, extra_chains={"second": second})
    accounts = [devnet.holder] + [f"0x{i:040x}" for i in range(1, ACCOUNTS)]
    for api in serve(settings):
        body = api.query(
            """query($a: [String!]!) { accounts(addresses: $a) {
                 address balances(tokens: null) { chain rawAmount token { symbol } } } }""",
            {"a": accounts},
        )
        assert "errors" not in body
        holder_rows = body["data"]["accounts"][0]["balances"]
        for chain in ("devnet", "second"):
            rows = {
                r["token"]["symbol"]: r["rawAmount"] for r in holder_rows if r["chain"] == chain
            }
            assert rows["T7"] == "1007" and rows["T49"] == "1049"
        # Per chain: 20 accounts x (native + 3 sample or 0 + 50 listed) lookups, in chunks of
        # 499 sent concurrently: one round, as few requests as the chunk size allows.
        lookups = {"devnet": ACCOUNTS * (1 + 3 + TOKENS), "second": ACCOUNTS * (1 + TOKENS)}
        for chain, count in lookups.items():
            assert api.upstream(chain) == math.ceil(count / 499), chain
