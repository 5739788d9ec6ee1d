"""Starknet addresses: felts below 2**251, answered as 0x and 64 lowercase hex digits."""

from __future__ import annotations

import pytest

from chains.starknet.addresses import normalize_address
from core.errors import InvalidAddress

STRK = "0x04718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("0x1", "0x" + "0" * 63 + "1"),
        (STRK, STRK),
        (STRK.upper().replace("0X", "0x"), STRK),
        ("0x4718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D", STRK),
        (f" {STRK}\t", STRK),
        ("0x0", "0x" + "0" * 64),
        ("0x7" + "f" * 62, "0x07" + "f" * 62),  # 2**251 - 1, the largest address
    ],
)
def test_addresses_are_padded_and_lower_cased(text: str, canonical: str) -> None:
    assert normalize_address(text) == canonical


@pytest.mark.parametrize("text", ["0x8" + "0" * 62, "0x" + "f" * 63, "0x" + "f" * 64])
def test_felts_at_or_above_2_251_are_not_addresses(text: str) -> None:
    with pytest.raises(InvalidAddress, match=r"must be below 2\*\*251"):
        normalize_address(text)


@pytest.mark.parametrize(
    "text", ["", "0x", "1", STRK[2:], "0X1", "0x" + "0" * 65, "0xabcg", "0x-1", "0x 1", "native"]
)
def test_anything_but_0x_and_1_to_64_hex_digits_is_refused(text: str) -> None:
    with pytest.raises(InvalidAddress, match=r"is not a Starknet address \(0x and 1 to 64 hex"):
        normalize_address(text)
