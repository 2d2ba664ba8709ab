"""Approved ClickTime timesheets become NetSuite time bills (`timeBill`), one per time entry, to the minute.

One message is one timesheet. The worker reads the timesheet again (the message may be hours old), and beside
it (`records.window.read_beside`: all are needed before NetSuite has work) its `Reports/Time` rows and NetSuite's
accounting periods (read by an environment once per run and then once a minute: `records.references`), and:
- if it is no longer approved (or gone), removes the time bills it exported (or flags them, by policy);
- else builds every entry's time bill first: employee (`records.references.People`), project and task (the
  mappings of the projects and tasks syncs, else ClickTime's `AccountingPackageID`), service item (the task's
  assignee line, else the configured default), date, minutes (`ctsync.minutes`: the day's total per
  project equals ClickTime's, rounded to the minute), billable flag (ClickTime's own, from `Reports/Time`, but
  never billable on a task NetSuite marks non-billable: `planned_billable`, a run note where it overrides), memo,
  rate (by policy) and classifications. Anything that cannot be mapped blocks the whole timesheet: one cause per
  problem, listing the entries, and nothing is written (whole or nothing);
- then upserts only the entries whose bill changed (`PUT timeBill/eid:ct-te-<entry id>`, up to
  `time.write_concurrency` at once) and deletes the bills of entries that left the timesheet. The worker may
  have `time.sheets_at_once` timesheets of a batch in progress; every NetSuite request they make (the bill
  writes and deletes, and the reads: references, billed bills) holds one of the invocation's
  `time.write_concurrency` slots (`records.window.Slots`, through `netsuite.client.requests_sent_by`), so an
  execution environment never has more NetSuite requests in flight than that, and W workers x K never more
  than the template's sizing gives NetSuite. A bill NetSuite
  has billed, or one dated in a closed period, is never changed or deleted: it is flagged with the reason (a
  cause an operator sees), and it keeps its minutes: its day's other entries share the rest (`ctsync.minutes`).
  A bill about to be written onto a closed-period date (made, made anew after a deletion in NetSuite, or moved
  there by its entry's new date) takes `accounting.on_closed_period` as a first export does (`_kept_date`).

The timesheet's mapping (kind `timesheet`) is the lock that keeps two deliveries of one timesheet apart and
the version fence (`ApprovedDate`); each time bill has a child mapping (kind `timeentry`, parent the timesheet).
A bill write whose answer was lost leaves the timesheet listed with the bills in doubt, written as they should be
by the first run `netsuite.late_write_seconds` later (`recheck`, `records.time_doubts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from ctsync import unsettled
from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.models import TimeEntry, Timesheet
from ctsync.config import SyncConfig
from ctsync.digits import is_number
from ctsync.errors import NeedsAttention, cause_part
from ctsync.minutes import MINUTES_PER_HOUR, Timed, allocate, duration, hours_to_minutes
from ctsync.netsuite import external_ids as netsuite_ids
from ctsync.netsuite.client import NetSuiteClient, requests_sent_by
from ctsync.netsuite.errors import NetSuiteAlreadyBilled, NetSuiteError, NetSuiteNotFound, NetSuitePeriodClosed
from ctsync.observability import logger
from ctsync.records import sheet_export as sheets
from ctsync.records import time_doubts
from ctsync.records.blocking import (
    Blocked,
    Problem,
    _with_entries,
    backfill_since,
    merged,
    named,
    period_closed,
    record_flags,
)
from ctsync.records.clicktime_source import TIMESHEETS, UNSTAMPED, approved_at
from ctsync.records.netsuite_source import id_list, keyset
from ctsync.records.references import Period, Projects, Unmapped, task_on_job
from ctsync.records.sheet_export import SheetExport
from ctsync.records.targets import content_hash, locked
from ctsync.records.window import in_window, read_beside, slots
from ctsync.references import References
from ctsync.state import Lock, Mapping, MappingStore, RunLog, note_key
from ctsync.sync import record_ids
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.timeutil import utc_now

KIND = "timesheet"
ENTRY_KIND = "timeentry"
RECORD = "timeBill"
EXTERNAL_PREFIX = "ct-te-"
MEMO_LIMIT = 4000
HOURS_IN_A_DAY = 24  # the most `time.max_hours_per_day` allows
HALF_A_MINUTE = Decimal("0.5")  # what rounds (half up) to one minute more
TIME_READ = "time_read"  # sheet mapping detail: the report's rows its export wrote (`time_fingerprint`)


def bill_hash(payload: dict[str, Any]) -> str:
    """What a bill's mapping keeps to know it is unchanged. The unlock sent under `time.rate = price_level` is left
    out: it undoes a rate locked under the other policy, and bills written before it was sent hold the same."""
    if payload.get("overrideRate") is False and "rate" not in payload:
        payload = {k: v for k, v in payload.items() if k != "overrideRate"}
    return content_hash(payload)


def external_id(entry_id: str) -> str:
    """The time bill's external ID (`netsuite.external_ids`)."""
    return netsuite_ids.external_id(EXTERNAL_PREFIX, entry_id)


@dataclass
class EntryPlan:
    entry_id: str
    minutes: int
    payload: dict[str, Any]
    day: date
    project: str
    note: str = ""
    posted: date | None = None  # the bill's date when not the day worked


@dataclass
class SheetPlan:
    sheet: Timesheet
    employee: str
    entries: list[EntryPlan] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # notes: jobs not from NetSuite, entries of 0 minutes
    problems: list[Problem] = field(default_factory=list)
    exported: set[str] = field(default_factory=set)  # entries that already have a bill
    posted: dict[str, str] = field(default_factory=dict)  # entry -> its bill's date, when moved out of a closed period
    worked: dict[str, str] = field(default_factory=dict)  # entry -> the day worked its bill was last written for
    dates: dict[str, date] = field(default_factory=dict)  # entry -> the date its bill holds in NetSuite, where read
    hashes: dict[str, str] = field(default_factory=dict)  # entry -> its bill's content hash as its mapping recorded it
    short: str = ""  # what the report's rows lack against the timesheet's own day totals (`_short_of`)
    short_days: frozenset[str] = frozenset()  # those days (YYYY-MM-DD): no bill of theirs is deleted
    time_read: str = ""  # the report's rows as read (`time_fingerprint`): what a stamp-less approval exported
    # (ClickTime task, NetSuite project task) -> the entries ClickTime has billable that go non-billable: NetSuite
    # marks the task non-billable (`planned_billable`); told in the run's notes (`overridden_notes`)
    overridden: dict[tuple[str, str], list[str]] = field(default_factory=dict)


@dataclass
class Held:
    """What NetSuite holds of a sheet's mapped bills, read before its plan (`TimeExport._held`, one query)."""

    frozen: dict[str, str] = field(default_factory=dict)  # bill ID -> why it must not change (`_frozen_bills`)
    seen: set[str] = field(default_factory=set)  # bill IDs NetSuite has
    missing: set[str] = field(default_factory=set)  # entries whose mapped bill NetSuite no longer has
    dates: dict[str, date] = field(default_factory=dict)  # entry -> its bill's date in NetSuite
    fixed: dict[str, int] = field(default_factory=dict)  # entry -> the minutes of its frozen bill
    hashes: dict[str, str] = field(default_factory=dict)  # entry -> its mapping's content hash (what was written)


def _changes(plan: SheetPlan, children: dict[str, Mapping], forced: set[str]) -> tuple[list[EntryPlan], list[Mapping]]:
    """The plan's entries whose bill is to be written (new, changed, deleted since, or in doubt: `forced` holds
    bills' external IDs) and the bills of entries the sheet no longer has."""
    changed = [
        e
        for e in plan.entries
        if e.entry_id not in children
        or children[e.entry_id].content_hash != bill_hash(e.payload)
        or children[e.entry_id].deleted
        or external_id(e.entry_id) in forced
    ]
    wanted = {e.entry_id for e in plan.entries}
    # A bill of a day the report is short for is not known to be gone (its entry may be what the report left out)
    return changed, [
        m for entry_id, m in children.items() if entry_id not in wanted and m.details.get("date") not in plan.short_days
    ]


@dataclass
class Attempt:
    """One export of a timesheet under its lock: the NetSuite writes it sends (`unsettled.watching`), and, for a
    later look (`TimeExport.recheck`), the bills in doubt it writes as they should be whatever the mappings say."""

    sent: list[unsettled.Write]
    forced: set[str] = field(default_factory=set)  # external IDs
    # External IDs of bills an earlier holder noted before writing them (`MappingStore.note_writes`): made, perhaps,
    # and not recorded
    noted: set[str] = field(default_factory=set)
    sheet_id: str = ""
    look: bool = False
    period_start: str = ""  # the timesheet's first day, once it is read
    strays: list[Mapping] = field(default_factory=list)  # bills no mapping holds that it deleted (or tried to)
    absent: int = 0  # bills it went to delete that NetSuite no longer held (a person deleted them there)


LOOKED = "looked at again after a write of unknown outcome"  # a look's outcomes start so (the runbook's query)
WRITES = "time-bill-writes"  # the invocation's NetSuite request slots (`records.window.slots`)


FROZEN = "time-bill-frozen"  # the cause of a change NetSuite must not receive (billed, posted, closed period)
SHORT = "clicktime-time-report-short"  # the cause of a timesheet whose Reports/Time rows lack hours it has
SHORT_DETAIL = "report_short"  # mapping detail: what the report lacked when the sheet was last exported (told once)
SHORT_FIX = (
    "give the integration's ClickTime user the right to run company reports on all jobs (Reports/Time returns only "
    "the time it may see), then run "
)


class TimeExport(SheetExport):
    """Both halves of the time sync."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        runlog: RunLog,
        config: SyncConfig,
        cache: References,
    ) -> None:
        self._settings = config.time
        super().__init__(
            netsuite,
            clicktime,
            mappings,
            runlog,
            config,
            cache,
            sheets=TIMESHEETS,
            lookback_days=config.time.lookback_days,
            late_approval_days=config.time.late_approval_days,
        )

    # -- the plan: everything resolved, nothing written -------------------------------------------------
    def plan(
        self,
        sheet: Timesheet,
        exported: set[str] | None = None,
        rows: Callable[[], list[TimeEntry]] | None = None,
        posted: dict[str, str] | None = None,
        held: Held | None = None,
        worked: dict[str, str] | None = None,
    ) -> SheetPlan:
        """Every entry's time bill, or the problems that block the sheet. `exported`: entries that already have
        a bill (one in a closed period is flagged when it would change, not refused here). `rows`: the sheet's
        Reports/Time rows when they were read already (beside the timesheet); else they are read here.
        `posted`: entry -> the date its bill was posted on when not the day worked (`on_closed_period`), kept;
        `worked`: entry -> the day worked its bill was last written for (both as its mapping recorded them,
        `_kept_postings`): the bill stays on the posted date while its entry's day is in that day's period.
        `held`: what NetSuite holds of the sheet's bills (`_held`): a bill it no longer has is planned as a new one
        (the closed-period policy applies to it), one moving to another date is not moved into a closed period,
        and a frozen bill keeps its minutes (`ctsync.minutes.allocate`)."""
        people, projects = self._resolvers()
        try:
            employee = people.employee_of(sheet.UserID).id
        except Unmapped as error:
            return SheetPlan(sheet, "", problems=[Problem(error.cause_key, error.message, error.fix)])
        held = held or Held()
        plan = SheetPlan(
            sheet,
            employee,
            exported=(exported or set()) - held.missing,
            posted=posted or {},
            worked=worked or {},
            dates=dict(held.dates),
            hashes=dict(held.hashes),
        )
        timed: list[tuple[TimeEntry, str, str | None]] = []
        start, end = date.fromisoformat(sheet.StartDate[:10]), date.fromisoformat(sheet.EndDate[:10])
        entries = rows() if rows is not None else self._clicktime.time_report(TimesheetID=sheet.ID)
        plan.short, plan.short_days = _short_of(sheet, entries)
        plan.time_read = time_fingerprint(entries)
        projects.read_projects_of_tasks(e.TaskID for e in entries if e.TaskID)
        for entry in sorted(entries, key=lambda e: (e.Date, e.ID)):
            day = date.fromisoformat(entry.Date[:10])
            refused = hours_refused(entry.Hours, self._settings.max_hours_per_day)
            if refused:
                plan.problems.append(
                    Problem(
                        "bad-input:hours",
                        f"time entry {entry.ID} has {refused} (field Hours, NetSuite employee {plan.employee})",
                        f"correct the entry's Hours in ClickTime and approve timesheet {sheet.ID} again",
                        (entry.ID,),
                    )
                )
                continue
            if not start <= day <= end:
                plan.problems.append(
                    Problem(
                        "bad-input:date",
                        f"time entry {entry.ID} is dated {day}, outside its timesheet {start}..{end} (field Date)",
                        f"correct the entry's Date in ClickTime and approve timesheet {sheet.ID} again",
                        (entry.ID,),
                    )
                )
                continue
            project = projects.project_of_job(entry.JobID) if entry.JobID else None
            if project is None:
                label = projects.job_label(entry.JobID or "(none)")
                if self._settings.jobs_not_from_netsuite == "skip":
                    plan.skipped.append(f"job {label} is not a NetSuite project: its time stays in ClickTime")
                    continue
                plan.problems.append(
                    Problem(
                        f"job-unlinked:{cause_part(entry.JobID or 'none')}",
                        f"job {label} is not linked to a NetSuite project",
                        "link the ClickTime job to its NetSuite project (AccountingPackageID) or let the projects sync create it",
                        (entry.ID,),
                    )
                )
                continue
            task, said = (
                task_on_job(
                    projects,
                    entry.TaskID,
                    entry.JobID or "",
                    project,
                    entry.ID,
                    self._accounting.tasks_not_from_netsuite,
                )
                if entry.TaskID
                else (None, None)
            )
            if isinstance(said, Problem):
                plan.problems.append(said)
                continue
            if said:
                plan.skipped.append(f"{said}: time entry {entry.ID} went to project {project} without a task")
            timed.append((entry, project, task))
        self._check_day_totals(plan, timed)
        minutes = bill_minutes([(e, project) for e, project, _ in timed], held.fixed)
        items = self._ns.service_items([task for _, _, task in timed if task], plan.employee)
        non_billable = self._ns.non_billable_tasks(task for _, _, task in timed if task)
        for entry, project, task in timed:
            self._plan_entry(plan, entry, project, task, minutes[entry.ID], items.get(task or ""), task in non_billable)
        return plan

    def _check_day_totals(self, plan: SheetPlan, timed: list[tuple[TimeEntry, str, str | None]]) -> None:
        per_day: dict[str, list[TimeEntry]] = {}
        for entry, _, _ in timed:
            per_day.setdefault(entry.Date[:10], []).append(entry)
        for day, entries in sorted(per_day.items()):
            total = sum((e.Hours for e in entries), Decimal(0))
            if more_than_a_day(total, self._settings.max_hours_per_day):
                plan.problems.append(
                    Problem(
                        "bad-input:hours-per-day",
                        f"{total} h logged on {day}, more than {self._settings.max_hours_per_day} h in a day (field "
                        f"Hours, NetSuite employee {plan.employee})",
                        f"correct the day's Hours in ClickTime and approve timesheet {plan.sheet.ID} again (or raise "
                        "time.max_hours_per_day)",
                        tuple(e.ID for e in entries),
                    )
                )

    def _plan_entry(
        self,
        plan: SheetPlan,
        entry: TimeEntry,
        project: str,
        task: str | None,
        minutes: int,
        task_item: str | None,
        non_billable_task: bool = False,
    ) -> None:
        if minutes == 0:
            plan.skipped.append(f"time entry {entry.ID} ({entry.Hours} h) rounds to 0:00 and is not sent")
            return
        item = task_item or self._settings.service_item_id
        if item is None:
            plan.problems.append(
                Problem(
                    f"item-missing:{task or 'no-task'}",
                    f"no service item for NetSuite project task {task}"
                    if task
                    else f"no service item for time without a task on project {project}",
                    "give the project task an assignee line with a service item, or set time.service_item_id",
                    (entry.ID,),
                )
            )
            return
        if entry.IsBillable is None:
            plan.problems.append(
                Problem(
                    "clicktime-billable-unknown",
                    "ClickTime's Reports/Time does not say whether the time is billable",
                    "let the integration's ClickTime user see billability (an administrator or manager role), then "
                    "run `ctns redrive time`",
                    (entry.ID,),
                )
            )
            return
        billable = planned_billable(entry.IsBillable, non_billable_task)
        if self._settings.rate == "clicktime_billing_rate" and billable and entry.BillingRate is None:
            plan.problems.append(
                Problem(
                    "clicktime-rate-missing",
                    "billable time without a ClickTime billing rate, under time.rate = clicktime_billing_rate",
                    "give the job or employee a billing rate in ClickTime (and the integration's user the right to "
                    "see billing rates), or set time.rate to price_level",
                    (entry.ID,),
                )
            )
            return
        day = date.fromisoformat(entry.Date[:10])

        def bill(tran_date: date, memo_note: str) -> dict[str, Any]:
            memo = (entry.Comment or "").strip()
            if memo_note:
                memo = f"{memo} [{memo_note}]".strip()
            payload: dict[str, Any] = {
                "externalId": external_id(entry.ID),
                "employee": {"id": plan.employee},
                "customer": {"id": project},
                "item": {"id": item},
                "tranDate": tran_date.isoformat(),
                "hours": duration(minutes),
                "isBillable": billable,
                "memo": memo[:MEMO_LIMIT],
                **self._settings.classification.refs(),
            }
            # A field this export sets is always sent, null when it has no value: the upsert changes only the fields
            # it is sent, so an entry moved off its task (or whose rate was removed) would keep the old one.
            payload["caseTaskEvent"] = {"id": task} if task else None
            if self._settings.rate == "clicktime_billing_rate":
                payload["rate"] = entry.BillingRate
                payload["overrideRate"] = entry.BillingRate is not None
            else:
                # Unlocked, so NetSuite's price level prices it: a bill written while time.rate was
                # clicktime_billing_rate keeps its locked rate otherwise (the upsert changes only what it is sent).
                payload["overrideRate"] = False
            return payload

        def written(tran_date: date, memo_note: str) -> bool:
            return bill_hash(bill(tran_date, memo_note)) != plan.hashes.get(entry.ID)

        tran_date, memo_note = self._posting_date(plan, entry, day, written)
        if tran_date is None:
            return
        payload = bill(tran_date, memo_note)
        moved = tran_date if tran_date != day else None
        plan.entries.append(EntryPlan(entry.ID, minutes, payload, day, project, memo_note, moved))
        if entry.IsBillable and not billable:
            plan.overridden.setdefault((entry.TaskID or "", task or ""), []).append(entry.ID)

    def _posting_date(
        self, plan: SheetPlan, entry: TimeEntry, day: date, written: Callable[[date, str], bool]
    ) -> tuple[date | None, str]:
        """The bill's date and the memo's note, or None (a problem added) under `on_closed_period = fail`.
        `written`: whether the bill would be written on that date with that note (it differs from what its mapping
        recorded)."""
        period = self._ns.period_of(day)
        if period is None:
            return day, ""
        if entry.ID in plan.exported:
            target, note, into_closed = self._kept_date(plan, entry.ID, day, period)
            if not (into_closed and written(target, note)):
                return target, note
        if not period.closed:
            return day, ""
        # A first export, a bill made anew (deleted in NetSuite), or one that would move onto a closed-period date
        policy = self._accounting.on_closed_period
        if policy == "next_open_period":
            later = self._ns.next_open_period(period)
            if later is not None:
                return later.start, f"worked {day}; period {period.name} is closed, posted to {later.name}"
        closed = period_closed(period.name, policy, f"is closed (field tranDate {day})")
        plan.problems.append(Problem(closed.cause_key, closed.reason, closed.fix, (entry.ID,)))
        return None, ""

    def _kept_date(self, plan: SheetPlan, entry_id: str, day: date, period: Period) -> tuple[date, str, bool]:
        """Where the bill of an exported entry worked on `day`, in `period`, stays: the date it was posted to when
        moved out of a closed period, while `day` is in the period it was moved out of, closed or open now (its
        correction goes there too: a month reopened since moves no bill back, finance review 2026-12-04), else the
        day worked (in a closed period, flagged if it would change: `_bill_states`); and whether that date would
        move a bill NetSuite holds in an open period into a closed one (its entry re-dated into a closed period).
        Written so, the policy applies instead, as for a first export (finance review, 2026-12-04: such a bill was
        moved into the closed period, no cause, no flag); in an open period, its own day. A bill whose date NetSuite
        did not give keeps the rule above. The memo's note is the one it was posted with, so keeping it changes
        nothing of the bill."""
        moved = plan.posted.get(entry_id)
        posted = date.fromisoformat(moved) if moved else None
        later = self._ns.period_of(posted) if posted else None
        worked = plan.worked.get(entry_id)
        # Every bill's mapping records its day worked; one without it would keep the earlier rule (closed periods)
        out_of = self._ns.period_of(date.fromisoformat(worked)) if worked else (period if period.closed else None)
        if posted is not None and later is not None and out_of is not None and out_of.id == period.id:
            target, note = posted, f"worked {day}; period {period.name} is closed, posted to {later.name}"
            if not later.closed:
                return target, note, False
        else:
            target, note = day, ""
            if not period.closed:
                return target, note, False
        holds = plan.dates.get(entry_id)
        if holds is None or holds == target:
            return target, note, False
        now_in = self._ns.period_of(holds)
        # A bill in a closed period cannot change at all: flagged if it would
        return target, note, now_in is None or not now_in.closed

    def check(self) -> list[str]:
        """For `ctns check`: what the time settings name exists in NetSuite (read only)."""
        problems: list[str] = []
        item = self._settings.service_item_id
        if item:
            rows = list(
                self._netsuite.rows(
                    lambda after: f"SELECT i.id AS id, i.isinactive AS isinactive FROM item i WHERE i.id = {int(item)}{keyset('i', after)} ORDER BY i.id"
                )
            )
            if not rows:
                problems.append(f"time.service_item_id {item} is not an item in NetSuite")
            elif rows[0].get("isinactive") == "T":
                problems.append(f"time.service_item_id {item} is an inactive item")
        people, _ = self._resolvers()
        problems.extend(people.check())
        return problems + self._shared_problems()

    def verdict(self, message: WorkMessage, mapping: Mapping | None) -> tuple[str, str] | None:
        """For `ctns plan`, what the worker would do with this timesheet where NetSuite's bills decide it: "fail"
        with what would make NetSuite reject it tonight (planned as the worker plans it, with the entries that have
        a bill: one in a closed period is flagged, not refused); "unchanged" where every bill the run would change
        or delete is billed, posted or in a closed period (flagged, not changed), and for a withdrawal whose bills
        stay by policy (`time.on_unapproved = flag`). The bills an earlier holder noted and did not record
        (`MappingStore.writes_noted`) count as the run counts them: written again if the sheet still has their
        entries, else deleted (kept under the flag policy). None: as the plan judged it. Reads only."""
        sheet = self._clicktime.timesheet(message.source_id) if message.op == "upsert" else None
        approved = sheet is not None and TIMESHEETS.approved_given(sheet.Status, sheet.ApprovedDate, mapping)
        children = {m.source_id: m for m in self._mappings.children(KIND, message.source_id)}
        noted = self._mappings.writes_noted(KIND, message.source_id)

        def noted_bills(external_ids: set[str] | frozenset[str]) -> list[Mapping]:
            # those NetSuite holds, other than the sheet's mapped bills: what the run deletes (or adopts)
            return self._bills_under(set(external_ids), message.source_id, {m.target_id for m in children.values()})

        if not approved:
            strays = noted_bills(noted)
            bills = [*children.values(), *strays]
            if not bills and mapping is not None and mapping.details.get(sheets.BLOCKED):
                return "skip", f"blocked, nothing of it in NetSuite: its causes let go of timesheet {message.source_id}"
            if not bills or (not strays and (mapping is None or mapping.deleted)):
                return None
            if self._settings.on_unapproved == "flag":
                return "unchanged", f"its {len(bills)} time bill(s) stay in NetSuite (time.on_unapproved = flag)"
            held = self._held_verdict(bills, [], "not deleted")
            if held is not None and held[0] == "update":  # some frozen: the others leave
                return "delete", f"its other time bill(s) leave NetSuite; {held[1]}"
            if held is not None or not strays:
                return held
            return "delete", f"its {len(bills)} time bill(s) leave NetSuite; {_unrecorded(len(strays), 'deleted')}"
        assert sheet is not None
        posted, worked = _kept_postings(children.values())
        held = self._held(children)
        plan = self.plan(sheet, set(children), posted=posted, held=held, worked=worked)
        if plan.problems:
            return "fail", "; ".join(_with_entries(p) for p in merged(plan.problems))
        if _unapproved_edit(plan, mapping):
            gone = len(children) + len(noted_bills(noted))
            return "delete", f"{UNAPPROVED_EDIT}: its {gone} time bill(s) leave NetSuite"
        changed, removed, strays = self._doubted_changes(plan, children, set(), noted)
        removed += noted_bills(strays)
        lost, frozen = self._deleted_in_netsuite(plan, children, changed, held)
        if not changed and not removed and not lost:
            return "unchanged", "no time bill to write or delete" if plan.entries or children else "no time to export"
        if any(e.entry_id not in children for e in changed):
            return None  # a new bill is written whatever NetSuite holds
        # every child's state is read by now (`_held`, then `_deleted_in_netsuite` for those added since)
        known = (frozen, held.seen | {m.target_id for m in children.values()})
        verdict = self._held_verdict([children[e.entry_id] for e in changed], removed, "not changed", known)
        again = sum(external_id(e.entry_id) in noted for e in changed)
        gone = sum(external_id(m.source_id) in strays for m in removed)
        all_held = verdict is not None and verdict[0] == "unchanged"
        if (all_held and not lost) or not (again or gone or lost):
            return verdict
        what = [_unrecorded(again, "written again")] if again else []
        what += [_unrecorded(gone, "deleted, their entries left the timesheet")] if gone else []
        what += [f"{len(lost)} time bill(s) deleted in NetSuite since: written again"] if lost else []
        what += [verdict[1]] if verdict is not None and not all_held else []
        return ("create" if mapping is None or not children else "update"), "; ".join(what)

    def _held_verdict(
        self,
        changing: list[Mapping],
        removed: list[Mapping],
        what: str,
        known: tuple[dict[str, str], set[str]] = ({}, set()),
    ) -> tuple[str, str] | None:
        """The bills to change or delete that NetSuite holds frozen (billed, posted, a closed period: the run flags
        them, a cause a person sees): "unchanged" when every one is, "update" naming them when some are; None when
        none is. `known`: the frozen bills already read and the IDs they were read among; the rest are read."""
        touched = changing + removed
        frozen = dict(known[0])
        frozen.update(self._frozen_bills([m for m in touched if m.target_id not in known[1]]))
        held = [m for m in touched if m.target_id in frozen]
        if not held:
            return None
        why = "; ".join(f"time bill {m.target_id} (entry {m.source_id}) {frozen[m.target_id]}" for m in held)
        if len(held) == len(touched):
            return "unchanged", f"{why}: {what} (flagged)"
        return "update", f"{why}: {what} (flagged)"

    # -- the worker -----------------------------------------------------------------------------------------
    def apply(self, message: WorkMessage) -> Outcome:
        return self._under_lock(message, look=False)

    def recheck(self, message: WorkMessage) -> Outcome:
        """A later look at a timesheet listed after a bill write of unknown outcome (`records.time_doubts`).

        Until `netsuite.late_write_seconds` have passed since that write, nothing is done (a late request may still
        land). Then the timesheet is exported again as it stands in ClickTime, every bill in doubt written whatever
        its mapping says (or deleted when the timesheet no longer wants it), and the timesheet leaves the list
        unless one of those writes was of unknown outcome too. Blocked or failing, it stays listed."""
        return self._under_lock(message, look=True)

    def _under_lock(self, message: WorkMessage, *, look: bool) -> Outcome:
        # A look has an owner of its own: a new approval's message of the same run may be in progress beside it, and
        # the lock lets its owner in again (a redelivery).
        owner = f"{message.run_id}:{'check:' if look else ''}{message.source_id}"
        writes = slots(WRITES, self._settings.write_concurrency)
        ticket = writes.ticket()  # a sheet started earlier gets free slots first

        with (
            requests_sent_by(partial(writes.send, ticket)),
            locked(self._mappings, KIND, message.source_id, owner) as lock,
        ):
            attempt = Attempt(sent=[], look=look, noted=set(lock.writes_noted), sheet_id=message.source_id)
            if look:
                waiting = self._still_waiting(lock, "a bill write")
                if waiting is not None:
                    return waiting
                before = lock.mapping
                assert before is not None  # `_still_waiting` answered otherwise
                attempt.forced = time_doubts.in_doubt(before.details)
                # The look moves neither the version fence nor the fingerprint: it is not a new version.
                message = message.model_copy(
                    update={
                        "version": before.source_version or message.version,
                        "fingerprint": sheets.approval_of(before.fingerprint),
                    }
                )
            with unsettled.watching() as attempt.sent:
                try:
                    outcome = self._export_sheet(lock, message, attempt)
                    # a look past its wait exports the sheet as it stands: it went through, as an export does
                    return replace(outcome, whole=True) if look else outcome
                except NeedsAttention as error:
                    # Marked as held only with nothing of it in NetSuite: no bill written, none in doubt
                    nothing = not look and not any(w.doubtful for w in attempt.sent)
                    nothing = nothing and not self._mappings.children(KIND, lock.source_id)
                    if not (nothing and self._mark_held(lock, error, attempt.period_start, "timesheet")):
                        self._keep_doubts(lock, attempt)
                    if not look or error.systemic:  # a login or permission failure stops the sync as usual
                        raise
                    return self._look_waits(
                        lock, message, error, "timesheet", LOOKED, "the bills in doubt are written once it goes through"
                    )
                except BaseException:
                    self._keep_doubts(lock, attempt)
                    raise

    def _export_sheet(self, lock: Lock, message: WorkMessage, attempt: Attempt) -> Outcome:
        with (
            read_beside(lambda: _noted(self._clicktime.time_report(TimesheetID=message.source_id))) as rows,
            read_beside(self._ns.periods) as periods,
        ):
            sheet = self._clicktime.timesheet(message.source_id)
            if sheet is None or not TIMESHEETS.approved_given(sheet.Status, sheet.ApprovedDate, lock.mapping):
                status = sheet.Status if sheet else "deleted"
                return self._withdraw(lock, message, status, attempt)
            attempt.period_start = sheet.StartDate[:10]
            version = approved_at(sheet.model_dump()) or message.version
            before = lock.mapping
            if sheets.superseded(before, sheet.ApprovedDate, version):
                self._mappings.release(lock)
                return Outcome("skipped", before.target_id, "stale: a newer approval was exported already")
            children = {m.source_id: m for m in self._mappings.children(KIND, sheet.ID)}
            record_ids.note_mappings(children.values())  # its entries and their bills, on every line about it
            periods.result()  # a failed read raises here, rather than the plan reading (and retrying) it again
            posted, worked = _kept_postings(children.values())
            held = self._held(children)
            plan = self.plan(sheet, set(children), rows=rows.result, posted=posted, held=held, worked=worked)
            record_ids.note(source=(entry for p in plan.problems for entry in p.entries))
            if not plan.problems and _unapproved_edit(plan, before):
                return self._withdraw(lock, message, f"{sheet.Status}, {UNAPPROVED_EDIT}", attempt)
            for note in plan.skipped if not attempt.look else []:
                self._runlog.note(message.run_id, note_key("skipped", note), note)
            for note in overridden_notes(plan) if not attempt.look and not plan.problems else []:
                self._runlog.note(message.run_id, note_key("billable-overridden", note), note)
                logger.info(note, extra={"kind": KIND, "source_id": sheet.ID})
            held_as_approved = sheets.exported_as_approved(
                before, message.fingerprint, plan.problems
            ) and exported_as_read(before, rows.result(), list(children.values()), self._resolvers()[1])
            if held_as_approved and before is not None and not attempt.look:
                # This very approval went through whole, and all its plan finds now is a reference retired since
                # (its employee left): NetSuite holds it, so planned again (a backfill, a redelivery) it is left
                # as it is, not dead-lettered under a cause no fix or redrive could close (payroll review,
                # 2026-12-04). The reconciliation judges it the same way. (A look at bills in doubt goes on: they
                # must be written, and it waits while the sheet cannot be planned.)
                self._mappings.release(lock)
                return Outcome("unchanged", before.target_id, f"exported as approved before: {plan.problems[0].reason}")
            if plan.problems:
                blocked = Blocked(sheet.ID, plan.problems)
                marker = sheets.blocked_marker(lock.mapping, KIND, sheet.ID, sheet.StartDate[:10], blocked)
                if marker is not None:
                    self._mappings.commit(lock, marker)
                raise blocked
            return self._export(lock, message, plan, version, children, attempt, held)

    def _export(
        self,
        lock: Lock,
        message: WorkMessage,
        plan: SheetPlan,
        version: Any,
        children: dict[str, Mapping],
        attempt: Attempt,
        held: Held,
    ) -> Outcome:
        sheet_id = plan.sheet.ID
        changed, removed, strays = self._doubted_changes(plan, children, attempt.forced, attempt.noted)
        lost, frozen = self._deleted_in_netsuite(plan, children, changed, held)
        changed += lost
        written: list[Mapping] = []
        flags: list[str] = []
        # Noted before it is written (new, changed, or deleted in NetSuite since): should its mapping not be recorded,
        # the next holder writes it again, or deletes it
        self._mappings.note_writes(lock, (external_id(e.entry_id) for e in changed))
        try:
            self._write_bills(plan, changed, children, frozen, written, flags)
        finally:
            # Known at once, even when a bill NetSuite refused (or an outage) stopped the rest, or a delete below
            # fails: a redrive does not write them again and a withdrawal finds them.
            self._mappings.put_many(written)
            self._mappings.recorded(lock, (external_id(m.source_id) for m in written))
            record_ids.note_mappings(written)
        # A noted bill not written now (NetSuite holds it frozen) is recorded with no content: what it holds is not
        # known, and the next export that may change it writes it whole
        done = {m.source_id for m in written}
        unwritten = [children[e.entry_id] for e in changed if e.entry_id in children and e.entry_id not in done]
        self._mappings.put_many(
            m.model_copy(update={"content_hash": ""}) for m in unwritten if external_id(m.source_id) in attempt.noted
        )
        gone = self._delete_bills(removed, frozen, flags, attempt)
        self._mappings.delete_many(ENTRY_KIND, gone)
        strays_gone, _ = self._delete_strays(strays, flags, {m.target_id for m in children.values()}, attempt)
        if not sheets.flagged_before(lock.mapping, message.fingerprint):
            self._flag(message, sheet_id, flags)
        # Told once for what it lacks (not once per approval: a backfill of an approval flagged for a frozen bill
        # that finds the report short tells it too)
        if plan.short and (lock.mapping is None or lock.mapping.details.get(SHORT_DETAIL) != plan.short):
            record_flags(
                self._runlog,
                message,
                [plan.short],
                what=f"timesheet {sheet_id}",
                cause_key=SHORT,
                fix=SHORT_FIX + backfill_since("time", f"timesheet {sheet_id}", message.version),
            )
        if not flags:
            sheets.released(self._runlog, message, lock.mapping, FROZEN)
        if not plan.short:
            sheets.released(self._runlog, message, lock.mapping, SHORT)
        doubts = self._doubts(lock, attempt, [*children.values(), *written])
        total = sum(e.minutes for e in plan.entries)
        mapping = Mapping(
            kind=KIND,
            source_id=sheet_id,
            target_id=f"employee:{plan.employee}",
            source_version=version,
            content_hash=content_hash({e.entry_id: e.payload for e in plan.entries}),
            fingerprint=sheets.kept_fingerprint(message.fingerprint, held_back=bool(flags) or bool(plan.short)),
            details={
                "period_start": plan.sheet.StartDate[:10],
                "employee": plan.employee,
                "entries": str(len(plan.entries)),
                "minutes": str(total),
                "flagged": str(len(flags)),
                **({SHORT_DETAIL: plan.short} if plan.short else {}),
                **({UNSTAMPED: SHORT_READ if plan.short else plan.time_read} if not plan.sheet.ApprovedDate else {}),
                TIME_READ: plan.time_read,
                **doubts,
            },
        )
        self._mappings.commit(lock, mapping, settled=not plan.short)
        gone_count = len(gone) + strays_gone - attempt.absent
        detail = f"{len(written)} time bill(s) written, {gone_count} deleted{_absent(attempt)}, {len(plan.entries)} in NetSuite ({duration(total)})"
        if flags:
            detail += f"; {len(flags)} flagged"
        if attempt.look:
            detail = f"{LOOKED}: {detail}"
        if lock.mapping is None or not children:
            action = "created" if written else "unchanged"
        else:
            action = "updated" if written or gone_count else "unchanged"
        return Outcome(action, mapping.target_id, detail)  # type: ignore[arg-type]

    def _held(self, children: dict[str, Mapping]) -> Held:
        """What NetSuite holds of the sheet's mapped bills (`Held`): every one is looked up, in one query."""
        frozen, seen, bills = self._bill_states(list(children.values()))
        held = Held(frozen=frozen, seen=seen)
        for entry, m in children.items():
            if not is_number(m.target_id):
                continue
            if m.target_id not in seen:
                held.missing.add(entry)
                continue
            held.hashes[entry] = m.content_hash
            day, minutes = bills.get(m.target_id, (None, None))
            if day is not None:
                held.dates[entry] = day
            if m.target_id in frozen and minutes is not None:
                held.fixed[entry] = minutes
        return held

    def _deleted_in_netsuite(
        self, plan: SheetPlan, children: dict[str, Mapping], changed: list[EntryPlan], held: Held
    ) -> tuple[list[EntryPlan], dict[str, str]]:
        """The sheet's entries, not among `changed`, whose mapped bill NetSuite no longer has (deleted there since,
        `held.missing`: planned as new bills): written again, rather than held as unchanged until their entry
        changes; and the frozen bills (`_frozen_bills`): those `held` read before the plan, and those of bills
        added to `children` since (noted by an earlier holder: `_doubted_changes`), read now."""
        added = [m for entry, m in children.items() if m.target_id not in held.seen and entry not in held.missing]
        frozen = {**held.frozen, **self._bill_states(added)[0]}
        planned = {e.entry_id for e in changed}
        return [e for e in plan.entries if e.entry_id in held.missing and e.entry_id not in planned], frozen

    def _doubted_changes(
        self, plan: SheetPlan, children: dict[str, Mapping], forced: set[str], noted: set[str] | frozenset[str]
    ) -> tuple[list[EntryPlan], list[Mapping], set[str]]:
        """What an export writes and deletes (`_changes`) with bills in doubt, external IDs: `forced` (a write whose
        answer was lost) and `noted` (written by a holder that did not record them: `MappingStore.note_writes`).

        A noted bill no mapping holds, if NetSuite has it, is the sheet's: added to `children`, known by its internal
        ID from here on (it may have been frozen since: flagged then, not refused as a new one). Every bill in doubt
        is written whatever its mapping says, or, its entry no longer on the sheet, is a stray (the third value,
        external IDs), deleted where NetSuite holds it. Reads only (one query, for the noted bills)."""
        unmapped = {external_id(e.entry_id) for e in plan.entries if e.entry_id not in children} & noted
        children.update((m.source_id, m) for m in self._bills_under(unmapped, plan.sheet.ID))
        doubted = set(forced | noted)
        changed, removed = _changes(plan, children, doubted)
        strays = doubted - {external_id(e.entry_id) for e in plan.entries}
        if plan.short:  # a noted bill the report does not show may be of an entry it left out: it stays noted
            strays -= noted
        return changed, removed, strays

    def _write_bills(
        self,
        plan: SheetPlan,
        changed: list[EntryPlan],
        children: dict[str, Mapping],
        frozen: dict[str, str],
        written: list[Mapping],
        flags: list[str],
    ) -> None:
        """Upsert each changed bill (a frozen one is flagged instead), adding its mapping to `written`, up to
        `time.write_concurrency` at once (`records.window`: the outcome does not depend on thread timing), each
        request in one of the invocation's slots (shared with the other sheets in progress: see `apply`). A bill
        NetSuite refuses is raised naming the time entry and the bill's external ID, once every bill written beside
        it is in `written`."""
        sheet_id = plan.sheet.ID

        def write(entry: EntryPlan) -> Mapping | str:
            """The bill's mapping once written, or the flag saying why it was not changed."""
            existing = children.get(entry.entry_id)
            if existing and existing.target_id in frozen:
                return (
                    f"time bill {existing.target_id} (entry {entry.entry_id}) {frozen[existing.target_id]}: not changed"
                )
            try:
                bill = self._netsuite.upsert_record(RECORD, entry.payload["externalId"], entry.payload)
            except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                if existing is None:
                    raise named(
                        refused, f"time entry {entry.entry_id} (time bill {entry.payload['externalId']})"
                    ) from None
                return f"time bill {existing.target_id} (entry {entry.entry_id}, {entry.day}): NetSuite refused: {refused.detail}"
            except NetSuiteError as refused:
                self._name_setting(refused, entry)
                raise named(refused, f"time entry {entry.entry_id} (time bill {entry.payload['externalId']})") from None
            return Mapping(
                kind=ENTRY_KIND,
                source_id=entry.entry_id,
                target_id=bill,
                content_hash=bill_hash(entry.payload),
                parent=f"{KIND}#{sheet_id}",
                details={
                    "minutes": str(entry.minutes),
                    "date": entry.day.isoformat(),
                    "project": entry.project,
                    "employee": plan.employee,
                    **({"posted": entry.posted.isoformat()} if entry.posted else {}),
                },
            )

        failure: BaseException | None = None
        for ran in in_window(changed, write, self._settings.write_concurrency):
            if ran.error is not None:
                failure = failure or ran.error  # the first in the plan's order
            elif isinstance(ran.value, Mapping):
                written.append(ran.value)
            elif ran.value is not None:
                flags.append(ran.value)
        if failure is not None:
            raise failure

    def _name_setting(self, refused: NetSuiteError, entry: EntryPlan) -> None:
        """A bill refused on its item when the item is `time.service_item_id`'s: the setting names the fix (before,
        only NetSuite's "Invalid item reference key 99999" under `netsuite-invalid_key_or_ref:item`, no fix; review
        of configuration, 2026-12-04). `ctns check` says so before a run."""
        item = str((entry.payload.get("item") or {}).get("id") or "")
        setting = self._settings.service_item_id
        if (refused.path or "").lower() != "item" or setting is None or item != str(setting):
            return
        refused.message += f" (the item of time.service_item_id {setting})"
        refused.args = (refused.message,)
        refused._cause = "setting:time.service_item_id"
        refused.fix = (
            f"set time.service_item_id to the internal id of an active service item (NetSuite refused {setting}; "
            "ctns check reads it), or give the project task an assignee line with its own service item; then "
            "ctns redrive time"
        )

    def _withdraw(self, lock: Lock, message: WorkMessage, status: str, attempt: Attempt) -> Outcome:
        """The timesheet is not approved any more: its time bills leave NetSuite (or are flagged, by policy)."""
        before = lock.mapping
        children = self._mappings.children(KIND, message.source_id)
        record_ids.note_mappings(children)
        doubted = attempt.forced | attempt.noted
        if before is None and not children and not doubted:
            self._mappings.release(lock)
            return Outcome("skipped", None, f"timesheet is {status} and was never exported")
        if before is not None and before.details.get(sheets.BLOCKED) and not children and not doubted:
            self._mappings.commit(lock, sheets.let_go(self._runlog, message, before, status))
            return Outcome("skipped", None, f"timesheet is {status}: it was blocked, nothing of it is in NetSuite")
        flags: list[str] = []
        strays_gone = 0
        mapped = {m.target_id for m in children}
        if self._settings.on_unapproved == "flag":
            # Its bills stay, those an earlier holder wrote and did not record too (recorded now, with no content:
            # the next export that includes them writes them whole)
            adopted = self._adopt(attempt.noted, mapped, message.source_id)
            children = list({m.source_id: m for m in [*children, *adopted]}.values())
            if before is None and not children:  # the noted writes never reached NetSuite
                self._mappings.release(lock, settled=True)
                return Outcome("skipped", None, f"timesheet is {status} and was never exported")
            flags = [
                f"timesheet is {status}: its {len(children)} time bill(s) stay in NetSuite (time.on_unapproved = flag)"
            ]
            gone: list[str] = []
            # but one a late request brought back was never the sheet's; one in doubt that stays is written whole by
            # the next export that includes it (its content is not known).
            strays_gone, kept_strays = self._delete_strays(
                attempt.forced - {external_id(m.source_id) for m in children}, flags, mapped, attempt
            )
            children += kept_strays
            unknown = attempt.forced | attempt.noted  # what NetSuite holds of these is not known: written whole later
            whole = [m for m in children if external_id(m.source_id) in unknown]
            self._mappings.put_many(m.model_copy(update={"content_hash": ""}) for m in whole)
        else:
            frozen = self._frozen_bills(children)
            gone = self._delete_bills(children, frozen, flags, attempt)
            self._mappings.delete_many(ENTRY_KIND, gone)
            strays_gone, kept_strays = self._delete_strays(doubted, flags, mapped, attempt)
            children = [*children, *kept_strays]
        if not flags:
            sheets.released(self._runlog, message, before, FROZEN)
        if before is not None and before.details.get(SHORT_DETAIL):
            # no longer wanted in NetSuite: what its report lacked is nobody's to fix
            self._runlog.unblock(message.sync, SHORT, message.source_id)
        flags, told = sheets.withdrawal_flags(before, status, flags)
        self._flag(message, message.source_id, flags)
        doubts = self._doubts(lock, attempt, children)
        remaining = len(children) - len(gone)
        target = before.target_id if before else Mapping.placeholder(KIND, message.source_id)
        # What its report lacked is told again if the sheet comes back still short
        kept = {k: v for k, v in time_doubts.cleared(before.details).items() if k != SHORT_DETAIL} if before else {}
        mapping = Mapping(
            kind=KIND,
            source_id=message.source_id,
            target_id=target,
            # A look is not a new version: the fence stays where ClickTime's approvals put it.
            source_version=before.source_version
            if attempt.look and before
            else max(filter(None, [message.version, before.source_version if before else None])),
            details={**kept, "withdrawn": status, "entries": str(remaining), **told, **doubts},
            deleted=remaining == 0,
        )
        self._mappings.commit(lock, mapping, settled=True)
        deleted = len(gone) + strays_gone - attempt.absent
        detail = f"timesheet is {status}: {deleted} time bill(s) deleted{_absent(attempt)}"
        if attempt.look:
            detail = f"{LOOKED}: {detail}"
        return Outcome("updated" if deleted else "unchanged", target, detail)

    # -- bill writes of unknown outcome (`records.time_doubts`) ---------------------------------------------
    def _doubts(self, lock: Lock, attempt: Attempt, bills: list[Mapping]) -> dict[str, str]:
        """The doubt details the timesheet's new mapping holds after this attempt's writes. A doubtful write lists
        the timesheet (before its mapping is recorded: listed and found settled costs a look, never a miss); a
        look none of whose writes was doubtful unlists it."""
        sheet_id = lock.source_id
        before = lock.mapping.details if lock.mapping else {}
        kept = {} if attempt.look else time_doubts.carried(before)
        doubted = time_doubts.doubted_bills(attempt.sent, [*bills, *attempt.strays], external_id)
        if doubted:
            self._mappings.list_unsettled(KIND, sheet_id)
            logger.info(
                f"timesheet {sheet_id}: {len(doubted)} time bill write(s) had an unknown outcome; "
                "a later run writes those bills again",
                extra={"kind": KIND, "source_id": sheet_id, "target_ids": sorted(doubted)},
            )
        elif attempt.look:
            self._mappings.unlist_unsettled(KIND, sheet_id)
        return time_doubts.with_doubts(kept, doubted, utc_now())

    def _keep_doubts(self, lock: Lock, attempt: Attempt) -> None:
        """An export that failed after a write of unknown outcome still records the bills in doubt (the retry
        that succeeds later cannot tell that an earlier request is on its way). Failing here too, it says so in
        the log and leaves the export's own error to be reported."""
        try:
            self._record_doubts_of_failure(lock, attempt)
        except Exception:
            logger.exception(
                f"timesheet {lock.source_id}: the bills in doubt after a failed export could not be recorded",
                extra={"kind": KIND, "source_id": lock.source_id, "sent": len(attempt.sent)},
            )

    def _record_doubts_of_failure(self, lock: Lock, attempt: Attempt) -> None:
        bills = self._mappings.children(KIND, lock.source_id)
        if not time_doubts.doubted_bills(attempt.sent, [*bills, *attempt.strays], external_id):
            return
        before = lock.mapping
        # Not a look's own details: a failed look keeps what it was to write, and adds these
        details = self._doubts(lock, Attempt(attempt.sent, strays=attempt.strays), bills)
        if before is None:
            period = {"period_start": attempt.period_start} if attempt.period_start else {}
            mapping = Mapping(
                kind=KIND,
                source_id=lock.source_id,
                target_id=Mapping.placeholder(KIND, lock.source_id),
                details={**period, **details},
            )
        else:
            mapping = before.model_copy(update={"details": {**before.details, **details}})
        self._mappings.commit(lock, mapping)

    def _delete_strays(
        self, external_ids: set[str], flags: list[str], mapped: set[str], attempt: Attempt
    ) -> tuple[int, list[Mapping]]:
        """Delete the bills with these external IDs that NetSuite holds, other than the `mapped` ones (internal IDs:
        deleted or kept by their mappings): a late request may have brought them back, or a holder written them and
        not recorded them. How many, and those NetSuite holds frozen (billed, posted, a closed period: flagged instead),
        recorded as the sheet's so that a later pass deletes them once NetSuite lets it."""
        strays = self._bills_under(external_ids, attempt.sheet_id, mapped)
        attempt.strays.extend(strays)  # so that a delete of unknown outcome is known as that bill's
        frozen = self._frozen_bills(strays)
        gone = set(self._delete_bills(strays, frozen, flags, attempt))
        kept = [m for m in strays if m.source_id not in gone]
        self._mappings.put_many(kept)
        return len(gone), kept

    def _adopt(self, external_ids: set[str], mapped: set[str], sheet_id: str) -> list[Mapping]:
        """The bills with these external IDs NetSuite holds, other than the `mapped` ones (internal IDs), recorded as
        the sheet's with no content (a later export writes them whole): their mappings."""
        adopted = self._bills_under(external_ids, sheet_id, mapped)
        self._mappings.put_many(adopted)
        return adopted

    def _bills_under(self, external_ids: set[str], sheet_id: str, mapped: set[str] = frozenset()) -> list[Mapping]:
        """The bills NetSuite holds under these external IDs, other than the `mapped` ones (internal IDs), as
        mappings of the sheet's with no content (one query, paged; none without IDs)."""
        # `external_id` writes only [A-Za-z0-9_-]; the check keeps anything else out of the query all the same.
        listed = ", ".join(f"'{eid}'" for eid in sorted(external_ids) if not netsuite_ids.UNWRITTEN.search(eid))
        if not listed:
            return []

        def query(after: str | None) -> str:
            return (
                "SELECT tb.id AS id, tb.externalid AS externalid FROM timebill tb "
                f"WHERE tb.externalid IN ({listed}){keyset('tb', after)} ORDER BY tb.id"
            )

        return [
            Mapping(
                kind=ENTRY_KIND,
                source_id=eid.removeprefix(EXTERNAL_PREFIX),
                target_id=bill,
                parent=f"{KIND}#{sheet_id}",
            )
            for bill, eid in ((str(row["id"]), str(row.get("externalid") or "")) for row in self._netsuite.rows(query))
            if bill not in mapped
        ]

    # -- billed, posted and closed bills are never changed --------------------------------------------------
    def _frozen_bills(self, mappings: list[Mapping]) -> dict[str, str]:
        """Bill ID -> why it must not change: billed or posted in NetSuite, or dated in a closed period."""
        return self._bill_states(mappings)[0]

    def _bill_states(
        self, mappings: list[Mapping]
    ) -> tuple[dict[str, str], set[str], dict[str, tuple[date | None, int | None]]]:
        """What NetSuite holds of these bills: the frozen ones (`_frozen_bills`), the IDs it has at all, and each
        one's date and minutes (None where it gives none, or one that cannot be read)."""
        ids = sorted({m.target_id for m in mappings if is_number(m.target_id)})
        if not ids:
            return {}, set(), {}
        frozen: dict[str, str] = {}
        seen: set[str] = set()
        bills: dict[str, tuple[date | None, int | None]] = {}
        for start in range(0, len(ids), 1000):
            chunk = id_list(ids[start : start + 1000])

            def query(after: str | None, chunk: str = chunk) -> str:
                return (
                    "SELECT tb.id AS id, tb.isbilled AS isbilled, tb.posted AS posted, tb.hours AS hours, "
                    f"TO_CHAR(tb.trandate, 'YYYY-MM-DD') AS trandate FROM timebill tb "
                    f"WHERE tb.id IN ({chunk}){keyset('tb', after)} ORDER BY tb.id"
                )

            for row in self._netsuite.rows(query):
                seen.add(str(row["id"]))
                bills[str(row["id"])] = (_day_of(row.get("trandate")), _minutes_of(row.get("hours")))
                if row.get("isbilled") == "T" or row.get("posted") == "T":
                    frozen[str(row["id"])] = "is billed or posted in NetSuite"
                    continue
                period = self._ns.period_of(date.fromisoformat(row["trandate"])) if row.get("trandate") else None
                if period is not None and period.closed:
                    frozen[str(row["id"])] = f"is in closed period {period.name}"
        return frozen, seen, bills

    def _delete_bills(
        self, mappings: list[Mapping], frozen: dict[str, str], flags: list[str], attempt: Attempt
    ) -> list[str]:
        """Delete these bills (but the `frozen` ones: flagged, kept); the entries (source IDs) whose bill NetSuite no
        longer holds, their mappings to let go. Those it had already lost (deleted there by a person) are counted in
        `attempt.absent`, not as the attempt's deletions."""
        gone: list[str] = []
        for mapping in mappings:
            if mapping.target_id in frozen:
                flags.append(
                    f"time bill {mapping.target_id} (entry {mapping.source_id}) {frozen[mapping.target_id]}: not deleted"
                )
                continue
            try:
                self._netsuite.delete_record(RECORD, mapping.target_id)
            except NetSuiteNotFound:
                attempt.absent += 1
            except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                worked = mapping.details.get("date", "")
                period = self._ns.period_of(date.fromisoformat(worked)) if worked else None
                where = f", period {period.name}" if period else ""
                flags.append(
                    f"time bill {mapping.target_id} (entry {mapping.source_id}{where}): NetSuite refused: {refused.detail}"
                )
                continue
            gone.append(mapping.source_id)
        return gone

    def _flag(self, message: WorkMessage, sheet_id: str, flags: list[str]) -> None:
        """A change NetSuite must not receive is a cause a person sees, not a silent skip."""
        record_flags(
            self._runlog,
            message,
            flags,
            what=f"timesheet {sheet_id}",
            cause_key=FROZEN,
            fix="billed, posted or closed-period time is not changed by the sync: adjust it in NetSuite, or once"
            " NetSuite lets it (the invoice voided, the period reopened) run "
            + backfill_since(
                "time",
                f"timesheet {sheet_id}",
                message.version,
                "withdrawal (as read)" if message.op == "delete" else "approval",
            ),
        )


def planned_billable(clicktime_says: bool | None, non_billable_task: bool) -> bool:
    """A time bill's billable flag: ClickTime's (Reports/Time's `IsBillable`, by its billing model: the job's or the
    task's), but never billable on a project task NetSuite marks non-billable (`nonBillableTask`: training, internal
    QA, warranty). Billing by job, ClickTime never hears of that flag (the tasks sync sends a task's billability only
    to a company that bills by task), and NetSuite's invoicing bills what its time bills say. The export's plan, and
    with it `ctns plan` and `ctns reconcile time`, decide by this alone."""
    return bool(clicktime_says) and not non_billable_task


OVERRIDDEN_LISTED = 5  # entries a note of overridden billability names; the rest are counted


def overridden_notes(plan: SheetPlan) -> list[str]:
    """One note per ClickTime task of the sheet whose billable time goes non-billable (`planned_billable`), both
    tasks' IDs and its entries counted (the first few named), not a line per entry."""
    notes = []
    for (ct_task, ns_task), entries in sorted(plan.overridden.items()):
        named = ", ".join(entries[:OVERRIDDEN_LISTED]) + (
            f" and {len(entries) - OVERRIDDEN_LISTED} more" if len(entries) > OVERRIDDEN_LISTED else ""
        )
        count = f"{len(entries)} time entr{'y' if len(entries) == 1 else 'ies'}"
        notes.append(
            f"timesheet {plan.sheet.ID}: {count} ClickTime has billable on ClickTime task {ct_task} went to NetSuite "
            f"non-billable: NetSuite project task {ns_task} is non-billable (nonBillableTask) ({named})"
        )
    return notes


def _kept_postings(children: Iterable[Mapping]) -> tuple[dict[str, str], dict[str, str]]:
    """From the entries' mappings: entry -> the date its bill was posted on when moved out of a closed period, and
    entry -> the day worked it was last written for (YYYY-MM-DD both): the period it was moved out of."""
    children = list(children)
    posted = {m.source_id: m.details["posted"] for m in children if m.details.get("posted")}
    worked = {m.source_id: m.details["date"] for m in children if m.source_id in posted and m.details.get("date")}
    return posted, worked


def _day_of(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _minutes_of(hours: Any) -> int | None:
    """A bill's minutes as NetSuite gives them (`netsuite_minutes`), None where it gives none it can read."""
    if hours is None or hours == "":
        return None
    try:
        return netsuite_minutes(hours)
    except (ArithmeticError, ValueError):
        return None


def _noted(entries: list[TimeEntry]) -> list[TimeEntry]:
    """The sheet's entries as read, each noted: a line about the sheet names them (`record_ids`)."""
    record_ids.note(source=(e.ID for e in entries))
    return entries


def _absent(attempt: Attempt) -> str:
    return f", {attempt.absent} deleted in NetSuite already" if attempt.absent else ""


UNAPPROVED_EDIT = "its time changed since its export without an approval stamp (un-approved since)"

SHORT_READ = "short"  # a stamp-less export of a short report: what was approved is not known whole


def _unrecorded(count: int, done: str) -> str:
    """A plan's detail of the bills an earlier holder wrote and did not record (`MappingStore.writes_noted`)."""
    return f"{count} time bill(s) an earlier run wrote and did not record: {done}"


def time_fingerprint(rows: list[TimeEntry]) -> str:
    """The timesheet's time as ClickTime's report gave it: each row's ID, day, minutes, job and task (not what the
    export made of them, which a config or a link can change). Hours no day holds (`hours_refused`) as given: they
    have no minutes to count."""
    return content_hash(
        {
            r.ID: [
                r.Date[:10],
                netsuite_minutes(r.Hours) if r.Hours <= HOURS_IN_A_DAY else str(r.Hours),
                r.JobID,
                r.TaskID,
            ]
            for r in rows
        }
    )


def _unapproved_edit(plan: SheetPlan, before: Mapping | None) -> bool:
    """Whether a Locked timesheet without `ApprovedDate`, counted as approved only because it was exported while
    approved without one (`clicktime_source.exported_unstamped`), now has time other than the approval that export
    read: an approved sheet cannot be edited, so it was un-approved and edited since, and its new time was never
    approved. Never judged so: a sheet with its stamp, or approved; a report short now, or short then (rows hidden
    from the integration user are no edit), or an export that kept no reading of the time."""
    sheet = plan.sheet
    if TIMESHEETS.counts_as_approved(sheet.Status, sheet.ApprovedDate) or plan.short or before is None:
        return False
    read_then = before.details.get(UNSTAMPED, "")
    return read_then not in ("", "true", SHORT_READ) and read_then != plan.time_read


def exported_as_read(
    before: Mapping | None, rows: list[TimeEntry], children: list[Mapping], projects: Projects
) -> bool:
    """Whether the sheet's Reports/Time `rows` are those its last export wrote: with `exported_as_approved` (the
    listing's fingerprint the same), what lets a sheet whose plan now finds only a reference retired since be held as
    NetSuite holds it. The listing shows the stamp and the day totals only: a correction approved again under a stamp
    that reads the same (a date alone, none at all) that keeps each day's total (an entry moved to another task or
    job) was held "unchanged", NetSuite keeping the old time with no cause (review, day 2). By the rows' fingerprint
    the export recorded (`TIME_READ`); for a mapping written before it was recorded, by its bills' mappings (each
    entry's day, project and minutes: a move to another task of the same project is not seen there)."""
    if before is None:
        return False
    read = before.details.get(TIME_READ)
    if read:
        return read == time_fingerprint(rows)
    timed: list[tuple[TimeEntry, str]] = []
    for row in rows:
        if hours_refused(row.Hours, HOURS_IN_A_DAY):
            return False
        project = projects.project_of_job(row.JobID) if row.JobID else None
        if project is not None:
            timed.append((row, project))
    allocated = bill_minutes(timed)
    planned = {e.ID: (e.Date[:10], project, allocated[e.ID]) for e, project in timed if allocated[e.ID]}
    held = {
        m.source_id: (m.details.get("date", ""), m.details.get("project", ""), int(m.details.get("minutes") or -1))
        for m in children
        if not m.deleted and is_number(m.target_id)
    }
    return planned == held


def hours_refused(hours: Decimal, most: int) -> str | None:
    """Why ClickTime's `Hours` of one entry cannot be exported (words naming the value), or None: negative, or more
    than a day holds (`time.max_hours_per_day`). Such an entry blocks its sheet and is counted nowhere (the plan,
    the report-short check and the reconciliation leave it out): a figure like 1E+30 h has more digits than
    Decimal's context, and rounding it to minutes raised InvalidOperation (retried, then "gave up"), and crashed
    `ctns reconcile time` (payroll review, 2026-12-04)."""
    if hours < 0:
        return f"negative hours {hours}"
    if more_than_a_day(hours, most):
        return f"hours {hours}, more than {most} h in a day"
    return None


def more_than_a_day(hours: Decimal, most: int) -> bool:
    """Whether `hours` are more than `most` to the minute the export writes (half up): ClickTime sends hours as
    doubles, and 8 h read as 8.000000000000002 is 8:00, not more than 8 h (it was refused: review, day 2). Compared
    without rounding, so a figure of any size (1E+30) is judged, never raised on."""
    return hours > most and (hours >= most + 1 or hours * MINUTES_PER_HOUR >= most * MINUTES_PER_HOUR + HALF_A_MINUTE)


def _short_of(sheet: Timesheet, rows: list[TimeEntry]) -> tuple[str, frozenset[str]]:
    """What the sheet's Reports/Time rows lack against its own DayTotals, and on which days (nothing when they agree,
    or when ClickTime gave no totals). The report returns only the time its user may see: an entry it leaves out
    would be exported short, and its bill deleted as if the entry were gone.

    Compared in whole minutes, as the bills are written (a total sent as a double, 3.3000000000000003 for 1.1 + 2.2,
    is 3.3 h); a total that is not a number is not compared. UNVERIFIED: whether DayTotals count time the report
    does not return by design (time off, holidays); such a day would be flagged, and only its bills kept."""
    if sheet.DayTotals is None:
        return "", frozenset()
    reported: dict[str, Decimal] = {}
    # A day with an entry no day holds is not compared: the entry blocks the sheet itself (`hours_refused`), and
    # 1E+30 h has no minutes to count
    beyond = {row.Date[:10] for row in rows if row.Hours > HOURS_IN_A_DAY}
    for row in rows:
        reported[row.Date[:10]] = reported.get(row.Date[:10], Decimal(0)) + row.Hours
    short: dict[str, str] = {}
    for total in sheet.DayTotals:
        day, hours = str(total.get("Date") or "")[:10], total.get("Hours")
        if day in beyond:
            continue
        try:
            expected = hours_to_minutes(Decimal(str(hours)))
        except (ArithmeticError, ValueError):
            continue
        got = hours_to_minutes(reported.get(day, Decimal(0)))
        if day and got < expected:
            short[day] = f"{day} {duration(got)} of {duration(expected)}"
    if not short:
        return "", frozenset()
    text = (
        f"ClickTime's time report lacks time the timesheet has ({'; '.join(short[d] for d in sorted(short))}): what it "
        "lacks is not exported, and no bill of those days is deleted"
    )
    return text, frozenset(short)


def bill_minutes(timed: list[tuple[TimeEntry, str]], fixed: dict[str, int] | None = None) -> dict[str, int]:
    """Whole minutes per entry (with its NetSuite project) of one timesheet, as its bills are written: allocated per
    project and day, a tie going to the entry first by (date, ClickTime ID). The reconciliation calls this too: the
    order the rows came in would give a tie to another entry, and a billable difference that does not exist.
    `fixed`: entry -> the minutes of its bill NetSuite will not let change (billed, posted, a closed period), kept
    (`ctsync.minutes.allocate`: the day's other entries share the rest)."""
    ordered = sorted(timed, key=lambda t: (t[0].Date, t[0].ID))
    return allocate([Timed(e.ID, (project, e.Date[:10]), e.Hours) for e, project in ordered], fixed)


def netsuite_minutes(hours: Any) -> int:
    """A time bill's hours as NetSuite gives them back (SuiteQL's decimal, a decimal text, or `H:MM`: exports
    addendum U1) as whole minutes. Raises ValueError (a malformed H:MM) or decimal.InvalidOperation (no number)."""
    text = str(hours).strip()
    if ":" in text:
        whole, _, minutes = text.partition(":")
        if not (is_number(whole) and is_number(minutes) and len(minutes) == 2 and int(minutes) < 60):
            raise ValueError(f"time bill hours {text!r} are not H:MM")
        return int(whole) * 60 + int(minutes)
    return hours_to_minutes(Decimal(text))
