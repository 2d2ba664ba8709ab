"""Review of 7224c28: `same_all_day` counts a day written as its midnight as a stamp that reads the same all day, but
the poller's window (`latest_instant_of`) still takes such a stamp as the instant it names.

Found by a third review (2026-12-02); failed before the fix (`timeutil.latest_instant_of` reads a day written as its
midnight as the day it is)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctsync.timeutil import latest_instant_of, same_all_day
from tests.e2e.test_expense_export_review import World, lines

pytestmark = pytest.mark.e2e

__all__ = ["World"]


@pytest.mark.parametrize("text", ["2026-11-23T00:00:00", "2026-11-23T00:00:00Z", "20261123"])
def test_a_stamp_that_reads_the_same_all_day_may_stand_for_the_end_of_its_day(text):
    assert same_all_day(text)
    assert latest_instant_of(text) >= latest_instant_of("2026-11-23"), (
        f"ApprovedDate {text!r} reads the same all day (same_all_day) but the poller's window takes it as standing "
        f"for no later than {latest_instant_of(text)}, while '2026-11-23' may stand for {latest_instant_of('2026-11-23')}"
    )


@pytest.mark.parametrize(
    "same_stamp", ["2026-11-23", "2026-11-23T00:00:00", "2026-11-23T00:00:00Z"], ids=["date", "midnight", "midnight-z"]
)
def test_a_same_day_correction_under_a_midnight_stamp_reaches_netsuite(world, same_stamp):
    sheet, item, first = world.exported_item(same_stamp)  # approved 11:00Z, exported 12:00Z
    assert world.report(sheet) is not None, f"never exported: {first.syncs['expenses']}"
    (before,) = lines(world.report(sheet))
    world.ct.clock.advance(timedelta(hours=4))  # 16:00Z: an hourly (or any later) run, nothing new
    world.run()

    # 18:00Z: sent back, moved to another project, approved again the same day: every listed total stays
    moved = lambda: world.ct.edit_expense_item(item, JobID=world.job2)  # noqa: E731
    world.approved_again(sheet, moved, same_stamp, then=timedelta(hours=2))  # 20:00Z
    result = world.run()

    (after,) = lines(world.report(sheet))
    assert after.get("customer") != before.get("customer"), (
        f"expense item {item} moved to another project and approved again the same day (ApprovedDate {same_stamp!r}, "
        f"which same_all_day says reads the same all day): the report line keeps customer {after.get('customer')!r}; "
        f"the run: {result.syncs['expenses']}"
    )
