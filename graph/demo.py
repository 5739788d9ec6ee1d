"""`balance-graph demo`: two local anvil chains with sample tokens and static USD prices,
served with no internet and no RPC key.

The port is taken first: a second demo on a busy port stops before it starts a chain or
touches the running demo's files. The demo's own config lifts the anonymous rate limits
(a person exploring gets no 429) and defines the `pro` plan the README's keys examples use;
its banner prints the exact `keys create` command for that config. SIGTERM stops it like
Ctrl-C: the service, then both chains.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.sample import (
    DAY,
    SampleDeployment,
    Unlisted,
    deploy_sample_tokens,
    deploy_unlisted_tokens,
    play_a_week,
)
from graph import launch
from graph.app import create_app
from graph.logs import log_config
from graph.pages.graphiql import GraphiQL
from metering.sqlite_store import FILENAME as KEY_STORE
from settings import load_settings

DEMO_CHAINS = {"devnet": 31337, "devnet-l2": 31338}
DEMO_PRICES = {"native": "3000.25", "USDC": "0.9998", "WETH": "3000.25", "MKR": "1520.5"}
UNPRICED = {"devnet-l2": "MKR"}
"""Left unpriced on purpose: `portfolio` says `complete: false` rather than guess. `devnet`,
whose history the demo plays, is wholly priced, so its `portfolioHistory` has totals."""
HISTORY_DAYS = 10
"""`devnet` starts this many days ago and moves USDC once a day (`play_a_week`)."""
_TRUST_WALLET = "https://raw.githubusercontent.com/trustwallet/assets/master/blockchains/ethereum"
LOGOS = {
    symbol: f"{_TRUST_WALLET}/assets/{address}/logo.png"
    for symbol, address in {
        "USDC": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        "WETH": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "MKR": "0x9f8F72aA9304c8B593d555F12eF6589cC3A579A2",
    }.items()
}
"""The listed demo tokens wear their mainnet namesakes' logos (the shipped lists' URLs)."""
UNLISTED_PRICES = {"gold": "65.5", "art": "150"}
"""Demo Gold and Demo Art are on no list but priced (the NFT per item): discovery finds them,
and they have USD values."""
PRO_PLAN = {"balance": "600/min", "balances": "120/min", "account": "120/min"}
"""The plan the README's `keys create --plan pro` examples name."""


def write_demo_config(
    workdir: Path,
    chains: dict[str, tuple[str, SampleDeployment]],
    unlisted: Unlisted | None = None,
) -> Path:
    """A config with one chain per (id -> (rpc url, deployment)), static prices, no anonymous
    rate limits and a `pro` plan, discovery on every chain (`unlisted`, on `devnet`, is what
    it finds). The key store starts empty, as the chains do."""
    workdir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):  # only the store's own files: data/ may hold others
        (workdir / "data" / f"{KEY_STORE}{suffix}").unlink(missing_ok=True)
    lines = [
        "# Written by `balance-graph demo`: local anvil chains, static prices.",
        "[auth]",
        f"data_dir = {json.dumps(str(workdir / 'data'))}  # keys, limits and credits",
        "[rate_limits.anonymous]  # empty: callers without a key are not rate-limited",
        "[rate_limits.plans.pro]  # for keys made with --plan pro",
        *(f'{rate_class} = "{rate}"' for rate_class, rate in PRO_PLAN.items()),
        "[prices]",
        'sources = ["static"]',
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
        if unlisted is not None and chain_id == "devnet":
            for name, price in UNLISTED_PRICES.items():
                lines.append(f'"{chain_id}:{getattr(unlisted, name)}" = "{price}"')
        listed = deployment.token_list(numeric)
        for entry in listed["tokens"]:
            entry["logoURI"] = LOGOS[entry["symbol"]]
        token_list = workdir / f"{chain_id}-tokens.json"
        token_list.write_text(json.dumps(listed, indent=2), encoding="utf-8")
        tables += [
            f"[chains.{chain_id}]",
            f'name = "Local {chain_id} (anvil, chain id {numeric})"',
            'family = "evm"',
            f"chain_id = {numeric}",
            f'rpc_urls = ["{url}"]',
            'native = { symbol = "ETH", name = "Ether", decimals = 18 }',
            f'tokens = "{token_list.name}"',
            "finality_depth = 2  # local chains: history older than 2 blocks is final",
            'discovery = ["logs"]  # tokens on no list, from the chain\'s own transfers',
        ]
    config = workdir / "config.toml"
    config.write_text("\n".join([*lines, *tables]) + "\n", encoding="utf-8")
    return config


def live_example(holder: str, sender: str, anvil: str) -> str:
    """A subscription to paste into GraphiQL, and the transfer that makes it speak."""
    transfer = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_sendTransaction",
            "params": [{"from": sender, "to": holder, "value": hex(10**18)}],
        },
        separators=(",", ":"),
    )
    return f"""
Live balances: run this in GraphiQL (it keeps running; the stop button ends it)

  subscription {{
    balanceChanges(accounts: ["{holder}"], chains: ["devnet"]) {{
      blockNumber previousRawAmount balance {{ rawAmount amount token {{ symbol }} }}
    }}
  }}

then send {holder[:10]}… 1 ETH on devnet from another terminal: the change shows in the block
that made it.

  curl -s {anvil} -H 'content-type: application/json' -d '{transfer}'
"""


def example_queries(holder: str, usdc: str, since: int, live: str = "") -> str:
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
{live}
Tokens on no list (Demo Gold, an NFT; a spam airdrop, hidden unless includeSpam: true) are
found by discovery, from devnet's own transfer logs:

  {{
    account(address: "{holder}") {{
      balances(chains: ["devnet"], includeZero: true, minValueUsd: "0") {{
        rawAmount token {{ symbol standard logo }}
      }}
      discovery(chains: ["devnet"]) {{
        chain source scannedFromBlock scannedToBlock complete tokenCount
      }}
    }}
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


def shell_examples(url: str, holder: str, config: Path, store: Path) -> str:
    """The same service from a shell, and its API keys: commands to paste as they are."""
    command = _keys_command()
    where = shlex.quote(_shown(config))
    query = '{ account(address: \\"%s\\") { balances { chain amount valueUsd token { symbol } } } }'
    body = shlex.quote(json.dumps({"query": "QUERY"}).replace("QUERY", query % holder))
    curl = f"curl -s {url}/graphql -H 'content-type: application/json'"
    return f"""
From a shell (another terminal):

  {curl} \\
    -d {body}

Rate limits: none for callers without a key (the demo's [rate_limits.anonymous] is empty);
keys of plan `pro` get {PRO_PLAN["account"]} account calls. API keys are kept in {store}:

  KEY=$({command} keys create --name me --plan pro --credits 1000 --config {where})
  {curl} -H "x-api-key: $KEY" \\
    -d {body} -i
  {command} keys list --config {where}
"""


def run_demo(host: str, port: int, workdir: Path, log_level: str = "info") -> int:
    listener = launch.listen(host, port)  # before anything: a busy port changes nothing
    url = f"http://{_reachable(host)}:{port}"
    try:
        with launch.stop_on_sigterm(), ExitStack() as stack:
            chains, holders, since, unlisted = _start_chains(stack)
            config = write_demo_config(workdir.resolve(), chains, unlisted)
            settings = load_settings(config, os.environ)
            usdc = chains["devnet"][1].token("USDC").address
            print(f"config: {config}")
            print(f"holders: {', '.join(holders)}")
            live = live_example(holders[0], holders[1], chains["devnet"][0])
            print(example_queries(holders[0], usdc, since, live))
            print(shell_examples(url, holders[0], config, settings.auth.store_dir() / KEY_STORE))
            # Flushed: behind a pipe or a log file, the instructions must not wait in a buffer.
            print(f"Wallet page: {url}/wallet/{holders[0]}")
            print(f"GraphiQL: {url}/graphql   (Ctrl-C stops the demo and both chains)", flush=True)
            app = create_app(settings, graphiql=GraphiQL(address=holders[0], chain="devnet"))
            code = launch.run(
                app,
                listener,
                log_level=log_level,
                log_config=log_config(log_level),
                **launch.server_options(settings.server),
            )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while the chains were starting
        code = 0
    finally:
        listener.close()
    print("demo stopped: the service and both chains", file=sys.stderr)
    return code


def _start_chains(
    stack: ExitStack,
) -> tuple[dict[str, tuple[str, SampleDeployment]], list[str], int, Unlisted]:
    """Both anvils (closed with `stack`), sample tokens, `devnet`'s unlisted tokens and its
    history."""
    chains: dict[str, tuple[str, SampleDeployment]] = {}
    holders: list[str] = []
    since = int(time.time()) - HISTORY_DAYS * DAY
    unlisted: Unlisted | None = None
    for chain_id, numeric in DEMO_CHAINS.items():
        history = chain_id == "devnet"
        args = ["--timestamp", str(since)] if history else []
        anvil = stack.enter_context(Anvil(chain_id=numeric, extra_args=args))
        chain = stack.enter_context(DevChain(anvil.url))
        holders = chain.accounts()[1:4]
        deployment = deploy_sample_tokens(chain, holders)
        if history:
            unlisted = deploy_unlisted_tokens(chain, deployment.holders)
            play_a_week(chain, deployment, since + 600)
        chains[chain_id] = (anvil.url, deployment)
        print(f"{chain_id}: anvil at {anvil.url} (chain id {numeric})", flush=True)
    if unlisted is None:
        raise RuntimeError("the demo's chains include no `devnet`")
    return chains, holders, since, unlisted


def _reachable(host: str) -> str:
    """Where a browser or curl on this machine reaches a server listening on `host`."""
    try:
        unspecified = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host  # a name
    return "127.0.0.1" if unspecified else f"[{host}]" if ":" in host else host


def _keys_command() -> str:
    """How to run `balance-graph` from here: the script beside this Python (`make demo` runs
    `.venv/bin/python`, whose `.venv/bin` is not on PATH), else the one on PATH."""
    script = Path(sys.executable).parent / "balance-graph"
    return shlex.quote(_shown(script)) if script.is_file() else "balance-graph"


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is below it (shorter to paste)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
