"""BigInt and Decimal: exact values as strings in both directions, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from graph.schema.scalars import BIGINT, DECIMAL
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline


def parse_bigint(value: object) -> Any:
    assert BIGINT.parse_value is not None
    return BIGINT.parse_value(value)


def parse_decimal(value: object) -> Any:
    assert DECIMAL.parse_value is not None
    return DECIMAL.parse_value(value)


def serialize(scalar: Any, value: object) -> Any:
    return scalar.serialize(value)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (0, 0),
        (2**256 - 1, 2**256 - 1),
        (
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            2**256 - 1,
        ),
        ("-5", -5),
        ("007", 7),
    ],
)
def test_bigint_parses_integers_and_decimal_integer_strings(value: object, parsed: int) -> None:
    assert parse_bigint(value) == parsed


@pytest.mark.parametrize("value", [1.0, True, "1.5", "1e3", " 1", "0x10", "", "1" * 81, None])
def test_bigint_refuses_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match="BigInt expects an integer"):
        parse_bigint(value)


def test_bigint_serializes_as_a_decimal_string() -> None:
    assert serialize(BIGINT, 2**256 - 1) == str(2**256 - 1)
    assert serialize(BIGINT, 0) == "0"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("12.5", Decimal("12.5")), ("-0.000001", Decimal("-0.000001")), (3, Decimal(3)), ("0", 0)],
)
def test_decimal_parses_plain_decimal_strings_and_integers(value: object, parsed: Decimal) -> None:
    result = parse_decimal(value)
    assert isinstance(result, Decimal) and result == parsed


@pytest.mark.parametrize(
    "value", [0.1, 1.5, True, "1e5", "1.", ".5", "NaN", "Infinity", "1,5", " 1", None, "1" * 81]
)
def test_decimal_refuses_floats_and_anything_not_plain(value: object) -> None:
    with pytest.raises(ValueError, match="Decimal expects a decimal string"):
        parse_decimal(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+30"), "1" + "0" * 30),
        (Decimal("1E-20"), "0." + "0" * 19 + "1"),
        (Decimal("1234.5000"), "1234.5"),
        (Decimal("-0.0"), "0"),
    ],
)
def test_decimal_serializes_in_plain_notation(value: Decimal, text: str) -> None:
    assert serialize(DECIMAL, value) == text


def test_a_float_variable_for_a_decimal_argument_is_refused(offline: Offline) -> None:
    query = 'query($m: Decimal) { account(address: "%s") { balances(minValueUsd: $m) { chain } } }'
    refused = offline.api.query(query % stark.ALICE, {"m": 0.5})
    assert "data" not in refused
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    accepted = offline.api.query(query % stark.ALICE, {"m": "0.5"})
    assert accepted["data"]["account"]["balances"] == [{"chain": "starknet"}]


def test_raw_amounts_leave_as_exact_strings(offline: Offline) -> None:
    body = offline.api.query(
        '{ balance(account: "%s", chain: "starknet", token: "%s") { rawAmount blockNumber } }'
        % (stark.BOB, stark.TOKEN)
    )
    assert body["data"]["balance"] == {"rawAmount": str(2**200), "blockNumber": "812345"}
