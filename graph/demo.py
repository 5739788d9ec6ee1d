"""`balance-graph demo`: two local anvil chains with sample tokens and static USD prices,
served with no internet and no RPC key."""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.sample import DAY, SampleDeployment, deploy_sample_tokens, play_a_week
from graph.app import create_app
from graph.logs import log_config
from graph.pages.graphiql import GraphiQL
from settings import load_settings

DEMO_CHAINS = {"devnet": 31337, "devnet-l2": 31338}
DEMO_PRICES = {"native": "3000.25", "USDC": "0.9998", "WETH": "3000.25", "MKR": "1520.5"}
UNPRICED = {"devnet-l2": "MKR"}
"""Left unpriced on purpose: `portfolio` says `complete: false` rather than guess. `devnet`,
whose history the demo plays, is wholly priced, so its `portfolioHistory` has totals."""
HISTORY_DAYS = 10
"""`devnet` starts this many days ago and moves USDC once a day (`play_a_week`)."""


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
        for symbol in ("USDC", "WETH", "MKR"):
            if UNPRICED.get(chain_id) == symbol:
                continue
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
            "finality_depth = 2  # local chains: history older than 2 blocks is final",
        ]
    config = workdir / "config.toml"
    config.write_text("\n".join([*lines, *tables]) + "\n", encoding="utf-8")
    return config


def example_queries(holder: str, usdc: str, since: int) -> str:
    start = datetime.fromtimestamp(since + DAY, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = datetime.fromtimestamp(since + HISTORY_DAYS * DAY, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
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

History: USDC moved once a day for {HISTORY_DAYS - 2} days on devnet.

  {{
    account(address: "{holder}") {{
      balanceHistory(chain: "devnet", token: "{usdc}", first: 5) {{
        events {{ blockNumber timestamp delta balance transactionHash }}
        pageInfo {{ hasNextPage endCursor }}
      }}
      balances(chains: ["devnet"], atTime: "{start}") {{ blockNumber amount token {{ symbol }} }}
      portfolioHistory(chains: ["devnet"], from: "{start}", to: "{end}", interval: DAY) {{
        at totalUsd complete byChain {{ chain blockNumber totalUsd }}
      }}
    }}
  }}
"""


def run_demo(host: str, port: int, workdir: Path, log_level: str = "info") -> int:
    with ExitStack() as stack:
        chains: dict[str, tuple[str, SampleDeployment]] = {}
        holders: list[str] = []
        since = int(time.time()) - HISTORY_DAYS * DAY
        for chain_id, numeric in DEMO_CHAINS.items():
            history = chain_id == "devnet"
            args = ["--timestamp", str(since)] if history else []
            anvil = stack.enter_context(Anvil(chain_id=numeric, extra_args=args))
            chain = stack.enter_context(DevChain(anvil.url))
            holders = chain.accounts()[1:4]
            deployment = deploy_sample_tokens(chain, holders)
            if history:
                play_a_week(chain, deployment, since + 600)
            chains[chain_id] = (anvil.url, deployment)
            print(f"{chain_id}: anvil at {anvil.url} (chain id {numeric})")
        config = write_demo_config(workdir.resolve(), chains)
        print(f"config: {config}")
        print(f"holders: {', '.join(holders)}")
        print(example_queries(holders[0], chains["devnet"][1].token("USDC").address, since))
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
