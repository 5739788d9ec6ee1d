"""How balances and token metadata are stored in the cache: small, versioned JSON.

Decoding validates everything (even our own Redis may hold garbage after an upgrade or a
stray write); anything unexpected decodes to `None` and is simply a miss.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from core.models import BalanceKey, BalanceReading, TokenMeta, TokenRef, TokenStandard

_VERSION = "v1"
_DIGITS = re.compile(r"[0-9]{1,200}")
_SIGNED = re.compile(r"-?[0-9]{1,200}")
_MAX_TIMESTAMP = 253_402_300_800  # year 10000: later (or NaN) is corruption


def balance_key(key: BalanceKey) -> str:
    # The account is the hash tag so a Redis Cluster keeps one account's keys in one slot.
    return f"bg:{_VERSION}:bal:{{{key.account}}}:{key.chain}:{key.token}"


def token_key(chain: str, token: TokenRef) -> str:
    return f"bg:{_VERSION}:tok:{chain}:{token}"


def encode_reading(reading: BalanceReading) -> bytes:
    body = {
        "pending": None if reading.unconfirmed_delta is None else str(reading.unconfirmed_delta),
        "raw": str(reading.raw_amount),
        "block": reading.block_number,
        "at": reading.read_at.timestamp(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_reading(key: BalanceKey, data: bytes | None) -> BalanceReading | None:
    body = _loads(data)
    raw, block, at = body.get("raw"), body.get("block"), body.get("at")
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        return None
    if not isinstance(at, int | float) or isinstance(at, bool) or not 0 <= at < _MAX_TIMESTAMP:
        return None  # also rejects NaN, which compares false with everything
    if block is not None and not (_is_int(block) and block >= 0):
        return None
    pending = body.get("pending")
    if pending is not None and not (isinstance(pending, str) and _SIGNED.fullmatch(pending)):
        return None
    return BalanceReading(
        key,
        int(raw),
        block,
        datetime.fromtimestamp(at, UTC),
        None if pending is None else int(pending),
    )


def encode_token(meta: TokenMeta) -> bytes:
    body = {
        "standard": meta.standard.value,
        "symbol": meta.symbol,
        "name": meta.name,
        "decimals": meta.decimals,
        "logo": meta.logo,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_token(chain: str, token: TokenRef, data: bytes | None) -> TokenMeta | None:
    body = _loads(data)
    if not body:
        return None
    try:
        standard = TokenStandard(str(body.get("standard")))
    except ValueError:
        return None
    decimals = body.get("decimals")
    texts = [body.get(k) for k in ("symbol", "name", "logo")]
    if decimals is not None and (not _is_int(decimals) or not 0 <= decimals <= 255):
        return None
    if not all(t is None or isinstance(t, str) for t in texts):
        return None
    symbol, name, logo = texts
    return TokenMeta(chain, token, standard, symbol, name, decimals, logo)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _loads(data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
