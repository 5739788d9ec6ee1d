"""Blockscout, Etherscan and Alchemy as `httpx.MockTransport` handlers, shaped exactly as their
published APIs answer (Blockscout REST v2 `addresses/{hash}/tokens`, Etherscan's
`account/tokentx|tokennfttx|token1155tx`, Alchemy's `alchemy_getTokenBalances`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

KEY = "SECRET-etherscan-key-123"


@dataclass(frozen=True)
class Holding:
    contract: str
    kind: str  # ERC-20, ERC-721, ERC-1155
    block: int
    token_id: int | None = None


@dataclass
class Indexers:
    """Every holding of `holder`; pages of `page` items; `broken` answers garbage."""

    holder: str
    holdings: list[Holding]
    page: int = 50
    broken: str | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "blockscout.test":
            return self._blockscout(request)
        if request.url.host == "etherscan.test":
            return self._etherscan(request)
        return self._alchemy(request)

    def _blockscout(self, request: httpx.Request) -> httpx.Response:
        if self.broken == "blockscout":
            return httpx.Response(200, json={"items": [{"token": {"type": "ERC-20"}}]})
        path = urlsplit(str(request.url)).path
        if path != f"/api/v2/addresses/{self.holder}/tokens":
            return httpx.Response(404, json={"message": "Not found"})
        query = parse_qs(urlsplit(str(request.url)).query)
        start = int(query.get("id", ["0"])[0])
        items = [self._blockscout_item(h) for h in self.holdings]
        chunk = items[start : start + self.page]
        following = None
        if start + self.page < len(items):
            following = {
                "fiat_value": None,
                "id": start + self.page,
                "items_count": 50,
                "value": "1",
            }
        return httpx.Response(200, json={"items": chunk, "next_page_params": following})

    def _blockscout_item(self, holding: Holding) -> dict[str, Any]:
        token = {
            "address_hash": holding.contract,
            "circulating_market_cap": None,
            "decimals": "18" if holding.kind == "ERC-20" else None,
            "exchange_rate": None,
            "holders_count": "12",
            "icon_url": None,
            "name": "Some token",
            "symbol": "SOME",
            "total_supply": "1000000",
            "type": holding.kind,
        }
        return {
            "token": token,
            "token_id": None if holding.token_id is None else str(holding.token_id),
            "token_instance": None,
            "value": "1000",
        }

    def _etherscan(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        if query.get("apikey") != KEY:
            return httpx.Response(
                200, json={"status": "0", "message": "NOTOK", "result": "Invalid API Key"}
            )
        if self.broken == "etherscan":
            return httpx.Response(200, json={"status": "1", "message": "OK", "result": "oops"})
        kinds = {"tokentx": "ERC-20", "tokennfttx": "ERC-721", "token1155tx": "ERC-1155"}
        kind = kinds[query["action"]]
        rows = [self._transfer(h) for h in self.holdings if h.kind == kind]
        if not rows:
            return httpx.Response(
                200, json={"status": "0", "message": "No transactions found", "result": []}
            )
        return httpx.Response(200, json={"status": "1", "message": "OK", "result": rows})

    def _transfer(self, holding: Holding) -> dict[str, Any]:
        row = {
            "blockNumber": str(holding.block),
            "timeStamp": "1700000000",
            "hash": "0x" + "ab" * 32,
            "nonce": "1",
            "blockHash": "0x" + "cd" * 32,
            "from": "0x" + "00" * 20,
            "contractAddress": holding.contract.lower(),
            "to": self.holder.lower(),
            "tokenName": "Some token",
            "tokenSymbol": "SOME",
            "transactionIndex": "3",
            "gas": "100000",
            "gasPrice": "1",
            "gasUsed": "50000",
            "cumulativeGasUsed": "1",
            "input": "deprecated",
            "confirmations": "10",
        }
        if holding.kind == "ERC-20":
            row |= {"value": "1000", "tokenDecimal": "18"}
        else:
            row |= {"tokenID": str(holding.token_id or 1), "tokenDecimal": "0"}
        if holding.kind == "ERC-1155":
            row |= {"tokenValue": "1"}
        return row

    def _alchemy(self, request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        if self.broken == "alchemy":
            result: Any = {"address": self.holder, "tokenBalances": "nope"}
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": result})
        erc20 = [h for h in self.holdings if h.kind == "ERC-20"]
        params = call["params"]
        start = int(params[2]["pageKey"]) if len(params) > 2 else 0
        chunk = erc20[start : start + self.page]
        result = {
            "address": self.holder.lower(),
            "tokenBalances": [
                {"contractAddress": h.contract.lower(), "tokenBalance": "0x" + "0" * 60 + "03e8"}
                for h in chunk
            ],
        }
        if start + self.page < len(erc20):
            result["pageKey"] = str(start + self.page)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": result})
