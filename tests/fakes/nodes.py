"""Real nodes, seen through a transport that changes what they accept."""

from __future__ import annotations

import json

import httpx


class RefusingRanges(httpx.AsyncBaseTransport):
    """A node that refuses any `eth_getLogs` over more than `limit` blocks, as Infura does
    (with `addressless`, only queries that name no contract, as some providers do). Every
    range asked is recorded, with whether it named a contract."""

    def __init__(self, limit: int, *, addressless: bool = False) -> None:
        self.limit = limit
        self.addressless = addressless
        self.refused = 0
        self.ranges: list[tuple[int, int]] = []
        self.unaddressed: list[tuple[int, int]] = []
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls = body if isinstance(body, list) else [body]
        logs = [c["params"][0] for c in calls if c.get("method") == "eth_getLogs"]
        ranges = [(int(p["fromBlock"], 16), int(p["toBlock"], 16)) for p in logs]
        self.ranges += ranges
        self.unaddressed += [r for r, p in zip(ranges, logs, strict=True) if "address" not in p]
        limited = [
            r
            for r, p in zip(ranges, logs, strict=True)
            if not self.addressless or "address" not in p
        ]
        if all(end - start + 1 <= self.limit for start, end in limited):
            return await self._inner.handle_async_request(request)
        self.refused += 1
        error = {"code": -32005, "message": "query returned more than 10000 results"}
        answers = [{"jsonrpc": "2.0", "id": c["id"], "error": error} for c in calls]
        return httpx.Response(200, json=answers if isinstance(body, list) else answers[0])

    async def aclose(self) -> None:
        await self._inner.aclose()
