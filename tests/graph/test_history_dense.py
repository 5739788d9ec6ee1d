"""History of a dense timeline on a node without a result cap (anvil, like geth's default).

Issue 18, defect 3: an `eth_getLogs` answer over `max_response_bytes` was ordinary node
trouble, counted by the endpoint's breaker: three anonymous history requests opened the
chain's circuit, so plain balance reads of that healthy node failed and readiness said 503.
And the scan span doubled after each success until a dense timeline reached the cap by
itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chains.history.blocks import search_price
from chains.history.budget import scan_price
from chains.history.timelines import COLD_SCAN
from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.sample import crowd_blocks
from settings import Settings, parse_settings
from tests.conftest import Api, credits, errors_by_code, issue_key, require_integration, serve

pytestmark = pytest.mark.integration

CHAIN_ID = 31_339
FINALITY = 2
BLOCKS, PER_BLOCK = 30, 10
"""300 transfers to one account, ten a block: ~6.5 KB of logs a block."""


@dataclass(frozen=True)
class Dense:
    url: str
    token: str
    account: str
    """Received every transfer."""
    holder: str
    """Sent them: one transfer of its own in all that time, plus its mint."""
    deployed: int
    """The token's first block."""


@pytest.fixture(scope="module")
def dense() -> Iterator[Dense]:
    require_integration("anvil (a dense timeline)")
    with Anvil(chain_id=CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        holder, account = chain.accounts()[:2]
        chain.install_multicall3()
        token = chain.deploy("TestToken", "Dense", "DNS", 6)
        deployed = chain.block_number()  # automine: the deployment is the newest block
        chain.transact(token, "mint(address,uint256)", holder, 10**12)
        crowd_blocks(chain, token, holder, {account: PER_BLOCK}, BLOCKS)
        chain.mine(FINALITY + 2)
        yield Dense(anvil.url, token, account, holder, deployed)


def dense_settings(
    tmp_path: Path, dense: Dense, *, limits: dict[str, Any] | None = None, **chain: Any
) -> Settings:
    tokens = {
        "name": "dense",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": {"major": 1, "minor": 0, "patch": 0},
        "tokens": [
            {"chainId": CHAIN_ID, "address": dense.token, "name": "Dense", "symbol": "DNS"}
            | {"decimals": 6}
        ],
    }
    (tmp_path / "dense.json").write_text(json.dumps(tokens), encoding="utf-8")
    table = {
        "chain_id": CHAIN_ID,
        "rpc_urls": [dense.url],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
        "tokens": "dense.json",
        "finality_depth": FINALITY,
        "max_response_bytes": 96 * 1024,  # ~150 logs: the dense blocks hold 300
        **chain,
    }
    auth = {"data_dir": str(tmp_path / "data")}
    raw = {"chains": {"dense": table}, "rate_limits": {"anonymous": {}}, "auth": auth}
    raw |= {"limits": limits} if limits else {}
    return parse_settings(raw, base_dir=tmp_path, environ={})


HISTORY = """query($a: String!, $t: String!) { account(address: $a) {
  balanceHistory(chain: "dense", token: $t, first: 1000) { events { delta balance } } } }"""
BALANCE = """query($a: String!) {
  balance(account: $a, chain: "dense", token: "native") { rawAmount } }"""


def history(api: Api, dense: Dense, account: str) -> dict[str, Any]:
    return api.query(HISTORY, {"a": account, "t": dense.token})


def splits(api: Api, reason: str) -> float:
    return api.services.metrics.log_range_splits.get(chain="dense", reason=reason)


def test_an_oversized_log_answer_is_split_and_never_opens_the_circuit(
    tmp_path: Path, dense: Dense
) -> None:
    settings = dense_settings(tmp_path, dense, log_range=1_000, failure_threshold=3)
    for api in serve(settings):
        asked = [history(api, dense, a) for a in (dense.account, dense.account, dense.holder)]
        # The node is healthy: plain reads, the circuit and readiness say so.
        assert "errors" not in api.query(BALANCE, {"a": dense.holder})
        ready = api.client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.json()
        # And over max_response_bytes, a range is split, as the README promises.
        assert all("errors" not in body for body in asked), asked
        received, sent = (body["data"]["account"]["balanceHistory"]["events"] for body in asked[1:])
        assert len(received) == BLOCKS * PER_BLOCK
        assert received[0] == {"delta": "1", "balance": str(BLOCKS * PER_BLOCK)}
        assert len(sent) == 1 + BLOCKS * PER_BLOCK  # its mint, then every transfer
        assert splits(api, "too_large") > 0


def test_the_span_never_grows_into_the_size_cap_by_itself(tmp_path: Path, dense: Dense) -> None:
    """Starting small and doubling after each success, the span used to grow until a dense
    stretch was over the cap; it now grows only as far as the density just seen allows."""
    settings = dense_settings(tmp_path, dense, log_range=1, log_range_max=100_000)
    for api in serve(settings):
        cold = history(api, dense, dense.account)  # a block a request: more than it was priced
        assert errors_by_code(cold).keys() == {"HISTORY_REPRICED"}
        body = history(api, dense, dense.account)
        assert "errors" not in body, body
        assert len(body["data"]["account"]["balanceHistory"]["events"]) == BLOCKS * PER_BLOCK
        assert splits(api, "too_large") == 0


ACCOUNTS = """query($a: [String!]!, $t: String!) { accounts(addresses: $a) {
  balanceHistory(chain: "dense", token: $t, first: 1) { events { delta } } } }"""


def getlogs(api: Api) -> int:
    return api.services.metrics.upstream_requests.get(chain="dense", method="eth_getLogs")


def test_history_is_priced_by_the_scans_it_may_need_before_any_read(
    tmp_path: Path, dense: Dense
) -> None:
    """Issue 18, defect 4: 20 new accounts' timelines counted as 20 lookups (`first: 1`
    each) and started 732 eth_getLogs on Ethereum. Each is priced at the scan it may
    need: here, every block of the chain at one block a request."""
    settings = dense_settings(tmp_path, dense, log_range=1, limits={"max_lookups": 500})
    fresh = [f"0x{n:040x}" for n in range(1, 21)]
    for api in serve(settings):
        # The token's first block is not known yet: priced the search and a request each, and
        # each refused once the search has sized the scans (nothing scanned).
        cold = api.query(ACCOUNTS, {"a": fresh, "t": dense.token})
        assert errors_by_code(cold).keys() == {"HISTORY_REPRICED"}, cold
        assert all(a["balanceHistory"]["events"] == [] for a in cold["data"]["accounts"])
        assert getlogs(api) == 0
        body = api.query(ACCOUNTS, {"a": fresh, "t": dense.token})  # now priced whole
        assert "data" not in body, body
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert getlogs(api) == 0  # refused before any scan


def test_a_key_pays_for_the_scan_and_one_credit_for_a_warm_page(
    tmp_path: Path, dense: Dense
) -> None:
    settings = dense_settings(tmp_path, dense, log_range=10)
    key = issue_key(settings, "scanner", credits=1_000)
    payload = {"query": HISTORY, "variables": {"a": dense.account, "t": dense.token}}
    for api in serve(settings):
        head = int(DevChain(dense.url).rpc("eth_blockNumber"), 16)
        cold = search_price(head) + COLD_SCAN + 1  # the deployment search, a scan unsized
        first = api.client.post("/graphql", json=payload, headers={"x-api-key": key})
        assert credits(first) == (str(cold), str(1_000 - cold))
        assert errors_by_code(first.json()).keys() == {"HISTORY_REPRICED"}
        first_block = dense.deployed  # the search found it: the scan is priced from there
        scan = scan_price(head - FINALITY - first_block + 1, 10) + 1
        paid = api.client.post("/graphql", json=payload, headers={"x-api-key": key})
        assert "errors" not in paid.json(), paid.json()
        assert credits(paid) == (str(scan), str(1_000 - cold - scan))
        assert getlogs(api) > 0
        again = api.client.post("/graphql", json=payload, headers={"x-api-key": key})
        assert credits(again) == ("1", str(999 - cold - scan))
