"""`balance-graph demo`: a local anvil devnet with sample tokens, served with no internet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import uvicorn

from chains.config import load_settings
from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.sample import SampleDeployment, deploy_sample_tokens
from graph.app import create_app
from graph.logs import log_config

DEMO_CHAIN_ID = 31337


def write_demo_config(workdir: Path, rpc_url: str, deployment: SampleDeployment) -> Path:
    """A config with one `devnet` chain and the sample token list; returns its path."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tokenlist.json").write_text(
        json.dumps(deployment.token_list(DEMO_CHAIN_ID), indent=2), encoding="utf-8"
    )
    config = workdir / "config.toml"
    config.write_text(
        "# Written by `balance-graph demo`: a local anvil devnet.\n"
        "[chains.devnet]\n"
        'name = "Local devnet (anvil)"\n'
        'family = "evm"\n'
        f"chain_id = {DEMO_CHAIN_ID}\n"
        f'rpc_urls = ["{rpc_url}"]\n'
        'native = { symbol = "ETH", name = "Ether", decimals = 18 }\n'
        'tokens = "tokenlist.json"\n',
        encoding="utf-8",
    )
    return config


def example_queries(holder: str, deployment: SampleDeployment) -> str:
    usdc = deployment.token("USDC").address
    return f"""
Two queries to paste into GraphiQL:

  {{
    account(address: "{holder.lower()}") {{
      address
      balances {{
        chain rawAmount amount blockNumber lastUpdated
        token {{ symbol decimals address }}
      }}
    }}
  }}

  {{
    balances(pairs: [
      {{ account: "{holder}", chain: "devnet", token: "{usdc}" }}
      {{ account: "{holder}", chain: "devnet", token: "native" }}
      {{ account: "not-an-address", chain: "devnet", token: "native" }}
    ]) {{ rawAmount amount token {{ symbol }} }}
  }}
"""


def run_demo(host: str, port: int, workdir: Path, log_level: str = "info") -> int:
    with Anvil(chain_id=DEMO_CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        holders = chain.accounts()[1:4]
        deployment = deploy_sample_tokens(chain, holders)
        config = write_demo_config(workdir.resolve(), anvil.url, deployment)
        print(f"devnet: anvil at {anvil.url} (chain id {DEMO_CHAIN_ID}); config {config}")
        print(f"holders: {', '.join(holders)}")
        print(example_queries(holders[0], deployment))
        print(f"GraphiQL: http://{host}:{port}/graphql   (Ctrl-C stops the demo and the devnet)")
        settings = load_settings(config, os.environ)
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            log_config=log_config(log_level),
        )
    return 0
