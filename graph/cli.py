"""`balance-graph`: serve the API, manage its API keys, run the offline devnet demo, or print
the schema.

Exit codes: 0 done (or stopped on request), 1 a `keys` action that cannot be done, 2 a bad
command line or configuration (nothing was started), 3 the server could not start (the port
is taken, or a worker failed before serving).
"""

from __future__ import annotations

import argparse
import logging.config
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from core.npm import NODE_MODULES_ENV
from graph import launch
from graph.http.protocol import HEADER_BYTES_ENV, READ_TIMEOUT_ENV, GuardedHttpToolsProtocol
from graph.logs import log_config
from graph.workers import default_workers
from metering import admin
from settings import CONFIG_ENV, DEFAULT_CONFIG, ConfigError, Settings, load_settings
from settings import unknown_variables as unknown_settings_variables

DEMO_NEEDS_CHECKOUT = (
    "balance-graph: the demo needs a checkout of the repository (its devnet tooling, anvil and "
    "solc, is not part of the installed package): run `make demo` there"
)
OTHER_VARIABLES = (READ_TIMEOUT_ENV, HEADER_BYTES_ENV, NODE_MODULES_ENV, "BALANCE_GRAPH_SOLC_CACHE")
"""`BALANCE_GRAPH_*` variables read outside the settings (the last by devnet/compiler.py)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.config.dictConfig(log_config(args.log_level))
    try:
        if args.command == "serve":
            return serve(args.config, args.host, args.port, args.workers, args.log_level)
        if args.command == "demo":
            return _demo(args)
        if args.command == "keys":
            return admin.run(args, configured(args.config))
        if args.command == "export-schema":
            from graph.schema.subgraph import build_schema

            print(build_schema().as_str())
            return 0
    except ConfigError as exc:
        print(f"balance-graph: configuration error: {exc}", file=sys.stderr)
        return 2
    except launch.StartFailure as exc:
        print(f"balance-graph: {exc}", file=sys.stderr)
        return launch.STARTUP_FAILURE
    return 1


def serve(config: Path, host: str, port: int, workers: int, log_level: str = "info") -> int:
    """Take the port, check the config and everything it names, then run uvicorn.

    Nothing listens until the checks pass: a token list or data directory that cannot be
    used is one message here, not a failure in every worker after "running". Every worker
    reads the config itself (`BALANCE_GRAPH_CONFIG`); the connection guards reach its
    protocol through the environment, and so does the metrics directory all workers write.
    """
    from graph.services import check_services  # the whole service: only when serving

    listener = launch.listen(host, port)
    try:
        settings = configured(config)
        try:
            check_services(settings)
        except ConfigError as exc:
            raise ConfigError(f"{settings.source}: {exc}") from exc
    except BaseException:
        listener.close()
        raise
    server = settings.server
    os.environ[CONFIG_ENV] = str(config.resolve())
    os.environ[READ_TIMEOUT_ENV] = str(server.read_timeout)
    os.environ[HEADER_BYTES_ENV] = str(server.max_header_bytes)
    return launch.run(
        "graph.app:create_app",
        listener,
        workers=workers,
        factory=True,
        http=GuardedHttpToolsProtocol,
        limit_concurrency=server.max_connections,
        timeout_keep_alive=int(server.keep_alive),
        log_level=log_level,
        log_config=log_config(log_level),
        proxy_headers=False,
        **launch.server_options(server),
    )


def configured(config: Path) -> Settings:
    """The settings `config` and the environment make, after warning on stderr about
    `BALANCE_GRAPH_*` variables that set nothing (a misspelt override is otherwise silent)."""
    settings = load_settings(config.resolve(), os.environ)
    for warning in unknown_settings_variables(os.environ, settings, OTHER_VARIABLES):
        print(f"balance-graph: warning: {warning}", file=sys.stderr)
    return settings


def _demo(args: argparse.Namespace) -> int:
    try:
        from graph.demo import run_demo  # devnet tooling only when asked for
    except ModuleNotFoundError as exc:
        if exc.name != "devnet" and not (exc.name or "").startswith("devnet."):
            raise
        print(DEMO_NEEDS_CHECKOUT, file=sys.stderr)
        return 2
    return run_demo(args.host, args.port, Path(args.workdir), args.log_level)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balance-graph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_cmd = commands.add_parser(
        "serve",
        help="serve the GraphQL API (GraphiQL at /graphql)",
        description="Serve the GraphQL API; GraphiQL at http://HOST:PORT/graphql.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _add_config_arg(serve_cmd)
    _add_listen_args(serve_cmd)
    serve_cmd.add_argument(
        "--workers",
        type=_worker_count,
        default=default_workers(),
        help="uvicorn worker processes; the default is the CPUs this process may use "
        "(its CPU affinity and cgroup quota, so a container's --cpus limit)",
    )
    demo_cmd = commands.add_parser(
        "demo",
        help="two local anvil chains with sample tokens, then serve them",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _add_listen_args(demo_cmd)
    demo_cmd.add_argument("--workdir", default=".demo", help="where the devnet config is written")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    admin.add_commands(commands, _add_config_arg)
    return parser


def _add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG)),
        help=f"TOML config: ${CONFIG_ENV} if set, else the shipped mainnet config",
    )


def _add_listen_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")


def _worker_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _version() -> str:
    try:
        return metadata.version("balance-graph")
    except metadata.PackageNotFoundError:  # a checkout run without installing
        return "unknown (not installed)"


if __name__ == "__main__":
    raise SystemExit(main())
