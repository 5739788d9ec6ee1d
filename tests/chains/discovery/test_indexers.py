"""Blockscout, Etherscan and Alchemy as discovery sources, against fakes shaped like their
published APIs: every standard, every page, garbage refused, keys never shown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from chains.discovery.base import IndexerSource
from chains.discovery.indexers import AlchemyTokens, BlockscoutTokens, EtherscanTokens
from chains.evm.addresses import normalize_evm_token
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import UpstreamError, UpstreamRefused
from core.metrics import Metrics
from core.models import TokenRef
from settings import Secret
from tests.fakes.indexers import KEY, Holding, Indexers

HOLDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ERC20 = [f"0x{n:040x}" for n in range(1, 121)]
NFT = "0x00000000000000000000000000000000000007A1"
MULTI = "0x0000000000000000000000000000000000000115"
HOLDINGS = [
    *(Holding(c, "ERC-20", 1_000 + i) for i, c in enumerate(ERC20)),
    Holding(NFT, "ERC-721", 5_000, 3),
    Holding(MULTI, "ERC-1155", 6_000, 7),
    Holding(MULTI, "ERC-1155", 6_001, 8),
]


def expected(*kinds: str) -> set[TokenRef]:
    found = {normalize_evm_token(h.contract) for h in HOLDINGS if h.kind == "ERC-20"}
    if "nft" in kinds:
        found |= {normalize_evm_token(NFT), TokenRef(normalize_evm_token(MULTI).contract, 7)}
        found |= {TokenRef(normalize_evm_token(MULTI).contract, 8)}
    return found


@pytest.fixture
async def fake() -> AsyncIterator[tuple[Indexers, httpx.AsyncClient]]:
    indexers = Indexers(HOLDER, HOLDINGS)
    async with httpx.AsyncClient(transport=httpx.MockTransport(indexers.handler)) as http:
        yield indexers, http


async def test_blockscout_lists_every_standard_over_every_page(
    fake: tuple[Indexers, httpx.AsyncClient],
) -> None:
    indexers, http = fake
    source = BlockscoutTokens("eth", "https://blockscout.test/", http, normalize_evm_token, 2_000)
    seen = await source.held(HOLDER, head=7_000)
    assert set(seen) == expected("nft")
    assert set(seen.values()) == {7_000}  # Blockscout tells no block: the head it answered at
    assert len(indexers.requests) == 3  # 123 holdings, 50 a page
    assert indexers.requests[1].url.params["id"] == "50"


async def test_etherscan_reads_each_standard_s_transfers_with_their_blocks(
    fake: tuple[Indexers, httpx.AsyncClient],
) -> None:
    indexers, http = fake
    source = EtherscanTokens(
        "eth", "https://etherscan.test/v2/api", Secret(KEY), 1, http, normalize_evm_token
    )
    seen = await source.held(HOLDER, head=7_000)
    assert set(seen) == expected("nft")
    assert seen[normalize_evm_token(ERC20[4])] == 1_004
    assert seen[TokenRef(normalize_evm_token(MULTI).contract, 8)] == 6_001
    actions = [r.url.params["action"] for r in indexers.requests]
    assert actions == ["tokentx", "tokennfttx", "token1155tx"]
    assert {r.url.params["chainid"] for r in indexers.requests} == {"1"}


async def test_a_bad_etherscan_key_is_a_refusal_that_never_shows_the_key(
    fake: tuple[Indexers, httpx.AsyncClient],
) -> None:
    _, http = fake
    wrong = Secret("SECRET-wrong-key")
    source = EtherscanTokens(
        "eth", "https://etherscan.test/api", wrong, 1, http, normalize_evm_token
    )
    with pytest.raises(UpstreamRefused) as info:
        await source.held(HOLDER, head=7_000)
    assert "SECRET" not in info.value.message and "SECRET" not in repr(info.value)


async def test_alchemy_pages_through_token_balances(
    fake: tuple[Indexers, httpx.AsyncClient],
) -> None:
    indexers, http = fake
    rpc = JsonRpcClient(
        "eth",
        (Secret("https://alchemy.test/v2/SECRET"),),
        http,
        Metrics(),
        timeout=5,
        cooldown=1,
        threshold=3,
        max_response_bytes=10**7,
        max_concurrency=4,
    )
    indexers.page = 100
    seen = await AlchemyTokens("eth", rpc, normalize_evm_token, 2_000).held(HOLDER, head=7_000)
    assert set(seen) == expected()  # ERC-20 only
    assert len(indexers.requests) == 2


@pytest.mark.parametrize("which", ["blockscout", "etherscan", "alchemy"])
async def test_garbage_from_an_indexer_is_node_trouble_never_a_token(
    fake: tuple[Indexers, httpx.AsyncClient], which: str
) -> None:
    indexers, http = fake
    indexers.broken = which
    sources: dict[str, IndexerSource] = {
        "blockscout": BlockscoutTokens(
            "eth", "https://blockscout.test", http, normalize_evm_token, 10
        ),
        "etherscan": EtherscanTokens(
            "eth", "https://etherscan.test/api", Secret(KEY), None, http, normalize_evm_token
        ),
        "alchemy": AlchemyTokens(
            "eth",
            JsonRpcClient(
                "eth",
                (Secret("https://alchemy.test/v2/k"),),
                http,
                Metrics(),
                timeout=5,
                cooldown=1,
                threshold=3,
                max_response_bytes=10**7,
                max_concurrency=4,
            ),
            normalize_evm_token,
            10,
        ),
    }
    with pytest.raises(UpstreamError, match="sent"):
        await sources[which].held(HOLDER, head=7_000)
