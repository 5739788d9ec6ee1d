"""Dockerfile, compose.yaml and the nginx config agree with each other and with the service.

`make lint` checks each file on its own (hadolint; the Compose JSON schema); these check what
no linter knows: ports, names and the Redis URL that must match across the three files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import dockerfile_instructions, healthcheck_command, service_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()


def test_the_image_is_multi_stage_non_root_and_serves_on_its_exposed_port() -> None:
    stages = dockerfile_instructions("FROM")
    assert len(stages) >= 2 and stages[-1].endswith(" AS runtime")
    runtime = DOCKERFILE.split(stages[-1], 1)[1]
    assert "COPY . " not in runtime  # the runtime stage gets the wheel, not the sources
    assert re.search(
        r"from=build,source=/dist.*pip install --no-cache-dir /dist/\*\.whl",
        runtime.replace("\\\n", " "),
        re.DOTALL,
    )
    (user,) = dockerfile_instructions("USER")
    assert user.split(":")[0] not in {"0", "root"}
    cmd = json.loads(dockerfile_instructions("CMD")[-1])
    assert cmd[:2] == ["balance-graph", "serve"]
    assert cmd[cmd.index("--port") + 1] == str(service_port())
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert f"127.0.0.1:{service_port()}/health/live" in " ".join(healthcheck_command())


def test_compose_runs_two_replicas_sharing_the_compose_redis() -> None:
    services = COMPOSE["services"]
    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["build"] == "."
    redis_url = api["environment"]["REDIS_URL"]
    host = re.fullmatch(r"redis://([a-z0-9-]+):6379/\d+", redis_url)
    assert host and services[host.group(1)]["image"].startswith("redis:")
    assert api["depends_on"][host.group(1)]["condition"] == "service_healthy"
    assert "ports" not in api  # replicas are reached through the proxy only
    for name, service in services.items():
        if name != "api":  # the api's health check is the image's HEALTHCHECK
            assert service["healthcheck"]["test"][0] == "CMD", name


def test_the_proxy_reaches_every_replica_on_the_service_port() -> None:
    proxy = COMPOSE["services"]["proxy"]
    (mount,) = proxy["volumes"]
    source, target, _ = mount.split(":")
    assert (ROOT / source).resolve() == ROOT / "deploy" / "nginx.conf"
    assert target.startswith("/etc/nginx/conf.d/")
    assert re.search(rf"^\s*server api:{service_port()} resolve\b", NGINX, re.MULTILINE)
    (listen,) = re.findall(r"^\s*listen (\d+);", NGINX, re.MULTILINE)
    assert proxy["ports"] == [f"{listen}:{listen}"]
    assert f"http://127.0.0.1:{listen}/health" in proxy["healthcheck"]["test"]
    assert re.search(r"proxy_pass http://balance_graph;", NGINX)


@pytest.mark.parametrize("path", ["compose.yaml", "Dockerfile", "deploy/nginx.conf"])
def test_no_secret_is_written_into_a_deploy_file(path: str) -> None:
    text = (ROOT / path).read_text()
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text)  # credentials in a URL
    assert not re.search(r"(?i)(password|secret|token|api_key)\s*[:=]\s*\S", text)
    assert not re.search(r"(?im)^\s*-?\s*BALANCE_GRAPH_RPC_URLS_\w+\s*[:=]", text)


def test_redis_keeps_keys_and_credits_on_disk_and_never_evicts_them() -> None:
    redis = COMPOSE["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    policy = command[command.index("--maxmemory-policy") + 1]
    assert policy.startswith("volatile-") or policy == "noeviction"  # never allkeys-*
    (volume,) = redis["volumes"]
    assert volume.split(":")[1] == "/data" and volume.split(":")[0] in COMPOSE["volumes"]


def test_only_the_proxy_is_believed_about_client_addresses_and_it_cannot_be_fooled() -> None:
    api = COMPOSE["services"]["api"]
    assert "ports" not in api  # nothing but the proxy reaches a replica
    trusted = api["environment"]["BALANCE_GRAPH_TRUSTED_PROXIES"].split(",")
    assert trusted and all(re.fullmatch(r"[0-9.]+/\d+", cidr) for cidr in trusted)
    # the edge proxy replaces X-Forwarded-For with the peer's address; never appends to it
    (forwarded,) = re.findall(r"proxy_set_header X-Forwarded-For (\S+);", NGINX)
    assert forwarded == "$remote_addr"


def test_the_image_keeps_the_embedded_key_store_in_a_volume_its_user_can_write() -> None:
    env = " ".join(dockerfile_instructions("ENV"))
    assert "BALANCE_GRAPH_DATA_DIR=/data" in env
    assert dockerfile_instructions("VOLUME") == ['["/data"]']
    (user,) = dockerfile_instructions("USER")
    assert re.search(rf"install -d -o {user.split(':')[0]} .* /data", DOCKERFILE)


def test_the_proxy_does_not_publish_metrics() -> None:
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", NGINX)
