"""Data races, end to end through the runner: data changing while a run reads it, and between a poller and its
workers. After each scenario the shared invariants hold for the syncs it touched (every record exactly once in
the target by ID and by content, nothing lost, no watermark past an unprocessed record, totals reconciled), and
the keyset readers yielded every record once per run. Figures go to `build/fault-report.json`.

- NetSuite (projects, tasks): pages of four rows; many records share one `lastModifiedDate` across page
  boundaries; while the poller reads a page inside them, a record already read and one not yet read are modified,
  one of each is deleted and a new one appears. (NetSuite's own 1,000-row page over 1,000+ records of one
  timestamp is the soak's: `make soak`, `tests/e2e/soak.py`, too slow for `make test`);
- ClickTime (time, expenses): a timesheet and an expense sheet un-approved between runs, approved again between
  runs, un-approved and re-approved with no run in between; during one run, after the poller queued them, a
  sheet un-approved, a sheet re-approved with new content, and a sheet un-approved (another deleted) while the
  poller lists them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e import faultplay, invariants, racing
from tests.e2e.support import run

pytestmark = pytest.mark.e2e
REPORT = Path("build/fault-report.json")


def report(session, name: str, syncs: tuple[str, ...], **extra):
    checked, summary = faultplay.figures(session, syncs=syncs)
    summary.update(extra)
    faultplay.write_report(REPORT, name, summary)
    print(
        f"\n{name}: {summary['records']} records, faults {summary['faults_by_kind']}, "
        f"lost {summary['lost']}, duplicated {summary['duplicated']}"
    )
    return checked, summary


def test_netsuite_records_changed_deleted_and_sharing_one_timestamp_while_pollers_page_are_each_synced_once(
    open_session, monkeypatch
):
    session = open_session({"netsuite": {"page_size": 4}})
    reads = racing.ReadCounter()
    reads.install(monkeypatch)
    # Thirteen projects and, under the first, thirteen tasks, all stamped in the same second: page boundaries fall
    # inside the block of equal stamps
    with racing.same_stamp(session):
        ours = racing.add_projects(session, 13, label="Stamp")
        tasks = racing.add_tasks(session, ours[0], 13, label="Stamp")
    created: list[str] = []

    def new_project() -> str:
        (pid,) = racing.add_projects(session, 1, label=f"Mid-run {len(created)}")
        created.append(pid)
        return pid

    def new_task() -> str:
        (tid,) = racing.add_tasks(session, ours[0], 1, label=f"Mid-run {len(created)}")
        created.append(tid)
        return tid

    live_projects = lambda: [p for p in ours[1:] if session.simulators.netsuite.records.get("job", p)]  # noqa: E731
    live_tasks = lambda: [t for t in tasks if session.simulators.netsuite.records.get("projectTask", t)]  # noqa: E731
    projects_race = racing.NetSuitePaging(session, "job", live_projects, new_project)
    tasks_race = racing.NetSuitePaging(session, "projecttask", live_tasks, new_task)
    projects_race.install()
    tasks_race.install()
    first = {sync: run(session, sync) for sync in ("projects", "tasks")}
    projects_race.uninstall()
    tasks_race.uninstall()
    (pc,) = projects_race.done
    (tc,) = tasks_race.done

    # Read exactly once in the run that met the changes: the shared stamps, the record modified ahead of the
    # reader (with its change), the new one; the one deleted ahead of it never
    assert reads.read_twice() == {}
    project_reads, task_reads = reads.ids("job"), reads.ids("projecttask")
    assert set(ours) - {pc.deleted_unread} <= project_reads and pc.deleted_unread not in project_reads
    assert pc.created in project_reads and pc.deleted_read in reads.ids("job", "deletions")
    assert set(tasks) - {tc.deleted_unread} <= task_reads and tc.created in task_reads
    assert first["projects"].syncs["projects"]["failed"] == 0 and first["tasks"].syncs["tasks"]["failed"] == 0

    # The next run reads what changed behind the reader; then nothing is left to write
    reads.reset()
    second = {sync: run(session, sync) for sync in ("projects", "tasks")}
    assert pc.modified_read in reads.ids("job") and tc.modified_read in reads.ids("projecttask")
    assert reads.read_twice() == {}
    quiet = {sync: run(session, sync) for sync in ("projects", "tasks")}
    assert {s: len(p.clicktime_writes) + len(p.netsuite_writes) for s, p in quiet.items()} == {
        "projects": 0,
        "tasks": 0,
    }
    assert second["projects"].failures == [] and second["tasks"].failures == []

    checked, summary = report(
        session,
        "races_netsuite_paging",
        ("projects", "tasks"),
        paging_changes=[vars(pc), vars(tc)],
        crashes_and_races={
            "modified_while_paging": 4,
            "deleted_while_paging": 4,
            "created_while_paging": 2,
            "records_sharing_one_stamp": len(ours) + len(tasks),
        },
        same_stamp_records=len(ours) + len(tasks),
    )
    invariants.assert_holds(checked)
    assert summary["lost"] == 0 and summary["duplicated"] == 0
    jobs = {j.get("AccountingPackageID"): j for j in session.simulators.clicktime.jobs()}
    assert jobs[pc.modified_unread]["Name"].endswith("(edited mid-run)")
    assert jobs[pc.modified_read]["Name"].endswith("(edited mid-run)")
    assert not jobs[pc.deleted_read]["IsActive"] and pc.deleted_unread not in jobs


def _sheet(session, kind: str, *, exclude: set[str]) -> dict | None:
    """An approved, exportable sheet (a NetSuite employee's, no odd receipt or type) not in `exclude`."""
    ct = session.simulators.clicktime
    blocked = invariants._seeded_failures(session, kind)
    sheets = ct.timesheets() if kind == "time" else ct.expense_sheets()
    approved = "Approved" if kind == "time" else "approved"
    return next(
        (
            s
            for s in sheets
            if s["Status"] == approved
            and s["ID"] not in blocked
            and s["ID"] not in exclude
            and (ct.entries_of(s["ID"]) if kind == "time" else ct.items_of(s["ID"]))
        ),
        None,
    )


def _undo(session, kind: str, sheet_id: str) -> None:
    ct = session.simulators.clicktime
    if kind == "time":
        ct.timesheet_action(sheet_id, "UndoApproval", "race")
    else:
        ct.expense_sheet_action(sheet_id, "UndoApproval", "race")


def _approve(session, kind: str, sheet_id: str, *, edit: bool = False) -> None:
    ct = session.simulators.clicktime
    if kind == "time":
        if edit:
            entry = ct.entries_of(sheet_id)[0]
            ct.edit_time_entry(entry["ID"], Hours=min(entry["Hours"] + Decimal("0.25"), Decimal("24")))
        ct.timesheet_action(sheet_id, "Approve")
    else:
        if edit:
            item = next((i for i in ct.items_of(sheet_id) if not i["HasForeignCurrency"]), None)
            if item is not None:
                ct.edit_expense_item(item["ID"], Amount=item["Amount"] + Decimal("1.01"))
        ct.expense_sheet_action(sheet_id, "Approve")


def test_sheets_approved_unapproved_and_reapproved_between_runs_and_during_one_land_once_with_their_last_content(
    session,
):
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    run(session, "time")
    run(session, "expenses")
    ct = session.simulators.clicktime
    picked: dict[str, dict[str, str]] = {"time": {}, "expenses": {}}
    used: set[str] = set()
    for kind in ("time", "expenses"):
        for role in ("between", "flip", "undone_while_listed"):
            sheet = _sheet(session, kind, exclude=used)
            used.add(sheet["ID"])
            picked[kind][role] = sheet["ID"]
        deleted = _sheet(session, kind, exclude=used)  # one more, when the company has it: deleted while listed
        if deleted is not None:
            used.add(deleted["ID"])
            picked[kind]["deleted_while_listed"] = deleted["ID"]
        # The sheets of the first part end approved again: the second part races them once more
        picked[kind].update(queued_then_undone=picked[kind]["between"], queued_then_reapproved=picked[kind]["flip"])

    # -- between runs: un-approved (the run withdraws it), approved again with a change (exported again) -------
    for kind in ("time", "expenses"):
        ct.clock.advance(timedelta(hours=2))
        _undo(session, kind, picked[kind]["between"])
        run(session, kind)
        ct.clock.advance(timedelta(hours=2))
        _approve(session, kind, picked[kind]["between"], edit=True)
        # un-approved and approved again with no run in between
        _undo(session, kind, picked[kind]["flip"])
        _approve(session, kind, picked[kind]["flip"], edit=True)
        run(session, kind)
    checked = invariants.check(session, ("time", "expenses"))
    invariants.assert_holds(checked)

    # -- during one run: between the poller and its workers, and while the poller lists the sheets --------------
    listed: list[str] = []
    raced: list[str] = []
    during: dict[str, int] = {}
    for kind in ("time", "expenses"):
        ct.clock.advance(timedelta(hours=2))
        queued = picked[kind]
        for role in ("queued_then_undone", "queued_then_reapproved"):
            _undo(session, kind, queued[role])
            _approve(session, kind, queued[role], edit=True)  # a new approval: the poller queues it
        original = session.runner.drain

        def between(mapping, result, kind=kind, queued=queued, original=original):
            raced.append(kind)
            _undo(session, kind, queued["queued_then_undone"])
            _undo(session, kind, queued["queued_then_reapproved"])
            _approve(session, kind, queued["queued_then_reapproved"], edit=True)
            return original(mapping, result)

        path = "/Timesheets" if kind == "time" else "/ExpenseSheets"
        app = ct
        dispatch = app.dispatch

        def listing(request, kind=kind, path=path, dispatch=dispatch):
            response = dispatch(request)
            if request.method == "GET" and request.path.endswith(path) and not listed.count(kind):
                listed.append(kind)
                _undo(session, kind, picked[kind]["undone_while_listed"])
                if "deleted_while_listed" in picked[kind]:
                    if kind == "time":
                        ct.delete_timesheet(picked[kind]["deleted_while_listed"])
                    else:
                        ct.delete_expense_sheet(picked[kind]["deleted_while_listed"])
            return response

        session.runner.drain = between
        app.dispatch = listing
        try:
            during[kind] = run(session, kind).syncs[kind]["enqueued"]
        finally:
            session.runner.drain = original
            app.dispatch = dispatch
        ct.clock.advance(timedelta(minutes=30))
        run(session, kind)  # the next run: what the last one could not know yet
    assert listed == ["time", "expenses"] and raced == ["time", "expenses"]
    assert all(n >= 2 for n in during.values()), during  # the poller had queued the sheets raced after it

    quiet = {kind: run(session, kind) for kind in ("time", "expenses")}
    races = {
        "unapproved_between_runs": 2,
        "reapproved_between_runs": 2,
        "unapproved_and_reapproved_with_no_run_between": 2,
        "unapproved_after_queued": 2,
        "reapproved_after_queued": 2,
        "unapproved_while_listed": len(listed),
        "deleted_while_listed": sum("deleted_while_listed" in picked[k] for k in picked),
    }
    checked, summary = report(session, "races_approvals", ("time", "expenses"), sheets=picked, crashes_and_races=races)
    invariants.assert_holds(checked)
    assert summary["lost"] == 0 and summary["duplicated"] == 0
    assert {k: len(p.netsuite_writes) for k, p in quiet.items()} == {"time": 0, "expenses": 0}
