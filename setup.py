"""setuptools hook: every wheel carries its pinned npm files (GraphiQL's assets, the shipped token
lists). Metadata is in pyproject.toml.

`build_py` runs `graph.pages.vendoring.vendor()` into the build directory after copying the
packages, so `pip install .`, `pip wheel .`, a wheel built from the sdist and the Docker image
serve GraphiQL and know the shipped token lists without `node_modules`. Editable installs
(`make`'s .venv) skip it: a checkout reads the same files from `node_modules`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the build step and what it vendors, from this tree

from chains.tokens import npm_lists  # noqa: E402
from graph.pages import vendoring  # noqa: E402
from graph.pages.assets import NpmFile  # noqa: E402


class BuildPyWithNpmFiles(build_py):
    """`build_py`, then the pinned npm files into the build: GraphiQL's into
    `<build_lib>/graph/pages/static/vendor/`, the shipped token lists (with their licences)
    into `<build_lib>/chains/tokens/vendor/`."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        lockfile = ROOT / "package-lock.json"
        build = Path(self.build_lib)
        lists = {
            name: NpmFile(package, path)
            for name, (package, path) in npm_lists.vendored_files().items()
        }
        try:
            vendoring.vendor(lockfile, build / "graph/pages/static/vendor", log=self.announce_info)
            vendoring.vendor(
                lockfile,
                build / "chains/tokens" / npm_lists.VENDOR_DIR,
                files=lists,
                what="shipped token lists",
                log=self.announce_info,
            )
        except vendoring.VendorError as exc:
            raise SystemExit(f"error: cannot vendor the pinned npm files: {exc}") from exc

    def announce_info(self, message: str) -> None:
        self.announce(message, level=logging.INFO)


setup(cmdclass={"build_py": BuildPyWithNpmFiles})
