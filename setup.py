"""setuptools hook: every wheel carries GraphiQL's vendored assets. Metadata is in pyproject.toml.

`build_py` runs `graph.pages.vendoring.vendor()` into the build directory after copying the
packages, so `pip install .`, `pip wheel .`, a wheel built from the sdist and the Docker image
all serve GraphiQL without `node_modules`. Editable installs (`make`'s .venv) skip it: a
checkout serves the same files from `node_modules`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the build step and graph.pages.assets, from this tree

from graph.pages import vendoring  # noqa: E402


class BuildPyWithGraphiQL(build_py):
    """`build_py`, then the pinned GraphiQL files into `<build_lib>/graph/pages/static/vendor/`
    (the offline pages' npm assets)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        out = Path(self.build_lib) / "graph" / "pages" / "static" / "vendor"
        try:
            vendoring.vendor(ROOT / "package-lock.json", out, log=self.announce_info)
        except vendoring.VendorError as exc:
            raise SystemExit(f"error: cannot vendor GraphiQL's assets: {exc}") from exc

    def announce_info(self, message: str) -> None:
        self.announce(message, level=logging.INFO)


setup(cmdclass={"build_py": BuildPyWithGraphiQL})
