"""Load tools for side-by-side benchmarks: server processes and an autocannon run.

Both sides of a comparison run as real uvicorn processes on free loopback ports, and the
same client measures both: `serial` (one request at a time, alternating between the two,
so drift cannot favour either) or `throughput` (autocannon, Node's HTTP load generator,
pinned in package.json, so the client costs neither side Python time).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devnet.anvil import find_free_port
from devnet.toolpaths import find_node_modules

REPO = Path(__file__).resolve().parent.parent
NONCE = "[<id>]"
"""Autocannon replaces this in a request body with an id unique to each request."""
_UPSTREAM = re.compile(r"^upstream_requests_total\{.*\} (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Served:
    """A server process's base URL."""

    url: str

    def upstream_requests(self) -> int:
        """Requests the service has sent to chains (its `/metrics`, summed over workers)."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return int(sum(float(value) for value in _UPSTREAM.findall(text)))


@contextmanager
def process(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """Run `argv` (which takes `{port}`) on a free port until the block ends."""
    port = find_free_port()
    command = [part.format(port=port) for part in argv]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, stdout=log, stderr=log, env={**os.environ, **(env or {})}, cwd=REPO
        )
        try:
            served = Served(f"http://127.0.0.1:{port}")
            _wait_live(served, server, log)
            yield served
        finally:
            server.terminate()
            server.wait(20)


def service(config: Path, workers: int) -> list[str]:
    """`balance-graph serve`, as `make serve` runs it."""
    return [
        *(sys.executable, "-m", "graph.cli", "--log-level", "warning", "serve"),
        *("--config", str(config), "--port", "{port}", "--workers", str(workers)),
    ]


def plain(workers: int) -> list[str]:
    """The baseline route on the same uvicorn, HTTP implementation and worker count."""
    return [
        *(sys.executable, "-m", "uvicorn", "bench.plain:create_app", "--factory"),
        *("--port", "{port}", "--workers", str(workers), "--http", "httptools"),
        *("--log-level", "warning", "--no-access-log"),
    ]


def _wait_live(served: Served, server: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{served.url} exited: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{served.url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{served.url} did not start")


def serial(targets: Sequence[tuple[str, dict[str, Any]]], rounds: int) -> list[float]:
    """Median milliseconds of each (url, body), sent one at a time, alternating.

    Where a body holds `NONCE`, every request carries a different one, as with autocannon."""
    payloads = [(url, json.dumps(body)) for url, body in targets]
    nonces = itertools.count()
    headers = {"content-type": "application/json"}
    times: list[list[float]] = [[] for _ in targets]
    with httpx.Client(timeout=60, headers=headers) as client:
        for url, payload in payloads:  # connections open, caches warm
            assert client.post(url, content=payload).status_code == 200
        for _ in range(rounds):
            for spent, (url, payload) in zip(times, payloads, strict=True):
                content = payload.replace(NONCE, f"serial-{next(nonces)}")
                started = time.perf_counter()
                response = client.post(url, content=content)
                spent.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:500]
    return [statistics.median(spent) for spent in times]


def throughput(url: str, body: dict[str, Any], seconds: int, connections: int = 16) -> float:
    """Requests per second autocannon reaches on `url`, failing on any non-2xx answer.

    Where the body holds `NONCE`, every request carries a different one."""
    payload = json.dumps(body)
    argv = [
        *(str(find_node_modules() / ".bin/autocannon"), "--json", "--no-progress"),
        *("-c", str(connections), "-d", str(seconds), "-m", "POST"),
        *("-H", "content-type=application/json", "-b", payload, url),
    ]
    if NONCE in payload:
        argv.insert(1, "--idReplacement")
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    result = json.loads(done.stdout)
    failed = result["non2xx"] + result["errors"] + result["timeouts"]
    if failed:
        raise RuntimeError(f"{url}: {failed} of {result['requests']['total']} requests failed")
    rate: float = result["requests"]["average"]
    return rate
