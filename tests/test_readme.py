"""The README's commands run as written, in a checkout after `make`.

A newcomer pastes them: `balance-graph` alone is not on PATH after `make serve` or `make
test` (it is `.venv/bin/balance-graph`, or `make keys`), a `…` in a command is a placeholder
that fails when pasted, and a `make` target must exist. Inside a container (`docker …`) the
installed command is on PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
SHELL_BLOCK = re.compile(r"^```(console|sh|bash|shell)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def commands() -> list[str]:
    """Every command of the README's shell blocks: `$ ` lines of console blocks, every
    non-comment line of sh blocks, continuation lines joined."""
    found: list[str] = []
    for kind, body in SHELL_BLOCK.findall(README):
        lines = body.replace("\\\n", " ").splitlines()
        if kind == "console":
            found += [line[2:] for line in lines if line.startswith("$ ")]
        else:
            found += [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return found


def invocations(command: str) -> list[str]:
    """The program of each simple command (at the start, after `;`, `&&`, `|`, `$(`, `do`),
    past any `NAME=value` assignments in front of it."""
    programs: list[str] = []
    for part in re.split(r"\$\(|;|&&|\|\||\||\bdo\b", command.split(" #")[0]):
        words = part.split()
        while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words.pop(0)
        programs += words[:1]
    return programs


def test_the_readme_has_commands_to_check() -> None:
    assert len(commands()) > 10
    assert any("keys create" in c for c in commands())


def test_no_command_calls_balance_graph_where_it_is_not_on_path() -> None:
    assert invocations("KEY=$(balance-graph keys create)") == ["balance-graph"]
    assert invocations("X=1 balance-graph serve; make keys") == ["balance-graph", "make"]
    bare = [
        command
        for command in commands()
        if not command.startswith("docker") and "balance-graph" in invocations(command)
    ]
    assert bare == []


def test_no_command_holds_a_placeholder_that_fails_when_pasted() -> None:
    placeholders = [c for c in commands() if "…" in c.split(" #")[0]]
    assert placeholders == []


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README))
    named |= {m for c in commands() for m in re.findall(r"\bmake ([a-z][a-z-]*)", c)}
    assert named and named <= targets, named - targets


def test_a_body_that_is_not_json_is_documented_as_400_whatever_the_accept() -> None:
    # It is 400 under every media type (tests/graph/http/test_endpoint.py); the README said 200.
    claims = [p for p in re.split(r"\n(?=- )|\n\n", README) if re.search(r"(bad|not) JSON", p)]
    assert claims
    for claim in claims:
        assert "`400`" in claim and "`200`" not in claim, claim


@pytest.mark.integration
def test_make_keys_runs_the_cli_and_prints_the_key_alone(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[chains.devnet]\nrpc_urls = ["http://127.0.0.1:9"]\n'
        'native = { symbol = "ETH", name = "Ether", decimals = 18 }\n'
        f'[auth]\ndata_dir = "{tmp_path / "keys"}"\n',
        encoding="utf-8",
    )

    def make(args: str) -> subprocess.CompletedProcess[str]:
        # -o: the .venv is there (this test runs in it); never rebuild it from a test.
        argv = ["make", "-o", ".venv/.installed", "keys", f"ARGS={args}", f"CONFIG={config}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
        return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    created = make("create --name acme")
    assert created.returncode == 0, created.stderr
    assert re.fullmatch(r"bgk_[A-Za-z0-9_-]{43}\n", created.stdout)  # KEY=$(make keys ...) works
    listed = make("list --json")
    assert '"name": "acme"' in listed.stdout
