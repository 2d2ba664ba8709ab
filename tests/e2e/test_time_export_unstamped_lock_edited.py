"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): `approved_unstamped` keeps a Locked, stamp-less timesheet as approved whenever its last export was
stamp-less. A sheet un-approved, corrected and locked (never approved again) between two runs looks the same, and
the export then WRITES the unapproved hours: an approved sheet cannot be edited, so bills that would change prove the
sheet was un-approved since."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_time_export_review import WEEK, World, minutes  # noqa: F401
from tests.e2e.test_time_export_withdrawn_causes import exported_without_a_stamp

pytestmark = pytest.mark.e2e


def test_hours_edited_while_unapproved_then_locked_without_approval_are_not_exported(world):
    sheet, entry = exported_without_a_stamp(world)  # 8:00 approved (no stamp), exported
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")  # un-approved...
    world.ct.edit_time_entry(entry, Hours=12)  # ...edited to 12:00...
    world.act(sheet, "Lock")  # ...and locked for payroll, nobody approved the 12:00; all before the night's run
    assert world.ct.store.timesheets[sheet]["Status"] == "Locked"
    assert world.ct.store.timesheets[sheet]["ApprovedDate"] is None

    results = []
    for _ in range(2):
        world.ct.clock.advance(timedelta(hours=12))
        results.append(world.run())

    bill = world.bill(entry)
    assert bill is None or minutes(bill) == 480, (
        f"timesheet {sheet} was un-approved, edited to 12:00 and locked without approval, yet time bill {bill['id']} "
        f"now holds {minutes(bill) / 60:.2f} h: hours nobody approved were exported to NetSuite "
        f"(counts {[r.counts('time') for r in results]})"
    )
