"""A graphql-transport-ws client for the tests (on the `websockets` library), metrics read
from a running service, and the devnet moves the live tests make."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from devnet.chain import DevChain
from tests.conftest import Devnet

PROTOCOL = "graphql-transport-ws"
CHANGES = """subscription Changes($accounts: [String!]!, $tokens: [String!], $zero: Boolean) {
  balanceChanges(accounts: $accounts, chains: ["devnet"], tokens: $tokens, includeZero: $zero) {
    account chain blockNumber previousRawAmount
    balance { rawAmount amount blockNumber token { symbol address } }
  }
}"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


class Session:
    """One socket, initialised; messages sorted by operation id as they arrive."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def subscribe(self, op_id: str, variables: dict[str, Any], query: str = CHANGES) -> None:
        payload = {"query": query, "variables": variables}
        await self.send({"type": "subscribe", "id": op_id, "payload": payload})

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, wait: float = 10.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), wait))
        return message

    async def events(self, count: int, wait: float = 10.0) -> list[dict[str, Any]]:
        """The next `count` `next` payloads' `balanceChanges` (failing on anything else)."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            message = await self.receive(wait)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            found.append(message["payload"]["data"]["balanceChanges"])
        return found

    async def complete(self, op_id: str) -> None:
        await self.send({"type": "complete", "id": op_id})


@asynccontextmanager
async def session(
    base: str, payload: dict[str, Any] | None = None, **options: Any
) -> AsyncIterator[Session]:
    async with connect(ws_url(base), subprotocols=[Subprotocol(PROTOCOL)], **options) as socket:
        live = Session(socket)
        await live.send({"type": "connection_init", "payload": payload or {}})
        assert (await live.receive())["type"] == "connection_ack"
        yield live


def metric(base: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`, from `/metrics`."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if labels.items() <= found.items():
            total += float(match.group(3))
    return total


class Parties(NamedTuple):
    """Who moves what in a live test: the chain, the watched holder, another holder, USDC."""

    chain: DevChain
    holder: str
    other: str
    usdc: str


def parties(devnet: Devnet, holder: int = 0, other: int = 1) -> Parties:
    sample = devnet.sample
    usdc = sample.token("USDC").address
    return Parties(devnet.chain, sample.holders[holder], sample.holders[other], usdc)


def usdc_of(devnet: Devnet, account: str) -> int:
    (value,) = devnet.chain.call(
        devnet.sample.token("USDC").address, "balanceOf(address)", account, returns=["uint256"]
    )
    return int(value)


def send_usdc(chain: DevChain, devnet: Devnet, sender: str, receiver: str, amount: int) -> int:
    """Transfer USDC (one block, automine); the block's number."""
    usdc = devnet.sample.token("USDC").address
    receipt = chain.transact(usdc, "transfer(address,uint256)", receiver, amount, sender=sender)
    return int(receipt["blockNumber"], 16)
