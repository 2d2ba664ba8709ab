"""What blocks a sheet, and what is flagged without blocking it: shared by the time and the expense exports.

A `Problem` is one cause (a stable cause key, the reason naming the record and field, the fix) with the entries
or items it blocks; `Blocked` carries every cause of one sheet to the worker, which dead-letters the sheet and
records it under each cause. `record_flags` records a cause for something that went through but a person should
see (a frozen bill, an amount rounded), and `named` puts the record a NetSuite refusal was about in its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ctsync.errors import NeedsAttention, cause_part
from ctsync.netsuite.errors import NetSuiteError
from ctsync.state import Failure, RunLog
from ctsync.state.runlog import REASON_LIMIT
from ctsync.sync.messages import WorkMessage
from ctsync.timeutil import format_instant, parse_loose_instant, utc_now


@dataclass(frozen=True)
class Problem:
    cause_key: str
    reason: str
    fix: str = ""
    entries: tuple[str, ...] = ()


def period_closed(period: str, policy: str, what: str) -> Problem:
    """The cause of a record dated in a closed period (`what`: "is closed (field tranDate 2026-11-02)") that
    `accounting.on_closed_period` could not post elsewhere: under `fail`, reopen it or set the policy; under
    `next_open_period` the policy is set already, and what is missing is an open period after it (at year end, often
    the next year's periods not set up yet): the fix says so, where it said to set what was set (payroll review,
    2026-12-04)."""
    if policy == "next_open_period":
        return Problem(
            f"period-closed:{cause_part(period)}",
            f"period {period} {what}, and NetSuite has no open period after it (accounting.on_closed_period = "
            "next_open_period)",
            f"open (or set up) an accounting period after {period} in NetSuite, or reopen {period}",
        )
    return Problem(
        f"period-closed:{cause_part(period)}",
        f"period {period} {what}",
        f"reopen {period} in NetSuite, or set accounting.on_closed_period to next_open_period",
    )


def merged(problems: list[Problem]) -> list[Problem]:
    """One problem per cause, listing every entry it blocks."""
    by_key: dict[str, Problem] = {}
    for problem in problems:
        held = by_key.get(problem.cause_key)
        by_key[problem.cause_key] = (
            problem if held is None else Problem(held.cause_key, held.reason, held.fix, held.entries + problem.entries)
        )
    return list(by_key.values())


class Blocked(NeedsAttention):
    """A sheet that cannot go to NetSuite as it is: every cause that blocks it, each with its entries (or, for an
    expense sheet, its items: `what` names them)."""

    code = "BLOCKED"

    def __init__(self, sheet_id: str, problems: list[Problem], what: str = "time entries") -> None:
        problems = merged(problems)
        first = problems[0]
        more = f" (and {len(problems) - 1} more cause(s))" if len(problems) > 1 else ""
        super().__init__(f"{_with_entries(first, what)}{more}", cause=first.cause_key, fix=first.fix)
        self.sheet_id = sheet_id
        self.problems = problems
        self.what = what

    def causes(self) -> list[tuple[str, str, str]]:
        return [(p.cause_key, _with_entries(p, self.what), p.fix) for p in self.problems]


def _with_entries(problem: Problem, what: str = "time entries") -> str:
    if not problem.entries:
        return problem.reason
    shown = ", ".join(problem.entries[:10])
    more = f" and {len(problem.entries) - 10} more" if len(problem.entries) > 10 else ""
    return f"{problem.reason} ({what} {shown}{more})"


def record_flags(
    runlog: RunLog,
    message: WorkMessage,
    texts: list[str],
    *,
    what: str,
    cause_key: str,
    fix: str,
    kind: str = "FLAGGED",
) -> None:
    """The texts a cause a person sees, not a silent skip (a change NetSuite must not receive, a receipt that
    could not be stored); `what` names the record, e.g. "timesheet 123". One failure of the record for the cause,
    naming every text (`flagged`) and counted once per text: one failure per text, each overwrote the one before
    in the run and in the cause's reason, which named only the last (two frozen bills of a timesheet, two amounts
    of an expense sheet rounded: review, 2026-12-03 evening)."""
    if not texts:
        return
    runlog.record_failure(
        message.run_id,
        Failure(
            sync=message.sync,
            source_id=message.source_id,
            kind=kind,
            reason=flagged(what, texts),
            cause_key=cause_key,
            fix=fix,
            at=utc_now(),
        ),
        count=len(texts),
    )


def flagged(what: str, texts: list[str], limit: int = REASON_LIMIT) -> str:
    """`what: text; text; …`, every text while the whole stays within `limit` characters (a cause keeps that much
    of its reason), then how many more there are; the first text always."""
    head = f"{what}: {texts[0]}"
    for shown, text in enumerate(texts[1:], start=1):
        longer = f"{head}; {text}"
        left = len(texts) - shown - 1
        if len(longer) + (len(f"; and {left} more") if left else 0) > limit:
            return f"{head}; and {len(texts) - shown} more"
        head = longer
    return head


def keyed(error: NetSuiteError, cause: str, fix: str) -> NetSuiteError:
    """The same error, under another cause key and with a fix: one that knows better what a person must fix."""
    error._cause = cause
    error.fix = fix
    return error


def named(error: NetSuiteError, what: str) -> NetSuiteError:
    """The same error (type, code, cause key), its reason starting with the record it was about."""
    error.message = f"{what}: {error.message}"
    error.args = (error.message,)
    return error


def backfill_since(sync: str, what: str, at: datetime | str | None, change: str = "approval") -> str:
    """The `ctns backfill SYNC --since DAY` a fix tells a person to type, DAY a date the CLI reads as covering the
    instant meant: the CLI reads a date as that day's midnight UTC, so DAY is the UTC date of `what`'s `change` (its
    message's version, or ClickTime's ApprovedDate as sent: 2026-11-24T01:00:00+10:00 is 2026-11-23 in UTC, and
    `--since 2026-11-24` would leave that approval out of the window: finance review, 2026-12-04). A cause keeps
    the fix of the record flagged last, so another sheet of it is told to use its own. Unknown or unreadable (no
    stamp): the day before the date ClickTime shows, which holds the instant whatever zone that date is of."""
    try:
        instant = parse_loose_instant(at) if isinstance(at, str) else at
    except ValueError:
        instant = None
    if instant is None:
        return (
            f"ctns backfill {sync} --since <the day before the {change} date ClickTime shows> (the CLI reads a date "
            "as midnight UTC)"
        )
    day = instant.astimezone(UTC).date().isoformat()
    return (
        f"ctns backfill {sync} --since {day} (the UTC date of the {change} of {what}, {format_instant(instant)}; "
        f"the CLI reads a date as midnight UTC; another sheet of this cause: the UTC date of its own {change})"
    )
