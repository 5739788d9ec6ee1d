"""Run a throwaway anvil devnet on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from typing import IO, TYPE_CHECKING

import httpx

from devnet.errors import DevnetError
from devnet.toolpaths import find_anvil

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

HOST = "127.0.0.1"
DEFAULT_CHAIN_ID = 31337
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
_PORT_ATTEMPTS = 3
_PORT_IN_USE_MARKERS = ("address already in use", "addrinuse", "os error 98")


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Anvil:
    """An anvil process listening on ``127.0.0.1:<free port>``.

    Use as a context manager (``with Anvil(chain_id=1) as node: node.url``) or
    call :meth:`start` / :meth:`stop` explicitly. ``stop`` always reaps the process.
    """

    def __init__(
        self,
        chain_id: int = DEFAULT_CHAIN_ID,
        *,
        block_time: float | None = None,
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.chain_id = chain_id
        self.block_time = block_time
        self.extra_args = tuple(extra_args)
        self.binary = binary
        self.start_timeout = start_timeout
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def port(self) -> int:
        """The port anvil listens on (only valid once started)."""
        if self._port is None:
            raise DevnetError("anvil is not running")
        return self._port

    @property
    def url(self) -> str:
        """The HTTP JSON-RPC URL of the running node."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id, or None when not running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the anvil process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Anvil:
        """Start anvil and wait until it answers ``eth_chainId``; returns ``self``."""
        if self._proc is not None:
            raise DevnetError("anvil is already started")
        binary = self.binary or find_anvil()
        last_error = ""
        for _ in range(_PORT_ATTEMPTS):
            port = find_free_port()
            self._spawn(binary, port)
            try:
                error, retryable = self._wait_ready()
            except BaseException:
                self.stop()
                raise
            if error is None:
                return self
            self.stop()
            last_error = error
            if not retryable:
                break
        raise DevnetError(f"anvil failed to start: {last_error}")

    def stop(self) -> None:
        """Terminate anvil (kill after a timeout) and reap it; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            else:
                proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._port = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{HOST}:{self._port}" if self._port is not None else "stopped"
        return f"Anvil(chain_id={self.chain_id}, {where})"

    def _spawn(self, binary: str, port: int) -> None:
        args = [binary, "--host", HOST, "--port", str(port), "--chain-id", str(self.chain_id)]
        args.append("--silent")
        if self.block_time is not None:
            args += ["--block-time", f"{self.block_time:g}"]
        args += self.extra_args
        # Closed in stop(); a file (not a pipe) so a chatty anvil can never block.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr
            )
        except OSError as exc:
            self._stderr.close()
            self._stderr = None
            raise DevnetError(f"could not run {binary}: {exc}") from exc
        self._port = port

    def _wait_ready(self) -> tuple[str | None, bool]:
        """Poll until anvil answers; return (error or None when ready, retryable)."""
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                code = self._proc.poll()
                if code is not None:
                    stderr = self._read_stderr()
                    in_use = any(m in stderr.lower() for m in _PORT_IN_USE_MARKERS)
                    return f"exited with code {code}: {stderr}", in_use
                try:
                    reply = client.post(self.url, json=payload).json()
                except (httpx.HTTPError, ValueError):
                    time.sleep(0.02)
                    continue
                result = reply.get("result") if isinstance(reply, dict) else None
                if not isinstance(result, str) or int(result, 16) != self.chain_id:
                    # Another process won the race for this port.
                    return f"unexpected eth_chainId reply {reply!r} on port {self._port}", True
                return None, False
        stderr = self._read_stderr()
        return f"no eth_chainId answer within {self.start_timeout:.0f}s: {stderr}", False

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return text or "(no stderr output)"
