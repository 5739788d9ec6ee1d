"""The process's live balances: one follower per chain, started with the chain's first watched
row and stopped with its last.

A subscription hands the hub its rows and its `Mailbox` (`watch`), and takes them back when
it ends (`unwatch`). However many subscriptions watch a row, the row is read once per block
by its chain's follower and the value offered to each of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from chains.live.follower import Follower
from chains.live.mailbox import Mailbox
from chains.live.source import LiveChain
from core.metrics import Metrics
from core.models import BalanceKey


class LiveHub:
    """Followers by chain, for the subscriptions of one process."""

    def __init__(self, chains: Mapping[str, LiveChain], metrics: Metrics) -> None:
        self._chains = dict(chains)
        self._metrics = metrics
        self._followers: dict[str, Follower] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    def following(self) -> list[str]:
        """The chains followed right now."""
        return sorted(self._followers)

    def watch(self, keys: Sequence[BalanceKey], mailbox: Mailbox) -> None:
        """Offer `mailbox` each of `keys`' values (first the current one) until `unwatch`."""
        for chain, chain_keys in _by_chain(keys).items():
            follower = self._followers.get(chain)
            if follower is None:
                follower = self._followers[chain] = Follower(self._chains[chain], self._metrics)
                follower.start()
            follower.add(mailbox, chain_keys)

    def unwatch(self, keys: Sequence[BalanceKey], mailbox: Mailbox) -> None:
        for chain, chain_keys in _by_chain(keys).items():
            follower = self._followers.get(chain)
            if follower is None:
                continue
            follower.remove(mailbox, chain_keys)
            if not len(follower):
                del self._followers[chain]
                task = asyncio.get_running_loop().create_task(follower.stop())
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)

    async def aclose(self) -> None:
        """Stop every follower (at shutdown): their subscribers' mailboxes close."""
        followers, self._followers = list(self._followers.values()), {}
        await asyncio.gather(*(f.stop() for f in followers), *self._stopping)


def _by_chain(keys: Sequence[BalanceKey]) -> dict[str, list[BalanceKey]]:
    grouped: dict[str, list[BalanceKey]] = {}
    for key in keys:
        grouped.setdefault(key.chain, []).append(key)
    return grouped
