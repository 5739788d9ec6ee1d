"""Custom scalars: exact integers and decimals as strings, never floats."""

from __future__ import annotations

import decimal
import re
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from core.amounts import format_decimal

BigInt = NewType("BigInt", int)
"""An integer of any size (uint256 balances, block numbers) as a decimal string."""

_INTEGER = re.compile(r"-?[0-9]{1,80}")
_DECIMAL = re.compile(r"-?[0-9]{1,80}(\.[0-9]{1,80})?")


def _parse_bigint(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise ValueError(f"BigInt expects an integer or a decimal integer string, got {value!r}")


def _parse_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        return decimal.Decimal(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return decimal.Decimal(value)
    raise ValueError(f"Decimal expects a decimal string like '12.5', got {value!r}")


BIGINT: ScalarDefinition = strawberry.scalar(
    name="BigInt",
    description="An integer of any size as a decimal string (a uint256 does not fit Int).",
    serialize=str,
    parse_value=_parse_bigint,
)

DECIMAL: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number as a string in plain notation, e.g. "1234.5"; never a float.'
    ),
    serialize=format_decimal,
    parse_value=_parse_decimal,
)

SCALARS: dict[object, ScalarDefinition] = {BigInt: BIGINT, decimal.Decimal: DECIMAL}
