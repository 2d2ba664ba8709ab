"""A payroll / project accountant's review of the nightly time export (2026-12-04): each defect found, as a test that
failed before its fix, on the time export review's world (`tests.e2e.test_time_export_review.World`).

1. An entry whose `Hours` no day can hold (a figure typed without its decimal point, a corrupt 1E+30) reached the
   minutes allocation: 1E+30 h is more digits than Decimal's context, so the worker raised `InvalidOperation`, was
   retried five times and dead-lettered as "gave up after 5 attempts: InvalidOperation: [<class ...>]" (no entry, no
   field, no fix), and `ctns reconcile time` crashed on the same sheet, so nothing at all was reconciled. A single
   entry over `time.max_hours_per_day` is now refused as bad input at once (`bad-input:hours`, naming the entry, the
   field and the value, with the fix), the rest of the batch goes on, and the reconciliation leaves it out.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.e2e.test_time_export_review import WEEK, World  # noqa: F401  (the module's World, for `world`)

pytestmark = pytest.mark.e2e


def _set_hours(world: World, entry: str, hours: str) -> None:
    """ClickTime's Hours of `entry` as given (the simulator refuses more than 24 h on an entry; the API may not)."""
    with world.ct.store.lock:
        world.ct.store.time_entries[entry]["Hours"] = Decimal(hours)


@pytest.mark.parametrize(("hours", "said"), [("1E+30", "1" + "0" * 30), ("75", "75")])
def test_an_entry_no_day_can_hold_is_refused_at_once_naming_it_and_the_rest_goes_on(world, hours, said):
    sheet = world.sheet()
    bad = world.entry(sheet, WEEK, "7.5")
    fine = world.entry(sheet, WEEK, "1", task=world.ct_task2)
    _set_hours(world, bad, hours)
    other = world.sheet(user=world.other_user)
    theirs = world.entry(other, WEEK, "8")
    world.approve(sheet)
    world.approve(other)

    result = world.run()

    assert world.bill(theirs) is not None, result.failures  # the rest of the batch went on
    assert world.bill(bad) is None and world.bill(fine) is None  # whole or nothing
    (failure,) = [f for f in result.failures if f["source_id"] == sheet]
    assert failure["kind"] == "BLOCKED", failure  # at its first delivery, not retried until it gave up
    assert bad in failure["reason"] and "Hours" in failure["reason"] and f"hours {said}," in failure["reason"], failure
    (cause,) = [c for c in world.causes() if sheet in c.held]
    assert cause.key == "bad-input:hours" and "ClickTime" in cause.fix, (cause.key, cause.fix)

    recon = world.reconcile()  # reads, and tells: the sheet is blocked, its valid hour left out
    notes = [n for n in recon.notes if sheet in n]
    assert notes and "blocked" in notes[0] and "(1 h not in NetSuite)" in notes[0], recon.notes
    assert recon.totals["blocked"] == "1 h", recon.totals


def test_time_of_a_closed_period_with_no_open_period_after_it_names_what_to_fix(world_factory):
    """2. Time approved for a closed period under `accounting.on_closed_period = next_open_period` when NetSuite has
    no open period after it (at year end, the next year's periods not set up yet): the cause's fix told the person
    to set `on_closed_period` to next_open_period, which it was. Now it names the missing open period."""
    world = world_factory({"accounting": {"on_closed_period": "next_open_period"}})
    for period in world.ns.records.all("accountingPeriod"):
        if (
            period["startDate"] >= WEEK.isoformat()[:8] + "01"
            and not period.get("isYear")
            and not period.get("isQuarter")
        ):
            world.ns.close_period(date.fromisoformat(period["startDate"]))
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "3")
    world.approve(sheet)

    result = world.run()

    assert world.bill(entry) is None
    (cause,) = [c for c in world.causes() if sheet in c.held]
    assert cause.key == "period-closed:nov-2026", cause.key
    assert "no open period after it" in cause.reason and "tranDate" in cause.reason, cause.reason
    assert "set accounting.on_closed_period" not in cause.fix and "after Nov 2026" in cause.fix, cause.fix
    assert [f for f in result.failures if f["source_id"] == sheet][0]["kind"] == "BLOCKED"


def _next_night(world: World) -> None:
    """The reference data the time worker keeps (five minutes: `ctsync.references`) is read again, as the next
    night's run reads it."""
    world.session.runtime("TimeWorker").references.clear()


def test_a_backfill_over_time_exported_before_its_employee_left_leaves_it_and_opens_no_cause(world):
    """3. A backfill plans every timesheet it reads again (`SyncDefinition.replans_on_reread`). One exported whole
    before its employee left (made inactive in NetSuite) was planned as a first export and dead-lettered under
    `employee-inactive:<id>`: a cause in `ctns errors` for time NetSuite holds as approved, which a redrive could
    only fail again. Such an approval (its plan finds only a reference retired since:
    `sheet_export.exported_as_approved`, as the reconciliation judges it) is now left as NetSuite holds it."""
    from tests.e2e.test_frozen_then_released import backfill

    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "7.5")
    world.approve(sheet)
    world.run()
    bill = world.bill(entry)
    world.ns.records.update("employee", world.employee, {"isInactive": True})  # the employee left after the export
    _next_night(world)

    result = backfill(world)

    assert result.counts("time")["unchanged"] == 1 and not result.failures, (result.counts("time"), result.failures)
    assert not world.causes(), [c.reason for c in world.causes()]
    assert world.bill(entry) == bill
    assert world.reconcile().ok
