"""`balance-graph demo`: two local anvil chains with sample tokens and static USD prices,
served with no internet and no RPC key."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.sample import SampleDeployment, deploy_sample_tokens
from graph.app import create_app
from graph.graphiql import GraphiQL
from graph.logs import log_config
from settings import load_settings

DEMO_CHAINS = {"devnet": 31337, "devnet-l2": 31338}
DEMO_PRICES = {"native": "3000.25", "USDC": "0.9998", "WETH": "3000.25"}  # MKR left unpriced


def write_demo_config(workdir: Path, chains: dict[str, tuple[str, SampleDeployment]]) -> Path:
    """A config with one chain per (id -> (rpc url, deployment)) and static prices."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by `balance-graph demo`: local anvil chains, static prices.",
        "[prices]",
        'sources = ["static"]',
        "[auth]",
        f"data_dir = {json.dumps(str(workdir / 'data'))}  # keys, limits and credits",
        "[prices.static]",
    ]
    tables: list[str] = []
    for chain_id, (url, deployment) in chains.items():
        numeric = DEMO_CHAINS[chain_id]
        lines.append(f'"{chain_id}:native" = "{DEMO_PRICES["native"]}"')
        for symbol in ("USDC", "WETH"):
            lines.append(
                f'"{chain_id}:{deployment.token(symbol).address}" = "{DEMO_PRICES[symbol]}"'
            )
        token_list = workdir / f"{chain_id}-tokens.json"
        token_list.write_text(
            json.dumps(deployment.token_list(numeric), indent=2), encoding="utf-8"
        )
        tables += [
            f"[chains.{chain_id}]",
            f'name = "Local {chain_id} (anvil, chain id {numeric})"',
            'family = "evm"',
            f"chain_id = {numeric}",
            f'rpc_urls = ["{url}"]',
            'native = { symbol = "ETH", name = "Ether", decimals = 18 }',
            f'tokens = "{token_list.name}"',
        ]
    config = workdir / "config.toml"
    config.write_text("\n".join([*lines, *tables]) + "\n", encoding="utf-8")
    return config


def example_queries(holder: str, usdc: str) -> str:
    return f"""
Example queries (paste into GraphiQL):

  {{
    account(address: "{holder.lower()}") {{
      address
      balances(minValueUsd: "0") {{
        chain rawAmount amount valueUsd blockNumber lastUpdated
        token {{ symbol decimals address priceUsd }}
      }}
      portfolio {{ totalUsd complete unpricedCount failedChains byChain {{ chain totalUsd }} }}
    }}
  }}

  {{
    balances(pairs: [
      {{ account: "{holder}", chain: "devnet", token: "{usdc}" }}
      {{ account: "{holder}", chain: "devnet-l2", token: "native" }}
      {{ account: "not-an-address", chain: "devnet", token: "native" }}
    ]) {{ chain rawAmount amount token {{ symbol }} }}
  }}
"""


def run_demo(host: str, port: int, workdir: Path, log_level: str = "info") -> int:
    with ExitStack() as stack:
        chains: dict[str, tuple[str, SampleDeployment]] = {}
        holders: list[str] = []
        for chain_id, numeric in DEMO_CHAINS.items():
            anvil = stack.enter_context(Anvil(chain_id=numeric))
            chain = stack.enter_context(DevChain(anvil.url))
            holders = chain.accounts()[1:4]
            chains[chain_id] = (anvil.url, deploy_sample_tokens(chain, holders))
            print(f"{chain_id}: anvil at {anvil.url} (chain id {numeric})")
        config = write_demo_config(workdir.resolve(), chains)
        print(f"config: {config}")
        print(f"holders: {', '.join(holders)}")
        print(example_queries(holders[0], chains["devnet"][1].token("USDC").address))
        # Flushed: behind a pipe or a log file, the instructions must not wait in a buffer.
        print(
            f"GraphiQL: http://{host}:{port}/graphql   (Ctrl-C stops the demo and both chains)",
            flush=True,
        )
        settings = load_settings(config, os.environ)
        uvicorn.run(
            create_app(settings, graphiql=GraphiQL(address=holders[0], chain="devnet")),
            host=host,
            port=port,
            log_level=log_level,
            log_config=log_config(log_level),
        )
    return 0
