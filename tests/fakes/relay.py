"""A real HTTP hop in front of a real node that the test can take down and bring back: an
upstream outage without stopping the chain behind it."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx


class Relay:
    """Forwards every POST to `upstream`; while `down`, answers 503 instead. Each answer
    waits `delay` seconds first (a distant node: concurrent reads overlap). `requests` counts
    POSTs, `methods` the JSON-RPC calls in them (a batch counts each of its calls)."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        self.upstream = upstream
        self.down = False
        self.delay = delay
        self.requests = 0
        self.methods: Counter[str] = Counter()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                relay.requests += 1
                time.sleep(relay.delay)
                relay.methods.update(_methods(body))
                if relay.down:
                    status, answer = 503, b"down"
                else:
                    reply = httpx.post(
                        relay.upstream,
                        content=body,
                        headers={"content-type": "application/json"},
                        timeout=10,
                    )
                    status, answer = reply.status_code, reply.content
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Relay:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _methods(body: bytes) -> list[str]:
    try:
        sent = json.loads(body)
    except ValueError:
        return []
    calls = sent if isinstance(sent, list) else [sent]
    return [str(c.get("method")) for c in calls if isinstance(c, dict)]
