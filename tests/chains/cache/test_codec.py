"""Cache encoding of readings and token metadata, and the keys they are stored under."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chains.cache.codec import (
    balance_key,
    decode_reading,
    decode_token,
    encode_reading,
    encode_token,
    token_key,
)
from core.models import (
    NATIVE_TOKEN,
    BalanceKey,
    BalanceReading,
    TokenMeta,
    TokenRef,
    TokenStandard,
)

ACCOUNT = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
USDC = TokenRef("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
KEY = BalanceKey("ethereum", ACCOUNT, USDC)
READ_AT = datetime(2026, 3, 14, 15, 9, 26, 250_000, tzinfo=UTC)


# --- balance readings ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [0, 1, 10**18, 2**256 - 1, 2**300])
@pytest.mark.parametrize("block", [None, 0, 21_000_000])
def test_reading_round_trips(raw: int, block: int | None) -> None:
    reading = BalanceReading(KEY, raw, block, READ_AT)
    decoded = decode_reading(KEY, encode_reading(reading))
    assert decoded == reading
    assert decoded is not None
    assert decoded.read_at.tzinfo is not None


def test_reading_raw_amount_is_stored_as_a_string() -> None:
    body = json.loads(encode_reading(BalanceReading(KEY, 2**256 - 1, None, READ_AT)))
    assert body["raw"] == str(2**256 - 1)
    assert body["block"] is None


def test_decoded_reading_belongs_to_the_requested_key() -> None:
    other = BalanceKey("base", ACCOUNT, NATIVE_TOKEN)
    data = encode_reading(BalanceReading(KEY, 5, 7, READ_AT))
    decoded = decode_reading(other, data)
    assert decoded is not None
    assert decoded.key == other


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        b"garbage",
        b"\xff\xfe\xfd",
        b"[1, 2, 3]",
        b'"raw"',
        b"null",
        b'{"raw":"1","block":7,"at":1700000000',  # partial JSON
        b'{"raw":"1","block":7}',  # no time
        b'{"block":7,"at":1700000000}',  # no amount
        b'{"raw":1,"block":7,"at":1700000000}',  # amount not a string
        b'{"raw":"-1","block":7,"at":1700000000}',
        b'{"raw":"1.5","block":7,"at":1700000000}',
        b'{"raw":"0x10","block":7,"at":1700000000}',
        b'{"raw":"","block":7,"at":1700000000}',
        b'{"raw":"1","block":-1,"at":1700000000}',  # negative block
        b'{"raw":"1","block":"7","at":1700000000}',
        b'{"raw":"1","block":7.5,"at":1700000000}',
        b'{"raw":"1","block":7,"at":"yesterday"}',
    ],
)
def test_bad_reading_decodes_to_none(data: bytes | None) -> None:
    assert decode_reading(KEY, data) is None


# Regressions: `decode_reading` promises "anything unexpected decodes to None", but these once
# crashed (`raw.isdigit()` accepted Unicode digits that `int()` refuses; `fromtimestamp` raised
# on NaN/huge times) or were accepted (`True` is an int).
@pytest.mark.parametrize(
    "data",
    [
        '{"raw":"\u00b2","block":7,"at":1700000000}'.encode(),  # superscript two: isdigit()
        b'{"raw":"1","block":7,"at":NaN}',
        b'{"raw":"1","block":7,"at":1e300}',
        b'{"raw":"1","block":true,"at":1700000000}',
    ],
    ids=["unicode-digit-raw", "nan-time", "huge-time", "boolean-block"],
)
def test_corrupt_reading_decodes_to_none_instead_of_crashing(data: bytes) -> None:
    assert decode_reading(KEY, data) is None


# --- token metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta",
    [
        TokenMeta("ethereum", USDC, TokenStandard.ERC20, "USDC", "USD Coin", 6, "https://x/u.png"),
        TokenMeta("ethereum", USDC, TokenStandard.ERC20, None, None, None, None),
        TokenMeta("base", NATIVE_TOKEN, TokenStandard.NATIVE, "ETH", "Ether", 18),
        TokenMeta("ethereum", USDC, TokenStandard.ERC721, "NFT", "Ünïcødé ✓", 0),
        TokenMeta("ethereum", USDC, TokenStandard.ERC1155, "", "", 255),
    ],
)
def test_token_round_trips(meta: TokenMeta) -> None:
    assert decode_token(meta.chain, meta.token, encode_token(meta)) == meta


def test_decoded_token_takes_chain_and_address_from_the_caller() -> None:
    meta = TokenMeta("ethereum", USDC, TokenStandard.ERC20, "USDC", "USD Coin", 6)
    decoded = decode_token("base", TokenRef("0xother"), encode_token(meta))
    assert decoded is not None
    assert (decoded.chain, decoded.token) == ("base", TokenRef("0xother"))
    assert decoded.decimals == 6


def token_json(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "standard": "ERC20",
        "symbol": "USDC",
        "name": "USD Coin",
        "decimals": 6,
        "logo": None,
    }
    body.update(overrides)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        b"{}",
        b"[]",
        b"not json",
        b'{"standard":"ERC20","decimals":6',
        token_json(standard="ERC777"),
        token_json(standard="erc20"),
        token_json(standard=None),
        token_json(standard=20),
        token_json(decimals=256),
        token_json(decimals=-1),
        token_json(decimals="6"),
        token_json(decimals=6.5),
        token_json(symbol=5),
        token_json(name=["USD"]),
        token_json(logo={"url": "x"}),
    ],
)
def test_bad_token_decodes_to_none(data: bytes | None) -> None:
    assert decode_token("ethereum", USDC, data) is None


def test_corrupt_token_decimals_of_true_decodes_to_none() -> None:
    # Regression: decode_token once checked `isinstance(decimals, int)`, which `True` passes,
    # so a cached `"decimals": true` came back as decimals=True (scaled as 1).
    assert decode_token("ethereum", USDC, token_json(decimals=True)) is None


# --- keys ----------------------------------------------------------------------------------


def redis_hash_tag(key: str) -> str:
    """The part of `key` Redis Cluster hashes (its documented hash-tag rule)."""
    start = key.find("{")
    if start == -1:
        return key
    end = key.find("}", start + 1)
    if end == -1 or end == start + 1:
        return key
    return key[start + 1 : end]


def test_balance_key_hash_tag_is_the_account() -> None:
    key = balance_key(KEY)
    assert f"{{{ACCOUNT}}}" in key
    assert redis_hash_tag(key) == ACCOUNT
    assert KEY.chain in key
    assert str(KEY.token) in key


def test_balance_keys_of_one_account_share_a_slot_and_differ() -> None:
    keys = {
        balance_key(BalanceKey(chain, ACCOUNT, token))
        for chain in ("ethereum", "base")
        for token in (NATIVE_TOKEN, USDC)
    }
    assert len(keys) == 4
    assert {redis_hash_tag(k) for k in keys} == {ACCOUNT}
    other = balance_key(BalanceKey("ethereum", str(USDC), NATIVE_TOKEN))
    assert redis_hash_tag(other) == str(USDC)


def test_token_key_names_chain_and_address() -> None:
    assert token_key("ethereum", USDC) != token_key("base", USDC)
    assert str(USDC) in token_key("ethereum", USDC)
    assert balance_key(KEY) != token_key(KEY.chain, KEY.token)
