"""devnet.toolpaths: where node_modules, node, solc and anvil are found, and the hints if not."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devnet import toolpaths
from devnet.errors import ToolNotFoundError


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty node_modules named by $BALANCE_GRAPH_NODE_MODULES; no $ANVIL_BIN."""
    path = tmp_path / "node_modules"
    path.mkdir()
    monkeypatch.setenv(toolpaths.NODE_MODULES_ENV, str(path))
    monkeypatch.delenv(toolpaths.ANVIL_BIN_ENV, raising=False)
    return path


def test_the_environment_names_node_modules(modules: Path) -> None:
    assert toolpaths.find_node_modules() == modules


def test_a_node_modules_override_that_is_not_a_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(toolpaths.NODE_MODULES_ENV, str(tmp_path / "missing"))
    with pytest.raises(ToolNotFoundError, match="is not a directory"):
        toolpaths.find_node_modules()


def test_without_the_environment_the_repository_node_modules_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(toolpaths.NODE_MODULES_ENV, raising=False)
    found = toolpaths.find_node_modules()
    assert found.name == "node_modules" and Path(toolpaths.__file__).resolve().is_relative_to(
        found.parent
    )


def test_solc_is_the_npm_package_with_a_package_json(modules: Path) -> None:
    with pytest.raises(ToolNotFoundError, match=r"npm package `solc` not found.*npm ci"):
        toolpaths.find_solc_package()
    (modules / "solc").mkdir()
    (modules / "solc" / "package.json").write_text("{}", encoding="utf-8")
    assert toolpaths.find_solc_package() == modules / "solc"


def test_anvil_is_the_pinned_package_binary(modules: Path) -> None:
    with pytest.raises(ToolNotFoundError, match="anvil binary not found"):
        toolpaths.find_anvil()
    binary = executable(modules / toolpaths.ANVIL_RELATIVE_PATH)
    assert toolpaths.find_anvil() == str(binary)


def test_anvil_bin_wins_when_it_is_executable(
    modules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = executable(tmp_path / "bin" / "anvil")
    monkeypatch.setenv(toolpaths.ANVIL_BIN_ENV, str(own))
    assert toolpaths.find_anvil() == str(own)
    plain = tmp_path / "not-executable"
    plain.write_text("", encoding="utf-8")
    monkeypatch.setenv(toolpaths.ANVIL_BIN_ENV, str(plain))
    with pytest.raises(ToolNotFoundError, match="is not an executable file"):
        toolpaths.find_anvil()


def test_node_must_be_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFoundError, match="`node` is not on PATH"):
        toolpaths.find_node()
    node = executable(tmp_path / "node")
    assert toolpaths.find_node() == str(node)
