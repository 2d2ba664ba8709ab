"""Time bills a write of unknown outcome may still change, kept on their timesheet's mapping (`ctsync.unsettled`).

A PUT or DELETE of a time bill whose answer was lost (a read timeout, a connection dropped after sending, a 500,
502 or 504) may be processed by NetSuite later, after a newer write of the same bill: old hours written over new
ones, or a bill of a timesheet no longer approved brought back. The timesheet's mapping keeps, in its details,
when the last such write was sent (`unsettled.SINCE`) and the bills it may have changed (`DOUBTED`, external IDs),
and the timesheet is listed for the time sync's later runs. The first run at least `netsuite.late_write_seconds`
after that write writes those bills as they should be, whatever NetSuite holds: again when the timesheet still
wants them, deleted when it does not (`TimeExport.recheck`). A bill's full content is not kept: the timesheet is
planned again from ClickTime, as any export is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

from ctsync import jsonutil, unsettled
from ctsync.state import Mapping
from ctsync.timeutil import format_instant

DOUBTED = "unsettled_bills"  # mapping detail: JSON list of the external IDs of bills a late request may change
RECORD_PATH = "/record/v1/timeBill/"


def doubted_bills(
    writes: Iterable[unsettled.Write], bills: Iterable[Mapping], external_id: Callable[[str], str]
) -> set[str]:
    """External IDs of the time bills a write of unknown outcome went to: a PUT names its bill `eid:<external ID>`,
    a DELETE its internal ID (`bills`: the timesheet's bill mappings; `external_id`: entry ID -> external ID)."""
    by_internal_id = {m.target_id: external_id(m.source_id) for m in bills}
    doubted: set[str] = set()
    for write in writes:
        if not write.doubtful or not write.path.startswith(RECORD_PATH):
            continue
        key = write.path[len(RECORD_PATH) :]
        found = key[4:] if key.startswith("eid:") else by_internal_id.get(key)
        if found:
            doubted.add(found)
    return doubted


def in_doubt(details: dict[str, str]) -> set[str]:
    return set(json.loads(details[DOUBTED])) if DOUBTED in details else set()


def carried(details: dict[str, str]) -> dict[str, str]:
    """What a new mapping of the timesheet keeps from the one before: its doubts, until a look settles them."""
    return {key: details[key] for key in (unsettled.SINCE, DOUBTED) if key in details}


def with_doubts(details: dict[str, str], doubted: set[str], now: datetime) -> dict[str, str]:
    """`details` with `doubted` bills added, the wait starting again at `now`; unchanged when none is doubted."""
    if not doubted:
        return details
    every = sorted(in_doubt(details) | doubted)
    return {**details, unsettled.SINCE: format_instant(now), DOUBTED: jsonutil.dumps(every)}


def cleared(details: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in details.items() if key not in (unsettled.SINCE, DOUBTED)}
