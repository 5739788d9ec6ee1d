"""Third-party indexers an operator may have, as discovery sources (EVM chains).

    blockscout   GET {blockscout_url}/api/v2/addresses/{account}/tokens
                     ?type=ERC-20,ERC-721,ERC-1155 -> {items: [{token: {address_hash|address,
                     type}, token_id, value}], next_page_params}
    etherscan    GET {etherscan_url}?module=account&action=tokentx|tokennfttx|token1155tx
                     &address=...&sort=desc&apikey=... -> {status, message, result: [{
                     contractAddress, blockNumber, tokenID?}]}
    alchemy      POST alchemy_getTokenBalances [account, "erc20", {pageKey}] ->
                     {tokenBalances: [{contractAddress, tokenBalance}], pageKey?}

Each answers the whole set in a few calls, bounded in pages by the token limit. Every field
is checked; an answer out of shape is node trouble (`UpstreamError`), never a token; a
refusal (a bad key, Etherscan's `status: "0"` with a message) is `UpstreamRefused`. The
services see only the account: API keys never leave the secret they are configured in.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from chains.discovery.base import Seen
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import UpstreamError, UpstreamRefused
from core.http import parse_json, raise_for_status, read_capped, upstream_errors
from core.models import TokenRef
from settings import Secret

Normalize = Callable[[str], TokenRef]
_DIGITS = re.compile(r"[0-9]{1,78}")
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_LIMIT_BYTES = 8 * 1024 * 1024
_TIMEOUT = 10.0


class _Rest:
    """GETs to one indexer, read under a cap and a deadline, failures mapped to ours."""

    def __init__(self, chain: str, name: str, http: httpx.AsyncClient) -> None:
        self.chain, self.name = chain, name
        self._http = http

    async def get(self, url: str) -> Any:
        upstream = f"{self.chain} ({self.name})"
        with upstream_errors(upstream):
            async with asyncio.timeout(_TIMEOUT):
                answer = await read_capped(
                    self._http, "GET", url, upstream=upstream, limit=_LIMIT_BYTES,
                    io_timeout=_TIMEOUT, headers={"accept": "application/json"},
                )  # fmt: skip
        if answer.status in (400, 401, 403):
            raise UpstreamRefused(
                f"{upstream} refused the request (HTTP {answer.status})", chain=self.chain
            )
        raise_for_status(upstream, answer)
        return parse_json(upstream, answer.body)

    def malformed(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self.chain} ({self.name}) sent {what}", chain=self.chain)


class BlockscoutTokens:
    """`IndexerSource` on a Blockscout instance's REST API (v2)."""

    name = "blockscout"
    PAGE = 50

    def __init__(
        self, chain: str, base_url: str, http: httpx.AsyncClient, normalize: Normalize, limit: int
    ) -> None:
        self._rest = _Rest(chain, self.name, http)
        self._base = base_url.rstrip("/")
        self._normalize = normalize
        self._pages = math.ceil(limit / self.PAGE) + 1

    async def held(self, account: str, head: int) -> Seen:
        seen: Seen = {}
        query: dict[str, Any] = {"type": "ERC-20,ERC-721,ERC-1155"}
        for _ in range(self._pages):
            url = f"{self._base}/api/v2/addresses/{account}/tokens?{urlencode(query)}"
            body = await self._rest.get(url)
            items = body.get("items") if isinstance(body, dict) else None
            following = body.get("next_page_params") if isinstance(body, dict) else None
            if not isinstance(items, list) or not isinstance(following, dict | None):
                raise self._rest.malformed("an address-tokens answer without items")
            for item in items:
                seen[self._token(item)] = head
            if not following:
                break
            query = {"type": query["type"], **_page_params(following, self._rest)}
        return seen

    def _token(self, item: Any) -> TokenRef:
        token = item.get("token") if isinstance(item, dict) else None
        address = None
        if isinstance(token, dict):
            address = token.get("address_hash", token.get("address"))
        kind = token.get("type") if isinstance(token, dict) else None
        token_id = item.get("token_id") if isinstance(item, dict) else None
        if not isinstance(address, str) or not _HEX_ADDRESS.fullmatch(address):
            raise self._rest.malformed("a token without an address")
        contract = self._normalize(address)
        if kind == "ERC-1155":
            if not isinstance(token_id, str) or not _DIGITS.fullmatch(token_id):
                raise self._rest.malformed("an ERC-1155 balance without a token id")
            return TokenRef(contract.contract, int(token_id))
        if kind not in ("ERC-20", "ERC-721"):
            raise self._rest.malformed(f"a token of an unexpected type ({str(kind)[:20]})")
        return contract


def _page_params(following: Mapping[str, Any], rest: _Rest) -> dict[str, str]:
    """Blockscout's `next_page_params`, as the query of the next page (scalars only)."""
    params: dict[str, str] = {}
    for name, value in following.items():
        if not isinstance(name, str) or len(name) > 40 or len(following) > 10:
            raise rest.malformed("malformed next_page_params")
        if value is None:
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise rest.malformed("malformed next_page_params")
        params[name] = str(value)[:200]
    return params


class EtherscanTokens:
    """`IndexerSource` on an Etherscan-compatible API: the account's token transfers of
    each standard, newest first, one page each."""

    name = "etherscan"
    ACTIONS = ("tokentx", "tokennfttx", "token1155tx")
    PAGE = 10_000

    def __init__(
        self,
        chain: str,
        url: str,
        key: Secret,
        chain_id: int | None,
        http: httpx.AsyncClient,
        normalize: Normalize,
    ) -> None:
        self._rest = _Rest(chain, self.name, http)
        self._url, self._key, self._chain_id = url, key, chain_id
        self._normalize = normalize

    async def held(self, account: str, head: int) -> Seen:
        seen: Seen = {}
        for action in self.ACTIONS:
            for token, block in await self._transfers(action, account):
                if seen.get(token, -1) < block:
                    seen[token] = block
        return seen

    async def _transfers(self, action: str, account: str) -> list[tuple[TokenRef, int]]:
        query = {
            "module": "account",
            "action": action,
            "address": account,
            "page": "1",
            "offset": str(self.PAGE),
            "sort": "desc",
            **({"chainid": str(self._chain_id)} if self._chain_id is not None else {}),
            "apikey": self._key.value,
        }
        body = await self._rest.get(f"{self._url}?{urlencode(query)}")
        if not isinstance(body, dict) or body.get("status") not in ("0", "1"):
            raise self._rest.malformed("an answer without a status")
        result = body.get("result")
        if body["status"] == "0":
            if result == [] or body.get("message") == "No transactions found":
                return []
            raise UpstreamRefused(
                f"{self._rest.chain} ({self.name}) refused the request", chain=self._rest.chain
            )
        if not isinstance(result, list) or len(result) > self.PAGE:
            raise self._rest.malformed("a result that is not a list")
        return [self._transfer(action, row) for row in result]

    def _transfer(self, action: str, row: Any) -> tuple[TokenRef, int]:
        fields = row if isinstance(row, dict) else {}
        contract, block = fields.get("contractAddress"), fields.get("blockNumber")
        token_id = fields.get("tokenID")
        if not isinstance(contract, str) or not _HEX_ADDRESS.fullmatch(contract):
            raise self._rest.malformed("a transfer without a contract address")
        if not isinstance(block, str) or not _DIGITS.fullmatch(block):
            raise self._rest.malformed("a transfer without a block number")
        token = self._normalize(contract)
        if action == "token1155tx":
            if not isinstance(token_id, str) or not _DIGITS.fullmatch(token_id):
                raise self._rest.malformed("an ERC-1155 transfer without a token id")
            token = TokenRef(token.contract, int(token_id))
        return token, int(block)


class AlchemyTokens:
    """`IndexerSource` on an Alchemy RPC URL: `alchemy_getTokenBalances` (ERC-20 only)."""

    name = "alchemy"
    PAGE = 100

    def __init__(self, chain: str, rpc: JsonRpcClient, normalize: Normalize, limit: int) -> None:
        self._chain = chain
        self._rpc = rpc
        self._normalize = normalize
        self._pages = math.ceil(limit / self.PAGE) + 1

    async def held(self, account: str, head: int) -> Seen:
        seen: Seen = {}
        page_key: str | None = None
        for _ in range(self._pages):
            params: list[Any] = [account, "erc20"]
            if page_key is not None:
                params.append({"pageKey": page_key})
            body = await self._rpc.call("alchemy_getTokenBalances", params)
            balances = body.get("tokenBalances") if isinstance(body, dict) else None
            following = body.get("pageKey") if isinstance(body, dict) else None
            if not isinstance(balances, list) or not isinstance(following, str | None):
                raise self._malformed("an answer without tokenBalances")
            for entry in balances:
                contract = entry.get("contractAddress") if isinstance(entry, dict) else None
                if not isinstance(contract, str) or not _HEX_ADDRESS.fullmatch(contract):
                    raise self._malformed("a balance without a contract address")
                seen[self._normalize(contract)] = head
            if not following or following == page_key:
                break
            page_key = following[:512]
        return seen

    def _malformed(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self._chain} (alchemy) sent {what}", chain=self._chain)
