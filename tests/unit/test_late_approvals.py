"""Approvals that come after a sheet left the look-back (`ApprovedSheetSource`, `late_approval_days`): the poller
lists further back than the reconciliation compares, and only approvals since the window's start become work, so a
late expense claim, a timesheet corrected after month end, or a sheet rejected weeks later is still exported or
withdrawn (a finance review found them lost, silently)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ctsync.clicktime.client import Envelope
from ctsync.records.clicktime_source import APPROVED, EXPENSE_SHEETS, WITHDRAWN, ApprovedSheetSource
from ctsync.state import Mapping
from ctsync.sync.definition import Window

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WINDOW = Window(start=NOW - timedelta(days=1), end=NOW)  # a nightly run


def sheet(sheet_id: str, dated: str, approved: datetime) -> dict[str, Any]:
    return {
        "ID": sheet_id,
        "UserID": "u",
        "ExpenseSheetDate": dated,
        "Status": "approved",
        "ApprovedDate": approved.isoformat(),
    }


class ClickTime:
    """Answers the expense sheets list from `sheets`, filtered by date as ClickTime filters (sheet date, not approval)."""

    def __init__(self, sheets: list[dict[str, Any]]) -> None:
        self.sheets = sheets
        self.asked_from: list[str] = []

    def send(self, method: str, path: str, params: dict[str, Any]) -> Envelope:
        assert (method, path) == ("GET", "/ExpenseSheets")
        since = params["FromExpenseSheetDate"]
        self.asked_from.append(since)
        found = [s for s in self.sheets if s["ExpenseSheetDate"] >= since]
        return Envelope(found[params["offset"] :][: params["limit"]], {"count": len(found)}, None)


class Mappings:
    def __init__(self, mappings: list[Mapping]) -> None:
        self.mappings = mappings

    def all_of_kind(self, kind: str) -> list[Mapping]:
        return [m for m in self.mappings if m.kind == kind]


def source(clicktime: ClickTime, mappings: Mappings | None = None, late: int = 120) -> ApprovedSheetSource:
    return ApprovedSheetSource(
        clicktime,  # type: ignore[arg-type]
        mappings or Mappings([]),  # type: ignore[arg-type]
        EXPENSE_SHEETS,
        lookback_days=42,
        skew_seconds=0,
        late_approval_days=late,
    )


def ids(batches: Any) -> list[str]:
    return [c.source_id for batch in batches for c in batch.changes]


def test_a_sheet_dated_before_the_look_back_and_approved_since_the_last_run_is_work():
    clicktime = ClickTime(
        [
            sheet("late-claim", "2026-09-15", NOW - timedelta(hours=3)),  # 69 days old, approved today
            sheet("old-news", "2026-09-16", NOW - timedelta(days=20)),  # approved long ago: exported then
            sheet("recent", "2026-11-10", NOW - timedelta(hours=5)),
        ]
    )
    assert sorted(ids(source(clicktime).read(APPROVED, WINDOW, None))) == ["late-claim", "recent"]
    assert clicktime.asked_from == ["2026-07-19"]  # 120 days and a week back
    # Without the longer list (late_approval_days no longer than the look-back) the late claim is never seen.
    assert ids(source(ClickTime(clicktime.sheets), late=42).read(APPROVED, WINDOW, None)) == ["recent"]


def test_a_sheet_rejected_weeks_after_its_export_is_withdrawn():
    exported = [
        Mapping(kind="expensesheet", source_id="rejected", target_id="r1", details={"period_start": "2026-10-10"}),
        Mapping(kind="expensesheet", source_id="kept", target_id="r2", details={"period_start": "2026-10-12"}),
    ]
    clicktime = ClickTime([sheet("kept", "2026-10-12", NOW - timedelta(days=40))])
    withdrawn = ids(source(clicktime, Mappings(exported)).read(WITHDRAWN, WINDOW, None))
    assert withdrawn == ["rejected"]


def test_the_reconciliation_keeps_comparing_the_look_back_only():
    """The reconciliation's first night compares the sheets the export's first run read (first_run_days): its
    range stays the look-back, so sheets approved before the integration started are not counted as missing."""
    clicktime = ClickTime([])
    source(clicktime).approved_sheets(WINDOW)
    assert clicktime.asked_from == ["2026-10-05"]  # 42 days and a week back
    assert source(clicktime).first_day(WINDOW, late=True).isoformat() == "2026-07-19"
