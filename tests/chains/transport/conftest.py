"""Scripted HTTP servers for the transport tests, stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fakes.http_server import Script, ScriptedServer

MakeServer = Callable[..., ScriptedServer]


@pytest.fixture
def make_server() -> Iterator[MakeServer]:
    started: list[ScriptedServer] = []

    def make(*script: Script) -> ScriptedServer:
        server = ScriptedServer(list(script))
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
