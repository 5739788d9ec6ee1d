"""How a follower hears of new blocks: pushed by `eth_subscribe("newHeads")` over a
chain's `ws_urls`, else polled every `poll_interval`.

`HeadWatch.run` calls `on_head` with every head it learns of (the follower decides what is
new) and `on_failure` when the node cannot tell it (polling failed). Polling goes through
the chain's `SharedHeads`: a head another process read less than `poll_interval` ago is
taken as it is, so N replicas poll a chain about once per interval between them.

Over WebSocket, every URL is tried in order; when none answers (or a subscription drops),
the head is polled for `RETRY_SOCKETS` seconds before the sockets are tried again, so a
dead WebSocket endpoint never stops the follower. Messages are size-capped and decoded
strictly; URLs never reach a log (they may hold keys), only their labels do.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from chains.heads import Head, SharedHeads
from chains.live.headers import HeadSource, parse_header
from core.errors import ChainError, UpstreamError
from settings import Secret

log = logging.getLogger(__name__)

RETRY_SOCKETS = 30.0
"""Seconds of polling before the WebSocket endpoints are tried again."""
MAX_MESSAGE = 1 << 16
"""A header is ~1.5 kB: a bigger message is not one."""
OPEN_TIMEOUT = 5.0


class HeadWatch:
    """Follows one chain's head until cancelled."""

    def __init__(
        self,
        chain: str,
        source: HeadSource,
        shared: SharedHeads,
        *,
        interval: float,
        ws_urls: Sequence[Secret] = (),
        on_head: Callable[[Head], None],
        on_failure: Callable[[ChainError], None],
    ) -> None:
        self.chain = chain
        self._source = source
        self._shared = shared
        self._interval = interval
        self._urls = tuple(ws_urls)
        self._on_head = on_head
        self._on_failure = on_failure

    async def run(self) -> None:
        await self.poll_once()  # newHeads only tells of blocks after it starts
        if not self._urls:
            await self._poll_for(None)
        while True:
            for url in self._urls:
                try:
                    await self._subscribe(url)
                except (OSError, TimeoutError, WebSocketException, ChainError, ValueError) as exc:
                    log.warning("%s: newHeads on %s ended: %s", self.chain, url.label, _why(exc))
            await self._poll_for(RETRY_SOCKETS)

    async def poll_once(self) -> None:
        """One head: the shared one if fresh, else the node's (shared with everyone)."""
        try:
            head = await self._shared.get()
            if head is None:
                head = await self._source.latest()
                await self._shared.put(head)
        except ChainError as exc:
            self._on_failure(exc)
            return
        self._on_head(head)

    async def _poll_for(self, seconds: float | None) -> None:
        loop = asyncio.get_running_loop()
        until = None if seconds is None else loop.time() + seconds
        while until is None or loop.time() < until:
            await asyncio.sleep(self._interval)
            await self.poll_once()

    async def _subscribe(self, url: Secret) -> None:
        request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
        async with connect(
            url.value, max_size=MAX_MESSAGE, open_timeout=OPEN_TIMEOUT, compression=None
        ) as socket:
            await socket.send(json.dumps(request))
            reply = json.loads(await asyncio.wait_for(socket.recv(), OPEN_TIMEOUT))
            subscription = reply.get("result") if isinstance(reply, dict) else None
            if not isinstance(subscription, str):
                raise UpstreamError(f"{self.chain} node refused eth_subscribe", chain=self.chain)
            await self.poll_once()  # blocks made while connecting
            async for message in socket:
                head = self._notification(message, subscription)
                if head is not None:
                    await self._shared.put(head)
                    self._on_head(head)

    def _notification(self, message: str | bytes, subscription: str) -> Head | None:
        body = json.loads(message)
        params = body.get("params") if isinstance(body, dict) else None
        if not isinstance(params, dict) or params.get("subscription") != subscription:
            return None  # not ours (another id's answer): ignore
        return parse_header(self.chain, params.get("result"))


def _why(exc: BaseException) -> str:
    """What went wrong, without the URL (exception texts may quote it)."""
    if isinstance(exc, ChainError):
        return exc.message
    return type(exc).__name__
