"""Compile the devnet Solidity contracts with the npm ``solc`` package.

Results are cached in-process and on disk, keyed by a hash of the sources, the
compiler settings and the solc package version, so only the first run pays for
compilation.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devnet.errors import CompileError, DevnetError
from devnet.toolpaths import find_node, find_solc_package

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
COMPILE_SCRIPT = Path(__file__).resolve().parent / "solc_compile.js"
CACHE_DIR_ENV = "BALANCE_GRAPH_SOLC_CACHE"
COMPILE_TIMEOUT_S = 120.0
_CACHE_FORMAT = 1
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]},
    },
}


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: its ABI, creation bytecode and runtime bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes


def compile_contracts(root: Path | None = None) -> dict[str, Artifact]:
    """Compile every ``*.sol`` file under ``root`` (default: ``devnet/contracts``).

    Returns artifacts keyed by contract name. Raises ``ToolNotFoundError`` when
    node or solc is missing and ``CompileError`` with solc's messages on errors.
    """
    directory = (root if root is not None else CONTRACTS_DIR).resolve()
    return dict(_compile_dir(directory))


def cache_dir() -> Path:
    """Directory of the on-disk artifact cache (``$BALANCE_GRAPH_SOLC_CACHE`` overrides)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "balance-graph" / "solc"


@functools.cache
def _compile_dir(directory: Path) -> dict[str, Artifact]:
    sources = _read_sources(directory)
    solc_dir = find_solc_package()
    solc_version = json.loads((solc_dir / "package.json").read_text())["version"]
    key = _cache_key(sources, str(solc_version))
    cache_file = cache_dir() / f"{key}.json"
    cached = _load_cache(cache_file)
    if cached is not None:
        return cached
    artifacts = _run_solc(sources, solc_dir)
    _store_cache(cache_file, artifacts)
    return artifacts


def _read_sources(directory: Path) -> dict[str, str]:
    files = sorted(directory.glob("*.sol"))
    if not files:
        raise DevnetError(f"no .sol files in {directory}")
    return {path.name: path.read_text(encoding="utf-8") for path in files}


def _cache_key(sources: dict[str, str], solc_version: str) -> str:
    payload = json.dumps(
        {"format": _CACHE_FORMAT, "solc": solc_version, "settings": SETTINGS, "sources": sources},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _run_solc(sources: dict[str, str], solc_dir: Path) -> dict[str, Artifact]:
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    try:
        proc = subprocess.run(
            [find_node(), str(COMPILE_SCRIPT), str(solc_dir)],
            input=json.dumps(standard_input).encode(),
            capture_output=True,
            timeout=COMPILE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CompileError(f"solc did not finish within {COMPILE_TIMEOUT_S:.0f}s") from exc
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace").strip()
        raise CompileError(f"node {COMPILE_SCRIPT.name} exited with {proc.returncode}: {stderr}")
    output: dict[str, Any] = json.loads(proc.stdout)["output"]
    _raise_on_errors(output)
    return _collect_artifacts(output)


def _raise_on_errors(output: dict[str, Any]) -> None:
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        messages = "\n".join(str(e.get("formattedMessage") or e.get("message")) for e in errors)
        raise CompileError(f"solc reported {len(errors)} error(s):\n{messages}")


def _collect_artifacts(output: dict[str, Any]) -> dict[str, Artifact]:
    artifacts: dict[str, Artifact] = {}
    for source_name, contracts in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(contracts.items()):
            if name in artifacts:
                raise CompileError(f"contract name {name!r} is defined twice ({source_name})")
            evm = data["evm"]
            artifacts[name] = Artifact(
                name=name,
                abi=data["abi"],
                bytecode=bytes.fromhex(evm["bytecode"]["object"]),
                deployed_bytecode=bytes.fromhex(evm["deployedBytecode"]["object"]),
            )
    return artifacts


def _load_cache(path: Path) -> dict[str, Artifact] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            name: Artifact(
                name=name,
                abi=item["abi"],
                bytecode=bytes.fromhex(item["bytecode"]),
                deployed_bytecode=bytes.fromhex(item["deployed_bytecode"]),
            )
            for name, item in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _store_cache(path: Path, artifacts: dict[str, Artifact]) -> None:
    payload = {
        name: {
            "abi": a.abi,
            "bytecode": a.bytecode.hex(),
            "deployed_bytecode": a.deployed_bytecode.hex(),
        }
        for name, a in artifacts.items()
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    except OSError:
        return  # the cache is an optimisation; an unwritable cache dir is not fatal
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(tmp_name, path)
    except OSError:
        Path(tmp_name).unlink(missing_ok=True)
