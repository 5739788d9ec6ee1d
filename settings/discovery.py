"""Per-chain discovery keys: which sources find the tokens a wallet holds, and their endpoints.

    discovery = ["logs"]              tried in order; [] (the default) turns discovery off
    discovery_from_block = 0          the oldest block `logs` scans (negative: below the head)
    blockscout_url = "https://eth.blockscout.com"              for "blockscout"
    etherscan_url = "https://api.etherscan.io/v2/api"           for "etherscan", with
    etherscan_key = "..."                                       its key (a secret)
    alchemy_url = "https://eth-mainnet.g.alchemy.com/v2/KEY"    for "alchemy" (a secret)

`logs` reads the chain's own events (EVM `Transfer`/ERC-1155 transfers, Starknet `Transfer`);
the three others are third-party indexers an operator may have, EVM chains only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from settings.secret import Secret
from settings.section import Lax, Section

DiscoverySourceName = Literal["logs", "blockscout", "etherscan", "alchemy"]
INDEXERS: dict[str, str] = {
    "blockscout": "blockscout_url",
    "etherscan": "etherscan_url",
    "alchemy": "alchemy_url",
}
"""Each third-party source and the key that must name its endpoint."""


class ChainDiscovery(Section):
    """The discovery keys of a `[chains.<id>]` table (the table's other keys: `ChainConfig`)."""

    discovery: Annotated[tuple[DiscoverySourceName, ...], Lax] = ()
    discovery_from_block: int = Field(default=0, ge=-(10**10))
    """The oldest block `logs` scans; negative: that many blocks below the head (a window
    that moves with the chain, for nodes that cannot serve a whole history)."""
    blockscout_url: str | None = None
    """Blockscout's base URL (its REST API is under `/api/v2`)."""
    etherscan_url: str | None = None
    """An Etherscan-compatible API (`?module=account&action=tokentx`)."""
    etherscan_key: Secret | None = None
    alchemy_url: Secret | None = None
    """An Alchemy RPC URL (it answers `alchemy_getTokenBalances`); it holds the key."""

    @field_validator("discovery")
    @classmethod
    def _once_each(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(sources)) != len(sources):
            raise ValueError("names a source twice")
        return sources

    @field_validator("blockscout_url", "etherscan_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return url

    @field_validator("alchemy_url")
    @classmethod
    def _http_secret(cls, url: Secret | None) -> Secret | None:
        if url is not None and url.scheme not in {"http", "https"}:
            raise ValueError("must be an http(s) URL")
        return url

    def discovery_problem(self, family: str) -> str | None:
        """What is wrong with these keys for a chain of `family`, if anything."""
        if family == "bitcoin" and self.discovery:
            return "discovery: Bitcoin has no tokens to discover"
        for source in self.discovery:
            if source == "logs":
                continue
            if family != "evm":
                return f"discovery: {source!r} serves EVM chains only"
            if getattr(self, INDEXERS[source]) is None:
                return f"discovery: {source!r} needs {INDEXERS[source]}"
            if source == "etherscan" and self.etherscan_key is None:
                return "discovery: 'etherscan' needs etherscan_key"
        return None
