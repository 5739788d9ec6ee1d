"""A real HTTP server on a loopback port whose answers are scripted: a misbehaving node.

Each POST is answered by the next item of the script (the last one repeats): a fixed
`Reply`, or a function of the decoded JSON request (to echo JSON-RPC ids). Replies can be
delayed, carry any status, headers and body, so timeouts, 5xx, wrong ids and oversized or
compressed bodies all travel through a real socket to the client under test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "SECRETKEY123"
"""Put in every URL of these servers: tests check it never shows in errors or logs."""


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Script = Reply | Callable[[Any], Reply]
"""A fixed reply, or a function of the decoded JSON request (to echo ids)."""


def as_json(value: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(value).encode())


def result_for(make: Callable[[dict[str, Any]], Any]) -> Callable[[Any], Reply]:
    """A single-call reply echoing the request id, with `result = make(request)`."""

    def reply(request: Any) -> Reply:
        return as_json({"jsonrpc": "2.0", "id": request["id"], "result": make(request)})

    return reply


def error_for(code: int, message: str = "boom") -> Callable[[Any], Reply]:
    def reply(request: Any) -> Reply:
        return as_json(
            {"jsonrpc": "2.0", "id": request["id"], "error": {"code": code, "message": message}}
        )

    return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class ScriptedServer:
    """An HTTP server whose replies are consumed in order (the last one repeats)."""

    def __init__(self, script: list[Script]) -> None:
        self.script = script
        self.requests: list[Any] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = f"/v2/{SECRET}?apikey={SECRET}") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next(self, request: Any) -> Reply:
        with self._lock:
            self.requests.append(request)
            index = min(len(self.requests), len(self.script)) - 1
            item = self.script[index]
        return item if isinstance(item, Reply) else item(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(server._next(self.path))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    request: Any = json.loads(raw)
                except ValueError:
                    request = raw
                self._answer(server._next(request))

            def _answer(self, reply: Reply) -> None:
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
