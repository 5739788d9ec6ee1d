"""The house rules, checked: imports point down the layers and never in a circle, functions
stay short, and graph/ has no near-twin module names (issue 16)."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [("graph",), ("resolvers",), ("loaders", "metering"), ("prices",), ("chains",)]
LAYERS += [("settings",), ("core",)]
"""Top to bottom: a package imports only packages of lower layers (not its neighbours)."""
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
LONGEST_FUNCTION = 59


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in RANK:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every module of ours that `path` imports, type-only imports included."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                yield name


def graph_of_imports() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(path, known)) - {name} for name, path in known.items()}


def test_imports_only_point_down_the_layers() -> None:
    upward = [
        f"{source} -> {target}"
        for source, targets in graph_of_imports().items()
        for target in targets
        if RANK[target.split(".")[0]] < RANK[source.split(".")[0]]
        or (
            RANK[target.split(".")[0]] == RANK[source.split(".")[0]]
            and target.split(".")[0] != source.split(".")[0]
        )
    ]
    assert upward == []


def test_no_module_imports_itself_through_others() -> None:
    edges = graph_of_imports()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges.get(name, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_no_function_is_longer_than_a_screen() -> None:
    long: list[str] = []
    for folder in [*RANK, "devnet", "bench", "tests"]:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > LONGEST_FUNCTION:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long == []


def test_graph_has_no_near_twin_module_names() -> None:
    """`execution`/`executor`, `services`/`server`, `graphiql`/`graphiql_files` made a reader
    guess which was which: no two module names in graph/ share their first four letters."""
    names = {p.stem for p in (ROOT / "graph").rglob("*.py") if p.stem != "__init__"}
    twins = [(a, b) for a, b in itertools.combinations(sorted(names), 2) if a[:4] == b[:4]]
    assert twins == []
