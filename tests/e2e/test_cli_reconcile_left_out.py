"""`ctns reconcile` before a period is closed (the review of 2026-12-03's changes; both failed before the fix):

- approved time on a sheet blocked by an open cause (its ClickTime user is no NetSuite employee) is not in NetSuite,
  yet the command ended "Both systems agree." with exit 0 (the blocked hours only in a note);
- during a run (or with work in its queue) what the run has not written yet showed as differences, and nothing said
  a run was under way.
"""

from __future__ import annotations

import pytest

from ctns.target import open_target
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e


def test_reconcile_names_blocked_time_and_a_run_in_progress(serve_stack, capsys):
    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    employees = {e["email"].lower() for e in world.ns.records.all("employee")}
    stranger = next(u for u in world.ct.users() if u["Email"].lower() not in employees)
    exported = world.sheet()
    world.entry(exported, WEEK, "1.5")
    world.approve(exported)
    blocked = world.sheet(user=stranger)
    world.entry(blocked, WEEK, "2.5")
    world.approve(blocked)
    ctns(capsys, "run", "time")

    settled = ctns(capsys, "reconcile", "time")

    assert settled.code == 1 and "Both systems agree on what was compared." in settled.out
    assert "Not compared in time: 2.5 h approved, blocked by open causes (`ctns errors time`" in settled.out

    with open_target(None) as target:
        assert target.progress.acquire_lease("time", "another-run", 900)
    busy = ctns(capsys, "reconcile", "time", "--json")

    assert busy.json["in_flight"] == {"time": "a run is in progress"}
    assert busy.json["left_out"] == {"time": "2.5 h approved"}


def test_reconcile_with_differences_still_says_approved_work_was_left_out(serve_stack, capsys):
    """The closing line named the differences and dropped the sentence that approved work was left out (the
    review of 2026-12-04's changes): a reader of that line alone took the differences for all there is to fix."""
    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    employees = {e["email"].lower() for e in world.ns.records.all("employee")}
    stranger = next(u for u in world.ct.users() if u["Email"].lower() not in employees)
    exported = world.sheet()
    entry = world.entry(exported, WEEK, "1.5")
    world.approve(exported)
    blocked = world.sheet(user=stranger)
    world.entry(blocked, WEEK, "2.5")
    world.approve(blocked)
    ctns(capsys, "run", "time")
    world.ns.records.update("timeBill", world.bill(entry)["id"], {"hours": "3:00"})  # a person edits it in NetSuite

    said = ctns(capsys, "reconcile", "time")

    closing = [line for line in said.out.splitlines() if line.startswith("Differences in time")]
    assert said.code == 1 and closing, said.out
    assert "Approved work was left out of the comparison" in closing[0], closing[0]


def test_reconcile_all_lists_every_difference_the_sample_cuts(serve_stack, capsys):
    """At month end a person edited a fortnight of time bills in NetSuite: 14 differences per check. `ctns reconcile`
    listed 10 of each and "and 4 more", in its text and in its `--json` alike, with no way to see the other four
    (`ctns plan` and `ctns errors` have `--all`): the controller could not name every record to fix (month-end
    reconcile review, 2026-12-04; failed before)."""
    from datetime import timedelta

    from ctsync.reconcile.report import SAMPLE
    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    entries = []
    for week in (WEEK, WEEK + timedelta(days=7)):
        sheet = world.sheet(start=week)
        entries += [world.entry(sheet, week + timedelta(days=d), "1.5") for d in range(7)]
        world.approve(sheet)
    ctns(capsys, "run", "time")
    for entry in entries:  # a person edits each bill in NetSuite
        world.ns.records.update("timeBill", world.bill(entry)["id"], {"hours": "3:00"})

    sampled = ctns(capsys, "reconcile", "time", "--json")
    every = ctns(capsys, "reconcile", "time", "--json", "--all")
    text = ctns(capsys, "reconcile", "time")

    minutes = lambda result: result.json["reconciliation"]["time"]["checks"][0]["differences"]  # noqa: E731
    assert len(entries) > SAMPLE and sampled.code == every.code == 1
    assert minutes(sampled)[-1].startswith(f"and {len(entries) - SAMPLE} more"), minutes(sampled)
    assert len(minutes(every)) == len(entries) and not any(d.startswith("and ") for d in minutes(every))
    assert "`ctns reconcile --all` lists them" in text.out, text.out


def test_a_sync_that_cannot_be_read_does_not_hide_the_others_reconciliation(serve_stack, capsys, monkeypatch):
    """At month end the integration role lacks the expense report permission. `ctns reconcile` read and compared
    projects, tasks and time, then ended on one line about the expense reports (exit 2): the time it had compared,
    and a difference in it, were never shown, in the text or the `--json` (month-end reconcile review, 2026-12-04;
    failed before). Now each sync that could be read is reported, the other named as not compared with the reason;
    exit 2 as before (a permission to grant)."""
    import ctsync.reconcile
    from ctsync.netsuite.errors import NetSuitePermissionError
    from tests.e2e.test_time_export_review import WEEK, World

    world = World(serve_stack.session)
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "1.5")
    world.approve(sheet)
    ctns(capsys, "run", "time")
    world.ns.records.update("timeBill", world.bill(entry)["id"], {"hours": "3:00"})  # a person edits it in NetSuite
    refused = "Permission Violation: you need the 'Expense Report' permission"

    def expenses(*_args):
        raise NetSuitePermissionError(403, "INSUFFICIENT_PERMISSION", refused, path="/record/v1/expenseReport/7")

    monkeypatch.setattr(ctsync.reconcile, "reconcile_expenses", expenses)

    text = ctns(capsys, "reconcile")
    document = ctns(capsys, "reconcile", "--json")

    assert text.code == document.code == 2, text.err
    assert "time: DIFFERENCES" in text.out and "ClickTime 1:30, NetSuite 3:00" in text.out, text.out
    assert "expenses: NOT COMPARED, could not be read: NetSuite: NetSuite 403 INSUFFICIENT_PERMISSION" in text.out
    assert any(refused in line for line in text.problems), text.err
    assert not document.json["reconciliation"]["time"]["ok"], document.out
    assert refused in document.json["not_read"]["expenses"], document.out
    assert document.json["reconciliation"]["projects"]["ok"], document.out
