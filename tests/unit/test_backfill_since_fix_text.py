"""The `ctns backfill SYNC --since DAY` a cause's fix tells a person to type names a DAY the CLI reads as covering the
instant meant (finance review, 2026-12-04; the e2e case is tests/e2e/test_backfill_since_approval_date_east_of_utc.py):
the fixes said `--since <approval date>`, and ClickTime's date of an approval east of UTC (2026-11-24T01:00:00+10:00)
is the day after its UTC date, which the CLI reads as midnight UTC: the approval fell outside the window."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ctns.commands.common import parse_instant
from ctsync.clicktime.models import ExpenseItem, ExpenseSheet
from ctsync.records.blocking import backfill_since
from ctsync.records.expense_export import short_of
from ctsync.timeutil import parse_loose_instant


def _typed(fix: str, sync: str) -> str:
    found = re.search(rf"ctns backfill {sync} --since (\S+)", fix)
    assert found, fix
    return found.group(1)


@pytest.mark.parametrize(
    "approved, day",
    [
        ("2026-11-24T01:00:00+10:00", "2026-11-23"),  # Sydney, just after midnight: the UTC date is the day before
        ("2026-11-24T00:30:00+14:00", "2026-11-23"),  # Kiritimati, the easternmost offset
        ("2026-11-23T23:30:00-12:00", "2026-11-24"),  # the westernmost: the UTC date is the day after
        ("2026-11-23T15:00:00Z", "2026-11-23"),
        ("2026-11-23T15:00:00", "2026-11-23"),  # no zone: read as UTC, as the poller reads it
        ("2026-11-23", "2026-11-23"),
    ],
)
def test_the_backfill_a_fix_names_starts_at_or_before_the_approval(approved, day):
    fix = backfill_since("expenses", "expense sheet 9", approved)

    assert _typed(fix, "expenses") == day, fix
    assert parse_instant(day, "--since") <= parse_loose_instant(approved), "the CLI's window must hold the approval"
    assert "expense sheet 9" in fix and "UTC" in fix


def test_a_fix_for_an_instant_names_its_utc_date():
    at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

    assert _typed(backfill_since("time", "timesheet 7", at), "time") == "2026-11-23"


@pytest.mark.parametrize("unknown", [None, "not a date"])
def test_without_a_readable_approval_the_fix_says_the_day_before_the_date_clicktime_shows(unknown):
    fix = backfill_since("time", "timesheet 7", unknown)

    assert "--since <the day before the approval date ClickTime shows>" in fix, fix


def test_the_short_expense_sheet_fix_names_the_utc_date_of_its_approval():
    sheet = ExpenseSheet(
        ID="S1",
        UserID="U1",
        Status="approved",
        TotalAmount=Decimal("50.00"),
        ApprovedDate="2026-11-24T01:00:00+10:00",
    )
    item = ExpenseItem(ID="I1", ExpenseSheetID="S1", ExpenseDate="2026-11-10", Amount=Decimal("42.50"))

    problem = short_of(sheet, [item])

    assert problem is not None and _typed(problem.fix, "expenses") == "2026-11-23", problem
    assert "<approval date>" not in problem.fix
