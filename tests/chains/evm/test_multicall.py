"""Multicall3 calldata, checked against eth_abi as the independent reference codec."""

from __future__ import annotations

from eth_abi.abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st

from chains.evm.multicall import (
    Call,
    CallResult,
    balance_of,
    decimals,
    decode_aggregate3,
    decode_decimals,
    decode_text,
    decode_uint256,
    encode_aggregate3,
    selector,
)

TOKEN_A = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
TOKEN_B = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
ACCOUNT = "0x00000000219ab540356cBB839Cbe05303d7705Fa"


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def test_selector_of_balance_of() -> None:
    assert selector("balanceOf(address)") == bytes.fromhex("70a08231")


def test_selector_of_aggregate3() -> None:
    assert selector("aggregate3((address,bool,bytes)[])") == bytes.fromhex("82ad56cb")


def test_selector_of_decimals_and_call_data() -> None:
    assert selector("decimals()") == bytes.fromhex("313ce567")
    assert decimals() == bytes.fromhex("313ce567")


def test_balance_of_calldata_is_selector_plus_left_padded_address() -> None:
    expected = bytes.fromhex("70a08231") + bytes(12) + bytes.fromhex(ACCOUNT[2:])
    assert balance_of(ACCOUNT) == expected


def test_encode_aggregate3_round_trips_through_eth_abi() -> None:
    calls = [
        Call(TOKEN_A, balance_of(ACCOUNT)),
        Call(TOKEN_B, bytes.fromhex("313ce567")),
        Call(TOKEN_A, b""),
        Call(TOKEN_B, bytes(range(256)) * 3),
    ]
    data = encode_aggregate3(calls)
    assert data[:4] == bytes.fromhex("82ad56cb")
    (decoded,) = decode(["(address,bool,bytes)[]"], data[4:])
    assert len(decoded) == len(calls)
    for (target, allow_failure, call_data), call in zip(decoded, calls, strict=True):
        assert target.lower() == call.target.lower()
        assert allow_failure is True
        assert bytes(call_data) == call.data


def test_encode_aggregate3_of_no_calls() -> None:
    data = encode_aggregate3([])
    assert data[:4] == bytes.fromhex("82ad56cb")
    assert decode(["(address,bool,bytes)[]"], data[4:]) == ((),)


def test_decode_aggregate3_of_a_well_formed_answer() -> None:
    answer = [(True, word(10**24)), (False, b"\x08\xc3\x79\xa0revert"), (True, b"")]
    data = encode(["(bool,bytes)[]"], [answer])
    assert decode_aggregate3(data, 3) == [
        CallResult(True, word(10**24)),
        CallResult(False, b"\x08\xc3\x79\xa0revert"),
        CallResult(True, b""),
    ]


def test_decode_aggregate3_of_an_empty_answer() -> None:
    assert decode_aggregate3(encode(["(bool,bytes)[]"], [[]]), 0) == []


def test_decode_aggregate3_with_the_wrong_length_is_none() -> None:
    data = encode(["(bool,bytes)[]"], [[(True, word(1)), (True, word(2))]])
    assert decode_aggregate3(data, 3) is None
    assert decode_aggregate3(data, 1) is None


def test_decode_aggregate3_of_garbage_is_none() -> None:
    good = encode(["(bool,bytes)[]"], [[(True, word(1)), (True, word(2))]])
    garbage = [
        b"",
        b"\x01\x02\x03",
        word(1),
        good[: len(good) - 7],  # truncated
        word(2**200) + good[32:],  # offset far past the end
        good[:32] + word(2**64) + good[64:],  # array length far past the end
        b"\xff" * 200,
    ]
    for data in garbage:
        assert decode_aggregate3(data, 2) is None, data.hex()


def test_decode_uint256() -> None:
    assert decode_uint256(word(0)) == 0
    assert decode_uint256(word(2**256 - 1)) == 2**256 - 1
    assert decode_uint256(encode(["uint256"], [123456789])) == 123456789


def test_decode_uint256_of_the_wrong_size_is_none() -> None:
    assert decode_uint256(b"") is None
    assert decode_uint256(bytes(31)) is None
    assert decode_uint256(bytes(33)) is None
    assert decode_uint256(word(1) + word(2)) is None


def test_decode_decimals() -> None:
    assert decode_decimals(encode(["uint8"], [18])) == 18
    assert decode_decimals(word(0)) == 0
    assert decode_decimals(word(255)) == 255


def test_decode_decimals_out_of_range_or_malformed_is_none() -> None:
    assert decode_decimals(word(256)) is None
    assert decode_decimals(word(2**256 - 1)) is None
    assert decode_decimals(b"") is None
    assert decode_decimals(b"\x12") is None


def test_decode_text_of_an_abi_string() -> None:
    assert decode_text(encode(["string"], ["USD Coin"])) == "USD Coin"
    assert decode_text(encode(["string"], ["Ünïcødé ✓"])) == "Ünïcødé ✓"
    long_name = "A very long token name " * 5
    assert decode_text(encode(["string"], [long_name])) == long_name.strip()


def test_decode_text_of_a_padded_bytes32() -> None:
    assert decode_text(b"MKR".ljust(32, b"\0")) == "MKR"
    assert decode_text(encode(["bytes32"], [b"Maker".ljust(32, b"\0")])) == "Maker"


def test_decode_text_of_nothing_is_none() -> None:
    assert decode_text(b"") is None
    assert decode_text(bytes(32)) is None
    assert decode_text(encode(["string"], [""])) is None
    assert decode_text(encode(["string"], ["   "])) is None


def test_decode_text_of_invalid_utf8_is_none() -> None:
    assert decode_text(encode(["bytes"], [b"\xff\xfeUSD"])) is None
    assert decode_text(b"\xffMKR".ljust(32, b"\0")) is None


def test_decode_text_with_non_printable_characters_is_none() -> None:
    assert decode_text(encode(["string"], ["US\x07D"])) is None
    assert decode_text(encode(["string"], ["line\nbreak"])) is None
    assert decode_text(b"MK\x01R".ljust(32, b"\0")) is None


def test_decode_text_truncated_or_with_bad_offsets_is_none() -> None:
    data = encode(["string"], ["hello"])
    assert len(data) == 96
    assert decode_text(data[:64]) is None  # the length word promises bytes that are missing
    assert decode_text(data[:80]) is None  # not a whole number of words
    assert decode_text(word(0x1000) + data[32:]) is None  # offset past the end
    assert decode_text(word(2**255) + data[32:]) is None  # absurd offset
    assert decode_text(word(64) + data[32:]) is None  # offset pointing at the last word only
    assert decode_text(data[:32] + word(1000) + data[64:]) is None  # length past the end
    assert decode_text(data[:32] + word(2**256 - 1) + data[64:]) is None


# --- property-based: the direct codec agrees with eth_abi on anything -------------------------

ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
PAYLOADS = st.binary(max_size=200)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(ADDRESSES, PAYLOADS), max_size=40))
def test_encoding_matches_eth_abi_for_any_calls(calls: list[tuple[str, bytes]]) -> None:
    ours = encode_aggregate3([Call(target, data) for target, data in calls])
    reference = encode(["(address,bool,bytes)[]"], [[(t, True, d) for t, d in calls]])
    assert ours == selector("aggregate3((address,bool,bytes)[])") + reference


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.booleans(), PAYLOADS), max_size=40))
def test_decoding_matches_eth_abi_for_any_answer(results: list[tuple[bool, bytes]]) -> None:
    answer = encode(["(bool,bytes)[]"], [results])
    assert decode_aggregate3(answer, len(results)) == [CallResult(ok, d) for ok, d in results]
    assert decode_aggregate3(answer, len(results) + 1) is None  # a short answer is refused


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.booleans(), PAYLOADS), min_size=1, max_size=10),
    st.data(),
)
def test_a_corrupted_answer_never_raises_and_never_misreads(
    results: list[tuple[bool, bytes]], data: st.DataObject
) -> None:
    answer = bytearray(encode(["(bool,bytes)[]"], [results]))
    position = data.draw(st.integers(0, len(answer) - 1))
    answer[position] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(0, len(answer)))
    corrupted = bytes(answer[:cut])
    decoded = decode_aggregate3(corrupted, len(results))  # must not raise
    if decoded is not None:  # then eth_abi must read the very same thing
        (reference,) = decode(["(bool,bytes)[]"], corrupted, strict=True)
        assert decoded == [CallResult(bool(ok), bytes(d)) for ok, d in reference]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=80))
def test_text_results_match_eth_abi(text: str) -> None:
    answer = encode(["string"], [text])
    expected = text.strip("\0").strip() or None
    decoded = decode_text(answer)
    assert decoded is None or decoded == expected
