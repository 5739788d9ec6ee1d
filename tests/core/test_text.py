"""Names and symbols from contracts are shown only when they are clean text."""

from __future__ import annotations

import pytest

from core.text import excerpt, printable


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"USD Coin", "USD Coin"),
        (b"MKR\0\0\0\0", "MKR"),  # bytes32 padding
        (b"  Maker  ", "Maker"),
        ("Ünïcødé ✓".encode(), "Ünïcødé ✓"),
        ("\u00a0NBSP\u00a0".encode(), "NBSP"),  # str.strip() trims any Unicode space
    ],
)
def test_clean_text_is_trimmed_and_kept(raw: bytes, text: str) -> None:
    assert printable(raw) == text


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\0" * 32,
        b"   ",
        b"\xff\xfeUSD",  # not UTF-8
        b"US\x07D",  # a control character
        b"line\nbreak",
        b"tab\there",
        "zero\u200bwidth".encode(),  # a format character, invisible
        b"MK\0R",  # a NUL inside, not padding
    ],
)
def test_anything_else_is_unknown(raw: bytes) -> None:
    assert printable(raw) is None


def test_input_echoed_in_a_message_is_quoted_and_cut_short() -> None:
    assert excerpt("0x12") == "'0x12'"
    assert excerpt("a" * 48) == repr("a" * 48)
    assert excerpt("a" * 1_000_000) == repr("a" * 48) + "… (1000000 characters)"
    assert excerpt("abcdef", limit=3) == "'abc'… (6 characters)"
