"""Exact money: Decimal in, Decimal out, never float. (Hours and NetSuite's minutes: `ctsync.minutes`.)

The rounding rule, for every amount this product computes or passes on:
- an amount is rounded to its **currency's precision**: the number of decimal places NetSuite gives the
  currency (`currency.currencyPrecision`: 2 for USD and EUR, 0 for JPY), 2 when NetSuite does not say;
- **half up**, that is half away from zero (`ROUND_HALF_UP`): 1.005 -> 1.01, -1.005 -> -1.01, 0.5 JPY -> 1.
  This is commercial rounding, what a person does on paper and what NetSuite shows for transaction amounts
  (UNVERIFIED that NetSuite rounds a computed line amount the same way; the product never leaves it to
  NetSuite: every amount it sends is already rounded by this rule);
- an amount is rounded once, where it is computed (a conversion `foreign x rate`), never a rounded amount
  again: rounding twice can move a half cent (2.4449 -> 2.445 -> 2.45).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
DEFAULT_PLACES = 2  # a currency whose precision NetSuite does not give
MAX_PLACES = 8


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


def quantum(places: int) -> Decimal:
    """The smallest unit of a currency with `places` decimal places: 2 -> 0.01, 0 -> 1."""
    if not 0 <= places <= MAX_PLACES:
        raise ValueError(f"a currency has 0 to {MAX_PLACES} decimal places, not {places}")
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, places: int = DEFAULT_PLACES) -> Decimal:
    """`amount` rounded half up (away from zero) to `places` decimals, always written with that many places."""
    if isinstance(amount, float):
        raise TypeError(f"refusing float {amount!r}; money is Decimal")
    return amount.quantize(quantum(places), rounding=ROUND_HALF_UP)
