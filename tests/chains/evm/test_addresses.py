"""EVM addresses: any case in, EIP-55 out, typos refused; token arguments parsed once."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from chains.evm.addresses import checksum_evm_address, normalize_evm_token
from core.errors import InvalidAddress
from core.models import NATIVE_TOKEN, TokenRef

# EIP-55's own test vectors (all caps, all lower, mixed).
EIP55 = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.mark.parametrize("address", EIP55)
def test_eip55_vectors_are_accepted_and_answered_checksummed(address: str) -> None:
    checksummed = checksum_evm_address(address)
    assert checksummed.lower() == address.lower()
    assert checksum_evm_address(checksummed) == checksummed
    if address != address.lower() and address[2:] != address[2:].upper():
        assert checksummed == address  # a mixed-case vector is its own checksum


@given(st.binary(min_size=20, max_size=20), st.booleans())
def test_checksums_match_eth_utils(raw: bytes, upper: bool) -> None:
    """Our own EIP-55 (cached) against eth-utils', the independent reference."""
    digits = raw.hex().upper() if upper else raw.hex()
    assert checksum_evm_address("0x" + digits) == to_checksum_address("0x" + raw.hex())


def test_all_lower_and_all_upper_are_accepted_as_they_are() -> None:
    assert checksum_evm_address(CHECKSUMMED.lower()) == CHECKSUMMED
    assert checksum_evm_address("0x" + CHECKSUMMED[2:].upper()) == CHECKSUMMED
    assert checksum_evm_address(f"  {CHECKSUMMED}\n") == CHECKSUMMED


def test_a_wrong_checksum_is_refused_with_the_right_one() -> None:
    typo = CHECKSUMMED.replace("aAeb", "aaeb")
    with pytest.raises(InvalidAddress) as info:
        checksum_evm_address(typo)
    assert info.value.message == (
        f"{typo!r} has an invalid EIP-55 checksum (did you mean {CHECKSUMMED}?)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0x",
        "0x1234",
        CHECKSUMMED[2:],  # no 0x
        "0X" + CHECKSUMMED[2:],  # upper-case prefix
        CHECKSUMMED + "00",  # 42 digits
        CHECKSUMMED[:-1] + "g",
        "native",
    ],
)
def test_anything_but_0x_and_40_hex_digits_is_refused(text: str) -> None:
    with pytest.raises(InvalidAddress, match=r"is not an EVM address \(0x followed by 40 hex"):
        checksum_evm_address(text)


@pytest.mark.parametrize(
    "text",
    ["native", " NATIVE ", "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE", "0xeeee" + "e" * 36],
)
def test_native_and_its_aliases_are_the_native_token(text: str) -> None:
    assert normalize_evm_token(text) == NATIVE_TOKEN


def test_a_contract_is_checksummed_and_an_erc1155_id_parsed_once() -> None:
    assert normalize_evm_token(CHECKSUMMED.lower()) == TokenRef(CHECKSUMMED)
    assert normalize_evm_token(f"{CHECKSUMMED.lower()}:7") == TokenRef(CHECKSUMMED, 7)
    assert normalize_evm_token(f"{CHECKSUMMED}:007") == TokenRef(CHECKSUMMED, 7)
    top = 2**256 - 1
    assert normalize_evm_token(f"{CHECKSUMMED}:{top}") == TokenRef(CHECKSUMMED, top)


@pytest.mark.parametrize(
    "token_id", ["", "-1", "+1", "1.0", "0x10", "\u0661", str(2**256), "1" * 79]
)
def test_an_erc1155_id_must_be_a_decimal_below_2_256(token_id: str) -> None:
    with pytest.raises(InvalidAddress, match="decimal id below 2\\^256"):
        normalize_evm_token(f"{CHECKSUMMED}:{token_id}")


def test_an_erc1155_contract_is_still_checksum_checked() -> None:
    with pytest.raises(InvalidAddress, match="invalid EIP-55 checksum"):
        normalize_evm_token(CHECKSUMMED.replace("aAeb", "aaeb") + ":1")
