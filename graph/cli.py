"""`balance-graph`: serve the API, manage its API keys, run the offline devnet demo, or print
the schema."""

from __future__ import annotations

import argparse
import logging.config
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from graph.http.protocol import HEADER_BYTES_ENV, READ_TIMEOUT_ENV, GuardedHttpToolsProtocol
from graph.logs import log_config
from metering import admin
from settings import DEFAULT_CONFIG, ConfigError, load_settings

DEMO_NEEDS_CHECKOUT = (
    "balance-graph: the demo needs a checkout of the repository (its devnet tooling, anvil and "
    "solc, is not part of the installed package): run `make demo` there"
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.config.dictConfig(log_config(args.log_level))
    try:
        if args.command == "serve":
            return serve(args.config, args.host, args.port, args.workers, args.log_level)
        if args.command == "demo":
            try:
                from graph.demo import run_demo  # devnet tooling only when asked for
            except ModuleNotFoundError as exc:
                if exc.name != "devnet" and not (exc.name or "").startswith("devnet."):
                    raise
                print(DEMO_NEEDS_CHECKOUT, file=sys.stderr)
                return 2
            return run_demo(args.host, args.port, Path(args.workdir), args.log_level)
        if args.command == "keys":
            return admin.run(args, load_settings(args.config.resolve(), os.environ))
        if args.command == "export-schema":
            from graph.schema.subgraph import build_schema

            print(build_schema().as_str())
            return 0
    except ConfigError as exc:
        print(f"balance-graph: configuration error: {exc}", file=sys.stderr)
        return 2
    return 1


def serve(config: Path, host: str, port: int, workers: int, log_level: str = "info") -> int:
    """Validate the config, then run uvicorn (workers share nothing but Redis, if configured).

    Every worker reads the config itself (`BALANCE_GRAPH_CONFIG`); the connection guards reach
    its protocol through the environment, and so does the metrics directory all workers
    write, so `/metrics` on any of them reports the sum.
    """
    config = config.resolve()
    server = load_settings(config, os.environ).server  # fail here, clearly, not in each worker
    os.environ["BALANCE_GRAPH_CONFIG"] = str(config)
    os.environ[READ_TIMEOUT_ENV] = str(server.read_timeout)
    os.environ[HEADER_BYTES_ENV] = str(server.max_header_bytes)
    with _metrics_directory(workers):
        uvicorn.run(
            "graph.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http=GuardedHttpToolsProtocol,
            limit_concurrency=server.max_connections,
            timeout_keep_alive=int(server.keep_alive),
            log_level=log_level,
            log_config=log_config(log_level),
            proxy_headers=False,
        )
    return 0


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """A fresh directory for the workers' metric files (spawned processes read it when they
    import prometheus_client), unless the operator chose one. One process needs none."""
    if workers == 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    directory = tempfile.mkdtemp(prefix="balance-graph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(directory, ignore_errors=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balance-graph", description=__doc__)
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the GraphQL API")
    _add_config_arg(serve_cmd)
    _add_listen_args(serve_cmd)
    serve_cmd.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="uvicorn worker processes (default: one per core)",
    )
    demo_cmd = commands.add_parser("demo", help="local anvil devnet with sample tokens, then serve")
    _add_listen_args(demo_cmd)
    demo_cmd.add_argument("--workdir", default=".demo", help="where the devnet config is written")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    admin.add_commands(commands, _add_config_arg)
    return parser


def _add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("BALANCE_GRAPH_CONFIG", DEFAULT_CONFIG)),
        help="TOML config (default: $BALANCE_GRAPH_CONFIG or the shipped mainnet config)",
    )


def _add_listen_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


if __name__ == "__main__":
    raise SystemExit(main())
