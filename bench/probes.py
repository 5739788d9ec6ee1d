"""What `make abuse` reads of a running server from outside: its memory, its metrics, its health.

Every measurement is taken the way an operator would: RSS from `/proc`, counters from
`/metrics`, readiness from `/health/ready`, never from the service's own view of itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (Linux `/proc`)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/health/live")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def timed(http: httpx.AsyncClient, payload: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await http.post("/graphql", json=payload)
    return (time.perf_counter() - started) * 1000, response.json()


async def metric(http: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    total = 0.0
    for line in (await http.get("/metrics")).text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        series, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += float(value)
    return total


async def upstream(http: httpx.AsyncClient, **labels: str) -> float:
    return await metric(http, "upstream_requests_total", **labels)


async def flood(
    http: httpx.AsyncClient,
    payloads: Iterable[dict[str, Any]],
    concurrency: int = 32,
    headers: dict[str, str] | None = None,
) -> list[httpx.Response]:
    """Every payload POSTed, `concurrency` at a time."""
    slots = asyncio.Semaphore(concurrency)

    async def one(payload: dict[str, Any]) -> httpx.Response:
        async with slots:
            return await http.post("/graphql", json=payload, headers=headers)

    return await asyncio.gather(*(one(p) for p in payloads))


def codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors") or []}
