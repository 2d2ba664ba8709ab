"""A fourth review of the time export and its operator commands (2026-12-03), by a new user (an implementation
engineer and a finance person). Each test failed before its fix:

- A. `ctns plan time` says "unchanged: no time bill to write or delete" for a re-approved timesheet whose bill was
  deleted in NetSuite; the run writes that bill again (the plan's verdict never looks whether the bills exist);
- B. a `people.overrides` entry naming an employee NetSuite does not have (a typo, a merged or deleted record) is
  passed over silently and the time goes to whoever the e-mail matches: the bill is on another employee than the
  one the operator configured, and no cause says so;
- C. with `accounting.tasks_not_from_netsuite = project_only`, the run's note that says which time went to its
  project without a task names only one entry per ClickTime task (the note key is cut to 80 characters before the
  entry ID, so every entry on that task, of every timesheet of the run, overwrites the one before);
- D. `ctns errors time` describes a timesheet blocked before anything of it reached NetSuite as having
  "NetSuite time bills timesheet:<its ClickTime ID>": a NetSuite ID that does not exist (and an exported one as
  "NetSuite time bills employee:<id>").

Fixes: A `TimeExport._deleted_in_netsuite`, shared by the run and the plan; B `People._resolve` stops at an override
NetSuite lacks (cause `employee-override-missing:<id>`), and the config refuses overrides that `people.match` would
ignore; C `ctsync.state.note_key`; D `ctns.commands.common.target_named`.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.e2e.test_time_export_review import WEEK, World, unlinked_task  # noqa: F401

pytestmark = pytest.mark.e2e


def exported(world, hours: str = "2") -> tuple[str, str]:
    """A timesheet of one entry, approved and exported: (sheet, entry)."""
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, hours)
    world.approve(sheet)
    world.run()
    return sheet, entry


def plan_step(world, sheet):
    from ctns.plan import plan_sync

    runtime = world.session.runtime()
    return {s.source_id: s for s in plan_sync("time", runtime, runtime.config).steps}.get(sheet)


# -- A. the plan says "unchanged" where the run writes a bill deleted in NetSuite again ----------------------------
def test_the_plan_of_a_reapproved_sheet_whose_bill_was_deleted_in_netsuite_says_what_the_run_does(world):
    sheet, entry = exported(world)
    world.ns.records.delete("timeBill", world.bill(entry)["id"])  # someone deletes it in NetSuite
    world.reapprove(sheet)  # approved again, nothing changed
    world.ct.clock.advance(timedelta(hours=1))

    step = plan_step(world, sheet)
    result = world.run()

    writes = [w for w in result.netsuite_writes if "timeBill" in w.path]
    assert world.bill(entry) is not None and writes  # the run writes the bill again
    assert step is not None and step.action != "unchanged", (
        f"`ctns plan time` says {step.action!r} ({step.detail}) for timesheet {sheet}; the run then wrote "
        f"{[f'{w.method} {w.path}' for w in writes]}"
    )


# -- B. an override naming no employee falls back to the e-mail match, silently ---------------------------------
def test_an_override_naming_no_netsuite_employee_does_not_send_the_time_to_the_email_match(world_factory):
    user = world_factory().user["ID"]
    world = world_factory({"people": {"overrides": {user: "987654"}}})  # no such employee in NetSuite
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.run()

    bill = world.bill(entry)
    assert bill is None, (
        f"people.overrides maps ClickTime user {user} to NetSuite employee 987654, which does not exist; the run "
        f"wrote time bill {bill['id']} on employee {bill['employee']['id']} (the e-mail match) with no cause: "
        f"{[c.key for c in world.causes()]}"
    )
    assert any("987654" in c.reason for c in world.causes())


# -- C. the note of time sent without its task names one entry per task ----------------------------------------------
def test_every_entry_sent_to_its_project_without_a_task_is_named_in_the_runs_notes(world_factory):
    world = world_factory({"accounting": {"tasks_not_from_netsuite": "project_only"}})
    task = unlinked_task(world)
    sheet = world.sheet()
    first = world.entry(sheet, WEEK, "2", task=task)
    second = world.entry(sheet, WEEK + timedelta(days=1), "3", task=task)
    world.approve(sheet)
    result = world.run()

    assert world.bill(first) is not None and world.bill(second) is not None
    notes = world.notes(result)
    said = " ".join(notes.values())
    assert first in said and second in said, (
        f"time entries {first} and {second} both went to project {world.project} without a task; the run's notes "
        f"name {[e for e in (first, second) if e in said]}: {notes}"
    )


# -- D. `ctns errors` gives a blocked timesheet a NetSuite ID that does not exist ------------------------------------
def test_errors_says_a_blocked_timesheet_has_no_netsuite_time_bills_yet(world):
    from ctns.commands.failures import describe_record

    sheet = world.sheet()
    world.entry(sheet, WEEK, "2", task=unlinked_task(world))  # blocks the sheet: task-unlinked
    world.approve(sheet)
    world.run()
    assert world.causes() and not world.ns.records.all("timeBill")

    record = describe_record(SimpleNamespace(mappings=world.session.mappings), "time", sheet)

    assert record["target_id"] is None and "no NetSuite time bills yet" in record["text"], (
        f"nothing of timesheet {sheet} is in NetSuite, yet `ctns errors time` says: {record['text']!r} "
        f"(target_id {record['target_id']!r})"
    )


def test_errors_names_an_exported_timesheets_bills_by_their_employee_not_as_an_id(world):
    from ctns.commands.failures import describe_record

    sheet, entry = exported(world)
    employee = world.bill(entry)["employee"]["id"]

    record = describe_record(SimpleNamespace(mappings=world.session.mappings), "time", sheet)

    assert f"NetSuite time bills of employee {employee}" in record["text"], record["text"]
