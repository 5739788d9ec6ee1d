"""Where a checkout's npm packages are: the service reads some of its data (GraphiQL's files,
the shipped token lists) from `node_modules` when it runs from a checkout, and from copies
vendored into the package when installed from a wheel.

Standard library only: the build step imports this before any dependency is installed.
"""

from __future__ import annotations

import os
from pathlib import Path

NODE_MODULES_ENV = "BALANCE_GRAPH_NODE_MODULES"


def find_node_modules() -> Path:
    """`$BALANCE_GRAPH_NODE_MODULES`, else the nearest `node_modules` above this package."""
    configured = os.environ.get(NODE_MODULES_ENV)
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        if (parent / "node_modules").is_dir():
            return parent / "node_modules"
    return Path("node_modules")
