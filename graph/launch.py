"""Starting uvicorn so that a supervisor can trust the exit code.

The listening socket is bound by `listen` before anything else happens (a busy port is one
message naming it, before a config is read or a chain started), and handed to uvicorn. `run`
then starts one server, or uvicorn's supervisor of N workers, and returns:

    0                 stopped on request (SIGINT, SIGTERM)
    STARTUP_FAILURE   the server, or any worker, failed before it started serving

SIGTERM stops a single server as Ctrl-C does, so what the caller opened (the demo's chains)
is closed on the way out: see `stop_on_sigterm`.

uvicorn's own multi-worker launcher stops when a worker fails to start, and then exits 0:
under systemd, Docker or Kubernetes that reads as a clean stop, not a failure to restart.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from settings import ServerConfig

log = logging.getLogger("balance_graph")

__all__ = [
    "STARTUP_FAILURE",
    "StartFailure",
    "listen",
    "run",
    "server_options",
    "stop_on_sigterm",
]

WS_MAX_MESSAGE = 1024 * 1024
"""The largest WebSocket message a client may send: a request body's limit (`BodySizeLimit`
covers HTTP only)."""


class StartFailure(Exception):
    """The service cannot start; the message says why (it is shown as it is)."""


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (not yet listening: uvicorn does that), or
    `StartFailure` naming the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartFailure(_bind_failure(host, port, exc)) from None
    sock.set_inheritable(True)  # workers are spawned with it
    return sock


def run(app: Any, listener: socket.socket, *, workers: int = 1, **options: Any) -> int:
    """Serve `app` (an import string when `workers` > 1) on `listener` until stopped; the
    exit code (see the module docstring). `options` go to `uvicorn.Config`."""
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(app, host=host, port=port, workers=workers, **options)
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    log.info("listening on %s (GraphiQL: %s/graphql)", url, url)
    try:
        if workers > 1:
            with _metrics_directory():
                supervisor = Multiprocess(config, sockets=[listener])
                supervisor.run()
            failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
            if failed:
                log.error("worker %s failed to start: stopped", ", ".join(map(str, failed)))
                return STARTUP_FAILURE
            return 0
        server = uvicorn.Server(config)
        try:
            with stop_on_sigterm():
                server.run(sockets=[listener])
        except KeyboardInterrupt:
            pass  # uvicorn shut down gracefully, then re-raised the signal it caught
        return 0 if server.started else STARTUP_FAILURE
    finally:
        listener.close()


def server_options(server: ServerConfig) -> dict[str, Any]:
    """uvicorn options every way of serving shares: WebSocket messages capped like request
    bodies, no per-message compression (its memory per socket, for small JSON messages), and
    a bound on how long a stopping server waits for open responses (multipart subscriptions
    never end on their own; WebSockets are closed at once with 1012)."""
    return {
        "ws_max_size": WS_MAX_MESSAGE,
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": server.shutdown_timeout,
    }


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises `KeyboardInterrupt` as SIGINT does, so `finally` and
    `with` blocks run. (Python's default for SIGTERM is to die on the spot: a demo stopped by
    `kill` left its two anvil processes running.) uvicorn catches both signals while it
    serves, shuts down gracefully, then raises the caught one again: it lands here."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _metrics_directory() -> Iterator[None]:
    """A fresh directory for the workers' metric files (spawned workers read it when they
    import prometheus_client), unless the operator chose one: any worker's `/metrics` then
    reports the sum, and readiness reads the endpoint states every worker wrote."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    directory = tempfile.mkdtemp(prefix="balance-graph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(directory, ignore_errors=True)


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the address is already in use (another balance-graph "
            "or demo?); stop it, or choose another port with --port (make: PORT=...)"
        )
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {where}: {exc.strerror or exc}"
