"""Exact money: Decimal in, Decimal out, never float. (Hours and NetSuite's minutes: `ctsync.minutes`.)"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Parse a number that an API sent as a JSON number (already Decimal) or as a string."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or isinstance(value, float):
        # JSON is parsed with parse_float=Decimal, so a float here means a caller bypassed that: refuse it.
        raise TypeError(f"{field}: refusing {type(value).__name__} {value!r}; money and hours are Decimal")
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as error:
            raise ValueError(f"{field}: {value!r} is not a number") from error
    else:
        raise TypeError(f"{field}: {value!r} is not a number")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
