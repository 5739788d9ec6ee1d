"""One anvil (with Multicall3) shared by the devnet tooling tests of this package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devnet.anvil import Anvil
from devnet.chain import DevChain

CHAIN_ID = 31337


@pytest.fixture(scope="package")
def node() -> Iterator[Anvil]:
    with Anvil(chain_id=CHAIN_ID) as anvil:
        yield anvil


@pytest.fixture(scope="package")
def chain(node: Anvil) -> Iterator[DevChain]:
    with DevChain(node.url) as dev:
        dev.install_multicall3()
        yield dev


@pytest.fixture(scope="package")
def holder(chain: DevChain) -> str:
    return chain.accounts()[1]
