"""`[cache] redis_mode`: what `redis_url` names in each mode, and every mistake said at start-up
without echoing the URL (it may hold a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import CacheConfig, Secret, load_settings
from settings.redis import RedisNodes, redis_nodes
from tests.settings.test_loader import CHAIN, config_error, env_error, write

PASSWORD = "hunter2"


def cache(**keys: str) -> str:
    return CHAIN + "[cache]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items())


def test_single_is_the_default_and_redis_mode_from_the_environment_wins(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, CHAIN)).cache.redis_mode == "single"
    text = cache(redis_mode="single", redis_url="redis://node-a:7000")
    settings = load_settings(write(tmp_path, text), {"REDIS_MODE": "cluster"})
    assert settings.cache.redis_mode == "cluster"


def test_a_sentinel_deployment_from_the_environment_alone(tmp_path: Path) -> None:
    environ = {"REDIS_MODE": "sentinel", "REDIS_URL": f"redis://:{PASSWORD}@s1,s2:26380/2"}
    settings = load_settings(write(tmp_path, cache(redis_sentinel_master="main")), environ)
    assert settings.cache.redis_sentinel_master == "main"
    assert settings.cache.redis_url is not None
    assert redis_nodes(settings.cache.redis_url, "sentinel") == RedisNodes(
        (("s1", 26379), ("s2", 26380)), db=2, tls=False, password=PASSWORD
    )
    assert PASSWORD not in repr(settings)


def test_a_mode_that_does_not_exist_blames_redis_mode(tmp_path: Path) -> None:
    message = env_error(tmp_path, CHAIN, {"REDIS_MODE": "replicated"})
    assert message == (
        "REDIS_MODE (environment): [cache]: redis_mode must be one of "
        "'single', 'cluster' or 'sentinel'"
    )


def test_sentinel_mode_needs_the_master_set_and_only_sentinel_mode_takes_one(
    tmp_path: Path,
) -> None:
    missing = config_error(tmp_path, cache(redis_mode="sentinel", redis_url="redis://s1/0"))
    assert missing == (
        "[cache]: redis_sentinel_master is required in redis_mode 'sentinel' "
        "(the sentinels' master set)"
    )
    stray = config_error(tmp_path, cache(redis_url="redis://r/0", redis_sentinel_master="m"))
    assert stray == (
        "[cache]: redis_sentinel_master names a sentinel master set: "
        "set redis_mode = 'sentinel' too"
    )


@pytest.mark.parametrize(
    ("mode", "url", "rule"),
    [
        ("cluster", f"redis://:{PASSWORD}@cachehost:7000/3", "must name database 0 (or none)"),
        ("cluster", "unix:///run/redis.sock", "must be a redis:// or rediss:// URL"),
        ("cluster", f"redis://:{PASSWORD}@cachehost:port/0", "has a port that is not a number"),
        ("sentinel", f"redis://:{PASSWORD}@sentinelhost:x,s2/0", "has a port that is not"),
        ("sentinel", f"redis://:{PASSWORD}@sentinelhost,,s2/0", "has an empty node address"),
        ("sentinel", f"redis://:{PASSWORD}@sentinelhost/zero", "must end in a database number"),
    ],
)
def test_a_url_that_does_not_fit_its_mode_is_refused_without_being_echoed(
    tmp_path: Path, mode: str, url: str, rule: str
) -> None:
    text = cache(redis_mode=mode, redis_sentinel_master="m") if mode == "sentinel" else cache()
    environ = {"REDIS_URL": url} if mode == "sentinel" else {"REDIS_URL": url, "REDIS_MODE": mode}
    message = env_error(tmp_path, text, environ)
    assert message.startswith("REDIS_URL (environment): [cache]: redis_url ")
    assert rule in message
    assert PASSWORD not in message and "cachehost" not in message and "sentinelhost" not in message


def test_a_cluster_url_lists_seed_nodes_any_of_which_may_be_down(tmp_path: Path) -> None:
    environ = {"REDIS_MODE": "cluster", "REDIS_URL": f"rediss://u:{PASSWORD}@n1:7000,n2,[::1]:7002"}
    settings = load_settings(write(tmp_path, CHAIN), environ)
    assert settings.cache.redis_url is not None
    assert redis_nodes(settings.cache.redis_url, "cluster") == RedisNodes(
        (("n1", 7000), ("n2", 6379), ("::1", 7002)), db=0, tls=True, username="u", password=PASSWORD
    )


def test_single_mode_keeps_every_url_it_took_before() -> None:
    for url in ("redis://r:6379/5", "rediss://r/0", "unix:///run/redis.sock"):
        config = CacheConfig.model_validate({"redis_url": url})
        assert config.redis_url == Secret(url)
