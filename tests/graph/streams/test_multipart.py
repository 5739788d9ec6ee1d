"""Subscriptions over plain HTTP: Apollo's multipart protocol, as Apollo Client's HttpLink
sends and reads it, against a real anvil and server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Devnet, devnet_settings, issue_key, live_server
from tests.graph.streams.client import CHANGES, parties, send_usdc, usdc_of
from tests.graph.streams.test_live import POLL

APOLLO_ACCEPT = "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json"
"""What Apollo Client's HttpLink sends for a subscription."""


async def parts(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Each JSON part, as soon as the delimiter after it has arrived."""
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while b"\r\n--graphql" in buffer:
            part, buffer = buffer.split(b"\r\n--graphql", 1)
            _, _, body = part.partition(b"\r\n\r\n")
            if body:
                yield json.loads(body)


async def test_the_snapshot_then_a_transfer_as_multipart_parts(
    tmp_path: Path, own_devnet: Devnet
) -> None:
    chain, holder, other, usdc = parties(own_devnet, 2, 0)
    before = usdc_of(own_devnet, holder)
    body = {"query": CHANGES, "variables": {"accounts": [holder], "tokens": [usdc]}}
    with live_server(devnet_settings(tmp_path, own_devnet, poll_interval=POLL)) as base:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream(
                "POST", f"{base}/graphql", json=body, headers={"accept": APOLLO_ACCEPT}
            ) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("multipart/mixed")
            assert 'boundary="graphql"' in response.headers["content-type"]
            received = aiter(parts(response))
            assert await anext(received) == {}  # a heartbeat first
            snapshot = (await anext(received))["payload"]["data"]["balanceChanges"]
            assert snapshot["balance"]["rawAmount"] == str(before)
            block = await asyncio.to_thread(send_usdc, chain, own_devnet, other, holder, 11)
            part = await anext(received)
            while part == {}:
                part = await anext(received)
            change = part["payload"]["data"]["balanceChanges"]
            assert change["blockNumber"] == str(block)
            assert change["previousRawAmount"] == str(before)
            assert change["balance"]["rawAmount"] == str(before + 11)


async def test_refusals_are_the_usual_json_answers(tmp_path: Path, own_devnet: Devnet) -> None:
    settings = devnet_settings(tmp_path, own_devnet, poll_interval=POLL)
    key = await asyncio.to_thread(issue_key, settings, "broke", credits=0)
    holder = own_devnet.sample.holders[0]
    with live_server(settings) as base:
        async with httpx.AsyncClient(timeout=10) as client:
            url, accept = f"{base}/graphql", {"accept": APOLLO_ACCEPT}

            async def post(variables: dict[str, Any], **headers: str) -> httpx.Response:
                payload = {"query": CHANGES, "variables": variables}
                return await client.post(url, json=payload, headers=accept | headers)

            bad = await post({"accounts": ["0x123"]})
            assert bad.status_code == 200
            assert bad.headers["content-type"].startswith("application/json")
            assert bad.json()["errors"][0]["extensions"]["code"] == "INVALID_ADDRESS"
            broke = await post({"accounts": [holder], "tokens": ["native"]}, **{"x-api-key": key})
            assert broke.status_code == 402
            assert broke.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_CREDITS"
            assert broke.headers["x-credits-charged"] == "0"
            plain = await client.post(
                url, json={"query": CHANGES, "variables": {"accounts": [holder]}}
            )
            assert plain.status_code == 200
            (error,) = plain.json()["errors"]
            assert error["extensions"]["code"] == "BAD_REQUEST"
            assert "multipart/mixed" in error["message"] and "WebSocket" in error["message"]
