"""Oracle-style datetime format masks (TO_CHAR, TO_DATE, TO_TIMESTAMP), the subset the product uses.

Elements: YYYY, MM, DD, HH24, MI, SS (any case); "quoted text" and punctuation are copied as they are.
Anything else is refused: a mask the product relies on must be one the simulator understands.
"""

from __future__ import annotations

import re
from datetime import datetime

from simulators.netsuite.suiteql.lexer import SuiteQLError

_ELEMENTS = {
    "YYYY": (r"\d{4}", "%Y"),
    "HH24": (r"\d{1,2}", "%H"),
    "MM": (r"\d{1,2}", "%m"),
    "DD": (r"\d{1,2}", "%d"),
    "MI": (r"\d{1,2}", "%M"),
    "SS": (r"\d{1,2}", "%S"),
}
_PART = re.compile(r'YYYY|HH24|MM|DD|MI|SS|"[^"]*"|[\s\-/:.,;T]', re.IGNORECASE)


def _parts(mask: str) -> list[tuple[str, str]]:
    """[(element or "", literal text)]."""
    parts = []
    pos = 0
    while pos < len(mask):
        match = _PART.match(mask, pos)
        if match is None:
            raise SuiteQLError(f"Invalid search query. Unsupported format mask element at {mask[pos:]!r} in {mask!r}.")
        text = match.group()
        upper = text.upper()
        if upper in _ELEMENTS:
            parts.append((upper, ""))
        elif text.startswith('"'):
            parts.append(("", text[1:-1]))
        elif upper == "T":
            raise SuiteQLError(f'Invalid search query. Literal text in a format mask is quoted: "T" in {mask!r}.')
        else:
            parts.append(("", text))
        pos = match.end()
    return parts


def format_datetime(moment: datetime, mask: str) -> str:
    """`moment` already in the zone it is to be shown in."""
    return "".join(moment.strftime(_ELEMENTS[e][1]) if e else text for e, text in _parts(mask))


def parse_datetime(text: str, mask: str) -> datetime:
    """A naive datetime: the caller decides the zone it is in."""
    regex = "".join(f"(?P<{e.lower()}>{_ELEMENTS[e][0]})" if e else re.escape(literal) for e, literal in _parts(mask))
    match = re.fullmatch(regex, text.strip())
    if match is None:
        raise SuiteQLError(f"Invalid search query. Unparseable date: {text!r} does not match {mask!r}.")
    fields = {k: int(v) for k, v in match.groupdict().items()}
    try:
        return datetime(
            fields.get("yyyy", 1900),
            fields.get("mm", 1),
            fields.get("dd", 1),
            fields.get("hh24", 0),
            fields.get("mi", 0),
            fields.get("ss", 0),
        )
    except ValueError as error:
        raise SuiteQLError(f"Invalid search query. Unparseable date: {text!r} ({error}).") from None
