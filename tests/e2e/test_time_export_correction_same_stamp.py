"""A timesheet corrected and approved again without its approval stamp changing: the poller's only view of an
approval is the listed sheet, so a correction whose stamp reads the same as the exported approval's was held as done
and the corrected hours never reached NetSuite.

Two ways ClickTime can give the same stamp twice: a stamp with a date alone (the corrected sheet approved again the
same day), and no stamp at all (`ApprovedDate` is verbose-only and unverified to be always set; such a sheet is
exported as of the run). Each test approves a sheet, exports it, un-approves it, edits an entry, approves it again
with the same stamp, and runs the time sync the next night.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_time_export_review import WEEK, World, minutes

pytestmark = pytest.mark.e2e

__all__ = ["World"]  # the `world` fixture builds the review's world


@pytest.mark.parametrize("same_stamp", ["2026-11-23", None], ids=["date-only", "no-stamp"])
def test_a_correction_approved_again_under_the_same_stamp_reaches_netsuite(world, same_stamp):
    sheet, entry, _ = world.exported_under(same_stamp, lambda sheet: world.entry(sheet, WEEK, "6"))  # 12:00Z
    assert minutes(world.bill(entry)) == 360

    def correct() -> None:
        world.ct.edit_time_entry(entry, Hours=4)

    world.approved_again(sheet, correct, same_stamp)  # 14:00Z: 6:00 -> 4:00, approved again the same day
    result = world.run()

    assert minutes(world.bill(entry)) == 240, (
        f"timesheet {sheet} corrected to 4:00 and approved again (ApprovedDate {same_stamp!r} both times): NetSuite "
        f"still has 6:00; the run: {result.syncs['time']}"
    )


def test_time_moved_between_jobs_on_one_day_under_a_date_only_stamp_reaches_netsuite(world):
    """The day's total stays 6:00, so the listing shows nothing new: a date-only stamp is judged by the worker."""
    sheet, entry, _ = world.exported_under("2026-11-23", lambda sheet: world.entry(sheet, WEEK, "6"))
    assert world.bill(entry)["caseTaskEvent"]["id"] == world.task

    world.approved_again(sheet, lambda: world.ct.edit_time_entry(entry, TaskID=world.ct_task2), "2026-11-23")
    result = world.run()

    assert world.bill(entry)["caseTaskEvent"]["id"] == world.task2, (
        f"entry {entry} moved to another task and approved again the same day (a date-only stamp): the bill keeps "
        f"task {world.bill(entry)['caseTaskEvent']['id']}; the run: {result.syncs['time']}"
    )
