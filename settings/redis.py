"""How `[cache] redis_url` is read in each `redis_mode`, checked at start-up, never echoed.

    single    redis://[:password@]host:port/db, rediss://..., unix:///path.sock
    cluster   redis://[:password@]node1:6379,node2:6379,... (db 0 only: a cluster has no
              other): seed nodes, of which any one that answers tells the client the rest.
              Name more than one: a client started while its only seed is down finds nothing
    sentinel  redis://[:password@]sentinel1:26379,sentinel2:26379,.../db: the sentinels, in
              the order they are asked; `redis_sentinel_master` names the master set. The
              password (and user) authenticate to the master and replicas the sentinels name,
              not to the sentinels themselves (sentinels rarely have one).

A mistake here would otherwise surface as the first request's connection error, far from the
config; so every rule fails loudly when the settings are read, naming the rule, not the URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from settings.secret import Secret

RedisMode = Literal["single", "cluster", "sentinel"]
REDIS_MODE_ENV = "REDIS_MODE"
DEFAULT_PORTS = {"single": 6379, "cluster": 6379, "sentinel": 26379}


@dataclass(frozen=True)
class RedisNodes:
    """What a cluster or sentinel URL says: the nodes to ask first (cluster seeds or the
    sentinels), and how to use the servers they name."""

    nodes: tuple[tuple[str, int], ...]
    db: int
    tls: bool
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def check_redis_url(url: Secret, mode: RedisMode) -> None:
    """`ValueError` saying which rule `url` breaks for `mode` (never quoting it)."""
    if url.scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("must be a redis://, rediss:// or unix:// URL (REDIS_URL, if set, wins)")
    if mode == "single":
        return
    if url.scheme == "unix":
        raise ValueError(f"must be a redis:// or rediss:// URL in redis_mode {mode!r}")
    if redis_nodes(url, mode).db != 0 and mode == "cluster":
        raise ValueError("must name database 0 (or none) in redis_mode 'cluster'")


def redis_nodes(url: Secret, mode: RedisMode) -> RedisNodes:
    """The nodes (cluster seeds, or sentinels) and credentials in a `redis_url` of `mode`."""
    parts = urlsplit(url.value)
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = tuple(_address(item, DEFAULT_PORTS[mode]) for item in hosts.split(","))
    return RedisNodes(
        nodes,
        _db(url.value),
        parts.scheme == "rediss",
        unquote(username) or None,
        unquote(password) or None,
    )


def _address(item: str, default_port: int) -> tuple[str, int]:
    host, colon, port = item.strip().rpartition(":")
    if not colon:
        host, port = port, ""
    host = host.strip("[]")
    if not host:
        raise ValueError("has an empty node address (redis://host1:port,host2:port/0)")
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("has a port that is not a number from 1 to 65535")
    return host, int(port)


def _db(value: str) -> int:
    path = urlsplit(value).path.strip("/")
    if not path:
        return 0
    if not path.isdigit():
        raise ValueError("must end in a database number (/0)")
    return int(path)
