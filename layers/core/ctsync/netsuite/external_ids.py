"""The external IDs the syncs write on NetSuite records: a prefix and the ClickTime ID, one to one.

NetSuite documents `[A-Za-z0-9_-]` for external IDs. Letters, digits and `-` are written as they are (ClickTime's
IDs are letters and digits); every other character, `_` included, is written as `_xx` per UTF-8 byte (two hex
digits). So each `_` starts exactly one escape, and two ClickTime IDs never share an external ID, i.e. never
upsert one NetSuite record: a review found `7.` and `7_2e` did, as did `ā` (U+0101) and `\\x10` + `1`.
"""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"[^A-Za-z0-9-]")
UNWRITTEN = re.compile(r"[^A-Za-z0-9_-]")  # no external ID written here holds one of these


def external_id(prefix: str, source_id: str) -> str:
    """`prefix` + `source_id` with each character outside [A-Za-z0-9-] written as `_xx` per UTF-8 byte."""
    return prefix + _ESCAPED.sub(lambda m: "".join(f"_{byte:02x}" for byte in m.group().encode("utf-8")), source_id)
