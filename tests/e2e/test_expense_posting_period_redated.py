"""Found by a second review of the 2026-12-02 changes, fixed since (the test failed before the fix): the fix keeps the posting period a report was sent (`posting_period`) whenever its date's period is closed and
the kept one differs, whatever the policy and whatever the new date: the kept period is applied as a destination even
when the sheet's date moved into another (closed) period, and under `accounting.on_closed_period = fail`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401 - the module's world (world_factory)

pytestmark = pytest.mark.e2e

SEPTEMBER = date(2026, 9, 20)
OCTOBER = date(2026, 10, 20)
NOVEMBER = date(2026, 11, 10)


def redate(world, sheet, day):
    def edit() -> None:
        with world.ct.store.lock:
            world.ct.store.expense_sheets[sheet]["ExpenseSheetDate"] = day.isoformat()
        world.ct.edit_expense_item(world.ct.items_of(sheet)[0]["ID"], ExpenseDate=day.isoformat())

    return edit


def november_report(world):
    sheet = world.sheet(NOVEMBER, "Client visit")
    world.item(sheet, "250.00", day=NOVEMBER)
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert report["postingPeriod"]["id"] == world.ns.accounting_period(NOVEMBER)["id"], report
    return sheet, report


def test_under_the_fail_policy_a_report_redated_into_a_closed_period_is_not_posted_elsewhere(world_factory):
    world = world_factory({"accounting": {"on_closed_period": "fail"}})
    world.ns.close_period(OCTOBER)
    sheet, report = november_report(world)  # dated in November (open), posted to November

    # found misdated: the trip was in October (closed); corrected and approved again
    world.ct.clock.advance(timedelta(days=1))
    world.reapprove(sheet, redate(world, sheet, OCTOBER))
    result = world.run()

    after = world.report(sheet)
    october = world.ns.accounting_period(OCTOBER)
    assert after["postingPeriod"]["id"] in (None, october["id"]) or after["tranDate"] != OCTOBER.isoformat(), (
        f"accounting.on_closed_period = fail (no report is posted outside its date's period): expense sheet {sheet}, "
        f"corrected to {OCTOBER} (October closed), was written to NetSuite dated {after['tranDate']} in period "
        f"{after['postingPeriod']['id']} (November, where its old date had put it), without a cause "
        f"({result.counts('expenses')}, causes {[c.key for c in world.causes()]})"
    )


def test_a_report_redated_into_a_closed_period_goes_to_the_next_open_one_not_its_old_dates(world_factory):
    world = world_factory({"accounting": {"on_closed_period": "next_open_period"}})
    world.ns.close_period(SEPTEMBER)  # September closed; October and November open
    sheet, report = november_report(world)

    # found misdated: the conference was in September; corrected and approved again
    world.ct.clock.advance(timedelta(days=1))
    world.reapprove(sheet, redate(world, sheet, SEPTEMBER))
    world.run()

    after = world.report(sheet)
    october = world.ns.accounting_period(OCTOBER)
    assert after["postingPeriod"]["id"] == october["id"], (
        f"expense sheet {sheet} corrected to {SEPTEMBER} (September closed, October the next open period): NetSuite "
        f"books its 250.00 in period {after['postingPeriod']['id']} (November, its old date's period) instead of "
        f"October ({october['id']}); memo {after['memo']!r}; the reconciliation "
        f"{'agrees' if world.reconcile().ok else 'disagrees'}"
    )
