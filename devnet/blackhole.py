"""A node that accepts connections and never answers: the hung upstream of a bad day."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class BlackHole:
    """Listens on a free loopback port, accepts every connection, reads nothing, says nothing."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self._held: list[socket.socket] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def connections(self) -> int:
        return len(self._held)

    def __enter__(self) -> BlackHole:
        self._listener.settimeout(0.1)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)
