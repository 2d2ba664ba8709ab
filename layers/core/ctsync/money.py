"""Exact hours and money: Decimal in, Decimal out, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MINUTES_PER_HOUR = 60


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


def hours_to_minutes(hours: Decimal) -> int:
    """Whole minutes, rounding half up: NetSuite durations have minute resolution."""
    return int((hours * MINUTES_PER_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def hours_to_duration(hours: Decimal) -> str:
    """Decimal hours to NetSuite's Duration text, `H:MM` (1.75 -> "1:45")."""
    if hours < 0:
        raise ValueError(f"negative hours {hours}")
    minutes = hours_to_minutes(hours)
    return f"{minutes // MINUTES_PER_HOUR}:{minutes % MINUTES_PER_HOUR:02d}"


def duration_to_hours(duration: str) -> Decimal:
    """NetSuite's `H:MM` back to Decimal hours (exact to the minute)."""
    if duration.strip().startswith("-"):
        raise ValueError(f"negative duration {duration!r}")
    hours_text, _, minutes_text = duration.partition(":")
    minutes = int(hours_text) * MINUTES_PER_HOUR + int(minutes_text or 0)
    return Decimal(minutes) / MINUTES_PER_HOUR
