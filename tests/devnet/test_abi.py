"""devnet.abi: human-readable signatures, selectors and call encoding (pure, no node)."""

from __future__ import annotations

import pytest

from devnet.abi import encode_call, function_selector, parse_signature
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
