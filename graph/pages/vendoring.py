"""Build step: GraphiQL's pinned npm files as package data, from package-lock.json, verified.

    python -m graph.pages.vendoring [--lockfile package-lock.json] [--out graph/pages/static/vendor]

`setup.py` runs this for every wheel (and so for `pip install .` and the Docker image), writing
into the build directory. For each npm package `graph.graphiql_files.PAGE_FILES` names, it
takes the version and tarball `integrity` (sha512 SRI) from the lockfile, gets the tarball from
npm's local cache (content-addressed by that hash, filled by `npm ci`), else from the registry
(`$npm_config_registry`, default registry.npmjs.org), checks the sha512 before opening it, and
copies out exactly the served files plus a manifest of their sha384 hashes. Output that already
matches the lockfile is left alone, so a rebuild needs no network.

Standard library only: this runs in pip's isolated build environment.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from graph.pages.assets import (
    MANIFEST_NAME,
    LockedPackage,
    Manifest,
    NpmFile,
    VendoredFile,
    npm_files,
    sri,
)

ROOT = Path(__file__).resolve().parents[2]
"""The checkout (or unpacked sdist) this build step runs in."""
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
# Strongest first: an SRI string may list several hashes; the strongest known one decides.
SRI_ALGORITHMS = ("sha512", "sha384", "sha256")
Download = Callable[[str], bytes]


class VendorError(Exception):
    """The assets cannot be vendored: the message says which package and why."""


def locked_packages(lockfile: Path, names: set[str]) -> dict[str, LockedPackage]:
    """Version and tarball integrity of each top-level package in `names` (lockfile v2/v3)."""
    try:
        lock = json.loads(lockfile.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VendorError(f"cannot read {lockfile}: {exc}") from exc
    entries = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(entries, dict):
        raise VendorError(f"{lockfile} has no `packages` (lockfileVersion 2 or 3 is needed)")
    locked: dict[str, LockedPackage] = {}
    for name in sorted(names):
        entry = entries.get(f"node_modules/{name}")
        if not isinstance(entry, dict) or "version" not in entry or "integrity" not in entry:
            raise VendorError(f"{lockfile} pins no version and integrity for {name}")
        locked[name] = LockedPackage(str(entry["version"]), str(entry["integrity"]))
    return locked


def check_integrity(data: bytes, integrity: str, what: str) -> None:
    """Raise VendorError unless `data` matches the strongest hash `integrity` lists."""
    by_algorithm: dict[str, list[str]] = {}
    for token in integrity.split():
        algorithm, _, digest = token.partition("-")
        by_algorithm.setdefault(algorithm, []).append(digest.split("?")[0])
    for algorithm in SRI_ALGORITHMS:
        if algorithm in by_algorithm:
            actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
            if actual not in by_algorithm[algorithm]:
                raise VendorError(f"{what}: {algorithm} mismatch (expected {integrity})")
            return
    raise VendorError(f"{what}: no supported hash in integrity {integrity!r}")


def npm_cache_dir(environ: Mapping[str, str]) -> Path:
    """npm's cache directory: `$npm_config_cache` (any case), else ~/.npm."""
    for key in ("npm_config_cache", "NPM_CONFIG_CACHE"):
        if environ.get(key):
            return Path(environ[key]).expanduser()
    return Path(environ.get("HOME") or Path.home()) / ".npm"


def cached_tarball(cache: Path, integrity: str) -> bytes | None:
    """The tarball npm's content-addressed cache holds under `integrity`, if any."""
    for token in integrity.split():
        algorithm, _, digest = token.partition("-")
        try:
            hexdigest = base64.b64decode(digest.split("?")[0], validate=True).hex()
        except (binascii.Error, ValueError):
            continue
        path = cache / "_cacache" / "content-v2" / algorithm / hexdigest[:2] / hexdigest[2:4]
        try:
            return (path / hexdigest[4:]).read_bytes()
        except OSError:
            continue
    return None


def registry_url(environ: Mapping[str, str]) -> str:
    """The npm registry: `$npm_config_registry` (any case), else registry.npmjs.org."""
    for key in ("npm_config_registry", "NPM_CONFIG_REGISTRY"):
        if environ.get(key):
            return environ[key].rstrip("/") + "/"
    return DEFAULT_REGISTRY


def tarball_url(registry: str, name: str, version: str) -> str:
    """`<registry>/<name>/-/<basename>-<version>.tgz` (scoped names keep their scope)."""
    basename = name.rsplit("/", 1)[-1]
    return f"{registry}{urllib.parse.quote(name, safe='@/')}/-/{basename}-{version}.tgz"


def download(url: str, attempts: int = 3) -> bytes:
    """GET an http(s) `url`, retrying transient failures with a short back-off.

    Plain http is allowed for a local registry mirror: the caller checks the sha512 anyway.
    """
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise VendorError(f"not an http(s) registry URL: {url}")
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - http(s) only
                body: bytes = response.read()
                return body
        except OSError as exc:
            if attempt == attempts:
                raise VendorError(f"cannot download {url}: {exc}") from exc
            time.sleep(attempt)
    raise AssertionError("unreachable")


def fetch_tarball(
    name: str,
    locked: LockedPackage,
    *,
    cache: Path,
    registry: str,
    get: Download = download,
) -> tuple[bytes, str]:
    """The package's verified tarball and where it came from ("npm cache" or the URL)."""
    what = f"{name}@{locked.version}"
    cached = cached_tarball(cache, locked.integrity)
    if cached is not None:
        try:
            check_integrity(cached, locked.integrity, what)
            return cached, "npm cache"
        except VendorError:
            pass  # a damaged cache entry: fetch a good copy instead
    url = tarball_url(registry, name, locked.version)
    body = get(url)
    check_integrity(body, locked.integrity, f"{what} from {url}")
    return body, url


def extract(tarball: bytes, paths: set[str], what: str) -> dict[str, bytes]:
    """The regular files `package/<path>` of a gzipped npm tarball, read without unpacking."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for member in archive:
                path = member.name.partition("/")[2]  # npm puts everything under `package/`
                if path in paths and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        found[path] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise VendorError(f"{what}: unreadable tarball: {exc}") from exc
    missing = paths - found.keys()
    if missing:
        raise VendorError(f"{what}: tarball lacks {', '.join(sorted(missing))}")
    return found


def current_manifest(
    out: Path, locked: Mapping[str, LockedPackage], wanted: Mapping[str, NpmFile] | None = None
) -> Manifest | None:
    """The manifest in `out` if it matches `locked` and every file matches it, else None."""
    try:
        manifest = Manifest.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = (wanted if wanted is not None else npm_files()).keys()
    if manifest.packages != dict(locked) or manifest.files.keys() != names:
        return None
    for name, entry in manifest.files.items():
        try:
            if sri((out / name).read_bytes()) != entry.integrity:
                return None
        except OSError:
            return None
    return manifest


def vendor(
    lockfile: Path,
    out: Path,
    *,
    files: Mapping[str, NpmFile] | None = None,
    what: str = "GraphiQL assets",
    environ: Mapping[str, str] = os.environ,
    get: Download = download,
    log: Callable[[str], None] = print,
) -> Manifest:
    """Make `out` hold exactly the npm `files` (by default GraphiQL's) the lockfile pins, and
    their manifest."""
    wanted = dict(files) if files is not None else npm_files()
    locked = locked_packages(lockfile, {npm.package for npm in wanted.values()})
    manifest = current_manifest(out, locked, wanted)
    if manifest is not None:
        log(f"{what} in {out} match {lockfile.name}")
        return manifest
    cache, registry = npm_cache_dir(environ), registry_url(environ)
    vendored: dict[str, VendoredFile] = {}
    bodies: dict[str, bytes] = {}
    for package, pin in locked.items():
        tarball, source = fetch_tarball(package, pin, cache=cache, registry=registry, get=get)
        log(f"{package}@{pin.version}: sha512 verified ({source})")
        served = {name: npm.path for name, npm in wanted.items() if npm.package == package}
        contents = extract(tarball, set(served.values()), f"{package}@{pin.version}")
        for name, path in served.items():
            bodies[name] = contents[path]
            vendored[name] = VendoredFile(package, path, sri(contents[path]))
    manifest = Manifest(locked, {name: vendored[name] for name in wanted})
    _replace_dir(out, bodies, manifest)
    log(f"{what}: {len(vendored)} files from {len(locked)} packages into {out}")
    return manifest


def _replace_dir(out: Path, bodies: Mapping[str, bytes], manifest: Manifest) -> None:
    """Write into a sibling temporary directory, then swap it in: never a half-written `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for name, body in bodies.items():
            (staging / name).write_bytes(body)
        (staging / MANIFEST_NAME).write_text(manifest.dumps(), encoding="utf-8")
        staging.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; exit status 1 with a one-line reason on failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lockfile", type=Path, default=ROOT / "package-lock.json")
    parser.add_argument("--out", type=Path, default=ROOT / "graph" / "pages" / "static" / "vendor")
    args = parser.parse_args(argv)
    try:
        vendor(args.lockfile, args.out)
    except VendorError as exc:
        print(f"graph.pages.vendoring: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
