"""The shipped token lists: enough of the market with logos, merged by rules a reader can
predict, and the chain's own answer where the lists disagree."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chains.evm.addresses import normalize_evm_token
from chains.reader import ChainReader
from chains.tokens.npm_lists import SHIPPED_LISTS
from chains.tokens.shipped import ShippedList, merge, shipped_lists, with_logos
from core.metrics import Metrics
from core.models import TokenRef
from settings import ChainConfig, load_settings
from tests.fakes.service import FakeProvider, chain_config, erc20, new_store

GATEWAY = "https://gateway.example/ipfs/"
FLOORS = {"ethereum": 300, "base": 100, "arbitrum": 100, "optimism": 100, "polygon": 100}
A, B, C = (f"0x{n:040x}" for n in (0xA, 0xB, 0xC))


def entry(address: str, symbol: str, decimals: int = 18, **more: Any) -> dict[str, Any]:
    return {
        "chainId": 1,
        "address": address,
        "symbol": symbol,
        "name": symbol,
        "decimals": decimals,
        **more,
    }


def chain() -> ChainConfig:
    return chain_config("eth")


@pytest.mark.parametrize("chain_id", sorted(FLOORS))
def test_the_default_config_knows_the_market_with_logos(chain_id: str) -> None:
    config = load_settings(environ={}).chains[chain_id]
    merged = merge(config, shipped_lists(), normalize_evm_token, GATEWAY)
    tokens = {**merged.trusted, **merged.unsettled}
    assert len(tokens) >= FLOORS[chain_id]
    with_logo = [m for m in tokens.values() if m.logo]
    assert len(with_logo) >= 0.95 * len(tokens)
    assert all(m.logo and m.logo.startswith("https://") for m in with_logo)
    assert all(m.chain == chain_id for m in tokens.values())


def test_the_first_list_names_a_token_and_later_ones_only_fill_its_logo() -> None:
    first = ShippedList("one", {"tokens": [entry(A, "AAA"), entry(B, "BBB")]})
    second = ShippedList(
        "two",
        {
            "tokens": [
                entry(A, "AAA", logoURI="https://two.example/a.png"),
                entry(B, "BBB", 6, logoURI="https://two.example/b.png"),  # decimals disagree
                entry(C, "CCC", logoURI="ipfs://QmCid/c.png"),
                entry("0x0000000000000000000000000000000000000000", "ETH"),  # a placeholder
                entry("0xnope", "BAD"),
                {**entry(C, "OTHER"), "chainId": 10},  # another chain's
            ]
        },
    )
    merged = merge(chain(), [first, second], normalize_evm_token, GATEWAY)
    a, b, c = (normalize_evm_token(x) for x in (A, B, C))
    assert set(merged.trusted) == {a, c}
    assert merged.trusted[a].logo == "https://two.example/a.png"
    assert merged.trusted[c].logo == GATEWAY + "QmCid/c.png"
    assert set(merged.unsettled) == {b}
    assert merged.unsettled[b].decimals == 18 and merged.unsettled[b].logo is not None
    assert merged.skipped == 1


def test_the_operator_s_list_wins_and_keeps_a_shipped_logo() -> None:
    shipped = merge(
        chain(),
        [ShippedList("one", {"tokens": [entry(A, "AAA", logoURI="https://x.example/a.png")]})],
        normalize_evm_token,
        GATEWAY,
    )
    own = {normalize_evm_token(A): erc20("eth", normalize_evm_token(A), "MINE", 6)}
    (meta,) = with_logos(own, shipped).values()
    assert (meta.symbol, meta.decimals, meta.logo) == ("MINE", 6, "https://x.example/a.png")


async def test_an_unsettled_token_is_read_from_the_chain_with_its_list_logo() -> None:
    token = normalize_evm_token(B)
    hint = erc20("eth", token, "WRONG", 6)
    hinted = replace(hint, logo="https://x.example/b.png")
    provider = FakeProvider("eth", tokens={token: erc20("eth", token, "RIGHT", 18)})
    reader = ChainReader("eth", provider, {}, new_store(), Metrics(), unsettled={token: hinted})
    (meta,) = await reader.tokens([token])
    assert not isinstance(meta, Exception)
    assert (meta.symbol, meta.decimals, meta.logo) == ("RIGHT", 18, "https://x.example/b.png")
    assert reader.is_listed(token) and reader.listed_token(token) is None


def test_vendored_copies_are_read_in_both_layouts(tmp_path: Path) -> None:
    document = {"name": "x", "tokens": [entry(A, "AAA")]}
    for package in SHIPPED_LISTS:
        text = json.dumps(document)
        if package.layout == "sourcemap":
            text = json.dumps({"version": 3, "sources": ["x.json"], "sourcesContent": [text]})
        (tmp_path / package.vendored_name).write_text(text, encoding="utf-8")
    lists = shipped_lists(tmp_path)
    assert [s.name for s in lists] == [p.package for p in SHIPPED_LISTS]
    assert all(s.document == document for s in lists)
    assert (
        TokenRef(normalize_evm_token(A).contract)
        in merge(chain(), lists, normalize_evm_token, GATEWAY).trusted
    )
