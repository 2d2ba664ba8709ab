"""Exact hours and money (ctsync.money) and exact-number JSON (ctsync.jsonutil): Decimal in, Decimal out."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync import jsonutil
from ctsync.money import quantum, round_money, to_decimal

# -- to_decimal ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.75"), Decimal("1.75")),
        (3, Decimal(3)),
        (0, Decimal(0)),
        (-12, Decimal(-12)),
        ("0.10", Decimal("0.10")),
        (" 7.5 ", Decimal("7.5")),
        ("-3.25", Decimal("-3.25")),
        ("1e3", Decimal("1000")),
        ("123456789012345678901234.56", Decimal("123456789012345678901234.56")),
    ],
)
def test_to_decimal_accepts_numbers_and_number_strings(value: object, expected: Decimal) -> None:
    result = to_decimal(value)
    assert isinstance(result, Decimal)
    assert result == expected


def test_to_decimal_keeps_the_exact_spelling_of_a_string() -> None:
    # "0.10" stays two places: no trip through float, which would give 0.1000000000000000055…
    assert str(to_decimal("0.10")) == "0.10"


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), True, False])
def test_to_decimal_refuses_float_and_bool(value: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(value, field="hours")


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, b"1", object()])
def test_to_decimal_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("Infinity")]
)
def test_to_decimal_refuses_non_finite(value: object) -> None:
    with pytest.raises(ValueError, match="finite"):
        to_decimal(value)


@pytest.mark.parametrize("value", ["", "   ", "abc", "1,5", "1.2.3", "12h", "$5", "0x10"])
def test_to_decimal_refuses_garbage_naming_the_field(value: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        to_decimal(value, field="amount")


def test_refusals_name_the_field_the_type_and_the_value() -> None:
    """The reason lands in a failure record: a person must see which field held what."""
    with pytest.raises(TypeError) as refused:
        to_decimal(0.25, field="hours")
    assert str(refused.value) == "hours: refusing float 0.25; money and hours are Decimal"
    with pytest.raises(TypeError) as refused:
        to_decimal(True, field="amount")
    assert str(refused.value) == "amount: refusing bool True; money and hours are Decimal"
    with pytest.raises(TypeError) as refused:
        to_decimal([1])
    assert str(refused.value) == "value: [1] is not a number"  # "value" when the caller names no field
    with pytest.raises(ValueError) as refused:
        to_decimal("12h")
    assert str(refused.value) == "value: '12h' is not a number"


# -- round_money --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1.005", "1.01"),  # half up (banker's rounding would give 1.00)
        ("1.015", "1.02"),
        ("2.675", "2.68"),  # the classic float trap (2.675 is 2.67499… as a float)
        ("1.004", "1.00"),
        ("-1.005", "-1.01"),  # half away from zero
        ("10", "10.00"),
        ("0.1", "0.10"),
        ("123456789.995", "123456790.00"),
    ],
)
def test_round_money_is_half_up_to_the_cent(amount: str, expected: str) -> None:
    result = round_money(Decimal(amount))
    assert result == Decimal(expected)
    assert str(result) == expected  # always two places


@pytest.mark.parametrize(
    ("amount", "places", "expected"),
    [
        ("1234.5", 0, "1235"),  # JPY: no minor unit, half up
        ("1234.49", 0, "1234"),
        ("-0.5", 0, "-1"),  # half away from zero
        ("12.3456", 3, "12.346"),  # a three-place currency (KWD, BHD)
        ("12.3455", 3, "12.346"),
        ("0.125", 2, "0.13"),
        ("7", 3, "7.000"),
    ],
)
def test_round_money_rounds_to_the_currency_precision_half_up(amount: str, places: int, expected: str) -> None:
    result = round_money(Decimal(amount), places)
    assert result == Decimal(expected) and str(result) == expected


@pytest.mark.parametrize(("places", "unit"), [(0, "1"), (2, "0.01"), (8, "1E-8")])
def test_a_currency_has_zero_to_eight_places(places: int, unit: str) -> None:
    assert quantum(places) == Decimal(unit)
    assert round_money(Decimal("0.123456785"), places) == Decimal("0.123456785").quantize(
        Decimal(unit), "ROUND_HALF_UP"
    )


@pytest.mark.parametrize("places", [-1, 9])
def test_a_currency_precision_outside_zero_to_eight_is_refused(places: int) -> None:
    with pytest.raises(ValueError, match="decimal places"):
        quantum(places)


def test_round_money_refuses_float() -> None:
    with pytest.raises(TypeError, match="float"):
        round_money(1.005)  # type: ignore[arg-type]


_amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, places=6)
_places = st.integers(min_value=0, max_value=4)


@given(_amounts, _places)
def test_rounded_money_is_within_half_a_unit_has_the_places_and_is_stable(amount: Decimal, places: int) -> None:
    unit = quantum(places)
    result = round_money(amount, places)
    assert -result.as_tuple().exponent == places  # written with exactly the currency's places
    assert abs(result - amount) <= unit / 2  # never further than half a unit
    assert round_money(result, places) == result  # rounding a rounded amount changes nothing


@given(_amounts, _places)
def test_rounding_is_symmetric_and_a_half_goes_away_from_zero(amount: Decimal, places: int) -> None:
    assert round_money(-amount, places) == -round_money(amount, places)
    unit = quantum(places)
    exact = round_money(amount, places)  # a whole number of units
    away = unit if exact >= 0 else -unit
    assert round_money(exact + away / 2, places) == exact + away


@given(_amounts, _amounts, _places)
def test_rounding_keeps_the_order_of_amounts(a: Decimal, b: Decimal, places: int) -> None:
    low, high = sorted((a, b))
    assert round_money(low, places) <= round_money(high, places)


# -- jsonutil -----------------------------------------------------------------------------------------------


def test_dumps_writes_decimals_exactly() -> None:
    assert jsonutil.dumps(Decimal("0.10")) == "0.10"
    assert jsonutil.dumps(Decimal("1.75")) == "1.75"
    assert jsonutil.dumps(Decimal("-0.01")) == "-0.01"
    assert jsonutil.dumps(Decimal("1E+3")) == "1000"  # never scientific notation
    assert jsonutil.dumps(Decimal("1E-7")) == "0.0000001"


def test_dumps_writes_large_values_without_losing_digits() -> None:
    big = Decimal("123456789012345678901234567890.123456789")
    assert jsonutil.dumps(big) == "123456789012345678901234567890.123456789"
    assert jsonutil.dumps(Decimal("99999999999999999.99")) == "99999999999999999.99"  # past float's 15–17 digits


def test_dumps_nested_structures() -> None:
    value = {
        "Hours": Decimal("7.50"),
        "lines": [{"amount": Decimal("0.10"), "tags": ("a", "b")}, None, True, 3, "x"],
        "empty": {},
        5: "int key",
    }
    text = jsonutil.dumps(value)
    assert text == '{"Hours":7.50,"lines":[{"amount":0.10,"tags":["a","b"]},null,true,3,"x"],"empty":{},"5":"int key"}'
    assert json.loads(text)["lines"][0]["tags"] == ["a", "b"]  # still valid JSON


def test_dumps_escapes_strings_and_writes_dates_as_iso() -> None:
    from datetime import UTC, date, datetime

    assert jsonutil.dumps({'a"b': "line\nbreak"}) == '{"a\\"b":"line\\nbreak"}'
    assert jsonutil.dumps([date(2026, 1, 5), datetime(2026, 1, 5, 8, 30, tzinfo=UTC)]) == (
        '["2026-01-05","2026-01-05T08:30:00+00:00"]'
    )


@pytest.mark.parametrize("value", [0.1, {"a": 1.5}, [Decimal("1"), 2.0], {"deep": [{"x": float("inf")}]}])
def test_dumps_refuses_float_anywhere(value: object) -> None:
    with pytest.raises(TypeError, match="float"):
        jsonutil.dumps(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), {"a": Decimal("-Infinity")}])
def test_dumps_refuses_non_finite_decimals(value: object) -> None:
    with pytest.raises(ValueError):
        jsonutil.dumps(value)


def test_loads_parses_fractional_numbers_as_decimal_and_never_float() -> None:
    data = jsonutil.loads('{"a": 0.10, "b": [1.75, 2e-3], "c": 12345678901234567890.12, "n": 7}')
    assert data["a"] == Decimal("0.10") and isinstance(data["a"], Decimal)
    assert str(data["a"]) == "0.10"
    assert data["b"] == [Decimal("1.75"), Decimal("0.002")]
    assert data["c"] == Decimal("12345678901234567890.12")
    assert data["n"] == 7 and not isinstance(data["n"], float)
    assert jsonutil.loads(b'{"x": 0.3}') == {"x": Decimal("0.3")}


def _no_float(value: object) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(_no_float(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_float(v) for v in value)
    return True


_decimals = st.decimals(allow_nan=False, allow_infinity=False)
_keys = st.text(min_size=0, max_size=8)
_trees = st.recursive(
    st.dictionaries(_keys, _decimals, max_size=5),
    lambda children: st.dictionaries(
        _keys, st.one_of(_decimals, children, st.lists(_decimals, max_size=3)), max_size=4
    ),
    max_leaves=20,
)


@given(st.dictionaries(_keys, _decimals, max_size=10))
def test_decimal_dicts_round_trip_exactly(value: dict[str, Decimal]) -> None:
    back = jsonutil.loads(jsonutil.dumps(value))
    assert back == value
    assert _no_float(back)
    for key, number in value.items():
        if number != number.to_integral_value() or "." in format(number, "f"):
            # anything written with a fractional part comes back as a Decimal with the same digits
            assert isinstance(back[key], Decimal)
            assert format(back[key], "f") == format(number, "f")


@given(_trees)
def test_nested_decimal_trees_round_trip(value: dict) -> None:
    back = jsonutil.loads(jsonutil.dumps(value))
    assert back == value
    assert _no_float(back)
