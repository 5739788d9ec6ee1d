"""Locate the node tooling (node_modules, node, anvil) the devnet depends on."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from devnet.errors import ToolNotFoundError

NODE_MODULES_ENV = "BALANCE_GRAPH_NODE_MODULES"
ANVIL_BIN_ENV = "ANVIL_BIN"
ANVIL_RELATIVE_PATH = Path("@foundry-rs/anvil-linux-amd64/bin/anvil")
INSTALL_HINT = "run `npm ci` (or `make`) in the repository root to install the node tooling"


def find_node_modules() -> Path:
    """Return the node_modules directory to use.

    ``$BALANCE_GRAPH_NODE_MODULES`` wins; otherwise walk up from this package's
    directory and return the first ``node_modules`` found.
    """
    override = os.environ.get(NODE_MODULES_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise ToolNotFoundError(f"${NODE_MODULES_ENV}={override} is not a directory")
        return path
    here = Path(__file__).resolve().parent
    for directory in (here, *here.parents):
        candidate = directory / "node_modules"
        if candidate.is_dir():
            return candidate
    raise ToolNotFoundError(f"no node_modules directory found above {here}; {INSTALL_HINT}")


def find_node() -> str:
    """Return the path of the ``node`` executable."""
    node = shutil.which("node")
    if node is None:
        raise ToolNotFoundError(f"`node` is not on PATH; install Node.js, then {INSTALL_HINT}")
    return node


def find_solc_package() -> Path:
    """Return the directory of the npm ``solc`` package."""
    path = find_node_modules() / "solc"
    if not (path / "package.json").is_file():
        raise ToolNotFoundError(f"npm package `solc` not found in {path.parent}; {INSTALL_HINT}")
    return path


def find_anvil() -> str:
    """Return the anvil binary: ``$ANVIL_BIN``, else the pinned npm package's binary."""
    override = os.environ.get(ANVIL_BIN_ENV)
    if override:
        if not os.access(override, os.X_OK):
            raise ToolNotFoundError(f"${ANVIL_BIN_ENV}={override} is not an executable file")
        return override
    path = find_node_modules() / ANVIL_RELATIVE_PATH
    if not os.access(path, os.X_OK):
        raise ToolNotFoundError(f"anvil binary not found at {path}; {INSTALL_HINT}")
    return str(path)
