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
