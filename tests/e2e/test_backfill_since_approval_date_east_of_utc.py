"""Finance review (2026-12-04; failed before the fix): the fix a frozen report's cause gave ("ctns backfill expenses
--since <approval date>"), followed with the approval's date as ClickTime gives it (east of UTC: Sydney), re-read
nothing and the correction never reached NetSuite, the backfill reporting success. The fix now names the UTC date of
the approval, which the CLI reads as that day's midnight UTC; the operator types the date the fix names (or, as
before the fix, the date ClickTime shows), read by the CLI's own parser."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e

APPROVED = "2026-11-24T01:00:00+10:00"  # approved in Sydney on 24 November, 01:00 (23 November, 15:00 UTC)


def test_backfill_since_the_approval_date_applies_the_correction_held_back(world):
    from ctns.commands.common import parse_instant
    from ctsync.state import ProgressStore

    sheet, item, report = world.exported_sheet()
    world.ns.records.update(
        "expenseReport", report["id"], {"supervisorapproval": True, "accountingapproval": True, "status": {"id": "F"}}
    )
    world.approved_again(sheet, lambda: world.ct.edit_expense_item(item, Amount="50.00"), approved_date=APPROVED)
    flagged = world.run()
    assert [line["amount"] for line in world.report(sheet)["expense"]["items"]] == [Decimal("42.50")]
    causes = [c.fix for c in world.causes() if c.key == "expense-report-frozen"]
    assert causes and "ctns backfill expenses --since " in causes[0], causes
    typed = causes[0].split("ctns backfill expenses --since ", 1)[1].split()[0]
    if typed.startswith("<"):  # "<approval date>" (before the fix): the date ClickTime shows for the approval
        typed = APPROVED[:10]
    world.ct.clock.advance(timedelta(days=1))
    world.run()  # the next night

    # Accounting rejects the report back; the operator follows the cause's fix with the sheet's approval date
    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    since = parse_instant(typed, "--since")  # as `ctns backfill expenses --since DAY` reads it
    ProgressStore(world.session.state_table).reset_watermarks(world.sync, since)
    world.run()

    amounts = [line["amount"] for line in world.report(sheet)["expense"]["items"]]
    assert amounts == [Decimal("50.00")], (
        f"sheet {sheet} approved {APPROVED} (ClickTime's ApprovedDate); `ctns backfill expenses --since {typed}` "
        f"left report {report['id']} at {amounts}, the correction to 50.00 never applied; flagged run: {flagged.failures}"
    )
    assert typed == "2026-11-23", f"the fix names {typed}, not the approval's UTC date: {causes[0]}"
