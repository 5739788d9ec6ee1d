"""Slow and greedy clients meet the guarded protocol (issue 8, item 16), on raw sockets.

Before, a connection that said nothing or trickled its headers stayed open forever, and 13 MB
of header bytes were buffered without complaint.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from devnet.anvil import find_free_port
from graph.http.protocol import HEADER_BYTES_ENV, READ_TIMEOUT_ENV, GuardedHttpToolsProtocol

READ_TIMEOUT = 0.6


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"got %d" % len(body)})


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv(READ_TIMEOUT_ENV, str(READ_TIMEOUT))
    monkeypatch.setenv(HEADER_BYTES_ENV, "4096")
    config = uvicorn.Config(
        echo, port=find_free_port(), http=GuardedHttpToolsProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield config.port
    server.should_exit = True
    thread.join(5)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def closed_within(conn: socket.socket, seconds: float) -> bool:
    """Whether the server closes `conn` within `seconds` (reading whatever it sends)."""
    conn.settimeout(seconds)
    try:
        while conn.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with connect(port) as conn:
        assert closed_within(conn, READ_TIMEOUT + 2)


def trickle(conn: socket.socket, data: bytes, pause: float) -> float | None:
    """Send `data` a byte at a time; the seconds until the server hung up (None: it never did)."""
    started = time.monotonic()
    try:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(pause)
    except OSError:
        return time.monotonic() - started
    return None


def test_trickled_headers_do_not_keep_a_connection_open(port: int) -> None:
    with connect(port) as conn:
        hung_up = trickle(conn, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000, 0.05)
    assert hung_up is not None and hung_up < READ_TIMEOUT + 2


def test_a_trickled_body_is_cut_off_too(port: int) -> None:
    with connect(port) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        conn.sendall(b"x")
        assert closed_within(conn, READ_TIMEOUT + 2)


def test_huge_headers_are_refused_with_431(port: int) -> None:
    with connect(port) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_honest_requests_are_served_and_keep_alive_still_works(port: int) -> None:
    with connect(port) as conn:
        for _ in range(3):
            conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            answer = conn.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200 ") and b"got 5" in answer
            time.sleep(READ_TIMEOUT / 2)  # idle between requests: not a slow request


def test_headers_growing_past_the_limit_over_many_packets_are_refused(port: int) -> None:
    with connect(port) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 1_000_000:
                conn.sendall(b"a" * 1024)
                sent += 1024
                time.sleep(0.001)
        except OSError:
            pass
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 ") and sent < 100_000


def test_a_large_body_is_not_mistaken_for_large_headers(port: int) -> None:
    body = b"x" * 300_000
    with connect(port) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"got 300000" in answer
