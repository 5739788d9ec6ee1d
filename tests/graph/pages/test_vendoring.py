"""The wheel's build step: the pages' npm files from the lockfile's tarballs, verified."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from graph.pages.assets import MANIFEST_NAME, Manifest, npm_files, sri
from graph.pages.vendoring import (
    ROOT,
    VendorError,
    locked_packages,
    tarball_url,
    vendor,
)

VERSIONS = {
    "graphiql": "3.8.3",
    "react": "18.3.1",
    "react-dom": "18.3.1",
    "uplot": "1.6.32",
}


def make_tarball(package: str, extra: dict[str, bytes] | None = None, drop: str = "") -> bytes:
    """An npm-style .tgz (everything under `package/`) holding the files we serve from it."""
    files = {
        npm.path: f"/* {package} {npm.path} */".encode()
        for npm in npm_files().values()
        if npm.package == package and npm.path != drop
    }
    files.update({"package.json": b"{}", **(extra or {})})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, body in files.items():
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def integrity(body: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(body).digest()).decode()


class Registry:
    """A fake registry: tarballs by URL, and the URLs asked for."""

    def __init__(self, tarballs: dict[str, bytes]) -> None:
        self.by_url = {
            tarball_url("https://registry.npmjs.org/", name, VERSIONS[name]): body
            for name, body in tarballs.items()
        }
        self.asked: list[str] = []

    def get(self, url: str) -> bytes:
        self.asked.append(url)
        return self.by_url[url]


def write_lock(path: Path, tarballs: dict[str, bytes]) -> Path:
    packages = {
        f"node_modules/{name}": {"version": VERSIONS[name], "integrity": integrity(body)}
        for name, body in tarballs.items()
    }
    packages["node_modules/other"] = {"version": "1.0.0", "integrity": "sha512-AAAA"}
    path.write_text(json.dumps({"lockfileVersion": 3, "packages": {"": {}, **packages}}))
    return path


def put_in_npm_cache(cache: Path, body: bytes) -> None:
    hexdigest = hashlib.sha512(body).hexdigest()
    entry = cache / "_cacache" / "content-v2" / "sha512" / hexdigest[:2] / hexdigest[2:4]
    entry.mkdir(parents=True)
    (entry / hexdigest[4:]).write_bytes(body)


@pytest.fixture
def tarballs() -> dict[str, bytes]:
    return {name: make_tarball(name) for name in VERSIONS}


def test_served_files_come_from_the_npm_cache_else_the_registry_verified(
    tmp_path: Path, tarballs: dict[str, bytes]
) -> None:
    lock = write_lock(tmp_path / "package-lock.json", tarballs)
    cache = tmp_path / "npm-cache"
    put_in_npm_cache(cache, tarballs["react"])
    registry = Registry(tarballs)
    out = tmp_path / "vendor"

    manifest = vendor(
        lock, out, environ={"npm_config_cache": str(cache)}, get=registry.get, log=lambda _: None
    )

    assert sorted(registry.asked) == [
        "https://registry.npmjs.org/graphiql/-/graphiql-3.8.3.tgz",
        "https://registry.npmjs.org/react-dom/-/react-dom-18.3.1.tgz",
        "https://registry.npmjs.org/uplot/-/uplot-1.6.32.tgz",
    ]  # react came from the cache
    assert sorted(p.name for p in out.iterdir()) == sorted([*npm_files(), MANIFEST_NAME])
    for name, npm in npm_files().items():
        body = (out / name).read_bytes()
        assert body == f"/* {npm.package} {npm.path} */".encode()
        assert manifest.files[name].integrity == sri(body)
        assert manifest.files[name].package == npm.package
    assert Manifest.loads((out / MANIFEST_NAME).read_text()) == manifest
    assert {n: p.version for n, p in manifest.packages.items()} == VERSIONS


def test_output_that_matches_the_lockfile_is_kept_without_network(
    tmp_path: Path, tarballs: dict[str, bytes]
) -> None:
    lock = write_lock(tmp_path / "package-lock.json", tarballs)
    out = tmp_path / "vendor"
    first = vendor(
        lock, out, environ={"HOME": str(tmp_path)}, get=Registry(tarballs).get, log=lambda _: None
    )

    def offline(url: str) -> bytes:
        raise AssertionError(f"fetched {url}")

    assert vendor(lock, out, environ={"HOME": str(tmp_path)}, get=offline, log=print) == first
    (out / "graphiql.min.js").write_bytes(b"tampered")  # a damaged copy is rebuilt
    registry = Registry(tarballs)
    vendor(lock, out, environ={"HOME": str(tmp_path)}, get=registry.get, log=lambda _: None)
    assert len(registry.asked) == len(VERSIONS)
    assert (out / "graphiql.min.js").read_bytes().startswith(b"/* graphiql")


def test_a_tarball_that_does_not_match_the_lockfile_is_refused(
    tmp_path: Path, tarballs: dict[str, bytes]
) -> None:
    lock = write_lock(tmp_path / "package-lock.json", tarballs)
    evil = dict(tarballs, graphiql=make_tarball("graphiql", {"graphiql.min.js": b"alert(1)"}))
    with pytest.raises(VendorError, match=r"graphiql@3\.8\.3 from https://.*sha512 mismatch"):
        vendor(
            lock,
            tmp_path / "vendor",
            environ={"HOME": str(tmp_path)},
            get=Registry(evil).get,
            log=lambda _: None,
        )
    assert not (tmp_path / "vendor").exists()


def test_a_damaged_npm_cache_entry_is_passed_over_for_the_registry(
    tmp_path: Path, tarballs: dict[str, bytes]
) -> None:
    lock = write_lock(tmp_path / "package-lock.json", tarballs)
    cache = tmp_path / "npm-cache"
    put_in_npm_cache(cache, tarballs["react"])
    hexdigest = hashlib.sha512(tarballs["react"]).hexdigest()
    entry = cache / "_cacache/content-v2/sha512" / hexdigest[:2] / hexdigest[2:4] / hexdigest[4:]
    entry.write_bytes(b"truncated")
    registry = Registry(tarballs)
    vendor(
        lock,
        tmp_path / "vendor",
        environ={"npm_config_cache": str(cache)},
        get=registry.get,
        log=lambda _: None,
    )
    assert "https://registry.npmjs.org/react/-/react-18.3.1.tgz" in registry.asked


def test_a_tarball_without_a_served_file_is_an_error(
    tmp_path: Path, tarballs: dict[str, bytes]
) -> None:
    short = dict(tarballs, react=make_tarball("react", drop="umd/react.production.min.js"))
    lock = write_lock(tmp_path / "package-lock.json", short)
    with pytest.raises(VendorError, match=r"react@18\.3\.1: tarball lacks umd/react\.production"):
        vendor(
            lock,
            tmp_path / "vendor",
            environ={"HOME": str(tmp_path)},
            get=Registry(short).get,
            log=lambda _: None,
        )


def test_a_lockfile_without_a_needed_package_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"lockfileVersion": 3, "packages": {}}))
    with pytest.raises(VendorError, match="pins no version and integrity for"):
        locked_packages(lock, {"graphiql"})


def test_the_real_lockfile_pins_every_package_the_page_needs() -> None:
    wanted = {npm.package for npm in npm_files().values()}
    locked = locked_packages(ROOT / "package-lock.json", wanted)
    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert {name: pin.version for name, pin in locked.items()} == {
        name: declared[name] for name in wanted
    }
    assert all(pin.integrity.startswith("sha512-") for pin in locked.values())


def test_the_build_step_imports_with_the_standard_library_alone() -> None:
    # pip runs setup.py in an isolated environment with nothing but setuptools: the step, and
    # graph/__init__.py, graph/pages/__init__.py and graph/pages/assets.py that it imports,
    # must need nothing else.
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from graph.pages import vendoring as v; print(v.ROOT)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],  # no site-packages, as setup.py does it
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT)
