"""Bad input, end to end through the local runner on both simulators: every kind in `KINDS` below is given to one
record of a seeded company, many kinds at once, and each must end with a clear reason naming the record (its ID,
and the other system's where known) and the field, in the dead-letter queue (reason in the message attributes) or
in a cause record; the rest of its batch goes on, every other record lands exactly once, nothing is written twice,
and no handler fails with an unexplained traceback.

Each kind is checked by its `check_<name>` function (`tests/e2e/badinput_checks.py`); the two tests below build
one world each and run every check of it, naming each kind that fails (one seeded run serves many kinds, so the
suite stays fast). Two companies: `catalog` (projects -> jobs, tasks -> tasks, and NetSuite's broken answers to
their reads) and `exports` (approved time -> timeBill, approved expenses -> expenseReport, with every ClickTime
number sent as a string). Bad answers are served by `tests/e2e/badbodies.py`; the bad data is set up by
`tests/e2e/badinput_seed.py`.
Outcomes: DLQ = dead-lettered with the reason; CAUSE = a cause record (cause key) listing the record; LANDS = it
goes through as it should (valid but unusual input, or a broken answer retried), nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ctsync.records.expense_export import external_id as report_external_id
from ctsync.records.time_export import external_id as bill_external_id
from tests.e2e.badinput_checks import CHECKS, bills, reports
from tests.e2e.badinput_seed import World, catalog_world, exports_world, open_session
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
        "a 300-character name in five scripts with an emoji",
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
