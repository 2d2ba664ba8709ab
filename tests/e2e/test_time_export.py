"""Approved ClickTime time becomes NetSuite time bills, to the minute, end to end through the template's wiring."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ctns.runner import SyncRun
from ctsync.minutes import group_total_minutes
from ctsync.records.time_export import external_id
from ctsync.state import MappingStore
from simulators.scenarios import after_first_export
from tests.e2e.support import run

pytestmark = pytest.mark.e2e


@pytest.fixture
def exported(session):
    """Projects and tasks synced, people's time logged and approved, and the first time export run."""
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    session.first_time = run(session, "time")
    return session


def minutes_of(bill: dict[str, Any]) -> int:
    hours, minutes = bill["hours"].split(":")
    return int(hours) * 60 + int(minutes)


def bills_by_external_id(session) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for bill in session.simulators.netsuite.records.all("timeBill"):
        found[bill.get("externalId", "")].append(bill)
    return found


def exportable_sheets(session) -> list[dict[str, Any]]:
    """Approved timesheets of people who are NetSuite employees (the contractor's are blocked on purpose)."""
    ct = session.simulators.clicktime
    employees = {e["email"].lower() for e in session.simulators.netsuite.records.all("employee")}
    users = {u["ID"]: u for u in ct.users()}
    return [
        s for s in ct.timesheets() if s["Status"] == "Approved" and users[s["UserID"]]["Email"].lower() in employees
    ]


def employee_of(session, user_id: str) -> str:
    email = {u["ID"]: u["Email"] for u in session.simulators.clicktime.users()}[user_id].lower()
    return next(e["id"] for e in session.simulators.netsuite.records.all("employee") if e["email"].lower() == email)


def drain(session, sync: str = "time") -> None:
    mapping = next(m for m in session.stack.queue_mappings if m.queue == f"{sync.capitalize()}Queue")
    session.runner.drain(mapping, SyncRun(sync))


def test_every_approved_entry_lands_once_with_its_employee_project_task_item_billability_and_minutes(exported):
    session = exported
    ct, ns = session.simulators.clicktime, session.simulators.netsuite.records
    bills = bills_by_external_id(session)
    jobs = {j["ID"]: j for j in ct.jobs()}
    tasks = {t["ID"]: t for t in ct.tasks()}
    default_item = session.simulators.company.service_items[0].id
    groups: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    netsuite_groups: dict[tuple[str, str, str], int] = defaultdict(int)
    entries = 0
    for sheet in exportable_sheets(session):
        employee = employee_of(session, sheet["UserID"])
        for entry in ct.entries_of(sheet["ID"]):
            (bill,) = bills[external_id(entry["ID"])]  # exactly one bill per entry
            project, task = jobs[entry["JobID"]]["AccountingPackageID"], tasks[entry["TaskID"]]["AccountingPackageID"]
            task_record = ns.get("projectTask", task)
            items = [line["serviceItem"]["id"] for line in (task_record.get("assignee") or {}).get("items", [])]
            assert bill["employee"] == {"id": employee}
            assert bill["customer"] == {"id": project} and bill["caseTaskEvent"] == {"id": task}
            assert bill["item"] == {"id": items[0] if items else default_item}
            assert bill["tranDate"] == entry["Date"]
            assert bill["isBillable"] is bool(tasks[entry["TaskID"]].get("IsBillable"))  # the company bills by task
            assert bill.get("memo", "") == (entry["Comment"] or "")
            assert abs(minutes_of(bill) - entry["Hours"] * 60) < 1
            groups[(employee, project, entry["Date"])].append(entry["Hours"])
            netsuite_groups[(employee, project, entry["Date"])] += minutes_of(bill)
            entries += 1
    assert entries > 100
    assert netsuite_groups == {g: group_total_minutes(h) for g, h in groups.items()}
    assert len(ns.all("timeBill")) == entries  # nothing else went to NetSuite
    assert session.first_time.counts("time")["created"] == len(exportable_sheets(session))


def test_odd_hours_add_up_to_the_minute_per_day(exported):
    session = exported
    ct = session.simulators.clicktime
    bills = bills_by_external_id(session)
    per_day: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for sheet in exportable_sheets(session):
        for entry in ct.entries_of(sheet["ID"]):
            per_day[(sheet["ID"], entry["Date"], entry["JobID"])].append(entry)
    group = next(e for e in per_day.values() if [x["Hours"] for x in e].count(Decimal("0.33")) == 3)
    thirds = [e for e in group if e["Hours"] == Decimal("0.33")]
    assert sum(minutes_of(bills[external_id(e["ID"])][0]) for e in thirds) == 59  # 0.99 h, not 60 minutes
    day_total = sum(minutes_of(bills[external_id(e["ID"])][0]) for e in group)
    assert day_total == group_total_minutes([e["Hours"] for e in group])  # the day's total, to the minute
    tenth = next(e for entries in per_day.values() for e in entries if e["Hours"] == Decimal("0.1"))
    assert minutes_of(bills[external_id(tenth["ID"])][0]) == 6
    long_day = next(e for entries in per_day.values() for e in entries if e["Hours"] == Decimal("7.99"))
    assert minutes_of(bills[external_id(long_day["ID"])][0]) == 479


def test_a_second_pass_on_unchanged_data_writes_nothing(exported):
    second = run(exported, "time")
    assert second.netsuite_writes == [] and second.clicktime_writes == []
    assert second.syncs["time"]["enqueued"] == 0


def test_corrections_update_bills_delete_removed_entries_and_an_unapproved_sheet_leaves(exported):
    session = exported
    ns = session.simulators.netsuite.records
    session.simulators.clicktime.clock.advance(timedelta(days=1))
    changes = after_first_export(session.simulators.clicktime, session.simulators.company)

    result = run(session, "time")

    bills = bills_by_external_id(session)
    edited = session.simulators.clicktime.entries_of(changes["reapproved_timesheet"])
    edited_entry = next(e for e in edited if e["ID"] == changes["edited_time_entry"])
    assert minutes_of(bills[external_id(edited_entry["ID"])][0]) == round(edited_entry["Hours"] * 60)
    assert external_id(changes["deleted_time_entry"]) not in bills
    assert len(bills[external_id(changes["added_time_entry"])]) == 1
    unapproved = session.simulators.clicktime.entries_of(changes["unapproved_timesheet"])
    assert all(external_id(e["ID"]) not in bills for e in unapproved)
    assert result.counts("time")["updated"] == 2 and result.counts("time")["failed"] == 0
    assert all(len(found) == 1 for found in bills.values())
    assert len(ns.all("timeBill")) == sum(
        len(session.simulators.clicktime.entries_of(s["ID"])) for s in exportable_sheets(session)
    )


def test_billed_time_and_time_in_a_closed_period_are_flagged_not_changed(exported):
    session = exported
    ct, ns_sim = session.simulators.clicktime, session.simulators.netsuite
    sheets = exportable_sheets(session)
    sheet = next(s for s in sheets if s["StartDate"][:7] == s["EndDate"][:7] == max(x["EndDate"][:7] for x in sheets))
    other = next(s for s in sheets if s["EndDate"][:7] < sheet["StartDate"][:7])  # a month of its own
    billed_entry = ct.entries_of(sheet["ID"])[0]
    billed = bills_by_external_id(session)[external_id(billed_entry["ID"])][0]
    ns_sim.mark_time_billed(billed["id"])
    closed_entry = ct.entries_of(other["ID"])[0]
    closed_bill = bills_by_external_id(session)[external_id(closed_entry["ID"])][0]
    ns_sim.close_period(date.fromisoformat(closed_entry["Date"]))
    period = ns_sim.accounting_period(date.fromisoformat(closed_entry["Date"]))["periodName"]
    # When the billed entry is corrected and its sheet approved again, and the other sheet un-approved
    ct.clock.advance(timedelta(days=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval")
    ct.edit_time_entry(billed_entry["ID"], Hours=billed_entry["Hours"] + Decimal("1"))
    ct.timesheet_action(sheet["ID"], "Approve")
    ct.timesheet_action(other["ID"], "UndoApproval")

    run(session, "time")

    # Then neither bill changed, and each is a cause a person sees
    assert ns_sim.records.get("timeBill", billed["id"])["hours"] == billed["hours"]
    assert ns_sim.records.get("timeBill", closed_bill["id"]) is not None
    (cause,) = [c for c in session.runlog.causes("time") if c.key == "time-bill-frozen"]
    assert cause.count >= 2
    reasons = " ".join(f.reason for f in session.runlog.failures(session.runlog.runs("time")[0]))
    assert "billed" in reasons and period in reasons


@pytest.mark.parametrize("policy", ["fail", "next_open_period"])
def test_a_closed_period_blocks_a_first_export_or_moves_it_by_policy(open_session, policy):
    session = open_session({"accounting": {"on_closed_period": policy}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    sheet = next(s for s in exportable_sheets(session) if session.simulators.clicktime.entries_of(s["ID"]))
    entry = session.simulators.clicktime.entries_of(sheet["ID"])[0]
    session.simulators.netsuite.close_period(date.fromisoformat(entry["Date"]))
    period = session.simulators.netsuite.accounting_period(date.fromisoformat(entry["Date"]))["periodName"]

    result = run(session, "time")

    bills = bills_by_external_id(session)
    if policy == "fail":
        assert external_id(entry["ID"]) not in bills  # the whole timesheet waits: nothing of it was written
        cause = next(c for c in session.runlog.causes("time") if c.key.startswith("period-closed"))
        assert period in cause.reason and sheet["ID"] in cause.blocked
    else:
        (bill,) = bills[external_id(entry["ID"])]
        assert bill["tranDate"] > entry["Date"] and f"period {period} is closed" in bill["memo"]
        assert not any(c.key.startswith("period-closed") for c in session.runlog.causes("time"))
        assert result.counts("time")["created"] == len(exportable_sheets(session))


def test_an_unmapped_employee_is_one_cause_listing_the_timesheets_and_exports_once_mapped(exported):
    session = exported
    ct = session.simulators.clicktime
    contractor = next(u for u in ct.users() if u["Email"].startswith("sam.freelance"))
    sheets = sorted(s["ID"] for s in ct.timesheets() if s["UserID"] == contractor["ID"] and s["Status"] == "Approved")
    (cause,) = [c for c in session.runlog.causes("time") if c.key.startswith("employee-unmapped")]
    assert cause.blocked == sheets and cause.count == len(sheets)
    assert contractor["Email"] in cause.reason and "people.overrides" in cause.fix

    # When NetSuite gets the employee and the dead letters are redriven
    session.simulators.netsuite.records.add(
        "employee",
        {
            "entityId": "CTR-9001",
            "firstName": "Sam",
            "lastName": "Freelance",
            "email": contractor["Email"],
            "subsidiary": {"id": "1"},
        },
    )
    session.runner.redrive("time")
    drain(session)

    bills = bills_by_external_id(session)
    for sheet in sheets:
        assert all(len(bills[external_id(e["ID"])]) == 1 for e in ct.entries_of(sheet))


def test_a_duplicate_delivery_and_a_crash_between_the_bill_and_its_mapping_leave_one_bill_per_entry(
    session, monkeypatch
):
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    failed: list[str] = []
    original = MappingStore.put_many

    def lose_the_first_mapping_write(self, mappings):
        mappings = list(mappings)
        if mappings and mappings[0].kind == "timeentry" and not failed:
            failed.append(mappings[0].parent or "")
            raise ConnectionError("the worker lost DynamoDB after writing the time bills")
        return original(self, mappings)

    monkeypatch.setattr(MappingStore, "put_many", lose_the_first_mapping_write)
    # every message of the run is delivered twice
    original_send = session.runtime("TimePoller").work_queue.send

    def send_twice(messages):
        messages = list(messages)
        return original_send(messages + messages)

    monkeypatch.setattr(
        type(session.runtime("TimePoller").work_queue), "send", lambda self, messages: send_twice(messages)
    )

    run(session, "time")

    assert failed
    bills = bills_by_external_id(session)
    expected = sum(len(session.simulators.clicktime.entries_of(s["ID"])) for s in exportable_sheets(session))
    assert len(bills) == expected and all(len(found) == 1 for found in bills.values())


def test_time_on_a_job_that_is_not_a_netsuite_project_is_skipped_with_one_note(exported):
    session = exported
    ct = session.simulators.clicktime
    from simulators.clicktime import catalog

    client = ct.clients()[0]
    job = catalog.create_job(ct.store, {"Name": "Internal", "JobNumber": "INT-1", "ClientID": client["ID"]})
    task = catalog.create_task(ct.store, {"Name": "Admin", "TaskCode": "ADM"}, unique_names=True)
    catalog.link_task(ct.store, job["ID"], task["ID"])
    sheet = exportable_sheets(session)[0]
    ct.clock.advance(timedelta(days=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval")
    day = date.fromisoformat(sheet["StartDate"])
    extra = [
        ct.add_time_entry(sheet["ID"], day + timedelta(days=n), Decimal("1"), job["ID"], task["ID"]) for n in range(2)
    ]
    ct.timesheet_action(sheet["ID"], "Approve")

    result = run(session, "time")

    assert result.failures == [] or all(f["source_id"] != sheet["ID"] for f in result.failures)
    assert all(external_id(e["ID"]) not in bills_by_external_id(session) for e in extra)
    notes = session.runlog.summary(result.syncs["time"]["run_id"]).notes
    assert len([text for text in notes.values() if "INT-1" in text]) == 1


def test_a_time_bill_costs_its_one_write_the_service_items_are_read_in_bulk(session):
    """The references a time bill needs (service items above all) are read in bulk, not per timesheet: NetSuite
    sees one PUT per bill and a handful of reads for the whole export, whatever the number of timesheets."""
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    requests = session.simulators.netsuite.requests
    before = len(requests)

    run(session, "time")

    made = requests[before:]
    puts = [r for r in made if r.method == "PUT" and "/timeBill/" in r.path]
    reads = [r for r in made if r not in puts]
    assignment_reads = [r for r in reads if "projecttaskassignment" in str(r.body)]
    sheets = len(exportable_sheets(session))
    assert len(puts) > 100 and sheets > 10
    assert all(r.path.lower().endswith("/suiteql") for r in reads)
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "TimeQueue")
    environments = max(1, int(session.stack.resolve(mapping.max_concurrency)))
    # One bulk read of the assignee lines per execution environment at most, never one per timesheet.
    assert 1 <= len(assignment_reads) <= environments < sheets
    tables = [re.search(r"\bFROM (\w+)", str(r.body)).group(1) for r in reads]
    by_table = Counter(tables)
    # Accounting periods: once per environment and run here (again for a new run, and once a minute old).
    assert by_table.pop("accountingperiod") <= sheets / 3
    # Employees: once per environment, and again at most once per invocation after a miss: the blocked
    # contractor's sheets. How many invocations meet one is batching, not a fixed number: bound it by the sheets.
    approved = [s for s in session.simulators.clicktime.timesheets() if s["Status"] == "Approved"]
    blocked = len(approved) - sheets
    assert by_table.pop("employee", 0) <= environments + blocked
    # Every other reference at most once per environment.
    assert sum(by_table.values()) <= len(puts) * 0.02, by_table


def test_check_of_both_exports_says_when_no_accounting_period_is_readable(session):
    """Without periods the closed-period rule cannot work: `ctns check` fails both exports with one line each."""
    from ctsync.sync import registry

    netsuite = session.simulators.netsuite.records
    for period in netsuite.all("accountingperiod"):
        netsuite.delete("accountingperiod", str(period["id"]))
    problem = "no accounting periods are readable (accountingperiod): closed periods cannot be told apart"
    for sync, function in (("time", "TimeWorker"), ("expenses", "ExpensesWorker")):
        exporter = registry.build(sync, session.runtime(function)).applier
        assert problem in exporter.check(), sync
