"""devnet.abi: human-readable signatures, selectors and call encoding (pure, no node)."""

from __future__ import annotations

from typing import Any

import pytest

from devnet.abi import (
    canonical_signature,
    constructor_types,
    decode_result,
    encode_call,
    function_selector,
    parse_signature,
    split_types,
)
from devnet.errors import DevnetError

AGGREGATE3 = "aggregate3((address,bool,bytes)[])"


def test_signature_helpers() -> None:
    assert parse_signature("mint(address, uint256)") == ("mint", ["address", "uint256"])
    assert parse_signature(AGGREGATE3) == ("aggregate3", ["(address,bool,bytes)[]"])
    assert parse_signature("getBlockNumber()") == ("getBlockNumber", [])
    assert function_selector("balanceOf(address)").hex() == "70a08231"
    assert function_selector(AGGREGATE3).hex() == "82ad56cb"
    with pytest.raises(DevnetError):
        encode_call("mint(address,uint256)", "0x" + "11" * 20)


def test_type_lists_split_only_at_the_top_level() -> None:
    assert split_types("(address,bool,bytes)[],uint256") == ["(address,bool,bytes)[]", "uint256"]
    assert split_types("((uint8,bytes32),address)") == ["((uint8,bytes32),address)"]
    assert split_types("") == []
    for bad in ("(address", "address)", "uint256,,address", "uint256,"):
        with pytest.raises(DevnetError):
            split_types(bad)


def test_signatures_must_have_a_name_and_parentheses() -> None:
    for bad in ("()", "mint", "mint(address", "(address)"):
        with pytest.raises(DevnetError, match="not a function signature"):
            parse_signature(bad)
    assert canonical_signature(" transfer ( address , uint256 ) ") == "transfer(address,uint256)"


def test_calls_encode_and_results_decode_as_the_abi_says() -> None:
    holder = "0x" + "11" * 20
    data = encode_call("balanceOf(address)", holder)
    assert data == bytes.fromhex("70a08231") + bytes(12) + bytes.fromhex("11" * 20)
    assert decode_result(
        ["uint256", "bool"], (7).to_bytes(32, "big") + (1).to_bytes(32, "big")
    ) == (
        7,
        True,
    )


def test_constructor_types_expand_tuples() -> None:
    abi: list[dict[str, Any]] = [
        {"type": "function", "name": "f", "inputs": [{"type": "uint8"}]},
        {
            "type": "constructor",
            "inputs": [
                {"type": "string"},
                {"type": "tuple[]", "components": [{"type": "address"}, {"type": "uint96"}]},
            ],
        },
    ]
    assert constructor_types(abi) == ["string", "(address,uint96)[]"]
    assert constructor_types([{"type": "function", "inputs": []}]) == []
