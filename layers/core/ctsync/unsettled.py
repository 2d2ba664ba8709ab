"""Writes whose outcome is unknown, and what the target must hold until they can no longer land.

A write whose answer was lost (a read timeout, a connection dropped after the request went out, a 500, 502 or
504) may have been processed at once, never, or only later, after a newer write of the same record: found by
`make soak` (seed 190850), where a job's timed-out rename landed after the deactivation that followed it and the
job was active again. A retry that succeeds does not settle it: the first request may still be on its way.

The clients note every write of a record they send (`note`) inside the engine's `watching()` block for that
record. For ClickTime records (jobs, tasks, clients) the engine keeps, on the record's mapping, when the last doubtful write was sent and what the target
must hold field by field (`follow`): the merge of every write sent to the record's path since. Later runs look
at the target again (`records.targets.recheck`), write back any field a late request changed, and forget the
record once a look finds it in step at least `clicktime.late_write_seconds` after its last doubtful write.
For NetSuite time bills the timesheet keeps the bills in doubt instead, written as they should be by the first
run `netsuite.late_write_seconds` after (`records.time_doubts`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ctsync import jsonutil
from ctsync.timeutil import format_instant, parse_instant

SINCE = "unsettled_since"  # mapping detail: when the last write of unknown outcome was sent (ISO 8601, UTC)
DESIRED = "unsettled_desired"  # mapping detail: {"path": …, "fields": {…}} the target must hold meanwhile
DOUBTFUL_STATUSES = frozenset({500, 502, 504})  # a server or gateway that may have processed the request


@dataclass(frozen=True)
class Write:
    method: str
    path: str  # as the client sends it, e.g. "/Jobs/abc"
    fields: dict[str, Any] = field(default_factory=dict)
    doubtful: bool = False  # its answer was lost: it may be processed later


_writes: ContextVar[list[Write] | None] = ContextVar("ctsync_watched_writes", default=None)


@contextmanager
def watching() -> Iterator[list[Write]]:
    """Collect the writes sent in this block (this thread or task only; a nested block collects its own)."""
    writes: list[Write] = []
    token = _writes.set(writes)
    try:
        yield writes
    finally:
        _writes.reset(token)


def note(method: str, path: str, body: Any, *, doubtful: bool) -> None:
    """Called by a client for a write sent: once when its answer came, and once per attempt whose answer was lost."""
    writes = _writes.get()
    if writes is not None and method in {"PATCH", "PUT", "POST", "DELETE"}:
        writes.append(Write(method, path, dict(body) if isinstance(body, dict) else {}, doubtful))


def follow(details: dict[str, str], writes: list[Write], path: str | None, now: datetime) -> dict[str, str]:
    """A mapping's details after `writes` to the record at `path`: unchanged while nothing sent to it was doubtful
    and it was settled; otherwise `SINCE` (moved to `now` by a new doubtful write) and `DESIRED`, the fields
    already desired updated by every write sent to `path` now, in order (the last value of a field wins)."""
    mine = [write for write in writes if path is not None and write.path == path]
    doubtful = any(write.doubtful for write in mine)
    if not doubtful and SINCE not in details:
        return details
    desired = desired_fields(details)
    for write in mine:
        desired.update(write.fields)
    since = format_instant(now) if doubtful else details[SINCE]
    return {**details, SINCE: since, DESIRED: jsonutil.dumps({"path": path, "fields": desired})}


def desired_fields(details: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(details[DESIRED])["fields"]) if DESIRED in details else {}


def desired_path(details: dict[str, str]) -> str | None:
    return json.loads(details[DESIRED])["path"] if DESIRED in details else None


def settled(details: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in details.items() if key not in (SINCE, DESIRED)}


def drift(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The desired fields the target does not hold. A field the read does not return cannot be judged and is left
    alone; a date sent as `YYYY-MM-DD` matches one read back with a time of day."""
    return {name: value for name, value in desired.items() if name in current and not _same(current[name], value)}


def _same(current: Any, desired: Any) -> bool:
    # Identity for flags and absence: True == 1 in Python, and an IsActive read back as 1 is not what was sent.
    if isinstance(desired, bool) or isinstance(current, bool) or desired is None or current is None:
        return current is desired
    have, want = str(current), str(desired)
    return have == want or (len(want) == 10 and want[4] == "-" and have.startswith(want + "T"))


def wait_over_at(details: dict[str, str], wait: timedelta) -> datetime | None:
    """When a late request can no longer land, from a mapping's `details` (`SINCE` + `wait`; None: nothing is in
    doubt)."""
    return parse_instant(details[SINCE]) + wait if SINCE in details else None
