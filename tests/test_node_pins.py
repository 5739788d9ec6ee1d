"""Our npm pins install quietly on the Node.js versions the README promises.

`npm ci` warns when a locked package's `engines.node` excludes the running Node (EBADENGINE)
and when an installed package does not fit another's `peerDependencies` (graphiql-explorer
0.9 wanted React 15/16 beside our React 18). Both are read here from package-lock.json,
against the Node.js floor the README states and the Makefile enforces.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK: dict[str, Any] = json.loads((ROOT / "package-lock.json").read_text())["packages"]
Version = tuple[int, int, int]


def version(text: str) -> Version:
    """`1.2.3`, `1.2`, `1`, `1.x`, `1.*` (missing parts are 0); a pre-release tag is dropped."""
    parts = [p for p in text.strip().lstrip("v").split("-")[0].split(".") if p not in {"x", "*"}]
    numbers = [int(p) for p in parts] + [0, 0, 0]
    return numbers[0], numbers[1], numbers[2]


def _comparator(text: str, have: Version) -> bool:
    """One npm comparator: `*`, `>=1.2`, `<1.10.0`, `^1.2.3`, `1.x`, `18` (a whole major)."""
    match = re.fullmatch(r"(>=|<=|>|<|\^|~|=)?\s*v?([0-9x*][0-9a-z.*-]*)?", text.strip())
    if match is None:
        raise ValueError(f"a range this test cannot read: {text!r}")
    operator, target = match.group(1) or "", match.group(2) or "*"
    if target in {"*", "x"}:
        return True
    want = version(target)
    given = len([p for p in target.split("-")[0].split(".") if p not in {"x", "*"}])
    if operator == ">=":
        return have >= want
    if operator == "<=":
        return have <= want
    if operator == ">":
        return have > want
    if operator == "<":
        return have < want
    if operator == "^":
        upper = (want[0] + 1, 0, 0) if want[0] else (0, want[1] + 1, 0)
        return want <= have < upper
    if operator == "~" or given < 3:  # `~1.2.3`, and a partial version: that major (or minor)
        upper = (want[0] + 1, 0, 0) if given == 1 else (want[0], want[1] + 1, 0)
        return want <= have < upper
    return have == want


def satisfies(have: str, ranges: str) -> bool:
    """Whether `have` fits an npm range: `||` alternatives of space-separated comparators."""
    current = version(have)
    for alternative in ranges.split("||"):
        spaced = re.sub(r"(>=|<=|>|<|\^|~|=)\s+", r"\1", alternative.strip())
        if all(_comparator(c, current) for c in spaced.split()):
            return True
    return False


def readme_node_floors() -> list[str]:
    """The Node.js versions the README promises, e.g. `Node.js 20.17+ or 22.9+`."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"Node\.js (\d+\.\d+)\+ or (\d+\.\d+)\+", readme)
    assert found, "the README states no Node.js floor"
    return [f"{found.group(1)}.0", f"{found.group(2)}.0"]


@pytest.mark.parametrize(
    ("have", "ranges", "fits"),
    [
        ("20.17.0", "^20.17.0 || >=22.9.0", True),
        ("20.11.1", "^20.17.0 || >=22.9.0", False),
        ("22.8.0", "^20.17.0 || >=22.9.0", False),
        ("21.7.0", "18 || 20 || >=22", False),
        ("20.11.0", ">=22.15.0", False),
        ("18.3.1", "^16.0.0 || ^15.6.0", False),
        ("18.3.1", ">=16.8 || ^17.0.0", True),
        ("16.15.0", "14.x || 15.x || 16.x", True),
        ("1.9.0", ">=1.3.0 <1.10.0", True),
        ("20.17.0", ">=16 || 14 >=14.17", True),
        ("12.1.0", "10.* || >= 12.*", True),
    ],
)
def test_the_range_reader_agrees_with_npm(have: str, ranges: str, fits: bool) -> None:
    assert satisfies(have, ranges) is fits


def test_every_locked_package_runs_on_the_node_versions_the_readme_promises() -> None:
    floors = readme_node_floors()
    refused = [
        f"{path} {entry['version']} needs node {entry['engines']['node']}"
        for path, entry in LOCK.items()
        if path and isinstance(entry.get("engines"), dict) and "node" in entry["engines"]
        for floor in floors
        if not satisfies(floor, entry["engines"]["node"])
    ]
    assert refused == []


def test_the_makefile_enforces_the_readme_s_node_floor() -> None:
    makefile = (ROOT / "Makefile").read_text()
    check = re.search(r"NODE_VERSION_CHECK := (.*)", makefile)
    assert check
    (a, b, _), (c, d, _) = (version(f) for f in readme_node_floors())
    assert f"(a === {a} && b >= {b}) || (a === {c} && b >= {d}) || a > {c}" in check.group(1)
    assert f"Node.js {a}.{b}+ or {c}.{d}+" in makefile


def _installed(dependent: str, name: str) -> dict[str, Any] | None:
    """The copy of `name` that `dependent` (a lockfile path) resolves, as Node does: its own
    node_modules, then each enclosing one."""
    base = dependent
    while True:
        entry = LOCK.get(f"{base}/node_modules/{name}" if base else f"node_modules/{name}")
        if entry is not None or not base:
            return entry
        base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""


def test_every_installed_peer_fits_the_range_its_dependents_ask_for() -> None:
    misfits = []
    for path, entry in LOCK.items():
        for peer, ranges in (entry.get("peerDependencies") or {}).items():
            installed = _installed(path, peer)
            if installed is not None and not satisfies(installed["version"], ranges):
                misfits.append(f"{path} wants {peer} {ranges}, gets {installed['version']}")
    assert misfits == []
