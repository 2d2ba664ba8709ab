"""A timesheet corrected and approved again without its approval stamp changing: the poller's only view of an
approval is the listed sheet, so a correction whose stamp reads the same as the exported approval's was held as done
and the corrected hours never reached NetSuite.

Two ways ClickTime can give the same stamp twice: a stamp with a date alone (the corrected sheet approved again the
same day), and no stamp at all (`ApprovedDate` is verbose-only and unverified to be always set; such a sheet is
exported as of the run). Each test approves a sheet, exports it, un-approves it, edits an entry, approves it again
with the same stamp, and runs the time sync the next night.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_time_export_review import WEEK, World, minutes

pytestmark = pytest.mark.e2e

__all__ = ["World"]  # the `world` fixture builds the review's world


def stamp(world: World, sheet: str, text: str | None) -> None:
    world.ct.store.timesheets[sheet]["ApprovedDate"] = text


@pytest.mark.parametrize("same_stamp", ["2026-11-23", None], ids=["date-only", "no-stamp"])
def test_a_correction_approved_again_under_the_same_stamp_reaches_netsuite(world, same_stamp):
    world.ct.clock.advance(timedelta(hours=8))  # 2026-11-23 10:00Z
    world.run()
    world.ct.clock.advance(timedelta(hours=1))
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "6")
    world.approve(sheet)
    stamp(world, sheet, same_stamp)
    world.ct.clock.advance(timedelta(hours=1))  # 12:00Z: exported
    world.run()
    assert minutes(world.bill(entry)) == 360

    def correct() -> None:
        world.ct.edit_time_entry(entry, Hours=4)

    world.reapprove(sheet, correct)  # 14:00Z: un-approved, 6:00 -> 4:00, approved again the same day
    stamp(world, sheet, same_stamp)
    world.ct.clock.advance(timedelta(hours=12))  # the next night's run
    result = world.run()

    assert minutes(world.bill(entry)) == 240, (
        f"timesheet {sheet} corrected to 4:00 and approved again (ApprovedDate {same_stamp!r} both times): NetSuite "
        f"still has 6:00; the run: {result.syncs['time']}"
    )
