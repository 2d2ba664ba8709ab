"""Whether a text is a whole number written in ASCII digits: a NetSuite internal id, a count in a header.

`str.isdigit()` is true of '²', full-width '１２' and Arabic-Indic '٣' as well: `int()` refuses the first (a
crash where a check said yes), reads the others as numbers, and NetSuite takes none of them as an id.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")


def is_number(text: str, *, negative: bool = False) -> bool:
    """`text` is ASCII digits only (with `negative`, after at most one leading '-'); no spaces, no sign else."""
    return (_SIGNED if negative else _NUMBER).fullmatch(text) is not None
