"""The wheel is the product: built from the sdist, installed into a fresh venv, run from an
empty directory (no checkout, no node_modules, no --config), it serves GraphiQL offline."""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import signal
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from chains.tokens.npm_lists import SHIPPED_LISTS, vendored_files
from devnet.anvil import find_free_port
from graph.cli import DEMO_NEEDS_CHECKOUT
from graph.pages.assets import MANIFEST_NAME, PAGE_FILES, WALLET_FILES
from tests.conftest import healthcheck_command, service_port, stop, wait_healthy

# Building and installing take ~15 s with warm caches; allow for cold ones.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = (
    "graph",
    "resolvers",
    "loaders",
    "metering",
    "prices",
    "chains",
    "settings",
    "core",
)
TAG = re.compile(r'(?:src|href)="(/graphiql/[^"]+)" integrity="(sha384-[^"]+)"')
WALLET_TAG = re.compile(r'(?:src|href)="(/wallet-files/[^"]+)" integrity="(sha384-[^"]+)"')


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    workdir: Path  # empty: no checkout, no node_modules, no config
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def run(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` to completion; fail the test with its output if it fails."""
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    # sdist first, then the wheel from the unpacked sdist: both must build.
    run([sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(ROOT)])
    (wheel,) = (tmp / "dist").glob("*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
        ],
        timeout=300,
    )
    workdir = tmp / "empty"
    workdir.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BALANCE_GRAPH_", "REDIS_", "PYTHON", "VIRTUAL_ENV"))
    }
    return Installed(wheel, venv, workdir, env)


@pytest.fixture(scope="module")
def served(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, log = find_free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [installed.bin("balance-graph"), "serve", "--port", str(port)],
            cwd=installed.workdir,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(port, proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
    # A graceful stop: uvicorn finishes, then re-raises the SIGTERM it caught.
    assert proc.returncode in {0, -signal.SIGTERM}, log.read_text()
    assert "Application shutdown complete" in log.read_text()


def test_the_wheel_holds_the_runtime_packages_and_assets_and_no_dev_tooling(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    tops = {name.split("/")[0] for name in names if "/" in name}
    assert tops == {*RUNTIME_PACKAGES, installed.wheel.name.split("-")[0] + "-0.1.0.dist-info"}
    for package in RUNTIME_PACKAGES:  # every subpackage found, none forgotten
        for init in (ROOT / package).rglob("__init__.py"):
            assert init.relative_to(ROOT).as_posix() in names
    assert "settings/default.toml" in names
    assert {
        f"settings/tokenlists/{p.name}" for p in (ROOT / "settings/tokenlists").iterdir()
    } <= names
    pages = {**PAGE_FILES, **WALLET_FILES}
    vendored = {name for name, npm in pages.items() if npm is not None}
    assert {f"graph/pages/static/vendor/{n}" for n in [*vendored, MANIFEST_NAME]} <= names
    ours = {f"graph/pages/static/{name}" for name, npm in pages.items() if npm is None}
    assert ours <= names and "graph/pages/static/wallet.js" in ours
    lists = {f"chains/tokens/vendor/{name}" for name in vendored_files()}
    assert lists <= names and any(n.endswith(".LICENSE") for n in lists)


def test_the_installed_wheel_knows_the_shipped_token_lists_without_node_modules(
    installed: Installed,
) -> None:
    code = (
        "from chains.tokens.shipped import shipped_lists, merge\n"
        "from chains.evm.addresses import normalize_evm_token\n"
        "from settings import load_settings\n"
        "lists = shipped_lists()\n"
        "chain = load_settings(environ={}).chains['ethereum']\n"
        "merged = merge(chain, lists, normalize_evm_token, 'https://ipfs.io/ipfs/')\n"
        "print(len(lists), len(merged.trusted) + len(merged.unsettled))\n"
    )
    env = {**installed.env, "BALANCE_GRAPH_NODE_MODULES": str(installed.workdir / "none")}
    found = run([installed.bin("python"), "-c", code], cwd=installed.workdir, env=env)
    lists, ethereum = map(int, found.stdout.split())
    assert lists == len(SHIPPED_LISTS) and ethereum >= 300


def test_graphiql_is_served_from_the_wheel_with_every_asset_matching_its_integrity(
    installed: Installed, served: str
) -> None:
    page = httpx.get(f"{served}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200, page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    tags = [(html.unescape(url), integrity) for url, integrity in TAG.findall(page.text)]
    assert {url.split("?")[0].removeprefix("/graphiql/") for url, _ in tags} == set(PAGE_FILES)
    for url, integrity in tags:
        asset = httpx.get(served + url, timeout=10)
        assert asset.status_code == 200, url
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f"sha384-{digest}" == integrity, url
    assert not (installed.workdir / "node_modules").exists()


def test_the_wallet_page_is_served_from_the_wheel_with_every_asset_matching_its_integrity(
    served: str,
) -> None:
    page = httpx.get(f"{served}/wallet/0xA", timeout=10)
    assert page.status_code == 200, page.text
    tags = [(html.unescape(url), integrity) for url, integrity in WALLET_TAG.findall(page.text)]
    assert [url.split("?")[0].removeprefix("/wallet-files/") for url, _ in tags] == list(
        WALLET_FILES
    )
    for url, integrity in tags:
        asset = httpx.get(served + url, timeout=10)
        assert asset.status_code == 200, url
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f"sha384-{digest}" == integrity, url


def test_the_shipped_default_config_is_served_and_nothing_upstream_was_asked(served: str) -> None:
    default = tomllib.loads((ROOT / "settings" / "default.toml").read_text())
    health = httpx.get(f"{served}/health", timeout=10).json()
    assert health["status"] == "ready"  # nothing asked upstream, so nothing failed yet
    assert set(health["chains"]) == set(default["chains"])
    metrics = httpx.get(f"{served}/metrics", timeout=10).text
    upstream = [line for line in metrics.splitlines() if line.startswith("upstream_requests_total")]
    assert all(line.endswith(" 0") for line in upstream), upstream


def test_keys_made_by_the_installed_cli_are_honoured_by_the_installed_server(
    installed: Installed, served: str
) -> None:
    made = run(
        [installed.bin("balance-graph"), "keys", "create", "--name", "wheel", "--credits", "5"],
        cwd=installed.workdir,
        env=installed.env,
    )
    key = made.stdout.strip()
    answer = httpx.post(
        f"{served}/graphql",
        json={"query": "{ chains { id } }"},
        headers={"x-api-key": key},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.headers["x-credits-remaining"] == "5"
    wrong = httpx.post(
        f"{served}/graphql",
        json={"query": "{ chains { id } }"},
        headers={"x-api-key": key[:-1] + ("1" if key.endswith("0") else "0")},
        timeout=10,
    )
    assert wrong.status_code == 401
    listed = run(
        [installed.bin("balance-graph"), "keys", "list"], cwd=installed.workdir, env=installed.env
    ).stdout
    assert "wheel" in listed and key not in listed


def test_the_image_healthcheck_passes_against_it_and_fails_without_it(
    installed: Installed, served: str
) -> None:
    port = served.rsplit(":", 1)[1]
    argv = [installed.bin("python"), *healthcheck_command()[1:]]
    here = [arg.replace(f":{service_port()}/", f":{port}/") for arg in argv]
    assert subprocess.run(here, env=installed.env, timeout=10, check=False).returncode == 0
    dead = [arg.replace(f":{service_port()}/", f":{find_free_port()}/") for arg in argv]
    failed = subprocess.run(dead, env=installed.env, timeout=10, check=False, capture_output=True)
    assert failed.returncode != 0


def test_the_installed_package_is_the_wheel_and_the_demo_says_it_needs_a_checkout(
    installed: Installed,
) -> None:
    where = run(
        [installed.bin("python"), "-c", "import graph, settings; print(graph.__file__)"],
        cwd=installed.workdir,
        env=installed.env,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)
    demo = subprocess.run(
        [installed.bin("balance-graph"), "demo"],
        cwd=installed.workdir,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert demo.returncode == 2
    assert DEMO_NEEDS_CHECKOUT in demo.stderr
    assert "Traceback" not in demo.stderr
