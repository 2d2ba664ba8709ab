"""Finance review (2026-12-04): an exported bill never lands in a closed period by a correction or a re-creation.

A week spans October and November; its Nov 1 entry is exported, October closes, the entry is re-dated to Oct 30
and the sheet approved again: the bill was moved into closed October with no cause and no flag, under both
`accounting.on_closed_period` policies, and the reconciliation agreed. A bill a person deleted in NetSuite after
its month closed was made anew on its closed-period date. The simulator lets time bills into closed periods
(`closed_period_blocks_time = False`): the export's own closed-period rule is what is tested. Each test failed
before the fix (`TimeExport._kept_date`, `TimeExport._held`).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.test_time_export_review import World, reconcile  # noqa: F401

pytestmark = pytest.mark.e2e

START = date(2026, 10, 26)  # a week spanning October and November


def _causes(world) -> list[tuple[str, str]]:
    return [(c.key, c.reason) for c in world.causes()]


@pytest.mark.parametrize("policy", ["fail", "next_open_period"])
def test_a_correction_never_moves_an_open_period_bill_into_a_closed_period(world_factory, policy):
    world = world_factory({"accounting": {"on_closed_period": policy}})
    world.ns.closed_period_blocks_time = False  # time bills do not post (the export's own closed-period rule applies)
    sheet = world.sheet(START)
    entry = world.entry(sheet, date(2026, 11, 1), "2")
    world.approve(sheet)
    world.run()
    assert world.bill(entry)["tranDate"] == "2026-11-01"
    world.ns.close_period(date(2026, 10, 15))  # October closes
    world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Date="2026-10-30"))
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()
    bill = world.bill(entry)
    recon = reconcile(world)
    assert bill["tranDate"] != "2026-10-30", (
        f"policy {policy}: time bill {bill['id']} moved into closed October (2026-10-30) by a correction, "
        f"causes {_causes(world)}, failures {result.failures}; the reconciliation says ok={recon.ok}"
    )
    if policy == "fail":
        # refused as a first export's closed-period time is: the sheet waits under a cause naming the period
        assert bill["tranDate"] == "2026-11-01"
        assert [k for k, _ in _causes(world) if k.startswith("period-closed:")], _causes(world)
    else:
        # posted to the next open period's first day, and the memo says so
        assert bill["tranDate"] == "2026-11-01" and "worked 2026-10-30" in bill["memo"], bill
        assert not result.failures, result.failures
        assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]


@pytest.mark.parametrize("policy", ["fail", "next_open_period"])
def test_a_bill_deleted_in_netsuite_is_not_made_anew_inside_a_closed_period(world_factory, policy):
    world = world_factory({"accounting": {"on_closed_period": policy}})
    world.ns.closed_period_blocks_time = False
    sheet = world.sheet()
    entry = world.entry(sheet, date(2026, 11, 3), "2")
    world.approve(sheet)
    world.run()
    world.ns.records.delete("timeBill", world.bill(entry)["id"])  # a person deletes it in NetSuite
    world.ns.close_period(date(2026, 11, 15))  # November closes
    world.reapprove(sheet)  # approved again, nothing changed
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    bill = world.bill(entry)
    assert bill is None or bill["tranDate"] != "2026-11-03", (
        f"time bill {bill['id']} made anew on 2026-11-03 inside closed November, causes {_causes(world)}"
    )
    if policy == "fail":
        assert bill is None
        assert [k for k, _ in _causes(world) if k.startswith("period-closed:")], _causes(world)
    else:
        assert bill["tranDate"] == "2026-12-01" and "worked 2026-11-03" in bill["memo"], bill


def test_a_bill_already_in_a_closed_period_whose_date_does_not_change_is_left_alone(world):
    """The rule's other half: a bill on its closed-period date, its entry unchanged, is not touched, blocked or
    flagged when its sheet is approved again (a change elsewhere on the sheet is written)."""
    world.ns.closed_period_blocks_time = False
    sheet = world.sheet()
    kept = world.entry(sheet, date(2026, 11, 3), "2")
    other = world.entry(sheet, date(2026, 11, 4), "1")
    world.approve(sheet)
    world.run()
    before = world.bill(kept)
    world.ns.close_period(date(2026, 11, 15))
    world.ns.records.update("timeBill", world.bill(other)["id"], {"tranDate": "2026-12-02"})  # moved by a person
    world.reapprove(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    after = world.bill(kept)
    assert after == before
    assert not [k for k, _ in _causes(world) if k.startswith("period-closed:")], _causes(world)
