"""PastBalanceLoader: one round per (chain, block), and a pair that fails is a value, never
the whole batch's failure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from chains.registry import ChainRegistry
from core.errors import NoContractCode, ServiceError
from core.models import BalanceKey, BalanceReading, TokenRef
from loaders.past import PastBalanceLoader, PastRequest

ACCOUNT = "0x" + "a" * 40
OLD = BalanceKey("eth", ACCOUNT, TokenRef("0x" + "1" * 40))
NEW = BalanceKey("eth", ACCOUNT, TokenRef("0x" + "2" * 40))


class History:
    """A chain's past whose NEW token has no code before block 10."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, list[BalanceKey]]] = []

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ServiceError]:
        self.reads.append((block, list(keys)))
        return [
            NoContractCode("no data", **k.labels)
            if k == NEW and block < 10
            else BalanceReading(k, block, block, datetime.now(UTC))
            for k in keys
        ]


def loader(history: History) -> PastBalanceLoader:
    registry: Any = SimpleNamespace(get=lambda chain: SimpleNamespace(history=history))
    return PastBalanceLoader(cast(ChainRegistry, registry))


async def test_a_pair_that_cannot_be_read_is_its_error_beside_the_others() -> None:
    history = History()
    past = loader(history)
    requests = [PastRequest(OLD, 5), PastRequest(NEW, 5), PastRequest(NEW, 12)]
    old, new, later = await past.load_many(requests)
    assert isinstance(old, BalanceReading) and old.raw_amount == 5
    assert isinstance(new, NoContractCode) and new.token == str(NEW.token)
    assert isinstance(later, BalanceReading) and later.raw_amount == 12
    assert sorted(block for block, _ in history.reads) == [5, 12]  # one read per block
