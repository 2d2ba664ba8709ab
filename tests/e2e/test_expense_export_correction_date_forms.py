"""d3201ec: an approval whose stamp reads the same for every approval of a day is judged by the worker, but only
when the stamp is spelt `YYYY-MM-DD`. The same stamp in another form the code itself reads as a date alone
(`timeutil.parse_loose_instant` / `latest_instant_of`: `20261123`, `2026-W48-1`), or a date carried as its midnight
(`2026-11-23T00:00:00`, how a .NET date is serialised), keeps the old hold: the correction never reaches NetSuite.

Fixed since, found by a second review (2026-12-02) of `d3201ec`; failed before the fix (`timeutil.same_all_day`)."""

from __future__ import annotations

import pytest

from tests.e2e.test_expense_export_review import World, lines  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("same_stamp", ["2026-11-23", "20261123", "2026-W48-1", "2026-11-23T00:00:00"])
def test_a_same_day_correction_keeping_the_totals_reaches_netsuite_whatever_the_date_form(world, same_stamp):
    sheet, item, _ = world.exported_item(same_stamp)
    (before,) = lines(world.report(sheet))

    world.approved_again(sheet, lambda: world.ct.edit_expense_item(item, JobID=world.job2), same_stamp)
    result = world.run()

    (after,) = lines(world.report(sheet))
    assert after.get("customer") != before.get("customer"), (
        f"expense item {item} moved to another project and approved again the same day (ApprovedDate "
        f"{same_stamp!r} both times): the report line still has customer {after.get('customer')!r}; the run: "
        f"{result.counts('expenses')}"
    )
