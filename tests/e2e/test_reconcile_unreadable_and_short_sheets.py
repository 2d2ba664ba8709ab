"""Finance review (2026-12-04; the first two failed before the fix): `ctns reconcile time` said "Both systems agree
on what was compared." with exit 0, `left_out {}` and 0 h blocked while approved time was not in NetSuite, by two
routes: a timesheet ClickTime sends unreadable (one entry the product refuses: the whole sheet is a dead letter) and
a short Reports/Time (an entry hidden from the integration user: a `clicktime-time-report-short` cause). Such time is
counted as left out the way a blocked sheet's is (the `blocked` total, the sheet named in a note), and the command
exits 1; a sheet whose hours nothing read tells is named as such (`blocked_unknown`)."""

from __future__ import annotations

import pytest

from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e


def test_reconcile_does_not_pass_approved_time_it_could_not_read(serve_stack, capsys):
    from datetime import timedelta

    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    good = world.sheet()
    world.entry(good, WEEK, "1.5")
    world.approve(good)
    bad = world.sheet(user=world.other_user)
    world.entry(bad, WEEK, "6")
    odd = world.entry(bad, WEEK + timedelta(days=1), "2")
    world.approve(bad)
    world.ct.store.time_entries[odd]["Date"] = "20261103"  # ClickTime sends one entry the product refuses
    ctns(capsys, "run", "time")
    bills = {b["employee"]["id"] for b in world.ns.records.all("timeBill")}
    assert world.other_employee not in bills, "the unreadable sheet is not exported (its dead letter names it)"

    said = ctns(capsys, "reconcile", "time")
    tail = " | ".join(said.out.strip().splitlines()[-2:])
    settled = ctns(capsys, "reconcile", "time", "--json")

    assert settled.code == 1 or settled.json.get("left_out"), (
        f"8 h of approved time (timesheet {bad}) are not in NetSuite, yet `ctns reconcile time` exits "
        f"{settled.code} with left_out {settled.json.get('left_out')}, blocked {settled.json['reconciliation']['time']['totals']['blocked']}; "
        f"it ends: {tail}"
    )
    assert settled.code == 1 and settled.json["left_out"] == {"time": "8 h approved"}, settled.json
    assert said.code == 1 and "Not compared in time: 8 h approved" in said.out, said.out
    # the header and the closing line say so too: a reader who stops at "OK" is not told the books agree
    assert "time: OK on what was compared, NOT COMPARED: 8 h approved" in said.out, said.out
    assert "Approved work was left out of the comparison (below): it is not in NetSuite." in said.out, said.out
    assert f"timesheet {bad} (8 h by its day totals) cannot be read" in said.out, said.out


def test_reconcile_names_an_unreadable_sheet_whose_hours_nothing_tells(serve_stack, capsys, monkeypatch):
    from datetime import timedelta

    from ctsync.records.clicktime_source import ApprovedSheetSource
    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    good = world.sheet()
    world.entry(good, WEEK, "1.5")
    world.approve(good)
    bad = world.sheet(user=world.other_user)
    odd = world.entry(bad, WEEK + timedelta(days=1), "2")
    world.approve(bad)
    world.ct.store.time_entries[odd]["Date"] = "20261103"
    ctns(capsys, "run", "time")
    listed = ApprovedSheetSource.approved_sheets  # a sheet without its (verbose) DayTotals: its hours are unknown
    monkeypatch.setattr(
        ApprovedSheetSource,
        "approved_sheets",
        lambda self, window: [{k: v for k, v in s.items() if k != "DayTotals"} for s in listed(self, window)],
    )

    said = ctns(capsys, "reconcile", "time")
    settled = ctns(capsys, "reconcile", "time", "--json")

    unknown = f"timesheet {bad} (hours unknown: the sheet cannot be read)"
    assert settled.code == 1 and settled.json["left_out"] == {"time": unknown}, settled.json
    assert said.code == 1 and f"Not compared in time: {unknown}" in said.out, said.out


def test_reconcile_does_not_pass_approved_time_the_report_hides(serve_stack, capsys, monkeypatch):
    from datetime import timedelta

    from ctsync.clicktime.client import ClickTimeClient
    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    sheet = world.sheet()
    world.entry(sheet, WEEK, "1.5")
    hidden = world.entry(sheet, WEEK + timedelta(days=1), "4")
    world.approve(sheet)
    report = ClickTimeClient.time_report  # Reports/Time returns only what the integration user may see
    monkeypatch.setattr(
        ClickTimeClient, "time_report", lambda self, **f: [r for r in report(self, **f) if r.ID != hidden]
    )
    ctns(capsys, "run", "time")
    assert world.bill(hidden) is None  # not exported: the run flags the sheet as short (a cause)

    said = ctns(capsys, "reconcile", "time")
    tail = " | ".join(said.out.strip().splitlines()[-2:])
    settled = ctns(capsys, "reconcile", "time", "--json")

    assert settled.code == 1 or settled.json.get("left_out"), (
        f"4 h of approved time (entry {hidden}) are not in NetSuite, yet `ctns reconcile time` exits {settled.code} "
        f"with left_out {settled.json.get('left_out')}; it ends: {tail}"
    )
    assert settled.code == 1 and settled.json["left_out"] == {"time": "4 h approved"}, settled.json
    assert f"timesheet {sheet} (4 h not read, not in NetSuite)" in said.out, said.out
    assert settled.json["reconciliation"]["time"]["ok"], "the 1.5 h read are exported and compared"
