"""What each kind of the bad-input suite must show (`test_bad_input.py` lists the kinds): one `check_<kind>` per
kind, over the `World` it was given in, and the helpers that look at both systems, the dead-letter queues and the
causes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ctsync.records.expense_export import external_id as report_external_id
from ctsync.records.receipts import file_external_id
from ctsync.records.time_export import external_id as bill_external_id
from tests.e2e.badinput_seed import LONG_NAME, LONG_TITLE, MISSING_PROJECT, World
from tests.e2e.support import jobs_by_project, tasks_by_source

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
    # judged by the poller when the task never synced (its project deleted first), else by the worker
    said = [
        r
        for r in w.logs
        if any(
            f"project {project} {why}" in str(getattr(r, "detail", ""))
            for why in ("is not in ClickTime", "is not open in NetSuite")
        )
    ]
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
    assert w.ct.decimals_as == "string"
    checked = 0
    for found in reports(w).values():
        for line in lines(found[0]):
            assert isinstance(line["amount"], Decimal) and line["amount"] == line["amount"].quantize(Decimal("0.01"))
            checked += 1
    assert checked > 10
    sheet, _ = w.given["long_title"]  # a USD report of one EUR item: its amount is ClickTime's Amount, to the cent
    assert [line["amount"] for line in lines(report_of(w, sheet))] == [i["Amount"] for i in w.ct.items_of(sheet)]


CHECKS: dict[str, Callable[[World], None]] = {
    name.removeprefix("check_"): value for name, value in globals().items() if name.startswith("check_")
}
