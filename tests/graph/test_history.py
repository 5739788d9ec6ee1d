"""History on a real anvil node: one wallet's scripted life, read back through GraphQL.

The chain starts 30 days ago and every step is mined at a known hour after that, so blocks,
times, deltas and balances are all known in advance; every expectation is also checked
against the node itself (`balanceOf` at each block), never only against our own numbers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.anvil import Anvil
from devnet.chain import DevChain
from settings import Settings, parse_settings
from tests.conftest import Api, errors_by_code, require_integration, serve
from tests.fakes.nodes import RefusingRanges

pytestmark = pytest.mark.integration

CHAIN_ID = 31_338
FINALITY = 3
HOUR = 3_600


@dataclass
class Life:
    """What happened, block by block."""

    chain: DevChain
    url: str
    start: int
    wallet: str
    other: str
    token: str = ""
    multi: str = ""
    nft: str = ""
    blocks: dict[str, int] = field(default_factory=dict)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    hours: dict[str, int] = field(default_factory=dict)
    before_multicall: int = 0

    def at(self, step: str, hour: int, to: str, signature: str, *args: Any, sender: str) -> None:
        """Run one transaction in a block of its own, `hour` hours after the start."""
        self.chain.rpc("evm_setNextBlockTimestamp", [self.start + hour * HOUR])
        receipt = self.chain.transact(to, signature, *args, sender=sender)
        self.blocks[step] = int(receipt["blockNumber"], 16)
        self.receipts[step] = receipt
        self.hours[step] = hour

    def time_of(self, step: str) -> int:
        return self.start + self.hours[step] * HOUR

    def balance_of(self, block: int, token: str | None = None, *args: Any) -> int:
        signature = "balanceOf(address,uint256)" if args else "balanceOf(address)"
        (value,) = self.chain.call(
            token or self.token,
            signature,
            self.wallet,
            *args,
            returns=["uint256"],
            block=hex(block),
        )
        return int(value)


@pytest.fixture(scope="module")
def life() -> Iterator[Life]:
    require_integration("anvil (the scripted life)")
    start = int(time.time()) - 30 * 86_400
    with (
        Anvil(chain_id=CHAIN_ID, extra_args=["--timestamp", str(start)]) as anvil,
        DevChain(anvil.url) as chain,
    ):
        deployer, wallet, other = chain.accounts()[:3]
        life = Life(chain, anvil.url, start, wallet, other)
        chain.rpc("evm_setNextBlockTimestamp", [start + HOUR])
        life.token = chain.deploy("TestToken", "Life", "LIFE", 6)
        life.at("mint", 2, life.token, "mint(address,uint256)", wallet, 1_000, sender=deployer)
        life.before_multicall = life.blocks["mint"]
        chain.rpc("evm_setNextBlockTimestamp", [start + 3 * HOUR])
        chain.mine(1)
        chain.install_multicall3()
        life.at("send", 4, life.token, "transfer(address,uint256)", other, 300, sender=wallet)
        life.at("receive", 5, life.token, "transfer(address,uint256)", wallet, 50, sender=other)
        life.at("self", 6, life.token, "transfer(address,uint256)", wallet, 10, sender=wallet)
        life.at("burn", 7, life.token, "burn(uint256)", 100, sender=wallet)
        chain.rpc("evm_setNextBlockTimestamp", [start + 8 * HOUR])
        life.multi = chain.deploy("TestMultiToken")
        mint = "mint(address,uint256,uint256)"
        life.at("mint7", 9, life.multi, mint, wallet, 7, 5, sender=deployer)
        life.at("mint8", 10, life.multi, mint, wallet, 8, 3, sender=deployer)
        life.at(
            "batch",
            11,
            life.multi,
            "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
            wallet,
            other,
            [7, 8],
            [2, 1],
            b"",
            sender=wallet,
        )
        chain.rpc("evm_setNextBlockTimestamp", [start + 12 * HOUR])
        life.nft = chain.deploy("TestNFT", "Life NFT", "LNFT")
        life.at("nft1", 13, life.nft, "mint(address,uint256)", wallet, 1, sender=deployer)
        life.at("nft2", 14, life.nft, "mint(address,uint256)", wallet, 2, sender=deployer)
        life.at(
            "nftsend",
            15,
            life.nft,
            "transferFrom(address,address,uint256)",
            wallet,
            other,
            1,
            sender=wallet,
        )
        chain.rpc("evm_setNextBlockTimestamp", [start + 16 * HOUR])
        chain.mine(FINALITY + 2)  # everything above is final
        yield life


def life_settings(tmp_path: Path, life: Life, **chain: Any) -> Settings:
    tokens = {
        "name": "life",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": {"major": 1, "minor": 0, "patch": 0},
        "tokens": [
            {
                "chainId": CHAIN_ID,
                "address": life.token,
                "name": "Life",
                "symbol": "LIFE",
                "decimals": 6,
            },
        ],
    }
    (tmp_path / "life.json").write_text(json.dumps(tokens), encoding="utf-8")
    table = {
        "family": "evm",
        "chain_id": CHAIN_ID,
        "rpc_urls": [life.url],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
        "tokens": "life.json",
        "finality_depth": FINALITY,
        **chain,
    }
    raw = {
        "chains": {"life": table},
        "prices": {
            "sources": ["static"],
            "static": {f"life:{life.token}": "2", "life:native": "3000"},
        },
        "rate_limits": {"anonymous": {}},
    }
    return parse_settings(raw, base_dir=tmp_path, environ={})


@pytest.fixture
def api(tmp_path: Path, life: Life) -> Iterator[Api]:
    yield from serve(life_settings(tmp_path, life))


HISTORY = """query($a: String!, $t: String!, $first: Int, $after: String, $from: BigInt,
  $to: BigInt) { account(address: $a) {
  balanceHistory(chain: "life", token: $t, first: $first, after: $after, fromBlock: $from,
                 toBlock: $to) {
    events { blockNumber timestamp transactionHash logIndex delta balance }
    pageInfo { hasNextPage endCursor } } } }"""


def history(api: Api, life: Life, token: str, **variables: Any) -> dict[str, Any]:
    body = api.query(HISTORY, {"a": life.wallet, "t": token, **variables})
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["account"]["balanceHistory"]
    return page


def getlogs(api: Api) -> int:
    return api.services.metrics.upstream_requests.get(chain="life", method="eth_getLogs")


def test_the_timeline_is_exact_newest_first(api: Api, life: Life) -> None:
    page = history(api, life, life.token)
    steps = ["burn", "self", "receive", "send", "mint"]
    assert [(e["delta"], e["balance"]) for e in page["events"]] == [
        ("-100", "650"),
        ("0", "750"),
        ("50", "750"),
        ("-300", "700"),
        ("1000", "1000"),
    ]
    for event, step in zip(page["events"], steps, strict=True):
        receipt = life.receipts[step]
        assert int(event["blockNumber"]) == life.blocks[step]
        assert event["transactionHash"] == receipt["transactionHash"]
        assert event["logIndex"] == int(receipt["logs"][0]["logIndex"], 16)
        assert event["timestamp"] == datetime.fromtimestamp(life.time_of(step), UTC).isoformat()
    assert page["pageInfo"] == {"hasNextPage": False, "endCursor": page["pageInfo"]["endCursor"]}


def test_every_event_balance_is_balance_of_at_its_block(api: Api, life: Life) -> None:
    events = history(api, life, life.token)["events"]
    query = """query($a: String!, $t: String!, $b: BigInt) {
      balance(account: $a, chain: "life", token: $t, atBlock: $b) { rawAmount blockNumber } }"""
    for event in events:
        block = int(event["blockNumber"])
        node = life.balance_of(block)
        body = api.query(query, {"a": life.wallet, "t": life.token, "b": str(block)})
        assert body["data"]["balance"] == {"rawAmount": str(node), "blockNumber": str(block)}
        assert event["balance"] == str(node)
    newest = events[0]
    assert newest["balance"] == str(life.balance_of(life.chain.block_number()))


def test_at_block_before_multicall3_existed_reads_pinned_calls(api: Api, life: Life) -> None:
    block = life.before_multicall
    body = api.query(
        """query($a: String!, $b: BigInt) { account(address: $a) {
          balances(atBlock: $b, includeZero: true) {
            rawAmount blockNumber token { symbol } } } }""",
        {"a": life.wallet, "b": str(block)},
    )
    assert "errors" not in body, body
    rows = {r["token"]["symbol"]: r for r in body["data"]["account"]["balances"]}
    assert rows["LIFE"] == {
        "rawAmount": "1000",
        "blockNumber": str(block),
        "token": {"symbol": "LIFE"},
    }
    assert rows["ETH"]["rawAmount"] == str(life.chain.get_balance(life.wallet, hex(block)))


def test_at_time_is_the_last_block_at_or_before_the_instant(api: Api, life: Life) -> None:
    query = """query($a: String!, $t: String!, $at: DateTime) {
      balance(account: $a, chain: "life", token: $t, atTime: $at) { rawAmount blockNumber } }"""

    def at(instant: int) -> dict[str, Any]:
        iso = datetime.fromtimestamp(instant, UTC).isoformat()
        body = api.query(query, {"a": life.wallet, "t": life.token, "at": iso})
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["balance"]
        return result

    send = life.blocks["send"]
    assert at(life.time_of("send")) == {"rawAmount": "700", "blockNumber": str(send)}
    assert at(life.time_of("send") + HOUR - 1) == {"rawAmount": "700", "blockNumber": str(send)}
    assert at(life.time_of("send") - 1) == {"rawAmount": "1000", "blockNumber": str(send - 1)}
    headers = api.services.metrics.upstream_requests.get(
        chain="life", method="eth_getBlockByNumber"
    )
    assert 0 < headers <= 30
    at(life.time_of("send"))
    again = api.services.metrics.upstream_requests.get(chain="life", method="eth_getBlockByNumber")
    assert again == headers  # a final answer is kept: no header read


def test_a_second_call_reads_no_logs_for_the_final_range(tmp_path: Path, life: Life) -> None:
    recording = RefusingRanges(limit=10**9)  # refuses nothing; records every range asked
    for api in serve(life_settings(tmp_path, life), transport=recording):
        first = history(api, life, life.token)
        final = life.chain.block_number() - FINALITY
        deployed = life.blocks["mint"] - 1  # the scan starts at the contract's deployment
        assert recording.ranges and min(r[0] for r in recording.ranges) == deployed
        recording.ranges.clear()
        life.chain.mine(2)  # new blocks: the next call must read them, and only them
        time.sleep(2.1)  # the head is read again (it is reused for 2 s)
        again = history(api, life, life.token, first=4)  # not the same answer: no answer cache
        assert again["events"] == first["events"][:4]
        assert recording.ranges, "the new blocks were not read"
        assert all(start > final for start, _ in recording.ranges)


def test_erc1155_batch_transfers_move_their_ids(api: Api, life: Life) -> None:
    page = history(api, life, f"{life.multi}:7")
    assert [(e["delta"], e["balance"]) for e in page["events"]] == [("-2", "3"), ("5", "5")]
    assert int(page["events"][0]["blockNumber"]) == life.blocks["batch"]
    assert page["events"][0]["balance"] == str(life.balance_of(life.blocks["batch"], life.multi, 7))
    eight = history(api, life, f"{life.multi}:8")["events"]
    assert [(e["delta"], e["balance"]) for e in eight] == [("-1", "2"), ("3", "3")]
    assert history(api, life, f"{life.multi}:9")["events"] == []


def test_erc721_transfers_count_tokens(api: Api, life: Life) -> None:
    events = history(api, life, life.nft)["events"]
    assert [(e["delta"], e["balance"]) for e in events] == [("-1", "1"), ("1", "2"), ("1", "1")]


def test_pages_follow_the_cursor(api: Api, life: Life) -> None:
    first = history(api, life, life.token, first=2)
    assert [e["delta"] for e in first["events"]] == ["-100", "0"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = history(api, life, life.token, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["delta"] for e in second["events"]] == ["50", "-300"]
    last = history(api, life, life.token, first=2, after=second["pageInfo"]["endCursor"])
    assert [e["delta"] for e in last["events"]] == ["1000"]
    assert last["pageInfo"]["hasNextPage"] is False


def test_a_window_keeps_the_balances_of_the_whole_timeline(api: Api, life: Life) -> None:
    window = history(
        api, life, life.token, **{"from": str(life.blocks["send"]), "to": str(life.blocks["self"])}
    )
    assert [(e["delta"], e["balance"]) for e in window["events"]] == [
        ("0", "750"),
        ("50", "750"),
        ("-300", "700"),
    ]


def test_native_timelines_are_unavailable_but_native_at_a_block_works(api: Api, life: Life) -> None:
    body = api.query(HISTORY, {"a": life.wallet, "t": "native"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["HISTORY_UNAVAILABLE"]
    block = life.blocks["send"]
    body = api.query(
        """query($a: String!, $b: BigInt) { balance(account: $a, chain: "life", token: "native",
          atBlock: $b) { rawAmount } }""",
        {"a": life.wallet, "b": str(block)},
    )
    assert body["data"]["balance"]["rawAmount"] == str(
        life.chain.get_balance(life.wallet, hex(block))
    )


def test_bad_points_are_bad_user_input(api: Api, life: Life) -> None:
    both = api.query(
        """query($a: String!) { balance(account: $a, chain: "life", token: "native", atBlock: 1,
          atTime: "2024-01-01T00:00:00Z") { rawAmount } }""",
        {"a": life.wallet},
    )
    assert errors_by_code(both).keys() == {"BAD_USER_INPUT"}
    beyond = api.query(
        """query($a: String!) { account(address: $a) { balances(atBlock: 999999999) { rawAmount }
          portfolio { complete } } }""",
        {"a": life.wallet},
    )
    assert errors_by_code(beyond).keys() == {"BAD_USER_INPUT"}
    assert beyond["data"]["account"]["balances"] == []
    assert beyond["data"]["account"]["portfolio"]["complete"] is True  # the sibling is served
    assert "head" in errors_by_code(beyond)["BAD_USER_INPUT"][0]["message"]


PORTFOLIO = """query($a: String!, $from: DateTime!, $to: DateTime!) { account(address: $a) {
  portfolioHistory(from: $from, to: $to, interval: HOUR) {
    at totalUsd complete byChain { chain blockNumber totalUsd } } } }"""


def test_portfolio_history_values_each_point_at_its_block(api: Api, life: Life) -> None:
    def iso(step: str, offset: int = 0) -> str:
        return datetime.fromtimestamp(life.time_of(step) + offset, UTC).isoformat()

    body = api.query(PORTFOLIO, {"a": life.wallet, "from": iso("mint", 60), "to": iso("burn", 60)})
    assert "errors" not in body, body
    points = body["data"]["account"]["portfolioHistory"]
    assert len(points) == 6  # hours 2..7
    life_units = [1000, 1000, 700, 750, 750, 650]  # after mint, (empty hour), send, ...
    for point, units in zip(points, life_units, strict=True):
        (chain,) = point["byChain"]
        block = int(chain["blockNumber"])
        wei = life.chain.get_balance(life.wallet, hex(block))
        assert life.balance_of(block) == units
        total = Decimal(units) / 10**6 * 2 + Decimal(wei) / 10**18 * 3000
        assert Decimal(point["totalUsd"]) == total
        assert point["complete"] is True


def test_before_a_chain_s_first_block_nothing_was_held_there(api: Api, life: Life) -> None:
    """A chart that starts before a chain existed: those points count the chain as 0 (no
    block to read, and no error), the later ones are read as usual."""

    def iso(moment: int) -> str:
        return datetime.fromtimestamp(moment, UTC).isoformat()

    variables = {"a": life.wallet, "from": iso(life.start - 2 * HOUR), "to": iso(life.start)}
    body = api.query(PORTFOLIO, variables)
    assert "errors" not in body, body
    points = body["data"]["account"]["portfolioHistory"]
    assert [p["byChain"][0]["blockNumber"] for p in points] == [None, None, "0"]
    assert [p["totalUsd"] for p in points[:2]] == ["0", "0"]
    assert all(p["complete"] for p in points)
    wei = life.chain.get_balance(life.wallet, "0x0")
    assert wei > 0 and Decimal(points[2]["totalUsd"]) == Decimal(wei) / 10**18 * 3000


def test_portfolio_history_is_refused_beyond_its_points(api: Api, life: Life) -> None:
    body = api.query(
        PORTFOLIO, {"a": life.wallet, "from": "2020-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}
    )
    assert errors_by_code(body).keys() == {"COST_LIMIT_EXCEEDED"}
    assert getlogs(api) == 0 and api.upstream("life") == 0


def test_a_node_refusing_wide_ranges_still_yields_the_whole_timeline(
    tmp_path: Path, life: Life
) -> None:
    refusing = RefusingRanges(limit=3)
    settings = life_settings(tmp_path, life, log_range=1_000)
    for api in serve(settings, transport=refusing):
        page = history(api, life, life.token)
        assert [e["delta"] for e in page["events"]] == ["-100", "0", "50", "-300", "1000"]
        assert refusing.refused >= 1


class Pruned(httpx.AsyncBaseTransport):
    """`pruned.test` is the life node with only its newest blocks' state, as a full node
    keeps it: a call at an older block answers "missing trie node"."""

    def __init__(self, life: Life, keeps: int = 2) -> None:
        self.life = life
        self.keeps = keeps
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "pruned.test":
            return await self._inner.handle_async_request(request)
        body = json.loads(request.content)
        calls = body if isinstance(body, list) else [body]
        head = self.life.chain.block_number()
        old = [c for c in calls if self._too_old(c, head)]
        if old:
            error = {"code": -32000, "message": "missing trie node 8d3b… (path ) <nil>"}
            answers = [{"jsonrpc": "2.0", "id": c["id"], "error": error} for c in calls]
            return httpx.Response(200, json=answers if isinstance(body, list) else answers[0])
        forwarded = httpx.Request(
            "POST",
            self.life.url,
            content=request.content,
            headers={"content-type": "application/json"},
        )
        return await self._inner.handle_async_request(forwarded)

    def _too_old(self, call: dict[str, Any], head: int) -> bool:
        if call.get("method") not in {"eth_call", "eth_getBalance", "eth_getCode"}:
            return False
        tag = call["params"][-1]
        return tag.startswith("0x") and int(tag, 16) < head - self.keeps

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_a_pruned_node_answers_archive_node_required_for_its_chain_only(
    tmp_path: Path, life: Life
) -> None:
    settings = life_settings(tmp_path, life, rpc_urls=["http://pruned.test"])
    query = """query($a: String!, $b: BigInt) {
      old: balance(account: $a, chain: "life", token: "native", atBlock: $b) { rawAmount }
      now: balance(account: $a, chain: "life", token: "native") { rawAmount } }"""
    for api in serve(settings, transport=Pruned(life)):
        body = api.query(query, {"a": life.wallet, "b": str(life.blocks["send"])})
        assert body["data"]["old"] is None and body["data"]["now"] is not None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "ARCHIVE_NODE_REQUIRED"
        assert error["extensions"]["chain"] == "life" and error["path"] == ["old"]
        # logs need no state: the timeline still comes back, scanned from genesis
        assert [e["delta"] for e in history(api, life, life.token)["events"]][-1] == "1000"


def test_archive_rpc_urls_serve_past_reads(tmp_path: Path, life: Life) -> None:
    settings = life_settings(
        tmp_path, life, rpc_urls=["http://pruned.test"], archive_rpc_urls=[life.url]
    )
    query = """query($a: String!, $b: BigInt) {
      balance(account: $a, chain: "life", token: $t, atBlock: $b) { rawAmount } }"""
    query = query.replace("$b: BigInt)", "$b: BigInt, $t: String!)")
    for api in serve(settings, transport=Pruned(life)):
        body = api.query(query, {"a": life.wallet, "t": life.token, "b": str(life.blocks["send"])})
        assert body == {"data": {"balance": {"rawAmount": "700"}}}


def test_final_portfolio_points_cost_nothing_the_second_time(api: Api, life: Life) -> None:
    def iso(step: str) -> str:
        return datetime.fromtimestamp(life.time_of(step) + 60, UTC).isoformat()

    variables = {"a": life.wallet, "from": iso("mint"), "to": iso("burn")}
    first = api.query(PORTFOLIO, variables)
    cold = api.upstream("life")
    assert cold > 0
    again = api.query(
        PORTFOLIO.replace("interval: HOUR", 'interval: HOUR, chains: ["life"]'), variables
    )
    assert again == first  # a different document: not the answer cache
    assert api.upstream("life") == cold
