"""Bad input, end to end through the local runner on both simulators: every kind in `KINDS` below is given to one
record of a seeded company, many kinds at once, and each must end with a clear reason naming the record (its ID,
and the other system's where known) and the field, in the dead-letter queue (reason in the message attributes) or
in a cause record; the rest of its batch goes on, every other record lands exactly once, nothing is written twice,
and no handler fails with an unexplained traceback.

Each kind is checked by its `check_<name>` function; the two tests below build one world each and run every check of
it, naming each kind that fails (one seeded run serves many kinds: the suite stays fast). Two companies: `catalog` (projects -> jobs, tasks -> tasks, and NetSuite's broken answers to their reads) and
`exports` (approved time -> timeBill, approved expenses -> expenseReport, with every ClickTime number sent as a
string). Bad answers are served by `tests/e2e/badbodies.py`; the bad data is set up by `tests/e2e/badinput_seed.py`.
Outcomes: DLQ = dead-lettered with the reason; CAUSE = a cause record (cause key) listing the record; LANDS = it
goes through as it should (valid but unusual input, or a broken answer retried), nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from ctsync.records.expense_export import external_id as report_external_id
from ctsync.records.receipts import file_external_id
from ctsync.records.time_export import external_id as bill_external_id
from tests.e2e.badinput_seed import (
    LONG_NAME,
    LONG_TITLE,
    MISSING_PROJECT,
    World,
    catalog_world,
    exports_world,
    open_session,
)
from tests.e2e.support import jobs_by_project, open_projects, tasks_by_source

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Kind:
    name: str
    sync: str
    given: str  # the bad input
    expected: str  # what must happen


KINDS = [
    # -- projects -> jobs (NetSuite -> ClickTime) ------------------------------------------------------------
    Kind(
        "project_no_customer",
        "projects",
        "a project whose parent (customer) is empty",
        "DLQ BAD_INPUT: project number, field parent; cause project-without-customer",
    ),
    Kind(
        "synced_project_loses_customer",
        "projects",
        "a project synced before whose customer is then removed",
        "DLQ BAD_INPUT naming both IDs (NetSuite project, ClickTime job) and field parent; the job is kept",
    ),
    Kind(
        "project_name_300_unicode",
        "projects",
        "a 300-character name in six scripts with an emoji",
        "LANDS: the job's Name is the same 300 characters",
    ),
    Kind(
        "clicktime_errors_on_200_create",
        "projects",
        "ClickTime answers a client create 200 with an errors list",
        "DLQ: 'an error list on a 200 answer to POST /Clients'; one job after redrive",
    ),
    Kind(
        "clicktime_html_502_after_create",
        "projects",
        "ClickTime creates the job but answers with a proxy's HTML 502 page",
        "LANDS once: the retry finds the job it made",
    ),
    Kind(
        "netsuite_truncated_200_read",
        "projects",
        "NetSuite's SuiteQL page of projects cut off halfway (200)",
        "LANDS: the page is read again; the poller does not fail",
    ),
    Kind(
        "netsuite_errors_on_200_read",
        "projects",
        "NetSuite answers the deletions query 200 with o:errorDetails and no items",
        "CAUSE: phase fails naming the error, its watermark stays; the deletion arrives next run",
    ),
    # -- tasks -> tasks ---------------------------------------------------------------------------------------
    Kind(
        "task_title_300_unicode",
        "tasks",
        "a 300-character unicode task title",
        "LANDS: the ClickTime task's name carries it whole",
    ),
    Kind(
        "task_of_deleted_project",
        "tasks",
        "tasks whose project was deleted in NetSuite",
        "skipped, logged naming task and project; no ClickTime task",
    ),
    Kind(
        "task_of_project_without_customer",
        "tasks",
        "tasks of the project without a customer",
        "DLQ BAD_INPUT per task: 'has no customer', field parent",
    ),
    Kind(
        "netsuite_html_200_read",
        "tasks",
        "NetSuite answers a tasks query with an HTML page and status 200",
        "LANDS: read again; every task once",
    ),
    # -- approved time -> timeBill (ClickTime -> NetSuite) ----------------------------------------------------
    Kind(
        "hours_text",
        "time",
        "a time entry's Hours is 'seven'",
        "DLQ BAD_INPUT: entry ID, field Hours='seven'; cause bad-input:hours",
    ),
    Kind(
        "no_date", "time", "a time entry without Date", "DLQ BAD_INPUT: entry ID, 'has no Date'; cause bad-input:date"
    ),
    Kind("bad_date", "time", "a time entry dated 2026-02-30", "DLQ BAD_INPUT: entry ID, field Date='2026-02-30'"),
    Kind(
        "negative_hours",
        "time",
        "a time entry of -2 h",
        "DLQ BLOCKED: 'negative hours -2', entry ID; cause bad-input:hours",
    ),
    Kind(
        "zero_hours",
        "time",
        "a time entry of 0 h",
        "LANDS without it: the rest of the timesheet exported, a run note names the entry",
    ),
    Kind(
        "outside_dates",
        "time",
        "a time entry dated 2019-01-01 on a 2026 timesheet",
        "DLQ BLOCKED: date and the sheet's range, entry ID; cause bad-input:date",
    ),
    Kind(
        "hours_per_day",
        "time",
        "more than 24 h on one day (a 20 h entry added)",
        "DLQ BLOCKED: '... h logged on <day>, more than 24 h', entry IDs; cause bad-input:hours-per-day",
    ),
    Kind(
        "approved_date",
        "time",
        "a timesheet whose ApprovedDate is 'last Tuesday'",
        "DLQ BAD_INPUT: timesheet ID, field ApprovedDate; the poller goes on with the others",
    ),
    Kind(
        "timesheet_errors_on_200",
        "time",
        "ClickTime answers GET /Timesheets/{id} 200 with an errors list",
        "DLQ: the error text, 'an error list on a 200 answer'",
    ),
    Kind(
        "report_html_200",
        "time",
        "ClickTime answers Reports/Time with an HTML page and status 200",
        "LANDS: read again; each entry one bill",
    ),
    Kind(
        "deleted_project",
        "time",
        "time on a job that still carries a deleted NetSuite project's ID",
        "DLQ: NetSuite's INVALID_KEY_OR_REF naming the project ID, the entry and bill IDs",
    ),
    Kind(
        "inactive_employee",
        "time",
        "a person whose NetSuite employee is inactive",
        "CAUSE employee-inactive:<id> listing every timesheet of theirs",
    ),
    Kind(
        "unmapped_employee",
        "time",
        "a contractor with no NetSuite employee (seeded)",
        "CAUSE employee-unmapped:<email> listing the timesheets",
    ),
    Kind("long_unicode_comment", "time", "a 300-character unicode comment", "LANDS: the bill's memo is the comment"),
    Kind(
        "netsuite_html_502_after_write",
        "time",
        "NetSuite writes a bill but answers with an HTML 502 page",
        "LANDS once: the upsert is sent again to the same external ID",
    ),
    Kind(
        "hours_as_strings", "time", "every Hours as a JSON string", "LANDS: each bill's minutes from the exact decimal"
    ),
    # -- approved expenses -> expenseReport ----------------------------------------------------------------
    Kind(
        "amount_more_places",
        "expenses",
        "Amount 12.345 in USD (2 places)",
        "LANDS rounded to 12.35; CAUSE amount-rounded naming item, field, value and what was sent",
    ),
    Kind("no_amount", "expenses", "an expense item without Amount", "DLQ BAD_INPUT: item ID, 'has no Amount'"),
    Kind("amount_text", "expenses", "Amount '12,50'", "DLQ BAD_INPUT: item ID, field Amount='12,50'"),
    Kind("bad_expense_date", "expenses", "ExpenseDate 2026-13-01", "DLQ BAD_INPUT: item ID, field ExpenseDate"),
    Kind(
        "unknown_currency",
        "expenses",
        "an item spent in XYZ",
        "DLQ BLOCKED: item ID, 'currency XYZ'; cause currency-unmapped:xyz",
    ),
    Kind(
        "no_exchange_rate",
        "expenses",
        "a EUR item with no exchange rate",
        "DLQ BLOCKED: item ID, 'no exchange rate'; cause bad-input:exchange-rate",
    ),
    Kind(
        "inactive_category",
        "expenses",
        "an expense type whose NetSuite category is inactive",
        "DLQ BLOCKED: type, category ID; cause category-inactive:<id>",
    ),
    Kind(
        "deleted_category",
        "expenses",
        "an expense type pointing at a deleted category (99999)",
        "DLQ BLOCKED: type, 99999; cause category-missing:99999",
    ),
    Kind(
        "unmapped_expense_type",
        "expenses",
        "an expense type with no category at all (seeded)",
        "CAUSE expense-type-unmapped:client-gifts listing the sheets",
    ),
    Kind(
        "unknown_reimbursable",
        "expenses",
        "an item with no Reimbursable and an unknown payment type",
        "DLQ BLOCKED: item ID; cause bad-input:reimbursable",
    ),
    Kind(
        "items_errors_on_200",
        "expenses",
        "ClickTime answers GET /ExpenseItems 200 with an errors list",
        "DLQ: the error text, 'an error list on a 200 answer'",
    ),
    Kind(
        "long_unicode_title", "expenses", "a 300-character unicode sheet title", "LANDS: the report's memo is the title"
    ),
    Kind(
        "receipt_too_large",
        "expenses",
        "an 11 MB receipt",
        "LANDS without it; CAUSE receipt-too-large naming the item and its size",
    ),
    Kind(
        "receipt_type",
        "expenses",
        "a text/html receipt",
        "LANDS without it; CAUSE receipt-type naming the item and the type",
    ),
    Kind(
        "clicktime_truncated_200",
        "expenses",
        "ClickTime's answer for an expense sheet cut off halfway (200)",
        "LANDS once: read again",
    ),
    Kind(
        "netsuite_html_502_after_report",
        "expenses",
        "NetSuite writes a report but answers with an HTML 502 page",
        "LANDS once",
    ),
    Kind("amounts_as_strings", "expenses", "every Amount as a JSON string", "LANDS: each line's amount exact"),
]
GROUP = {"projects": "catalog", "tasks": "catalog", "time": "exports", "expenses": "exports"}
# The keys of `exports.given` that name a timesheet (the others name an expense sheet)
TIME_SHEET_KINDS = {
    "hours_text",
    "no_date",
    "bad_date",
    "negative_hours",
    "zero_hours",
    "outside_dates",
    "hours_per_day",
    "approved_date",
    "timesheet_errors",
    "report_html",
    "deleted_project",
    "long_comment",
    "bill_html",
}


# -- what each kind must show ----------------------------------------------------------------------------------


def failed(world: World, run: str, source_id: str, *words: str, cause: str = "", sync: str | None = None) -> None:
    """Dead-lettered (or recorded failed) with a reason naming the record and the field: in the run's failures, in
    the dead-letter queue's message attributes, and, with `cause`, under that cause."""
    sync = sync or run.split("_")[0]
    found = [f for f in world.runs[run].failures if f["source_id"] == source_id]
    assert found, f"{source_id} did not fail: {world.runs[run].failures}"
    reason = " ".join(f["reason"] for f in found)
    for word in words:
        assert word in reason, (word, reason)
    letters = [letter for letter in world.letters(sync) if letter.source_id == source_id]
    assert letters, f"{source_id} is not in the {sync} dead-letter queue"
    assert all(word in " ".join(letter.reason for letter in letters) for word in words)
    if cause:
        causes = [c for c in world.causes(sync) if c.key.startswith(cause)]
        assert any(source_id in c.blocked for c in causes), (cause, [(c.key, c.blocked) for c in causes])


def cause_lists(world: World, sync: str, key: str, *source_ids: str, words: tuple[str, ...] = ()) -> Any:
    causes = [c for c in world.causes(sync) if c.key.startswith(key)]
    assert causes, (key, [c.key for c in world.causes(sync)])
    blocked = {b for c in causes for b in c.blocked}
    assert set(source_ids) <= blocked, (source_ids, blocked)
    reasons = " ".join(c.reason for c in causes)
    for word in words:
        assert word in reasons, (word, reasons)
    return causes


def bills(world: World) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for bill in world.ns.records.all("timeBill"):
        found[bill.get("externalId", "")].append(bill)
    return found


def reports(world: World) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for report in world.ns.records.all("expenseReport"):
        found[report.get("externalId", "")].append(report)
    return found


def report_of(world: World, sheet: str) -> dict[str, Any]:
    (report,) = reports(world)[report_external_id(sheet)]
    return report


def lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    return (report.get("expense") or {}).get("items", [])


def sheet_landed(world: World, sheet: str, *, without: tuple[str, ...] = ()) -> None:
    """Every entry of the timesheet has exactly one bill, but those in `without` have none."""
    found = bills(world)
    for entry in world.ct.entries_of(sheet):
        expected = 0 if entry["ID"] in without else 1
        assert len(found.get(bill_external_id(entry["ID"]), [])) == expected, (entry["ID"], expected)


def minutes(bill: dict[str, Any]) -> int:
    hours, mins = bill["hours"].split(":")
    return int(hours) * 60 + int(mins)


# projects and tasks


def check_project_no_customer(w: World) -> None:
    project = w.given["no_customer"]
    number = w.ns.records.get("job", project)["entityId"]
    failed(w, "projects", project, number, "no customer", "field parent", cause="project-without-customer")
    assert project not in jobs_by_project(w.session)


def check_synced_project_loses_customer(w: World) -> None:
    project = w.given["synced_no_customer"]
    (job,) = jobs_by_project(w.session)[project]
    failed(w, "projects_errors", project, "no customer", "field parent", cause="project-without-customer")
    (failure,) = [f for f in w.runs["projects_errors"].failures if f["source_id"] == project]
    assert failure["target_id"] == job["ID"]
    assert {letter.target_id for letter in w.letters("projects") if letter.source_id == project} == {job["ID"]}
    assert job["IsActive"] is True


def check_project_name_300_unicode(w: World) -> None:
    (job,) = jobs_by_project(w.session)[w.given["long_name"]]
    assert job["Name"] == LONG_NAME and len(LONG_NAME) == 300


def check_clicktime_errors_on_200_create(w: World) -> None:
    (first,) = [f for f in w.runs["projects"].failures if "an error list on a 200 answer" in f["reason"]]
    assert "POST /Clients" in first["reason"] and first["source_id"].isdigit()
    # redriven: its job is there, once, and nothing of it waits in the dead-letter queue
    assert len(jobs_by_project(w.session)[first["source_id"]]) == 1
    assert all("error list" not in letter.reason for letter in w.letters("projects"))


def check_clicktime_html_502_after_create(w: World) -> None:
    assert w.rules["job_html_502"].fired == 1
    assert w.runs["projects"].syncs["projects"]["retried"] >= 1
    assert all(len(jobs) == 1 for jobs in jobs_by_project(w.session).values())


def check_netsuite_truncated_200_read(w: World) -> None:
    assert w.rules["suiteql_truncated"].fired == 1
    assert w.runs["projects"].syncs["projects"]["status"] == "enqueued"
    assert not [r for r in w.logs if "poller failed" in r.getMessage()]


def check_netsuite_errors_on_200_read(w: World) -> None:
    assert w.rules["suiteql_errors"].fired == 1
    assert w.runs["projects_errors"].syncs["projects"]["status"] == "partial"
    cause_lists(w, "projects", "netsuite-", words=("an error list on a 200 answer", "/suiteql"))
    assert w.given["deletions_mark_after"] == w.given["deletions_mark"]  # never past what was not read
    assert w.given["job_after_errors"]["IsActive"] is True
    (job,) = jobs_by_project(w.session)[w.given["later_deleted"]]
    assert job["IsActive"] is False  # the next run read the deletion


def check_task_title_300_unicode(w: World) -> None:
    (task,) = tasks_by_source(w.session)[w.given["long_task"]]
    assert LONG_NAME in task["Name"]


def check_task_of_deleted_project(w: World) -> None:
    orphans, project = w.given["orphan_tasks"], w.given["deleted_project"]
    assert orphans and not set(orphans) & set(tasks_by_source(w.session))
    assert not {f["source_id"] for f in w.runs["tasks"].failures} & set(orphans)
    said = [r for r in w.logs if f"project {project} is not in ClickTime" in str(getattr(r, "detail", ""))]
    assert {getattr(r, "netsuite_id", None) for r in said} >= set(orphans)


def check_task_of_project_without_customer(w: World) -> None:
    project = w.given["no_customer"]
    tasks = [t.id for t in w.session.simulators.company.tasks if t.project_id == project]
    for task in tasks:
        failed(w, "tasks", task, "no customer", "field parent")


def check_netsuite_html_200_read(w: World) -> None:
    assert w.rules["suiteql_html"].fired == 1
    assert w.runs["tasks"].syncs["tasks"]["status"] == "enqueued"
    assert all(len(found) == 1 for found in tasks_by_source(w.session).values())


# time


def check_hours_text(w: World) -> None:
    sheet, entry = w.given["hours_text"]
    failed(w, "time", sheet, f"time entry {entry}", "Hours='seven'", cause="bad-input:hours")


def check_no_date(w: World) -> None:
    sheet, entry = w.given["no_date"]
    failed(w, "time", sheet, f"time entry {entry}", "has no Date", cause="bad-input:date")


def check_bad_date(w: World) -> None:
    sheet, entry = w.given["bad_date"]
    failed(w, "time", sheet, f"time entry {entry}", "Date='2026-02-30'", cause="bad-input:date")


def check_negative_hours(w: World) -> None:
    sheet, entry = w.given["negative_hours"]
    failed(w, "time", sheet, entry, "negative hours -2", cause="bad-input:hours")


def check_zero_hours(w: World) -> None:
    sheet, entry = w.given["zero_hours"]
    sheet_landed(w, sheet, without=(entry,))
    notes = w.runs["time"].syncs["time"]["notes"]
    assert any(entry in text and "0 h" in text for text in notes.values())


def check_outside_dates(w: World) -> None:
    sheet, entry = w.given["outside_dates"]
    failed(w, "time", sheet, entry, "dated 2019-01-01, outside its timesheet", cause="bad-input:date")


def check_hours_per_day(w: World) -> None:
    sheet, entry = w.given["hours_per_day"]
    failed(w, "time", sheet, entry, "more than 24 h in a day", cause="bad-input:hours-per-day")


def check_approved_date(w: World) -> None:
    sheet, _ = w.given["approved_date"]
    failed(w, "time", sheet, f"timesheet {sheet}", "ApprovedDate='last Tuesday'", cause="bad-input:approveddate")


def check_timesheet_errors_on_200(w: World) -> None:
    sheet, _ = w.given["timesheet_errors"]
    failed(
        w, "time", sheet, "Timesheet could not be loaded", f"an error list on a 200 answer to GET /Timesheets/{sheet}"
    )


def check_report_html_200(w: World) -> None:
    sheet, _ = w.given["report_html"]
    assert w.rules["report_html"].fired == 1
    sheet_landed(w, sheet)


def check_deleted_project(w: World) -> None:
    sheet, entry = w.given["deleted_project"]
    failed(w, "time", sheet, f"time entry {entry}", bill_external_id(entry), MISSING_PROJECT, "INVALID_KEY_OR_REF")
    assert bill_external_id(entry) not in bills(w)


def check_inactive_employee(w: World) -> None:
    employee = w.given["inactive_employee"]
    cause_lists(w, "time", f"employee-inactive:{employee}", *w.given["inactive_sheets"], words=(employee, "inactive"))
    for sheet in w.given["inactive_sheets"]:
        failed(w, "time", sheet, "inactive")


def check_unmapped_employee(w: World) -> None:
    contractor = next(u for u in w.ct.users() if u["Email"].startswith("sam.freelance"))
    sheets = [s["ID"] for s in w.ct.timesheets() if s["UserID"] == contractor["ID"] and s["Status"] == "Approved"]
    cause_lists(w, "time", "employee-unmapped:", *sheets, words=(contractor["Email"],))


def check_long_unicode_comment(w: World) -> None:
    _, entry = w.given["long_comment"]
    (bill,) = bills(w)[bill_external_id(entry)]
    assert bill["memo"] == LONG_TITLE


def check_netsuite_html_502_after_write(w: World) -> None:
    sheet, entry = w.given["bill_html"]
    assert w.rules["bill_html"].fired == 1
    sheet_landed(w, sheet)


def check_hours_as_strings(w: World) -> None:
    assert w.ct.decimals_as == "string"
    found = bills(w)
    checked = 0
    for sheet in w.ct.timesheets():
        for entry in w.ct.entries_of(sheet["ID"]):
            for bill in found.get(bill_external_id(entry["ID"]), []):
                assert abs(minutes(bill) - entry["Hours"] * 60) < 1, entry
                checked += 1
    assert checked > 50


# expenses


def check_amount_more_places(w: World) -> None:
    sheet, item = w.given["amount_places"]
    (line,) = lines(report_of(w, sheet))
    assert line["amount"] == Decimal("12.35")
    cause_lists(w, "expenses", "amount-rounded", sheet, words=(item, "Amount 12.345", "sent as 12.35"))


def check_no_amount(w: World) -> None:
    sheet, item = w.given["no_amount"]
    failed(w, "expenses", sheet, f"expense item {item}", "has no Amount", cause="bad-input:amount")


def check_amount_text(w: World) -> None:
    sheet, item = w.given["amount_text"]
    failed(w, "expenses", sheet, f"expense item {item}", "Amount='12,50'", cause="bad-input:amount")


def check_bad_expense_date(w: World) -> None:
    sheet, item = w.given["bad_expense_date"]
    failed(w, "expenses", sheet, f"expense item {item}", "ExpenseDate='2026-13-01'", cause="bad-input:expensedate")


def check_unknown_currency(w: World) -> None:
    sheet, item = w.given["unknown_currency"]
    failed(w, "expenses", sheet, f"expense item {item}", "currency XYZ", cause="currency-unmapped:xyz")


def check_no_exchange_rate(w: World) -> None:
    sheet, item = w.given["no_rate"]
    failed(w, "expenses", sheet, f"expense item {item}", "no exchange rate", cause="bad-input:exchange-rate")


def check_inactive_category(w: World) -> None:
    sheet, item = w.given["inactive_type"]
    category = w.given["inactive_category"]
    failed(w, "expenses", sheet, item, "Old Parking", f"({category}), which is inactive", cause="category-inactive:")


def check_deleted_category(w: World) -> None:
    sheet, item = w.given["deleted_category"]
    failed(w, "expenses", sheet, item, "AccountingPackageID is 99999", cause="category-missing:99999")


def check_unmapped_expense_type(w: World) -> None:
    cause_lists(w, "expenses", "expense-type-unmapped:client-gifts", words=("Client Gifts",))


def check_unknown_reimbursable(w: World) -> None:
    sheet, item = w.given["reimbursable"]
    failed(w, "expenses", sheet, f"expense item {item}", "reimbursable", cause="bad-input:reimbursable")


def check_items_errors_on_200(w: World) -> None:
    sheet, _ = w.given["items_errors"]
    failed(
        w, "expenses", sheet, "Expense items could not be loaded", "an error list on a 200 answer to GET /ExpenseItems"
    )


def check_long_unicode_title(w: World) -> None:
    sheet, _ = w.given["long_title"]
    assert report_of(w, sheet)["memo"] == LONG_TITLE


def check_receipt_too_large(w: World) -> None:
    sheet, item = w.given["receipt_large"]
    assert len(lines(report_of(w, sheet))) == len(w.ct.items_of(sheet))
    assert file_external_id(item) not in {f["externalId"] for f in w.ns.files()}
    cause_lists(w, "expenses", "receipt-too-large", sheet, words=(item, str(11 * 1024 * 1024)))


def check_receipt_type(w: World) -> None:
    sheet, item = w.given["receipt_type"]
    assert len(lines(report_of(w, sheet))) == len(w.ct.items_of(sheet))
    cause_lists(w, "expenses", "receipt-type", sheet, words=(item, "text/html"))


def check_clicktime_truncated_200(w: World) -> None:
    sheet, _ = w.given["sheet_truncated"]
    assert w.rules["sheet_truncated"].fired == 1
    assert len(lines(report_of(w, sheet))) == len(w.ct.items_of(sheet))


def check_netsuite_html_502_after_report(w: World) -> None:
    sheet, _ = w.given["report_html_502"]
    assert w.rules["expense_put_html"].fired == 1
    assert len(reports(w)[report_external_id(sheet)]) == 1


def check_amounts_as_strings(w: World) -> None:
    checked = 0
    for found in reports(w).values():
        for line in lines(found[0]):
            assert isinstance(line["amount"], Decimal) and line["amount"] == line["amount"].quantize(Decimal("0.01"))
            checked += 1
    assert checked > 10


CHECKS: dict[str, Callable[[World], None]] = {
    name.removeprefix("check_"): value for name, value in globals().items() if name.startswith("check_")
}


def test_the_table_lists_every_check_and_at_least_30_kinds_across_all_four_syncs() -> None:
    assert sorted(CHECKS) == sorted(k.name for k in KINDS)
    per_sync = {sync: sum(1 for k in KINDS if k.sync == sync) for sync in GROUP}
    assert len(KINDS) >= 30 and all(count >= 3 for count in per_sync.values()), per_sync


# -- what holds for every kind at once ---------------------------------------------------------------------------


def no_crash(world: World) -> None:
    """No record ended as an unexplained crash: nothing dead-lettered for using up its retries, no ERROR line with
    a traceback, no simulator bug."""
    for result in world.runs.values():
        assert not [f for f in result.failures if f["kind"] == "GAVE_UP"], result.failures
        assert all(f["source_id"] != "unknown" and f["reason"] for f in result.failures)
    assert not [r for r in world.logs if r.levelname == "ERROR" and r.exc_info], "a handler raised a traceback"
    assert world.ns.internal_errors == [] and world.ct.internal_errors == []


def check_kinds(world: World, group: str) -> None:
    """Every kind of the group checked; each one failing is reported by name (one world serves them all)."""
    failures: list[str] = []
    for kind in [k for k in KINDS if GROUP[k.sync] == group]:
        try:
            CHECKS[kind.name](world)
        except AssertionError as error:
            failures.append(f"{kind.sync}/{kind.name} ({kind.given}): {error}")
    assert not failures, "\n".join(failures)


def test_catalog_kinds_end_to_end() -> None:
    """Projects and tasks: every kind of their group, then the rest of every batch and the absence of crashes."""
    with open_session() as session:
        catalog = catalog_world(session)
    check_kinds(catalog, "catalog")
    no_crash(catalog)
    jobs = jobs_by_project(catalog.session)
    gone = {catalog.given[k] for k in ("no_customer", "deleted_project", "later_deleted")}
    expected = {p.id for p in open_projects(catalog.session)} - gone
    assert {pid for pid, found in jobs.items() if found[0]["IsActive"]} == expected
    assert all(len(found) == 1 for found in jobs.values())
    assert all(len(found) == 1 for found in tasks_by_source(catalog.session).values())


def test_exports_kinds_end_to_end() -> None:
    """Time and expenses: every kind of their group, then the rest of every batch and the absence of crashes."""
    from tests.e2e.test_expense_export import exportable_sheets as expense_sheets
    from tests.e2e.test_time_export import exportable_sheets as time_sheets

    with open_session() as session:
        exports = exports_world(session)
    check_kinds(exports, "exports")
    no_crash(exports)
    given = exports.given
    time_kinds = {k for k in given if isinstance(given[k], tuple) and k in TIME_SHEET_KINDS}
    expense_kinds = {k for k in given if isinstance(given[k], tuple)} - time_kinds
    time_landing = {"zero_hours", "report_html", "long_comment", "bill_html"}
    blocked_time = {given[k][0] for k in time_kinds - time_landing} | set(given["inactive_sheets"])
    found = bills(exports)
    assert all(len(copies) == 1 for copies in found.values())  # nothing twice
    landed = 0
    for sheet in time_sheets(exports.session):
        entries = exports.ct.entries_of(sheet["ID"])
        have = [bill_external_id(e["ID"]) in found for e in entries]
        if sheet["ID"] in blocked_time and sheet["ID"] != given["deleted_project"][0]:
            assert not any(have), sheet["ID"]  # whole or nothing
        elif sheet["ID"] not in blocked_time and sheet["ID"] != given["zero_hours"][0]:
            assert all(have), sheet["ID"]
            landed += 1
    assert landed >= 10
    expense_landing = {
        "amount_places",
        "long_title",
        "receipt_large",
        "receipt_type",
        "report_html_502",
        "sheet_truncated",
    }
    blocked_expenses = {given[k][0] for k in expense_kinds - expense_landing}
    copies = reports(exports)
    assert all(len(found) == 1 for found in copies.values())
    for sheet in expense_sheets(exports.session):
        assert (report_external_id(sheet["ID"]) in copies) is (sheet["ID"] not in blocked_expenses), sheet["ID"]
    for sheet in blocked_expenses:
        assert report_external_id(sheet) not in copies
