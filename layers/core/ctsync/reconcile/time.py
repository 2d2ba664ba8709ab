"""Does NetSuite hold the approved ClickTime time, to the minute?

ClickTime side: every approved timesheet in the export's look-back, its entries from `Reports/Time`, grouped
per NetSuite employee, project and day; a group's minutes are its exact hours rounded to the minute half up, each
timesheet's on its own as the export rounds them (computed here from the raw hours, not from the exporter's
allocation). The totals give ClickTime's own figure (`clicktime_approved`, its exact hours), the minutes NetSuite
should hold (`clicktime_in_minutes`) and what the rounding to the minute added between them (`rounding`).
Timesheets blocked by an open cause (an unmapped employee, a task without a service item: what the
exporter's plan refuses) and time on jobs that are not NetSuite projects are left out of the comparison and
listed in the notes, with their hours; so is a timesheet ClickTime sends unreadable (named with the reason). The
bills an earlier approval of a blocked timesheet left in NetSuite are left out of the comparison too (counted,
they were differences per day, billable and in total: review, 2026-12-03 evening), as the expense reconciliation
does: counted in the `netsuite` total and in `netsuite_of_blocked_sheets`, and named in the sheet's note.

NetSuite side: every time bill whose external ID says it came from ClickTime (`ct-te-…`), grouped the same
way, on its own `trandate` (a bill the export moved to another period by `on_closed_period` counts on the day it
was worked; one whose date was changed in NetSuite, on its new date: a difference).

Billable minutes are compared per group as well: the entries the export bills at the minutes it gives them
(`records.time_export.bill_minutes`, per timesheet), against the minutes of the bills NetSuite holds billable. An
entry is billable as the export plans it (`records.time_export.planned_billable`): ClickTime's flag, but never on a
project task NetSuite marks non-billable.

Sums per group cannot see a bill on the wrong task or service item (the time is right, what it bills is not): the
project task (`casetaskevent`) and service item (`item`) of each bill are compared with what the export plans for
its entry.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import ValidationError

from ctsync import unsettled
from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.models import TimeEntry, Timesheet
from ctsync.config import SyncConfig
from ctsync.errors import BadInput
from ctsync.minutes import MINUTES_PER_HOUR, duration, group_total_minutes
from ctsync.netsuite.client import NetSuiteClient
from ctsync.reconcile.report import (
    HOURS_UNKNOWN,
    Check,
    Reconciliation,
    groups_check,
    left_out_unknown,
    unreadable,
)
from ctsync.records import time_doubts
from ctsync.records.clicktime_source import TIMESHEETS, ApprovedSheetSource
from ctsync.records.netsuite_source import keyset
from ctsync.records.references import ClickTimeReferences, NetSuiteReferences, People, Projects, task_on_job
from ctsync.records.sheet_export import exported_as_approved
from ctsync.records.time_export import (
    ENTRY_KIND,
    EXTERNAL_PREFIX,
    KIND,
    Held,
    TimeExport,
    bill_minutes,
    exported_as_read,
    hours_refused,
    netsuite_minutes,
    planned_billable,
)
from ctsync.references import References
from ctsync.state import MappingStore
from ctsync.sync.definition import Window
from ctsync.timeutil import format_instant, utc_now

Group = tuple[str, str, str]  # NetSuite employee, project, day (YYYY-MM-DD)


def reconcile_time(
    netsuite: NetSuiteClient, clicktime: ClickTimeClient, mappings: MappingStore, config: SyncConfig
) -> Reconciliation:
    cache = References()
    ns, ct = NetSuiteReferences(netsuite, cache), ClickTimeReferences(clicktime, cache)
    people, projects = People(config.people, ns, ct), Projects(mappings, ct, cache, ns)
    source = ApprovedSheetSource(
        clicktime, mappings, TIMESHEETS, lookback_days=config.time.lookback_days, skew_seconds=0
    )
    end = clicktime.server_time()
    window = Window(start=end, end=end)
    expected: dict[Group, int] = defaultdict(int)
    billable: dict[Group, int] = defaultdict(int)
    notes: list[str] = []
    blocked_notes: dict[str, int] = {}  # blocked timesheet -> its note's place in `notes`
    blocked_hours = Decimal(0)
    unknown: list[str] = []  # left out, its hours unknown (an unreadable sheet without day totals)
    exact_hours = Decimal(0)  # ClickTime's own figure of the time compared: its hours, not rounded
    # Approved hours on jobs that are no NetSuite project (never sent, by `time.jobs_not_from_netsuite = skip`): a
    # total of their own, so ClickTime's approved total ties out (compared + blocked + these); they were only a note
    # per entry, cut at ten (month-end review, 2026-12-04)
    other_jobs_hours = Decimal(0)
    planned: dict[str, BilledAs] = {}  # entry -> the task and service item the export plans for its bill
    first_day = source.first_day(window)
    export = TimeExport(netsuite, clicktime, mappings, None, config, cache)  # type: ignore[arg-type]  # plans only
    # Planned as the export plans them: an entry with a bill is not blocked by its period closing since.
    exported = {m.source_id for m in mappings.all_of_kind(ENTRY_KIND) if not m.deleted}
    rows = _time_bills(netsuite)
    # A bill NetSuite will not let change keeps its minutes in the plan, as the export plans it (`Held.fixed`)
    fixed = _frozen_minutes(rows, mappings, ns)
    held_by_sheet = _held_by_sheet(rows, mappings)
    sheet_mappings = {m.source_id: m for m in mappings.all_of_kind(KIND)}
    skip_other_jobs = config.time.jobs_not_from_netsuite == "skip"
    # Read once: the entries compared and the bills judged "of an approved sheet" must come from the same list (an
    # approval undone between two reads made one sheet two differences: month-end review, 2026-12-04)
    sheets = source.approved_sheets(window)
    for sheet in sheets:
        try:
            entries = clicktime.time_report(TimesheetID=sheet["ID"])
            plan = export.plan(Timesheet.model_validate(sheet), exported=exported, held=Held(fixed=fixed))
        except (BadInput, ValidationError) as error:
            # Not exported (a dead letter): approved time not in NetSuite, left out as a blocked sheet's is (by its
            # day totals, less what the bills of an earlier approval hold on each day)
            sheet_hours = _day_totals(sheet, _by_day(held_by_sheet.get(str(sheet["ID"]), {})))
            if sheet_hours is None:
                unknown.append(f"timesheet {sheet['ID']} ({HOURS_UNKNOWN})")
            else:
                blocked_hours += sheet_hours
            blocked_notes[str(sheet["ID"])] = len(notes)
            said = HOURS_UNKNOWN if sheet_hours is None else f"{sheet_hours} h by its day totals"
            notes.append(unreadable(f"timesheet {sheet['ID']}", error, said))
            continue
        problems = plan.problems
        before = sheet_mappings.get(str(sheet["ID"]))
        whole = exported_as_approved(before, TIMESHEETS.fingerprint(sheet), problems) and exported_as_read(
            before, entries, mappings.children(KIND, str(sheet["ID"])), projects
        )
        employee = people.exported_to(sheet["UserID"]) if whole else None
        if employee is not None:
            # Exported whole before what its plan finds now (its employee left since): NetSuite holds it and no run
            # plans it again, so it is compared, not left out as blocked (finance review, 2026-12-04)
            notes.append(
                f"timesheet {sheet['ID']} was exported as approved before this: {problems[0].reason}; compared as "
                "NetSuite holds it"
            )
            problems = []
        if plan.short:
            # What the report hides is not exported (a cause): approved time not in NetSuite, left out
            hidden = _hidden_hours(sheet, entries, plan.short_days, _by_day(held_by_sheet.get(str(sheet["ID"]), {})))
            blocked_hours += hidden
            notes.append(f"timesheet {sheet['ID']} ({hidden} h not read, not in NetSuite): {plan.short}")
        if problems:
            # Not exported, and reported as a cause: listed here with the hours it leaves out of NetSuite (not
            # those NetSuite holds of an earlier approval, nor time on jobs the export never sends), not counted as a
            # difference.
            sheet_hours, sheet_other_jobs_hours = _left_out_hours(
                entries,
                projects,
                held_by_sheet.get(str(sheet["ID"]), {}),
                skip_other_jobs,
                config.time.max_hours_per_day,
            )
            blocked_hours += sheet_hours
            other_jobs_hours += sheet_other_jobs_hours
            blocked_notes[str(sheet["ID"])] = len(notes)
            notes.append(f"timesheet {sheet['ID']} ({sheet_hours} h not in NetSuite) is blocked: {problems[0].reason}")
            continue
        if employee is None:
            planned.update({e.entry_id: _billed_as(e.payload, e.minutes) for e in plan.entries})
            employee = people.employee_of(sheet["UserID"]).id
        billable_as_planned = {e.entry_id: bool(e.payload.get("isBillable")) for e in plan.entries}
        timed: list[tuple[TimeEntry, str]] = []
        hours: dict[Group, list[Decimal]] = defaultdict(list)
        for entry in entries:
            project = projects.project_of_job(entry.JobID) if entry.JobID else None
            if project is None:
                other_jobs_hours += _to_millionth(entry.Hours)
                notes.append(
                    f"time entry {entry.ID} ({_plain(_to_millionth(entry.Hours))} h) is on job {entry.JobID}, "
                    "not a NetSuite project"
                )
                continue
            hours[(employee, project, entry.Date[:10])].append(entry.Hours)
            # To a millionth, as `_exact` reads a day total: ClickTime sends hours as doubles (0.30000000000000004),
            # and that noise printed as ClickTime's figure and as the rounding (month-end review, 2026-12-04)
            exact_hours += _to_millionth(entry.Hours)
            timed.append((entry, project))
        # Rounded per timesheet, as the export writes it: it writes one sheet at a time, so a NetSuite employee with
        # two ClickTime users (`people.overrides`) gets each sheet's day rounded on its own (0.125 h + 0.125 h is
        # 8 + 8 minutes). Rounding their sum once would make a difference no run can ever remove.
        for group, values in hours.items():
            expected[group] += group_total_minutes(values)
        allocated = bill_minutes(timed, fixed)
        non_billable = _non_billable_tasks(timed, projects, ns, config, billable_as_planned)
        for entry, project in timed:
            if billable_as_planned.get(entry.ID, planned_billable(entry.IsBillable, entry.ID in non_billable)):
                billable[(employee, project, entry.Date[:10])] += allocated[entry.ID]
    notes.extend(_bills_in_doubt(mappings, config))
    approved = {str(sheet["ID"]) for sheet in sheets}
    read = _netsuite_minutes(rows, mappings, approved, set(blocked_notes), first_day)
    found, found_billable, strays, held = read.found, read.billable, read.strays, read.held
    for sheet_id, bills in read.kept.items():
        kept = sum(bills.values())
        notes[blocked_notes[sheet_id]] += (
            f"; NetSuite keeps {len(bills)} time bill(s) ({duration(kept)}) of its earlier approval: "
            + ", ".join(sorted(bills, key=lambda b: (len(b), b)))
        )
    kept_total = sum(minutes for bills in read.kept.values() for minutes in bills.values())
    unlike = [
        f"time entry {entry} (time bill {bill}): {_billed_text(as_held)} in NetSuite, {_billed_text(planned[entry])} "
        "planned"
        for entry, (bill, as_held) in sorted(held.items())
        if entry in planned and _unlike(as_held, planned[entry])
    ]
    compared = sum(1 for entry in held if entry in planned)
    clicktime_total, netsuite_total = sum(expected.values()), sum(found.values())
    return Reconciliation(
        record="time",
        checks=[
            groups_check(
                "minutes per employee, project and day (approved in ClickTime = in NetSuite)",
                expected,
                found,
                0,
                lambda g, clicktime, netsuite: f"employee {g[0]}, project {g[1]}, {g[2]}: ClickTime "
                f"{duration(clicktime)}, NetSuite {duration(netsuite)}",
            ),
            groups_check(
                "billable minutes per employee, project and day",
                dict(billable),
                found_billable,
                0,
                lambda g, clicktime, netsuite: f"employee {g[0]}, project {g[1]}, {g[2]}: billable in ClickTime "
                f"{duration(clicktime)}, in NetSuite {duration(netsuite)}",
            ),
            Check(
                name="each time bill as the export plans it (project task, service item, minutes, billable, locked rate)",
                expected=compared,
                found=compared - len(unlike),
                differences=unlike,
            ),
            Check(
                name="total minutes",
                expected=clicktime_total,
                found=netsuite_total,
            ),
            Check(
                name="time bills from ClickTime whose timesheet is not approved (or unknown)",
                expected=0,
                found=len(strays),
                differences=strays,
            ),
        ],
        totals={
            "clicktime_approved": f"{_plain(exact_hours)} h",
            "clicktime_in_minutes": duration(clicktime_total),
            "netsuite": duration(netsuite_total + kept_total),
            "netsuite_of_blocked_sheets": duration(kept_total),
            "netsuite_not_approved": duration(read.stray_minutes),
            "rounding": _rounding(clicktime_total, exact_hours, len(expected)),
            "blocked": f"{blocked_hours} h",
            "blocked_unknown": left_out_unknown(unknown),
            "not_netsuite_projects": f"{_plain(other_jobs_hours)} h",
            "groups": str(len(expected)),
            "as_of": utc_now().isoformat(),
        },
        notes=notes,
    )


def _non_billable_tasks(
    timed: list[tuple[TimeEntry, str]],
    projects: Projects,
    ns: NetSuiteReferences,
    config: SyncConfig,
    planned: dict[str, bool],
) -> set[str]:
    """The entries the plan did not bill (a sheet exported whole before a problem its plan finds now) whose NetSuite
    project task, as the export resolves it (`task_on_job`), is non-billable: billable as the export wrote them."""
    tasks: dict[str, str] = {}
    for entry, project in timed:
        if entry.ID in planned or not entry.TaskID:
            continue
        policy = config.accounting.tasks_not_from_netsuite
        task, _ = task_on_job(projects, entry.TaskID, entry.JobID or "", project, entry.ID, policy)
        if task:
            tasks[entry.ID] = task
    flagged = ns.non_billable_tasks(tasks.values()) if tasks else set()
    return {entry for entry, task in tasks.items() if task in flagged}


def _held_by_sheet(rows: list[dict[str, Any]], mappings: MappingStore) -> dict[str, dict[tuple[str, str], int]]:
    """Timesheet -> the minutes NetSuite holds of its bills (any approval's) per project and day, each bill on the
    day its entry was worked when the export moved it to another (as `_netsuite_minutes` places it)."""
    bills = {m.target_id: m for m in mappings.all_of_kind(ENTRY_KIND) if not m.deleted}
    held: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        bill = bills.get(str(row["id"]))
        if bill is None:
            continue
        worked, on = bill.details.get("date"), row["trandate"]
        day = worked if worked and on in (worked, bill.details.get("posted")) else on
        with suppress(ArithmeticError, ValueError):
            held[(bill.parent or "#").split("#", 1)[1]][(str(row["customer"]), str(day))] += netsuite_minutes(
                row["hours"]
            )
    return held


def _left_out_hours(
    entries: list[TimeEntry],
    projects: Projects,
    held: dict[tuple[str, str], int],
    skip_other_jobs: bool,
    most_hours: int,
) -> tuple[Decimal, Decimal]:
    """The hours of a blocked timesheet that are not in NetSuite, per project and day as the export writes them (its
    minutes are allocated per day and project, `ctsync.minutes.allocate`): a day's hours less what the bills of an
    earlier approval hold on that day and project (`held`, `_held_by_sheet`), none when they hold its minutes; time on
    a job that is no NetSuite project left out when the export skips it (`time.jobs_not_from_netsuite = skip`: it
    never reaches NetSuite). An entry moved to another day or project by the blocked correction is left out whole.
    Returns those hours and, apart, the hours skipped for being on such a job (the `not_netsuite_projects` total);
    an entry the export refuses (`hours_refused`) is in neither."""
    days: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    other_jobs = Decimal(0)
    for entry in entries:
        if hours_refused(entry.Hours, most_hours):
            # refused (bad input), never sent: it takes nothing off the others (review, 2026-12-04), and an entry
            # of 1E+30 h would not round to minutes (payroll review, 2026-12-04)
            continue
        project = projects.project_of_job(entry.JobID) if entry.JobID else None
        if project is None and skip_other_jobs:
            other_jobs += _to_millionth(entry.Hours)
            continue
        days[(str(project or "-"), entry.Date[:10])].append(entry.Hours)
    left = sum((_beyond(sum(hours, Decimal(0)), held.get(group, 0)) for group, hours in days.items()), Decimal(0))
    return _plain(left.quantize(Decimal("0.000001"))), other_jobs


def _by_day(held: dict[tuple[str, str], int]) -> dict[str, int]:
    """The minutes `_held_by_sheet` gives a sheet per project and day, per day."""
    days: dict[str, int] = defaultdict(int)
    for (_, day), minutes in held.items():
        days[day] += minutes
    return days


def _beyond(hours: Decimal, minutes: int) -> Decimal:
    """`hours` less what `minutes` of bills hold of them (none when they hold their minutes), never below zero."""
    if minutes and group_total_minutes([hours]) <= minutes:
        return Decimal(0)
    return max(hours - Decimal(minutes) / MINUTES_PER_HOUR, Decimal(0))


def _day_totals(sheet: dict[str, Any], held: dict[str, int]) -> Decimal | None:
    """An unreadable timesheet's hours by its own DayTotals (verbose) beyond what the bills of an earlier approval
    hold on each day (`held`: day -> minutes); None when it gives none (or an empty list) or one that is not a
    number: then its hours are unknown. (Review, 2026-12-04: an unreadable correction counted the whole sheet.)"""
    totals = sheet.get("DayTotals")
    if not isinstance(totals, list) or not totals:
        return None
    hours = Decimal(0)
    for total in totals:
        try:
            hours += _beyond(_exact(total.get("Hours")), held.get(str(total.get("Date") or "")[:10], 0))
        except (ArithmeticError, ValueError, TypeError, AttributeError):
            return None
    return _plain(hours.quantize(Decimal("0.000001")))


def _hidden_hours(
    sheet: dict[str, Any], entries: list[TimeEntry], days: frozenset[str], held: dict[str, int]
) -> Decimal:
    """The hours a short report hides (`TimeExport`'s `plan.short_days`) that NetSuite does not hold: per such day,
    its DayTotals hours less the hours of the rows read, or less what the bills of the sheet hold that day (`held`:
    day -> minutes) when they hold more (review, 2026-12-04: time exported before the integration user lost sight of
    it was said left out of NetSuite)."""
    read: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        read[entry.Date[:10]] += entry.Hours
    hidden = Decimal(0)
    for total in sheet.get("DayTotals") or []:
        day = str(total.get("Date") or "")[:10]
        if day in days:
            try:
                whole = _exact(total.get("Hours"))
            except (ArithmeticError, ValueError, TypeError):
                continue
            hidden += min(max(whole - read[day], Decimal(0)), _beyond(whole, held.get(day, 0)))
    return _plain(hidden.quantize(Decimal("0.000001")))


def _plain(hours: Decimal) -> Decimal:
    """Without trailing zeros and without an exponent (8.000000 -> 8, 10.000000 -> 10, not 1E+1)."""
    return Decimal(format(hours.normalize(), "f"))


def _to_millionth(hours: Decimal) -> Decimal:
    """Hours as ClickTime meant them: its doubles' noise (0.30000000000000004) cut at a millionth of an hour."""
    return hours.quantize(Decimal("0.000001"))


def _exact(hours: Any) -> Decimal:
    """A DayTotals figure as ClickTime sends it (a double: 3.3000000000000003 for 1.1 + 2.2) to a millionth of an
    hour; raises on one that is not a finite number."""
    value = Decimal(str(hours))
    if not value.is_finite():
        raise ValueError(f"not a number: {hours!r}")
    return value.quantize(Decimal("0.000001"))


def _rounding(minutes: int, exact_hours: Decimal, groups: int) -> str:
    """What rounding each group to the minute added to ClickTime's exact time (NetSuite holds whole minutes): never
    more than half a minute a group, and not a difference between the systems."""
    added = (Decimal(minutes) - exact_hours * MINUTES_PER_HOUR).normalize()
    return f"{added:+f} min ({groups} groups, each rounded to the minute)"


def _bills_in_doubt(mappings: MappingStore, config: SyncConfig) -> list[str]:
    """A note per timesheet whose bill writes were of unknown outcome and not yet looked at again: a difference on
    those bills may be a late write that the time run after the wait repairs (`records.time_doubts`)."""
    wait = timedelta(seconds=config.netsuite.late_write_seconds)
    notes: list[str] = []
    for sheet_id in mappings.unsettled(KIND):
        mapping = mappings.get(KIND, sheet_id)
        over_at = unsettled.wait_over_at(mapping.details, wait) if mapping else None
        if mapping is None or over_at is None:
            continue
        count = len(time_doubts.in_doubt(mapping.details))
        notes.append(
            f"timesheet {sheet_id}: {count} time bill(s) written with an unknown outcome; the first time run from "
            f"{format_instant(over_at)} writes them again (a difference on them until then may be a late write)"
        )
    return notes


class BilledAs(NamedTuple):
    """What one time bill says, compared bill by bill: sums per day and project cannot see hours, a billable flag
    or a rate moved from one bill to another of the same day and project."""

    task: str  # the project task's internal id, "-" for none
    item: str  # the service item's internal id, "-" for none
    minutes: int
    billable: bool
    rate: str  # the locked rate (`time.rate = clicktime_billing_rate`), "-" where the export leaves it to NetSuite


def _billed_as(payload: dict[str, Any], minutes: int) -> BilledAs:
    return BilledAs(
        str((payload.get("caseTaskEvent") or {}).get("id") or "-"),
        str((payload.get("item") or {}).get("id") or "-"),
        minutes,
        bool(payload.get("isBillable")),
        _rate_text(payload.get("rate")),
    )


def _rate_text(rate: Any) -> str:
    return "-" if rate in (None, "") else format(Decimal(str(rate)).normalize(), "f")


def _unlike(held: BilledAs, planned: BilledAs) -> bool:
    return held._replace(rate="-") != planned if planned.rate == "-" else held != planned


def _billed_text(billed: BilledAs) -> str:
    rate = f", rate {billed.rate}" if billed.rate != "-" else ""
    kind = "billable" if billed.billable else "non-billable"
    return f"task {billed.task}, item {billed.item}, {duration(billed.minutes)} {kind}{rate}"


class _Read(NamedTuple):
    found: dict[Group, int]  # minutes per group of the bills of approved timesheets (not blocked)
    billable: dict[Group, int]  # of those, the minutes NetSuite holds billable
    strays: list[str]  # bills that should not be there
    held: dict[str, tuple[str, BilledAs]]  # entry of an approved timesheet -> its bill's ID and what it says
    kept: dict[str, dict[str, int]]  # blocked timesheet -> the minutes of each bill its earlier approval left
    stray_minutes: int  # of the bills that should not be there (`strays`)


def _time_bills(netsuite: NetSuiteClient) -> list[dict[str, Any]]:
    """Every time bill NetSuite holds from ClickTime (`ct-te-…`), read once: what it says, and whether it is billed
    or posted (its minutes are kept by the plan then)."""

    def query(after: str | None) -> str:
        return (
            "SELECT tb.id AS id, tb.employee AS employee, tb.customer AS customer, tb.hours AS hours, "
            "tb.isbillable AS isbillable, TO_CHAR(tb.trandate, 'YYYY-MM-DD') AS trandate, "
            "tb.casetaskevent AS casetaskevent, tb.item AS item, tb.rate AS rate, tb.isbilled AS isbilled, "
            "tb.posted AS posted FROM timebill tb "
            f"WHERE tb.externalid LIKE '{EXTERNAL_PREFIX}%'{keyset('tb', after)} ORDER BY tb.id"
        )

    return list(netsuite.rows(query))


def _frozen_minutes(rows: list[dict[str, Any]], mappings: MappingStore, ns: NetSuiteReferences) -> dict[str, int]:
    """Entry -> the minutes of its bill NetSuite will not let change (billed, posted, dated in a closed period), as
    `TimeExport._held` finds them for the export (finance review, 2026-12-04: planned without them, an entry added to
    an invoiced day was a difference on a bill the export rightly left)."""
    entries = {m.target_id: m.source_id for m in mappings.all_of_kind(ENTRY_KIND) if not m.deleted}
    fixed: dict[str, int] = {}
    for row in rows:
        entry = entries.get(str(row["id"]))
        if entry is None:
            continue
        frozen = row.get("isbilled") in ("T", True) or row.get("posted") in ("T", True)
        if not frozen and row.get("trandate"):
            period = ns.period_of(date.fromisoformat(str(row["trandate"])[:10]))
            frozen = period is not None and period.closed
        if frozen:
            try:
                fixed[entry] = netsuite_minutes(row["hours"])
            except (ArithmeticError, ValueError):
                continue
    return fixed


def _netsuite_minutes(
    rows: list[dict[str, Any]], mappings: MappingStore, approved: set[str], blocked: set[str], first_day: date
) -> _Read:
    """Minutes per group of the bills of approved timesheets in the look-back, of those NetSuite holds
    billable, the bills that should not be there (their timesheet is not approved any more, or the mapping
    store does not know them), per entry of an approved timesheet its bill's ID, task and service item, and apart
    the bills of approved timesheets `blocked` by an open cause (kept in NetSuite, not compared)."""
    bills = {m.target_id: m for m in mappings.all_of_kind(ENTRY_KIND)}
    periods = {m.source_id: m.details.get("period_start", "") for m in mappings.all_of_kind("timesheet")}

    found: dict[Group, int] = defaultdict(int)
    billable: dict[Group, int] = defaultdict(int)
    strays: list[str] = []
    held: dict[str, tuple[str, BilledAs]] = {}
    kept: dict[str, dict[str, int]] = defaultdict(dict)
    stray_minutes = 0
    for row in rows:
        bill = bills.get(str(row["id"]))
        # A stray's minutes are said and summed (`stray_minutes`): NetSuite holds them, and without them its own
        # time report did not tie out with the reconciliation's figures (month-end review, 2026-12-04)
        if bill is None:
            stray_minutes += netsuite_minutes(row["hours"])
            strays.append(
                f"time bill {row['id']} ({row['trandate']}, {duration(netsuite_minutes(row['hours']))}) is not in the "
                "mapping store"
            )
            continue
        sheet = (bill.parent or "#").split("#", 1)[1]
        if sheet not in approved:
            if periods.get(sheet, "") >= first_day.isoformat():
                stray_minutes += netsuite_minutes(row["hours"])
                strays.append(
                    f"time bill {row['id']} ({row['trandate']}, {duration(netsuite_minutes(row['hours']))}) belongs "
                    f"to timesheet {sheet}, which is not approved"
                )
            continue
        if sheet in blocked:
            kept[sheet][str(row["id"])] = netsuite_minutes(row["hours"])
            continue
        worked, on = bill.details.get("date"), row["trandate"]
        day = worked if worked and on in (worked, bill.details.get("posted")) else on
        group = (str(row["employee"]), str(row["customer"]), day)
        found[group] += netsuite_minutes(row["hours"])
        billable[group] += netsuite_minutes(row["hours"]) if row.get("isbillable") in ("T", True) else 0
        held[bill.source_id] = (
            str(row["id"]),
            BilledAs(
                str(row.get("casetaskevent") or "-"),
                str(row.get("item") or "-"),
                netsuite_minutes(row["hours"]),
                row.get("isbillable") in ("T", True),
                _rate_text(row.get("rate")),
            ),
        )
    return _Read(dict(found), dict(billable), strays, held, dict(kept), stray_minutes)
