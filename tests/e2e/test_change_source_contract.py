"""The contract every change source keeps (ctsync.sync.definition), checked for each source the product has,
against the simulators: resume after any key reads exactly the rest; the window ends at the source's own
clock and a change inside the window is read; deletions and withdrawals come as `op="delete"`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from ctns.session import Session
from ctsync.sync.definition import ChangeSource, Window
from tests.e2e.support import run

pytestmark = pytest.mark.e2e


@dataclass
class Case:
    sync: str
    changes_phase: str
    deletions_phase: str
    clock: Callable[[Session], Any]  # the source system's clock
    change: Callable[[Session], str]  # makes a change now; the source ID it should be read under
    delete: Callable[[Session], str]  # deletes or withdraws a record that was synced; its source ID
    prepare: Callable[[Session], None] = lambda session: None


def _rename_project(session: Session) -> str:
    project = next(p for p in session.simulators.company.projects if p.status_id != "1" and not p.is_inactive)
    session.simulators.netsuite.records.update("job", project.id, {"companyName": "Renamed for the contract"})
    return project.id


def _delete_project(session: Session) -> str:
    project = next(p for p in reversed(session.simulators.company.projects) if p.status_id != "1")
    session.simulators.netsuite.records.delete("job", project.id)
    return project.id


def _rename_task(session: Session) -> str:
    task = session.simulators.company.tasks[0]
    session.simulators.netsuite.records.update("projectTask", task.id, {"title": "Renamed task"})
    return task.id


def _delete_task(session: Session) -> str:
    task = session.simulators.company.tasks[-1]
    session.simulators.netsuite.records.delete("projectTask", task.id)
    return task.id


def _synced_and_logged(session: Session) -> None:
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    run(session, "time")


def _approved_sheets(session: Session) -> list[dict[str, Any]]:
    return [s for s in session.simulators.clicktime.timesheets() if s["Status"] == "Approved"]


def _reapprove(session: Session) -> str:
    ct = session.simulators.clicktime
    sheet = _approved_sheets(session)[0]
    ct.timesheet_action(sheet["ID"], "UndoApproval")
    ct.timesheet_action(sheet["ID"], "Approve")
    return sheet["ID"]


def _unapprove(session: Session) -> str:
    ct = session.simulators.clicktime
    exported = {m.source_id for m in session.mappings.all_of_kind("timesheet") if not m.deleted}
    sheet = next(s for s in _approved_sheets(session) if s["ID"] in exported)
    ct.timesheet_action(sheet["ID"], "UndoApproval")
    return sheet["ID"]


def _expenses_exported(session: Session) -> None:
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    run(session, "expenses")


def _approved_expense_sheets(session: Session) -> list[dict[str, Any]]:
    return [s for s in session.simulators.clicktime.expense_sheets() if s["Status"] == "approved"]


def _reapprove_expense_sheet(session: Session) -> str:
    ct = session.simulators.clicktime
    sheet = _approved_expense_sheets(session)[0]
    ct.expense_sheet_action(sheet["ID"], "UndoApproval")
    ct.expense_sheet_action(sheet["ID"], "Approve")
    return sheet["ID"]


def _unapprove_expense_sheet(session: Session) -> str:
    ct = session.simulators.clicktime
    exported = {m.source_id for m in session.mappings.all_of_kind("expensesheet") if not m.deleted}
    sheet = next(s for s in _approved_expense_sheets(session) if s["ID"] in exported)
    ct.expense_sheet_action(sheet["ID"], "UndoApproval")
    return sheet["ID"]


CASES = [
    Case("projects", "changes", "deletions", lambda s: s.simulators.netsuite.clock(), _rename_project, _delete_project),
    Case("tasks", "changes", "deletions", lambda s: s.simulators.netsuite.clock(), _rename_task, _delete_task),
    Case(
        "time",
        "approved",
        "withdrawn",
        lambda s: s.simulators.clicktime.clock(),
        _reapprove,
        _unapprove,
        prepare=_synced_and_logged,
    ),
    Case(
        "expenses",
        "approved",
        "withdrawn",
        lambda s: s.simulators.clicktime.clock(),
        _reapprove_expense_sheet,
        _unapprove_expense_sheet,
        prepare=_expenses_exported,
    ),
]


@pytest.fixture(params=CASES, ids=[case.sync for case in CASES])
def case(request) -> Case:
    return request.param


def _source(session: Session, sync: str) -> ChangeSource:
    return session.runtime(f"{sync.capitalize()}Poller").definition.source


def _read(source: ChangeSource, phase: str, window: Window, after: str | None = None) -> list[Any]:
    return list(source.read(phase, window, after))


def _keys(batches: list[Any]) -> list[tuple[str, str]]:
    return [(c.source_id, c.op) for b in batches for c in b.changes]


def test_resuming_after_any_key_reads_exactly_the_rest(open_session, case):
    session = open_session({"netsuite": {"page_size": 3}})
    case.prepare(session)
    source = _source(session, case.sync)
    end = source.window_end()
    window = Window(start=end - timedelta(days=3650), end=end, first_run=False)
    for phase in source.phases:
        if phase == "adopt":
            continue
        batches = _read(source, phase, window)
        everything = _keys(batches)
        assert len(everything) == len(set(everything)), f"{case.sync}/{phase} read a change twice"
        for n, batch in enumerate(batches):
            rest = _keys(_read(source, phase, window, batch.last_key))
            assert rest == _keys(batches[n + 1 :]), f"{case.sync}/{phase}: resuming after batch {n} is not the rest"


def test_the_window_ends_at_the_sources_own_clock_and_a_change_inside_it_is_read(session, case):
    case.prepare(session)
    source = _source(session, case.sync)
    before = source.window_end()
    changed = case.change(session)
    end = source.window_end()
    # The source's "now", not ours: within the skew margin of its clock
    assert timedelta(0) <= case.clock(session) - end <= timedelta(minutes=5)
    assert before <= end
    # A window that starts before the change reads it; one that starts after the change does not
    found = _keys(_read(source, case.changes_phase, Window(start=before - timedelta(minutes=10), end=end)))
    assert (changed, "upsert") in found
    later = Window(start=case.clock(session) + timedelta(minutes=10), end=case.clock(session) + timedelta(minutes=11))
    assert (changed, "upsert") not in _keys(_read(source, case.changes_phase, later))


def test_deletions_and_withdrawals_come_as_delete_changes(session, case):
    case.prepare(session)
    source = _source(session, case.sync)
    start = source.window_end() - timedelta(minutes=10)
    gone = case.delete(session)
    window = Window(start=start, end=source.window_end() + timedelta(minutes=10))
    changes = [c for b in _read(source, case.deletions_phase, window) for c in b.changes]
    (deletion,) = [c for c in changes if c.source_id == gone]
    assert deletion.op == "delete" and deletion.version >= start
