"""The files the static pages (GraphiQL, the wallet page) are made of, where each comes from,
and the manifest that pins them.

A checkout serves the npm files straight from `node_modules`. A wheel cannot: the build
(`graph/pages/vendoring.py`, run by `setup.py`) copies them from the tarballs
`package-lock.json` pins into `graph/pages/static/vendor/`, next to a `manifest.json` naming
each file's package, version and sha384 Subresource Integrity hash; `graph.pages.graphiql`
checks every file against it on load.

Standard library only, importing nothing from this project: the build imports this module from
the source tree before any dependency is installed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
VENDOR_DIR = "static/vendor"  # inside the `graph.pages` package


@dataclass(frozen=True)
class NpmFile:
    """A file inside an npm package: `path` is relative to the package root."""

    package: str
    path: str


# Served name -> its npm file (None: ours, in graph/pages/static), in the order the page loads
# them: styles, then scripts (deferred, so run in this order). A new client library (say, a
# subscriptions client) is one more line before the init script, which uses them all.
PAGE_FILES: dict[str, NpmFile | None] = {
    "graphiql.min.css": NpmFile("graphiql", "graphiql.min.css"),
    "explorer.css": None,
    "react.production.min.js": NpmFile("react", "umd/react.production.min.js"),
    "react-dom.production.min.js": NpmFile("react-dom", "umd/react-dom.production.min.js"),
    "graphiql.min.js": NpmFile("graphiql", "graphiql.min.js"),
    "explorer.js": None,
    "graphiql-init.js": None,
}


# The wallet page's files, in the same order: styles, then scripts.
WALLET_FILES: dict[str, NpmFile | None] = {
    "uPlot.min.css": NpmFile("uplot", "dist/uPlot.min.css"),
    "wallet.css": None,
    "uPlot.iife.min.js": NpmFile("uplot", "dist/uPlot.iife.min.js"),
    "wallet.js": None,
}


def npm_files() -> dict[str, NpmFile]:
    """The served files of every page that come from npm packages (all but our own)."""
    pages = (PAGE_FILES, WALLET_FILES)
    return {name: npm for files in pages for name, npm in files.items() if npm is not None}


def sri(body: bytes, algorithm: str = "sha384") -> str:
    """The Subresource Integrity string of `body`, e.g. `sha384-<base64>`."""
    digest = hashlib.new(algorithm, body).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class LockedPackage:
    """An npm package as `package-lock.json` pins it: `integrity` is its tarball's SRI."""

    version: str
    integrity: str


@dataclass(frozen=True)
class VendoredFile:
    """One file of the manifest: where it came from and the SRI hash of its bytes."""

    package: str
    path: str
    integrity: str


@dataclass(frozen=True)
class Manifest:
    """What `graph/pages/static/vendor/` holds: the packages used and each served file."""

    packages: dict[str, LockedPackage]
    files: dict[str, VendoredFile]

    def dumps(self) -> str:
        """The manifest as stable, reviewable JSON."""
        return (
            json.dumps(
                {
                    "format": MANIFEST_FORMAT,
                    "packages": {
                        name: {"version": p.version, "integrity": p.integrity}
                        for name, p in sorted(self.packages.items())
                    },
                    "files": {
                        name: {"package": f.package, "path": f.path, "integrity": f.integrity}
                        for name, f in self.files.items()
                    },
                },
                indent=2,
            )
            + "\n"
        )

    @classmethod
    def loads(cls, text: str) -> Manifest:
        """Parse `dumps` output; ValueError if it is not a manifest of this format."""
        raw: Any = json.loads(text)
        if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a format-{MANIFEST_FORMAT} GraphiQL asset manifest")
        try:
            packages = {
                str(name): LockedPackage(str(p["version"]), str(p["integrity"]))
                for name, p in raw["packages"].items()
            }
            files = {
                str(name): VendoredFile(str(f["package"]), str(f["path"]), str(f["integrity"]))
                for name, f in raw["files"].items()
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed GraphiQL asset manifest: {exc!r}") from exc
        return cls(packages, files)
