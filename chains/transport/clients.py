"""A chain's JSON-RPC clients, each configured from the chain's settings alone."""

from __future__ import annotations

import httpx

from chains.transport.jsonrpc import JsonRpcClient
from core.metrics import Metrics
from settings import ChainConfig, Secret


def chain_client(
    config: ChainConfig,
    http: httpx.AsyncClient,
    metrics: Metrics,
    definite_codes: frozenset[int] = frozenset(),
    *,
    urls: tuple[Secret, ...] = (),
    past: bool = False,
    role: str = "",
) -> JsonRpcClient:
    """A client of `urls`, by default the chain's `rpc_urls`; `past` for reads at a past block;
    `role` names its endpoints apart from the current reads' (their own circuits: a heavy
    scan, or an indexer's node, never takes the chain's current reads down with it)."""
    return JsonRpcClient(
        config.id,
        urls or config.rpc_urls,
        http,
        metrics,
        timeout=config.timeout,
        cooldown=config.cooldown,
        threshold=config.failure_threshold,
        max_response_bytes=config.max_response_bytes,
        max_concurrency=config.max_connections,
        definite_codes=definite_codes,
        past=past,
        role=role,
    )
