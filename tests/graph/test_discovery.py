"""Discovery on a real anvil node: a wallet that received a dozen unlisted ERC-20s, an ERC-721
and two ERC-1155 ids across thousands of blocks, sent some away again, and got spam.

Every row is checked against the node itself (`balanceOf`), the zero rows are exactly the
tokens sent away entirely, and the log ranges read are recorded: final ranges are read once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.anvil import Anvil
from devnet.chain import DevChain
from settings import Settings, parse_settings
from tests.conftest import (
    Api,
    errors_by_code,
    issue_key,
    live_server,
    require_integration,
    serve,
)
from tests.fakes.nodes import RefusingRanges
from tests.graph.streams.client import session

pytestmark = pytest.mark.integration

CHAIN_ID = 31_339
FINALITY = 3
LOGO = "https://logos.example/listed.png"


@dataclass
class Wallet:
    chain: DevChain
    url: str
    wallet: str
    other: str
    listed: str = ""
    unlisted: list[str] = field(default_factory=list)
    sent_away: list[str] = field(default_factory=list)
    nft: str = ""
    multi: str = ""
    spam: str = ""

    def balance(self, token: str, *args: Any) -> int:
        signature = "balanceOf(address,uint256)" if args else "balanceOf(address)"
        (value,) = self.chain.call(token, signature, self.wallet, *args, returns=["uint256"])
        return int(value)


@pytest.fixture(scope="module")
def wallet() -> Iterator[Wallet]:
    require_integration("anvil (the discovery wallet)")
    with Anvil(chain_id=CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        chain.install_multicall3()
        deployer, holder, other = chain.accounts()[:3]
        w = Wallet(chain, anvil.url, holder, other)
        mint = "mint(address,uint256)"
        w.listed = chain.deploy("TestToken", "Listed", "LST", 6)
        chain.transact(w.listed, mint, holder, 5_000_000, sender=deployer)
        for i in range(12):  # unlisted, spread over ~3,000 blocks
            token = chain.deploy("TestToken", f"Unlisted {i}", f"UNL{i}", 6 if i % 2 else 18)
            chain.transact(token, mint, holder, (i + 1) * 1_000_000, sender=deployer)
            w.unlisted.append(token)
            chain.mine(250)
        for token in w.unlisted[:2]:  # received, then sent away entirely: zero rows
            amount = w.balance(token)
            chain.transact(token, "transfer(address,uint256)", other, amount, sender=holder)
            w.sent_away.append(token)
        chain.transact(w.unlisted[2], "transfer(address,uint256)", other, 1, sender=holder)
        w.nft = chain.deploy("TestNFT", "Found NFT", "FNFT")
        for token_id in (1, 2):
            chain.transact(w.nft, mint, holder, token_id, sender=deployer)
        chain.transact(
            w.nft, "transferFrom(address,address,uint256)", holder, other, 1, sender=holder
        )
        w.multi = chain.deploy("TestMultiToken")
        chain.transact(w.multi, "mint(address,uint256,uint256)", holder, 7, 5, sender=deployer)
        chain.transact(w.multi, "mint(address,uint256,uint256)", holder, 8, 3, sender=deployer)
        chain.transact(
            w.multi,
            "safeTransferFrom(address,address,uint256,uint256,bytes)",
            holder,
            other,
            8,
            3,
            b"",
            sender=holder,
        )
        w.spam = chain.deploy("TestToken", "Claim reward at www.evil.xyz", "CLAIM", 18)
        chain.transact(w.spam, mint, holder, 10**21, sender=deployer)
        chain.mine(FINALITY + 2)
        yield w


def settings(
    tmp_path: Path, w: Wallet, limits: dict[str, Any] | None = None, **chain: Any
) -> Settings:
    listed = {
        "chainId": CHAIN_ID,
        "address": w.listed,
        "name": "Listed",
        "symbol": "LST",
        "decimals": 6,
        "logoURI": LOGO,
    }
    (tmp_path / "list.json").write_text(json.dumps({"tokens": [listed]}), encoding="utf-8")
    table = {
        "family": "evm",
        "chain_id": CHAIN_ID,
        "rpc_urls": [w.url],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
        "tokens": "list.json",
        "finality_depth": FINALITY,
        "discovery": ["logs"],
        "log_range": 100_000,
        **chain,
    }
    raw = {"chains": {"disc": table}, "rate_limits": {"anonymous": {}}, "limits": limits or {}}
    return parse_settings(raw, base_dir=tmp_path, environ={})


BALANCES = """query($a: String!, $zero: Boolean, $spam: Boolean, $discover: Boolean) {
  account(address: $a) {
    balances(minValueUsd: "0", includeZero: $zero, includeSpam: $spam, discover: $discover) {
      rawAmount token { address tokenId standard symbol logo isSpam } } } }"""
STATUS = """query($a: String!) { account(address: $a) { discovery {
  chain sources source scannedFromBlock scannedToBlock complete tokenCount } } }"""


def rows(api: Api, w: Wallet, **variables: Any) -> dict[str, dict[str, Any]]:
    body = api.query(BALANCES, {"a": w.wallet, **variables})
    assert "errors" not in body, body
    return {_name(r["token"]): r for r in body["data"]["account"]["balances"]}


def _name(token: dict[str, Any]) -> str:
    return (
        token["address"] if token["tokenId"] is None else f"{token['address']}:{token['tokenId']}"
    )


def held(w: Wallet) -> dict[str, int]:
    """What the node says the wallet holds, token by token (zero balances included)."""
    node = {t: w.balance(t) for t in [w.listed, *w.unlisted, w.nft]}
    node |= {f"{w.multi}:{i}": w.balance(w.multi, i) for i in (7, 8)}
    return node


def test_balances_show_every_token_held_exactly_as_the_node_says(
    tmp_path: Path, wallet: Wallet
) -> None:
    for api in serve(settings(tmp_path, wallet)):
        found = rows(api, wallet)
        node = held(wallet)
        expected = {t: v for t, v in node.items() if v} | {"native": None}
        assert set(found) == set(expected)
        for token, value in expected.items():
            if value is not None:
                assert found[token]["rawAmount"] == str(value), token
        assert found[wallet.listed]["token"]["logo"] == LOGO
        assert found[wallet.nft]["token"]["standard"] == "ERC721"
        assert found[wallet.nft]["rawAmount"] == "1"
        assert found[f"{wallet.multi}:7"]["token"]["standard"] == "ERC1155"
        assert found[wallet.unlisted[5]]["token"]["symbol"] == "UNL5"
        assert wallet.spam not in found  # spam is hidden unless asked for

        zero = rows(api, wallet, zero=True)
        sent = {*wallet.sent_away, f"{wallet.multi}:8"}
        assert {t for t, r in zero.items() if r["rawAmount"] == "0"} == sent
        assert all(node[t] == 0 for t in sent)

        spam = rows(api, wallet, spam=True)[wallet.spam]
        assert spam["token"]["isSpam"] is True and spam["rawAmount"] == str(10**21)

        only_listed = rows(api, wallet, discover=False)
        assert set(only_listed) == {"native", wallet.listed}


def test_discovery_reports_its_progress(tmp_path: Path, wallet: Wallet) -> None:
    for api in serve(settings(tmp_path, wallet)):
        rows(api, wallet)
        body = api.query(STATUS, {"a": wallet.wallet})
        assert "errors" not in body, body
        (status,) = body["data"]["account"]["discovery"]
        assert status == {
            "chain": "disc",
            "sources": ["logs"],
            "source": "logs",
            "scannedFromBlock": "0",
            "scannedToBlock": str(wallet.chain.block_number()),
            "complete": True,
            "tokenCount": 12 + 1 + 2 + 1 + 1,  # unlisted, NFT, two ids, spam, the listed one
        }


def test_a_node_refusing_wide_address_less_ranges_still_yields_every_token(
    tmp_path: Path, wallet: Wallet
) -> None:
    refusing = RefusingRanges(limit=1_000, addressless=True)
    for api in serve(settings(tmp_path, wallet), transport=refusing):
        found = rows(api, wallet)
        assert set(found) == {t for t, v in held(wallet).items() if v} | {"native"}
        assert refusing.refused >= 1
        passed = [r for r in refusing.unaddressed if r[1] - r[0] + 1 <= 1_000]
        assert passed and min(r[0] for r in passed) == 0


def test_final_ranges_are_read_once_and_new_blocks_only_after(
    tmp_path: Path, wallet: Wallet
) -> None:
    recording = RefusingRanges(limit=10**9)
    for api in serve(settings(tmp_path, wallet), transport=recording):
        first = rows(api, wallet)
        assert recording.unaddressed
        recording.unaddressed.clear()
        assert rows(api, wallet, zero=True).keys() >= first.keys()  # another answer: no cache
        assert recording.unaddressed == []  # same head: nothing read at all
        final = wallet.chain.block_number() - FINALITY
        wallet.chain.mine(5)
        time.sleep(2.1)  # the head is reused for 2 s
        assert rows(api, wallet, spam=False).keys() == first.keys()  # not a kept answer
        assert recording.unaddressed, "the new blocks were not read"
        assert all(start > final for start, _ in recording.unaddressed)


def test_a_discovered_token_has_a_timeline(tmp_path: Path, wallet: Wallet) -> None:
    token = wallet.unlisted[2]
    query = """query($a: String!, $t: String!) { account(address: $a) {
      balanceHistory(chain: "disc", token: $t) { events { delta balance } } } }"""
    for api in serve(settings(tmp_path, wallet)):
        rows(api, wallet)
        body = api.query(query, {"a": wallet.wallet, "t": token})
        events = body["data"]["account"]["balanceHistory"]["events"]
        assert [(e["delta"], e["balance"]) for e in events] == [
            ("-1", str(3_000_000 - 1)),
            ("3000000", "3000000"),
        ]


class SlowLogs(httpx.AsyncBaseTransport):
    """The wallet's node, each address-less `eth_getLogs` batch answered `delay` late."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        calls = calls if isinstance(calls, list) else [calls]
        if any(c.get("method") == "eth_getLogs" and "address" not in c["params"][0] for c in calls):
            await asyncio.sleep(self.delay)
        return await self._inner.handle_async_request(request)


def test_an_unfinished_scan_answers_what_it_found_and_finishes_later(
    tmp_path: Path, wallet: Wallet
) -> None:
    slow = settings(tmp_path, wallet, log_range=250, log_range_max=250)
    slow = slow.model_copy(
        update={"server": slow.server.model_copy(update={"request_deadline": 1.5})}
    )
    for api in serve(slow, transport=SlowLogs(0.15)):
        body = api.query(BALANCES, {"a": wallet.wallet})
        (incomplete,) = errors_by_code(body)["DISCOVERY_INCOMPLETE"]
        ext = incomplete["extensions"]
        assert ext["retryable"] is True and ext["chain"] == "disc"
        assert int(ext["scannedFromBlock"]) > 0
        assert ext["scannedToBlock"] == str(wallet.chain.block_number())
        partial = {_name(r["token"]) for r in body["data"]["account"]["balances"]}
        assert {"native", wallet.listed} <= partial
        assert wallet.unlisted[-1] in partial  # the newest first
        assert wallet.unlisted[3] not in partial
        for _ in range(60):
            status = api.query(STATUS, {"a": wallet.wallet})["data"]["account"]["discovery"][0]
            if status["complete"]:
                break
            time.sleep(0.5)
        assert status["complete"] and status["scannedFromBlock"] == "0"
        assert set(rows(api, wallet)) == {t for t, v in held(wallet).items() if v} | {"native"}


def test_the_same_request_is_charged_what_discovery_has_found_since(
    tmp_path: Path, wallet: Wallet
) -> None:
    """A kept price must not outlive discovery's finds: the second, identical request reads
    every token the first one found, and is charged for each (it was charged the cold price)."""
    config = settings(tmp_path, wallet)
    key = issue_key(config, "finder", credits=100_000)
    body = {"query": BALANCES, "variables": {"a": wallet.wallet}}
    fixed, listed = config.limits.discovery_lookups, 2  # native and the listed token
    for api in serve(config):
        charged = []
        for _ in range(2):
            response = api.client.post("/graphql", json=body, headers={"x-api-key": key})
            assert response.status_code == 200 and "errors" not in response.json()
            charged.append(int(response.headers["x-credits-charged"]))
        found = 12 + 1 + 2 + 1  # unlisted, NFT, two ids, spam: beyond the plan's two
        assert charged == [listed + fixed, listed + fixed + found]


def test_account_discovery_costs_its_scan_and_history_points_do_not_each(
    tmp_path: Path, wallet: Wallet
) -> None:
    """`Account.discovery` may start a scan: it costs the fixed share per chain, like a
    balances call; `portfolioHistory` charges that share once, not once per point."""
    config = settings(tmp_path, wallet, limits={"max_lookups": 11})
    for api in serve(config):
        (error,) = api.query(
            '{ a: account(address: "%s") { discovery { chain } } '
            'b: account(address: "%s") { discovery { chain } } }' % (wallet.wallet, wallet.other)
        )["errors"]
        assert "asks for 20 balance lookups" in error["message"]  # 2 x 10: each may scan
        history = """{ account(address: "%s") { portfolioHistory(
          from: "2026-01-01T00:00:00Z", to: "2026-01-01T05:00:00Z", interval: HOUR) { at } } }"""
        (error,) = api.query(history % wallet.other)["errors"]
        assert "asks for 22 balance lookups" in error["message"]  # 10 + 2 listed x 6 points


WATCH = """subscription($a: [String!]!, $t: [String!]) {
  balanceChanges(accounts: $a, chains: ["disc"], tokens: $t) { balance { rawAmount } } }"""


async def test_a_subscription_watches_discovered_rows_only_within_its_callers_limit(
    tmp_path: Path, wallet: Wallet
) -> None:
    """A subscription is priced before discovery runs (native, listed, discovery's share: 12);
    the 16 rows discovery then finds may not take its caller past `max_watched_lookups`."""
    config = settings(tmp_path, wallet, limits={"max_watched_lookups": 14})
    with live_server(config) as base:
        async with session(base) as live:
            await live.subscribe("all", {"a": [wallet.wallet]}, WATCH)
            first = await live.receive(wait=30)
            assert first["type"] == "next", first
            (error,) = first["payload"]["errors"]
            assert error["extensions"]["code"] == "DISCOVERY_TRUNCATED"
            assert "discovery found 18 rows to watch" in error["message"], error
            assert "may watch 14 of them" in error["message"], error
            # The caller now watches 14 lookups, its limit: one more row is refused.
            await live.subscribe("more", {"a": [wallet.other], "t": [wallet.listed]}, WATCH)
            while (refused := await live.receive())["id"] != "more":
                pass
            assert refused["type"] == "error", refused
            assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_a_repeat_reads_the_found_tokens_balances_and_never_their_metadata_again(
    tmp_path: Path, wallet: Wallet
) -> None:
    """Sixteen found tokens (spam among them) cost their metadata once: a forced refresh
    reads their balances in one round and nothing else of theirs."""
    query = """query($a: String!) { account(address: $a) { balances(minValueUsd: "0",
      includeSpam: true, includeZero: true, forceRefresh: true) {
        rawAmount token { symbol isSpam } } } }"""
    for api in serve(settings(tmp_path, wallet)):
        first = api.query(query, {"a": wallet.wallet})
        assert "errors" not in first, first
        assert len(first["data"]["account"]["balances"]) == 2 + 16  # native, listed, found
        calls = api.upstream_requests("eth_call", chain="disc")
        again = api.query(query, {"a": wallet.wallet})
        assert again == first
        assert api.upstream_requests("eth_call", chain="disc") - calls == 1  # balances only
