"""Reading approvals from ClickTime: approved sheets (timesheets or expense sheets), and exported sheets that
are no longer approved.

ClickTime has no approved-since filter and no modified-since stamp (research notes clicktime-api §4.1), so:
- the approved sheets of the periods in the look-back are listed (`Status` filter, `verbose=true` for
  `ApprovedDate`), and those approved at or after the window's start are changes (version = `ApprovedDate`).
  The poller lists further back (`late_approval_days`) than the look-back the reconciliation compares: a sheet
  approved, corrected or rejected weeks after its period (late expense claims, a correction after month end)
  is still seen, and only approvals since the last run become work, so the older sheets cost a longer list
  (1,000 sheets a page), nothing more;
- the listing pages by offset, the only paging ClickTime has, so it is read whole before anything is emitted
  and read again when its total changed between pages (an approval undone while reading shifts offsets);
  what is emitted then is ordered by (approval, ID), and the resume key is the last one emitted, so a
  continuation never depends on offsets;
- the window ends at ClickTime's own clock (the HTTP `Date` of a call) minus a skew margin.

The second phase lists the sheets this integration exported (its mappings) whose period is in the look-back
and that are not approved any more (un-approved, rejected, deleted): each becomes a withdrawal for the worker,
which reads the sheet's status again before it removes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ctsync.clicktime.client import ClickTimeClient
from ctsync.errors import TransientError
from ctsync.records.targets import content_hash
from ctsync.state import MappingStore
from ctsync.sync.definition import ChangeBatch, Window
from ctsync.sync.messages import Change
from ctsync.timeutil import format_instant, latest_instant_of, parse_loose_instant, same_all_day

APPROVED, WITHDRAWN = "approved", "withdrawn"
# Mapping detail of a sheet blocked while nothing of it is in NetSuite (never exported, or withdrawn whole): the keys
# of the causes holding it. Such a mapping is listed by the withdrawn phase, deleted as it is, so a sheet rejected or
# deleted after it was blocked reaches the worker, which lets go of those causes (`sheet_export.let_go`).
BLOCKED = "blocked"
# Mapping detail: the sheet was exported while approved without an ApprovedDate (as of the run). Locked since, it
# shows no stamp still, and only this says an approval is behind the lock (`exported_unstamped`).
UNSTAMPED = "approved_unstamped"


def exported_unstamped(mapping: Any) -> bool:
    """Whether this mapping holds an export made while the sheet was approved without a stamp, and not withdrawn since.
    A stamped export's sheet seen locked without its stamp had the stamp cleared: un-approved before the lock."""
    return (
        mapping is not None
        and bool(mapping.target_id)
        and not mapping.deleted
        and not mapping.details.get("withdrawn")
        and bool(mapping.details.get(UNSTAMPED))
    )


BATCH = 100  # changes per batch (each batch is one cursor save)
READ_ATTEMPTS = 3

# How far past the window's end sheets are listed. A sheet may be approved before its period ends (a week approved on
# Thursday, leave approved weeks ahead); a list that stopped at tomorrow would miss it the night it was approved,
# and by the time its period ended the approval would be older than the window (skipped for good).
AHEAD = timedelta(days=400)


EXPENSE_TOTALS = ("TotalAmount", "ReimbursableAmount", "ExpenseItemCount")  # an expense sheet's, listed verbose


def decimal_text(value: Any) -> str | None:
    """A decimal ClickTime gives as a number or a string ("7.5", 7.50), as one text ("7.5"); anything else as given
    (so that a change of it is still a change), None as None."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    try:
        number = Decimal(str(value))
    except ArithmeticError:  # decimal.InvalidOperation
        return str(value)
    return format(number.normalize(), "f") if number.is_finite() else str(value)


def time_by_day(day_totals: Any) -> list[tuple[str, str | None]] | None:
    """A timesheet's `DayTotals` (verbose: `[{"Date", "Hours"}]`) as sorted (date, hours) pairs of the days with time;
    None when the listing gave none."""
    if not isinstance(day_totals, list):
        return None
    days = [
        (str(total.get("Date")), decimal_text(total.get("Hours")))
        for total in day_totals
        if isinstance(total, dict) and decimal_text(total.get("Hours")) not in (None, "0")
    ]
    return sorted(days)


@dataclass(frozen=True)
class SheetKind:
    """What differs between timesheets and expense sheets."""

    mapping_kind: str  # "timesheet" | "expensesheet"
    path: str  # "/Timesheets" | "/ExpenseSheets"
    approved_status: str  # "Approved" (timesheets, PascalCase) | "approved" (expense sheets, lower case)
    from_param: str  # "FromDate" | "FromExpenseSheetDate"
    to_param: str  # "ToDate" | "ToExpenseSheetDate"
    period_start: Callable[[dict[str, Any]], str]  # the sheet's date that places it in the look-back
    snapshot_fields: tuple[str, ...]
    # Later statuses of an approved sheet that still count as approved: an expense sheet marked paid was approved
    # (and one approved and paid between two runs would otherwise never be listed, nor exported).
    also_approved: tuple[str, ...] = ()
    # Statuses that count as approved only while the sheet keeps its approval stamp (ApprovedDate): a timesheet
    # locked after its approval (ClickTime's own QuickBooks connector exported "approved or locked" time; locking
    # freezes it for payroll), not one locked before anyone approved it.
    approved_if_stamped: tuple[str, ...] = ()
    # What of the listed sheet a correction changes (its time by day, its amounts), in the change's fingerprint: a
    # sheet corrected and approved again under a stamp that reads the same as the exported approval's (a date alone,
    # none at all) is queued, not held as exported. The listing's own totals (verbose), so no read more.
    content: Callable[[dict[str, Any]], Any] = lambda sheet: None

    def fingerprint(self, sheet: dict[str, Any]) -> str:
        """The approval's fingerprint: the listed sheet's snapshot fields and content (what a sheet's mapping keeps
        once the approval went through, `records.sheet_export.kept_fingerprint`)."""
        snapshot = {name: sheet.get(name) for name in self.snapshot_fields}
        return content_hash({**snapshot, "content": self.content(sheet)})

    @property
    def exported_statuses(self) -> tuple[str, ...]:
        """The statuses listed as approvals (`counts_as_approved` decides the ones that need a stamp)."""
        return (self.approved_status, *self.also_approved, *self.approved_if_stamped)

    def counts_as_approved(self, status: str | None, approved_date: Any) -> bool:
        """Whether a sheet of this status and ApprovedDate is exported (and its target kept)."""
        if status in self.approved_if_stamped:
            return bool(approved_date)
        return status in (self.approved_status, *self.also_approved)

    def approved_given(self, status: str | None, approved_date: Any, mapping: Any) -> bool:
        """`counts_as_approved`, or a lock without a stamp over an export of an approval without one (its `mapping`:
        `exported_unstamped`): the lock does not bring the stamp ClickTime never gave, and the bills are time finance
        has already."""
        if self.counts_as_approved(status, approved_date):
            return True
        return status in self.approved_if_stamped and not approved_date and exported_unstamped(mapping)


TIMESHEETS = SheetKind(
    mapping_kind="timesheet",
    path="/Timesheets",
    approved_status="Approved",
    from_param="FromDate",
    to_param="ToDate",
    period_start=lambda sheet: sheet["StartDate"],
    snapshot_fields=("ID", "UserID", "StartDate", "EndDate", "Status", "ApprovedDate"),
    approved_if_stamped=("Locked",),
    content=lambda sheet: time_by_day(sheet.get("DayTotals")),
)
EXPENSE_SHEETS = SheetKind(
    mapping_kind="expensesheet",
    path="/ExpenseSheets",
    approved_status="approved",
    from_param="FromExpenseSheetDate",
    to_param="ToExpenseSheetDate",
    period_start=lambda sheet: sheet["ExpenseSheetDate"],
    snapshot_fields=("ID", "UserID", "Title", "ExpenseSheetDate", "Status", "ApprovedDate", "Paid"),
    also_approved=("paid",),
    content=lambda sheet: {name: decimal_text(sheet.get(name)) for name in EXPENSE_TOTALS},
)


def approved_at(sheet: dict[str, Any]) -> datetime | None:
    text = sheet.get("ApprovedDate")
    return parse_loose_instant(text) if text else None


class ApprovedSheetSource:
    """Approvals of one ClickTime sheet kind, as changes (see the module docstring)."""

    phases = (APPROVED, WITHDRAWN)

    def __init__(
        self,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        kind: SheetKind,
        *,
        lookback_days: int,
        skew_seconds: int,
        late_approval_days: int = 0,
    ) -> None:
        self._clicktime = clicktime
        self._mappings = mappings
        self._kind = kind
        self._lookback = timedelta(days=lookback_days)
        self._listed = timedelta(days=max(lookback_days, late_approval_days))
        self._skew = timedelta(seconds=skew_seconds)

    def window_end(self) -> datetime:
        return self._clicktime.server_time() - self._skew

    def read(self, phase: str, window: Window, after: str | None) -> Iterator[ChangeBatch]:
        if phase == APPROVED:
            yield from self._approved(window, after)
        elif phase == WITHDRAWN:
            yield from self._withdrawn(window, after)
        else:
            raise ValueError(f"unknown phase {phase!r}")

    # -- approved ---------------------------------------------------------------------------------
    def first_day(self, window: Window, *, late: bool = False) -> date:
        """The earliest sheet date read: the look-back (with `late`, the poller's `late_approval_days` when longer),
        or the window's start when that is earlier (a first run), less one more week so that a period that began
        before it is read too."""
        earliest = min(window.start, window.end - (self._listed if late else self._lookback))
        return earliest.date() - timedelta(days=7)

    def approved_sheets(self, window: Window, *, late: bool = False) -> list[dict[str, Any]]:
        """Every approved sheet whose date is in the look-back (`first_day`; read whole, again if it moved while
        read), with the kind's later statuses that still count as approved (a paid expense sheet)."""
        statuses = self._kind.exported_statuses
        params = {
            "Status": statuses[0] if len(statuses) == 1 else list(statuses),
            self._kind.from_param: self.first_day(window, late=late).isoformat(),
            self._kind.to_param: (window.end.date() + AHEAD).isoformat(),
            "verbose": "true",
        }
        # Paged by offset: a sheet leaving the list while it is read shifts the later pages, and one arriving
        # beside it keeps the count, so a sheet listed throughout could fall between two pages. A list of more than
        # one page is believed once two whole reads in a row agree.
        previous: set[str] | None = None
        for _ in range(READ_ATTEMPTS + 1):
            sheets, totals, pages = self._list_once(params)
            ids = {str(sheet["ID"]) for sheet in sheets}
            if len(totals) <= 1 and (pages == 1 or ids == previous):
                return self._counted(sheets)
            previous = ids if len(totals) <= 1 else None
        raise TransientError(
            f"ClickTime's list of approved {self._kind.path} kept changing while it was read",
            code="LIST_MOVING",
            cause="clicktime-list-moving",
        )

    def _counted(self, sheets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The listed sheets that count as approved; the mappings are read only for those a stamp would decide."""
        unstamped = [
            str(s["ID"])
            for s in sheets
            if s.get("Status") in self._kind.approved_if_stamped and not s.get("ApprovedDate")
        ]
        held = self._mappings.get_many(self._kind.mapping_kind, unstamped) if unstamped else {}
        return [
            s
            for s in sheets
            if self._kind.approved_given(s.get("Status"), s.get("ApprovedDate"), held.get(str(s["ID"])))
        ]

    def _list_once(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], set[int], int]:
        """One read of the list, page by page: the sheets, the totals the pages gave, the number of pages."""
        sheets: list[dict[str, Any]] = []
        totals: set[int] = set()
        offset = pages = 0
        while True:
            envelope = self._clicktime.send("GET", self._kind.path, params={**params, "limit": 1000, "offset": offset})
            pages += 1
            items = envelope.data or []
            sheets.extend(items)
            total = (envelope.page or {}).get("count")
            if total is not None:
                totals.add(int(total))
            offset += 1000
            if not items or (total is not None and offset >= int(total)):
                return sheets, totals, pages

    def _approved(self, window: Window, after: str | None) -> Iterator[ChangeBatch]:
        changes: list[tuple[str, Change]] = []
        for sheet in self.approved_sheets(window, late=True):
            try:
                approved = approved_at(sheet)
                # a stamp without a zone may mean a later instant than its UTC reading: an approval the last
                # run did not see must not fall before this window
                latest = latest_instant_of(sheet["ApprovedDate"]) if approved else None
            except (AttributeError, TypeError, ValueError):
                # An approval stamp nobody can read must not stop the other sheets: the sheet goes to the worker,
                # which reads it again and refuses it as bad input naming the sheet and ApprovedDate.
                approved = latest = window.end
            if approved is None:
                # Approved with no stamp (ApprovedDate is verbose-only and unverified to be always set): exported
                # as of this run rather than never; its fingerprint keeps later runs from sending it again.
                approved = latest = window.end
            if latest is None or latest < window.start:
                continue
            snapshot = {name: sheet.get(name) for name in self._kind.snapshot_fields}
            fingerprint = self._kind.fingerprint(sheet)
            # A stamp with a date alone (or a day as its midnight) reads the same for every approval of that day: a
            # correction approved again the same day may keep every total the listing shows (an item moved to
            # another project)
            same_day = isinstance(sheet.get("ApprovedDate"), str) and same_all_day(sheet["ApprovedDate"])
            key = f"{format_instant(approved)}|{sheet['ID']}"
            changes.append(
                (
                    key,
                    Change(
                        str(sheet["ID"]),
                        approved,
                        snapshot=snapshot,
                        fingerprint=fingerprint,
                        judged_by_worker=same_day,
                    ),
                )
            )
        changes.sort(key=lambda pair: pair[0])
        pending = [pair for pair in changes if after is None or pair[0] > after]
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            yield ChangeBatch([change for _, change in chunk], last_key=chunk[-1][0])

    # -- withdrawn --------------------------------------------------------------------------------
    def _withdrawn(self, window: Window, after: str | None) -> Iterator[ChangeBatch]:
        if after is not None:
            return
        first_day = self.first_day(window, late=True).isoformat()
        exported = [
            m
            for m in self._mappings.all_of_kind(self._kind.mapping_kind)
            if (not m.deleted or m.details.get(BLOCKED)) and m.details.get("period_start", "9999") >= first_day
        ]
        if not exported:
            return
        approved = {str(sheet["ID"]) for sheet in self.approved_sheets(window, late=True)}
        gone = [
            Change(m.source_id, window.end, op="delete", snapshot={"ID": m.source_id})
            for m in sorted(exported, key=lambda m: m.source_id)
            if m.source_id not in approved
        ]
        if gone:
            yield ChangeBatch(gone, last_key=WITHDRAWN)
