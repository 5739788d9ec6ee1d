"""How `[cache] redis_url` is read in each `redis_mode`, checked at start-up, never echoed.

    single    redis://[:password@]host:port/db, rediss://..., unix:///path.sock
    cluster   redis://[:password@]any-node:port (db 0 only: a cluster has no other); the
              client asks that node for the others
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
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelTarget:
    """What a sentinel URL says: where the sentinels are and how to use the master."""

    sentinels: tuple[tuple[str, int], ...]
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
    if mode == "cluster":
        if "," in urlsplit(url.value).netloc:
            raise ValueError("names one node in redis_mode 'cluster' (the others are discovered)")
        if _db(url.value) != 0:
            raise ValueError("must name database 0 (or none) in redis_mode 'cluster'")
        _port(url.value)
        return
    sentinel_target(url)


def sentinel_target(url: Secret) -> SentinelTarget:
    """The sentinels and master credentials in a sentinel-mode `redis_url`."""
    parts = urlsplit(url.value)
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    sentinels = tuple(_address(item) for item in hosts.split(","))
    if not sentinels:
        raise ValueError("lists no sentinel (redis://host1:26379,host2:26379/0)")
    return SentinelTarget(
        sentinels,
        _db(url.value),
        parts.scheme == "rediss",
        unquote(username) or None,
        unquote(password) or None,
    )


def _address(item: str) -> tuple[str, int]:
    host, colon, port = item.strip().rpartition(":")
    if not colon:
        host, port = port, ""
    host = host.strip("[]")
    if not host:
        raise ValueError("has an empty sentinel address (redis://host1:26379,host2:26379/0)")
    if not port:
        return host, SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("has a sentinel port that is not a number from 1 to 65535")
    return host, int(port)


def _db(value: str) -> int:
    path = urlsplit(value).path.strip("/")
    if not path:
        return 0
    if not path.isdigit():
        raise ValueError("must end in a database number (/0)")
    return int(path)


def _port(value: str) -> None:
    try:
        urlsplit(value).port  # noqa: B018  (the property raises on a bad port)
    except ValueError as exc:
        raise ValueError("has a port that is not a number from 1 to 65535") from exc
