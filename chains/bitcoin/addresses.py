"""Bitcoin address parsing: Base58Check (P2PKH, P2SH) and segwit (BIP-173 bech32, BIP-350 bech32m).

`normalize_bitcoin_address` accepts an address of the configured network and returns its
canonical form (segwit lower-cased, Base58 as given), or raises `InvalidAddress` saying exactly
what is wrong: a bad checksum, the wrong network, an impossible witness program, etc.
`bitcoin_script_pubkey` gives the output script an address pays to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from core.errors import InvalidAddress
from core.text import excerpt

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_VALUES = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32M_CONST = 0x2BC830A3
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUES = {c: i for i, c in enumerate(_BASE58_ALPHABET)}


class Encoding(Enum):
    BECH32 = 1
    BECH32M = _BECH32M_CONST


@dataclass(frozen=True)
class NetworkParams:
    hrp: str
    p2pkh: int
    p2sh: int


NETWORKS: dict[str, NetworkParams] = {
    "mainnet": NetworkParams("bc", 0x00, 0x05),
    "testnet": NetworkParams("tb", 0x6F, 0xC4),
    "signet": NetworkParams("tb", 0x6F, 0xC4),
    "regtest": NetworkParams("bcrt", 0x6F, 0xC4),
}
_HRPS = frozenset(p.hrp for p in NETWORKS.values())


@dataclass(frozen=True)
class SegwitAddress:
    hrp: str
    version: int
    program: bytes


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_BECH32_GENERATOR):
            if (top >> i) & 1:
                chk ^= generator
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str) -> tuple[str, list[int], Encoding]:
    """The HRP (lower-case), data values (checksum removed) and checksum variant of `text`."""
    if len(text) > 90:
        raise InvalidAddress(f"{excerpt(text)} is too long for bech32 (at most 90 characters)")
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise InvalidAddress(f"{excerpt(text)} contains a character that bech32 does not allow")
    if text != text.lower() and text != text.upper():
        raise InvalidAddress(f"{excerpt(text)} mixes upper and lower case")
    lower = text.lower()
    sep = lower.rfind("1")
    if sep < 1:
        raise InvalidAddress(f"{excerpt(text)} has no human-readable part before the separator '1'")
    if len(lower) - sep - 1 < 6:
        raise InvalidAddress(f"{excerpt(text)} is too short to carry a bech32 checksum")
    hrp, data_part = lower[:sep], lower[sep + 1 :]
    bad = next((c for c in data_part if c not in _BECH32_VALUES), None)
    if bad is not None:
        raise InvalidAddress(
            f"{excerpt(text)} contains {excerpt(bad)}, which is not a bech32 character"
        )
    data = [_BECH32_VALUES[c] for c in data_part]
    check = _polymod(_hrp_expand(hrp) + data)
    if check not in (Encoding.BECH32.value, Encoding.BECH32M.value):
        raise InvalidAddress(f"{excerpt(text)} has a bad checksum (mistyped?)")
    return hrp, data[:-6], Encoding(check)


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> bytes | None:
    """Regroup 5-bit values into bytes; `None` if the padding is not BIP-173 conformant."""
    acc = bits = 0
    out = bytearray()
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & ((1 << to_bits) - 1))
    if bits >= from_bits or (acc << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return bytes(out)


def decode_segwit(text: str) -> SegwitAddress:
    """A segwit address of any network, checked as BIP-173 and BIP-350 require."""
    hrp, data, encoding = bech32_decode(text)
    if not data:
        raise InvalidAddress(f"{excerpt(text)} has an empty data section")
    version = data[0]
    if version > 16:
        raise InvalidAddress(f"{excerpt(text)} has an invalid witness version ({version})")
    program = _convert_bits(data[1:], 5, 8)
    if program is None:
        raise InvalidAddress(f"{excerpt(text)} has invalid padding in its witness program")
    if not 2 <= len(program) <= 40:
        raise InvalidAddress(
            f"{excerpt(text)} has an invalid witness program length ({len(program)})"
        )
    if version == 0 and len(program) not in (20, 32):
        raise InvalidAddress(
            f"{excerpt(text)} has an invalid witness v0 program length "
            f"({len(program)}, not 20 or 32)"
        )
    expected = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    if encoding is not expected:
        raise InvalidAddress(
            f"{excerpt(text)} has a bad checksum: witness v{version} needs {expected.name.lower()},"
            f" not {encoding.name.lower()}"
        )
    return SegwitAddress(hrp, version, program)


def decode_base58check(text: str) -> bytes:
    """The payload (version byte included, checksum removed) of a Base58Check string."""
    if len(text) > 64:
        raise InvalidAddress(f"{excerpt(text)} is too long for a Bitcoin address")
    bad = next((c for c in text if c not in _BASE58_VALUES), None)
    if bad is not None:
        raise InvalidAddress(
            f"{excerpt(text)} contains {excerpt(bad)}, which is not a base58 character"
        )
    number = 0
    for c in text:
        number = number * 58 + _BASE58_VALUES[c]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(text) - len(text.lstrip("1"))) + body
    if len(raw) < 5:
        raise InvalidAddress(f"{excerpt(text)} is too short for a Base58Check address")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise InvalidAddress(f"{excerpt(text)} has a bad checksum (mistyped?)")
    return payload


def _params(network: str) -> NetworkParams:
    try:
        return NETWORKS[network]
    except KeyError:
        raise ValueError(f"unknown Bitcoin network {network!r}") from None


def _is_segwit_like(candidate: str) -> bool:
    lower = candidate.lower()
    return lower.rfind("1") > 0 and lower[: lower.rfind("1")] in _HRPS


def normalize_bitcoin_address(text: str, network: str = "mainnet") -> str:
    """`text` as a canonical address of `network`, or `InvalidAddress` saying why not."""
    params = _params(network)
    candidate = text.strip()
    if not candidate:
        raise InvalidAddress("empty Bitcoin address")
    if _is_segwit_like(candidate):
        address = decode_segwit(candidate)
        if address.hrp != params.hrp:
            raise InvalidAddress(
                f"{excerpt(text)} is a {address.hrp} address: wrong network "
                f"(expected {params.hrp}1…"
                f" on {network})"
            )
        return candidate.lower()
    sep = candidate.rfind("1")
    data_part = candidate[sep + 1 :].lower()
    if (
        sep > 0
        and not all(c in _BASE58_VALUES for c in candidate)
        and candidate in (candidate.lower(), candidate.upper())
        and len(data_part) >= 6
        and all(c in _BECH32_VALUES for c in data_part)
    ):
        hrp = candidate[:sep]
        raise InvalidAddress(
            f"{excerpt(text)} is not a Bitcoin address (unknown human-readable part {hrp!r})"
        )
    payload = decode_base58check(candidate)
    if len(payload) != 21:
        raise InvalidAddress(f"{excerpt(text)} has an invalid length for a P2PKH or P2SH address")
    version = payload[0]
    if version not in (params.p2pkh, params.p2sh):
        others = {v for p in NETWORKS.values() for v in (p.p2pkh, p.p2sh)}
        if version in others:
            raise InvalidAddress(
                f"{excerpt(text)} belongs to another Bitcoin network: wrong network"
            )
        raise InvalidAddress(f"{excerpt(text)} has an unknown version byte 0x{version:02x}")
    return candidate


def bitcoin_script_pubkey(text: str, network: str = "mainnet") -> bytes:
    """The output script that a valid address of `network` pays to."""
    address = normalize_bitcoin_address(text, network)
    if _is_segwit_like(address):
        segwit = decode_segwit(address)
        op = 0 if segwit.version == 0 else 0x50 + segwit.version
        return bytes([op, len(segwit.program)]) + segwit.program
    payload = decode_base58check(address)
    if payload[0] == _params(network).p2pkh:
        return b"\x76\xa9\x14" + payload[1:] + b"\x88\xac"
    return b"\xa9\x14" + payload[1:] + b"\x87"
