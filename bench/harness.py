"""What the benchmarks share: a devnet with many listed tokens and a real uvicorn server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from devnet.anvil import find_free_port
from devnet.chain import DevChain
from graph.app import Services, create_app
from graph.launch import server_options
from settings import Settings, load_settings


def listed_tokens(chain: DevChain, count: int, chain_id: int, prefix: str) -> list[dict[str, Any]]:
    """Deploy `count` ERC-20s and describe them as token-list entries."""
    entries = []
    for i in range(count):
        address = chain.deploy("TestToken", f"{prefix} {i}", f"{prefix}{i}", 18)
        entries.append(
            {
                "chainId": chain_id,
                "address": address,
                "name": f"{prefix} {i}",
                "symbol": f"{prefix}{i}",
                "decimals": 18,
            }
        )
    return entries


ChainSpec = tuple[int, str, list[dict[str, Any]]]
"""(numeric chain id, rpc url, token-list entries)."""


def write_config(workdir: Path, chains: dict[str, ChainSpec]) -> Settings:
    """A config with each chain id -> (numeric chain id, rpc url, token-list entries)."""
    tables = []
    for name, (chain_id, url, tokens) in chains.items():
        (workdir / f"{name}.json").write_text(json.dumps({"tokens": tokens}), encoding="utf-8")
        tables.append(
            f'[chains.{name}]\nfamily = "evm"\nchain_id = {chain_id}\nrpc_urls = ["{url}"]\n'
            'native = { symbol = "ETH", name = "Ether", decimals = 18 }\n'
            f'tokens = "{name}.json"\n'
        )
    # The benchmarks' one client would meet the anonymous limits at once: they measure reads.
    metering = f'[auth]\ndata_dir = "{workdir / "data"}"\n[rate_limits.anonymous]\n'
    config = workdir / "bench.toml"
    config.write_text("\n".join([metering, *tables]), encoding="utf-8")
    return load_settings(config, {})


@dataclass
class Server:
    url: str
    services: Services

    def upstream(self, chain: str | None = None) -> int:
        counter = self.services.metrics.upstream_requests
        return counter.total(chain=chain) if chain else counter.total()


@contextmanager
def running(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> Iterator[Server]:
    app = create_app(settings, transport=transport)
    port = find_free_port()
    options = server_options(settings.server)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield Server(f"http://127.0.0.1:{port}/graphql", app.state.services)
    finally:
        server.should_exit = True
        thread.join(10)


def report(name: str, value: str, target: str, passed: bool) -> bool:
    print(f"  {name:<16} {value}   target {target:<10} {'ok' if passed else 'MISSED'}")
    return passed
