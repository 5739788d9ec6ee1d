"""Felts and the Cairo encodings of ERC-20 views, against published values.

Selectors and encodings come from `tests.fakes.starknet` (published sn_keccak values, the
starknet.js ByteArray vectors), written out independently of `chains.starknet.felts`.
"""

from __future__ import annotations

from chains.starknet import felts
from tests.fakes.starknet import BALANCE_OF, DECIMALS, NAME, SYMBOL


def test_selectors_are_the_published_sn_keccak_values() -> None:
    assert [felts.selector(n) for n in ("balanceOf", "decimals", "symbol", "name")] == [
        BALANCE_OF,
        DECIMALS,
        SYMBOL,
        NAME,
    ]


def test_byte_array_decodes_the_starknet_js_vectors() -> None:
    two_words = [
        2,
        0x4142434445464748494A4B4C4D4E4F505152535455565758595A3132333435,
        0x4141414445464748494A4B4C4D4E4F505152535455565758595A3132333435,
        0x41,
        1,
    ]
    assert felts.decode_text(two_words) == (
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ12345AAADEFGHIJKLMNOPQRSTUVWXYZ12345A"
    )
    assert felts.decode_text([0, 310939249775, 5]) == "Hello"


def test_u256_rejects_limbs_of_129_bits_and_wrong_lengths() -> None:
    assert felts.decode_u256([2**128 - 1, 2**128 - 1]) == 2**256 - 1
    assert felts.decode_u256([2**128, 0]) is None
    assert felts.decode_u256([0, 2**128]) is None
    assert felts.decode_u256([]) is None
    assert felts.decode_u256([1, 2, 3]) is None
    assert felts.decode_u256([2**250]) == 2**250  # a lone felt from an old Cairo 0 token
    assert felts.decode_u256([2**251]) is None


def test_text_rejects_malformed_byte_arrays_and_unprintable_bytes() -> None:
    assert felts.decode_text([1, 0x41, 0]) is None  # length says 1 word, none of 31 bytes given
    assert felts.decode_text([0, 0x4142, 1]) is None  # pending word longer than its length
    assert felts.decode_text([0, 0, 0]) is None  # empty
    assert felts.decode_text([0xFFFE]) is None  # not UTF-8
    assert felts.decode_text([0x07]) is None  # a control character


def test_felts_are_written_without_leading_zeros() -> None:
    assert felts.to_hex(0) == "0x0"
    assert felts.to_hex(0xA11) == "0xa11"


def test_a_felt_is_hex_of_any_case_or_padding_below_the_prime() -> None:
    assert felts.parse_felt("0x0") == 0
    assert felts.parse_felt("0x00000a11") == felts.parse_felt("0xA11") == 0xA11
    assert felts.parse_felt(hex(felts.FELT_PRIME - 1)) == felts.FELT_PRIME - 1
    for bad in (hex(felts.FELT_PRIME), "0x" + "f" * 64, "0x", "a11", "0xg", 0xA11, None, ["0x1"]):
        assert felts.parse_felt(bad) is None, bad


def test_a_call_result_is_a_list_of_felts_or_nothing() -> None:
    assert felts.parse_felts(["0x1", "0x02"]) == [1, 2]
    assert felts.parse_felts([]) == []
    assert felts.parse_felts(["0x1", "two"]) is None  # one bad felt spoils the result
    assert felts.parse_felts("0x1") is None
    assert felts.parse_felts({"result": ["0x1"]}) is None


def test_decimals_is_one_felt_holding_a_u8() -> None:
    assert felts.decode_decimals([18]) == 18
    assert felts.decode_decimals([255]) == 255
    assert felts.decode_decimals([256]) is None
    assert felts.decode_decimals([]) is None
    assert felts.decode_decimals([6, 0]) is None


def test_a_short_string_holds_at_most_31_bytes() -> None:
    assert felts.decode_text([int.from_bytes(b"STRK", "big")]) == "STRK"
    assert felts.decode_text([int.from_bytes(b"A" * 31, "big")]) == "A" * 31
    assert felts.decode_short_string([2 ** (8 * 31)]) is None  # a 32-byte value
    assert felts.decode_short_string([0]) is None  # empty


def test_an_absurdly_long_byte_array_is_refused_before_decoding() -> None:
    words = 1025
    assert felts.decode_byte_array([words, *([0x41] * words), 0, 0]) is None
