"""How SuiteQL values compare and how they come back over REST.

Inside the engine a value is None (NULL), str, Decimal (numbers and internal ids) or an aware datetime.
Comparisons follow Oracle: NULL compares as unknown, a number against a string converts the string to a
number (so `id > '1774'` is numeric), and a date against a string reads the string in the user's date format.
Over REST every value is a string; a datetime without TO_CHAR comes back as the user's date format, M/D/YYYY.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from simulators.netsuite.suiteql.lexer import SuiteQLError

Value = str | Decimal | datetime | bool | None


def number_text(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def user_date(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.month}/{local.day}/{local.year}"


def render(value: Value, tz: ZoneInfo) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, datetime):
        return user_date(value, tz)
    return value


def compare(left: Value, right: Value, tz: ZoneInfo) -> int | None:
    """-1, 0 or 1; None when either side is NULL."""
    if left is None or right is None:
        return None
    left, right = _coerce(left, right, tz), _coerce(right, left, tz)
    if type(left) is not type(right):
        raise SuiteQLError(
            f"Invalid search query. Inconsistent datatypes: cannot compare {_kind(left)} with {_kind(right)}."
        )
    return (left > right) - (left < right)  # type: ignore[operator]


def _coerce(value: Value, other: Value, tz: ZoneInfo) -> Value:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, str) and isinstance(other, Decimal):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise SuiteQLError(f"Invalid search query. Invalid number: {value!r}.") from None
    if isinstance(value, str) and isinstance(other, datetime):
        return _read_user_date(value, tz)
    return value


def _read_user_date(text: str, tz: ZoneInfo) -> datetime:
    """A bare string compared with a date is read in the user's date format preference (M/D/YYYY here)."""
    try:
        month, day, year = (int(part) for part in text.strip().split("/"))
        return datetime(year, month, day, tzinfo=tz)
    except ValueError:
        raise SuiteQLError(
            f"Invalid search query. Unparseable date: {text!r} (the user's date format is "
            f"M/D/YYYY; use TO_DATE/TO_TIMESTAMP with a format mask)."
        ) from None


def _kind(value: Value) -> str:
    return {str: "text", Decimal: "a number", datetime: "a date"}.get(type(value), type(value).__name__)
