"""Seeding for the bad-input suite (`test_bad_input.py`): two seeded companies, each given many kinds of bad input at
once, run once through the local runner; what each kind was given to is kept for the checks."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ctns.runner import SyncRun
from ctns.session import Session
from simulators.clicktime import catalog
from tests.e2e import badbodies as bb
from tests.e2e.support import FAST_RETRIES, Pass, open_projects, run

LONG_NAME = ("Ünïcødé Prøjekt 项目 🚀 עברית Ελληνικά " * 10)[:299] + "!"
LONG_TITLE = ("Reisekosten – Zürich ☕ 東京 Ωmega " * 12)[:299] + "!"
MISSING_PROJECT = "99999"  # a NetSuite project ID that no longer exists


class Captured(logging.Handler):
    """Every log record the functions write (the product's JSON logger does not propagate)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Captured:
        logging.getLogger("ctns").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("ctns").removeHandler(self)


@dataclass
class World:
    """One seeded company after its runs: the session, what was given where, and the runs' results."""

    session: Session
    given: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, Pass] = field(default_factory=dict)
    rules: dict[str, bb._Rule] = field(default_factory=dict)
    logs: list[logging.LogRecord] = field(default_factory=list)
    _letters: dict[str, list[Any]] = field(default_factory=dict)
    _causes: dict[str, list[Any]] = field(default_factory=dict)

    def settle(self) -> None:
        """Read the dead-letter queues and the causes of every sync, before the session (and its AWS) closes: two
        sessions must never be open at once (they share the process's AWS mock)."""
        for sync in ("projects", "tasks", "time", "expenses"):
            self._letters[sync] = self.session.runner.dead_letters(sync)
            self._causes[sync] = self.session.runlog.causes(sync)

    def letters(self, sync: str) -> list[Any]:
        """What waited in the sync's dead-letter queue after the runs."""
        return self._letters[sync]

    def causes(self, sync: str) -> list[Any]:
        """The open causes of the sync after the runs."""
        return self._causes[sync]

    @property
    def ct(self) -> Any:
        return self.session.simulators.clicktime

    @property
    def ns(self) -> Any:
        return self.session.simulators.netsuite


def open_session(seed: int = 7) -> Session:
    return Session.simulated(seed=seed, config_overrides=dict(FAST_RETRIES))


def drain(session: Session, sync: str) -> None:
    mapping = next(m for m in session.stack.queue_mappings if m.queue == f"{sync.capitalize()}Queue")
    session.runner.drain(mapping, SyncRun(sync))


# -- projects and tasks ----------------------------------------------------------------------------------------


def catalog_world(session: Session) -> World:
    world = World(session)
    ns, ct = world.ns.records, world.ct
    projects = open_projects(session)
    company = session.simulators.company
    ct_rules, ns_rules = bb.Rewrites(ct), bb.Rewrites(world.ns)
    no_customer, long_name, deleted, later_deleted = projects[0], projects[1], projects[-1], projects[3]
    ns.update("job", no_customer.id, {"parent": None})
    ns.update("job", long_name.id, {"companyName": LONG_NAME})
    task = next(t for t in company.tasks if t.project_id == projects[2].id and t.parent_id is None)
    ns.update("projectTask", task.id, {"title": LONG_NAME})
    orphans = [t.id for t in company.tasks if t.project_id == deleted.id]
    ns.delete("job", deleted.id)
    world.given.update(
        no_customer=no_customer.id,
        long_name=long_name.id,
        long_task=task.id,
        deleted_project=deleted.id,
        orphan_tasks=orphans,
        later_deleted=later_deleted.id,
    )
    # Answers: ClickTime refuses one client create with an error list on a 200; one job create is done but answered
    # with a proxy's HTML 502 page; NetSuite's first projects page is cut short and a tasks page is an HTML page.
    ct.inject_envelope_error(1, path=r"/Clients$", method="POST")
    world.rules["job_html_502"] = ct_rules.add(bb.html_page(502), path=r"/Jobs$", method="POST", times=1)
    world.rules["suiteql_truncated"] = ns_rules.add(
        bb.truncated, path=r"/suiteql$", method="POST", body=r"FROM job j", times=1
    )
    world.rules["suiteql_html"] = ns_rules.add(
        bb.html_page(200), path=r"/suiteql$", method="POST", body=r"FROM projecttask t", times=1
    )
    with Captured() as logs:
        world.runs["projects"] = run(session, "projects")
        world.runs["tasks"] = run(session, "tasks")
        # The dead letters redriven (the client refused once now goes through; the project without a customer
        # fails again, with the same reason)
        session.runner.redrive("projects")
        drain(session, "projects")
        # A project synced before loses its customer: its failure names both IDs (project and job)
        ns.update("job", projects[4].id, {"parent": None})
        world.given["synced_no_customer"] = projects[4].id
        # A deletion read through NetSuite's error list on a 200: the phase fails, nothing is lost
        ns.delete("job", later_deleted.id)
        world.rules["suiteql_errors"] = ns_rules.add(
            bb.netsuite_errors_on_200("An unexpected error occurred while running the query."),
            path=r"/suiteql$",
            method="POST",
            body=r"FROM deletedrecord",
            times=1,
        )
        world.given["deletions_mark"] = session.runtime().progress.watermark("projects", "deletions")
        world.runs["projects_errors"] = run(session, "projects")
        world.given["deletions_mark_after"] = session.runtime().progress.watermark("projects", "deletions")
        world.given["job_after_errors"] = _job_of(world, later_deleted.id)
        world.runs["projects_after"] = run(session, "projects")
    world.logs = logs.records
    world.settle()
    return world


def _job_of(world: World, project_id: str) -> dict[str, Any] | None:
    return next((j for j in world.ct.jobs() if j.get("AccountingPackageID") == project_id), None)


# -- time and expenses -----------------------------------------------------------------------------------------


def clone_expense_sheet(ct: Any, sheet_id: str) -> str:
    """Another approved sheet like `sheet_id` (its items and receipts copied): each blocked kind needs a sheet."""
    store = ct.store
    with store.lock:
        sheet = copy.deepcopy(store.expense_sheets[sheet_id])
        sheet.update(ID=store.mint_id(), _seq=store.next_sequence())
        store.expense_sheets[sheet["ID"]] = sheet
        for item in [i for i in store.expense_items.values() if i["ExpenseSheetID"] == sheet_id]:
            twin = copy.deepcopy(item)
            twin.update(ID=store.mint_id(), ExpenseSheetID=sheet["ID"], _seq=store.next_sequence())
            store.expense_items[twin["ID"]] = twin
            if item["ID"] in store.receipts:
                store.receipts[twin["ID"]] = store.receipts[item["ID"]]
    return sheet["ID"]


def add_expense_type(ct: Any, type_id: str, name: str, accounting_id: str | None) -> None:
    with ct.store.lock:
        ct.store.expense_types[type_id] = {
            "ID": type_id,
            "Name": name,
            "IsActive": True,
            "Description": "",
            "AccountingPackageID": accounting_id,
            "Rate": None,
            "Type": None,
        }


MISSING_TASK = "999777"  # a NetSuite project task ID no account record holds


def job_of_a_deleted_project(ct: Any) -> tuple[str, str]:
    """A ClickTime job (and task) still carrying the ID of a NetSuite project that was deleted."""
    client = ct.clients()[0]
    job = catalog.create_job(
        ct.store,
        {
            "Name": "Retired project",
            "JobNumber": "P-GONE",
            "ClientID": client["ID"],
            "AccountingPackageID": MISSING_PROJECT,
        },
    )
    # its task was the deleted project's too: it carries a NetSuite task ID that is gone as well
    task = catalog.create_task(
        ct.store,
        {"Name": "Retired work", "TaskCode": "GONE", "AccountingPackageID": MISSING_TASK},
        unique_names=True,
    )
    catalog.link_task(ct.store, job["ID"], task["ID"])
    return job["ID"], task["ID"]


def foreign(iso: str, rate: Decimal | None) -> Any:
    def edit(item: dict[str, Any]) -> None:
        item.update(HasForeignCurrency=True, AmountForeign=Decimal("10.00"), AmountForeignCurrency=iso)
        item["AmountForeignExchangeRate"] = rate

    return edit


def exports_world(session: Session) -> World:
    """Time and expenses: the catalog synced, people's activity logged, then bad input given to chosen sheets."""
    from tests.e2e.test_expense_export import exportable_sheets as expense_sheets
    from tests.e2e.test_time_export import exportable_sheets as time_sheets

    world = World(session)
    ct, ns = world.ct, world.ns
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    given = world.given
    ct_rules, ns_rules = bb.Rewrites(ct), bb.Rewrites(ns)
    ct.decimals_as = "string"  # every hour and amount arrives as text
    # -- time: one timesheet per kind; one person's NetSuite employee made inactive blocks all of theirs
    sheets = sorted(time_sheets(session), key=lambda s: s["ID"])
    people = sorted({s["UserID"] for s in sheets})
    inactive_user = people[-1]
    email = next(u["Email"] for u in ct.users() if u["ID"] == inactive_user).lower()
    employee = next(e for e in ns.records.all("employee") if e["email"].lower() == email)
    ns.records.update("employee", employee["id"], {"isInactive": True})
    given["inactive_employee"] = employee["id"]
    given["inactive_sheets"] = [s["ID"] for s in sheets if s["UserID"] == inactive_user]
    usable = [s["ID"] for s in sheets if s["UserID"] != inactive_user and ct.entries_of(s["ID"])]
    free = iter(usable)

    def entry_rule(kind: str, edit: Any) -> None:
        sheet = next(free)
        entry = ct.entries_of(sheet)[0]
        ct_rules.add(bb.edit_records(edit, ids={entry["ID"]}), path=r"/Reports/Time$", query={"TimesheetID": sheet})
        given[kind] = (sheet, entry["ID"])

    entry_rule("hours_text", bb.set_field("Hours", "seven"))
    entry_rule("no_date", bb.drop_field("Date"))
    entry_rule("bad_date", bb.set_field("Date", "2026-02-30"))
    entry_rule("negative_hours", bb.set_field("Hours", "-2"))
    entry_rule("zero_hours", bb.set_field("Hours", "0"))
    entry_rule("outside_dates", bb.set_field("Date", "2019-01-01"))
    sheet = next(free)
    first = ct.entries_of(sheet)[0]
    extra = ct.add_time_entry(sheet, first["Date"], Decimal("20"), first["JobID"], first["TaskID"])
    given["hours_per_day"] = (sheet, extra["ID"])
    sheet = next(free)
    ct_rules.add(
        bb.edit_records(bb.set_field("ApprovedDate", "last Tuesday"), ids={sheet}), path=r"/Timesheets(/[^/]+)?$"
    )
    given["approved_date"] = (sheet, None)
    sheet = next(free)
    world.rules["timesheet_errors"] = ct_rules.add(
        bb.clicktime_errors_on_200("Timesheet could not be loaded."), path=rf"/Timesheets/{sheet}$"
    )
    given["timesheet_errors"] = (sheet, None)
    sheet = next(free)
    world.rules["report_html"] = ct_rules.add(
        bb.html_page(200), path=r"/Reports/Time$", query={"TimesheetID": sheet}, times=1
    )
    given["report_html"] = (sheet, None)
    sheet = next(free)
    job, task = job_of_a_deleted_project(ct)
    first = ct.entries_of(sheet)[0]
    gone = ct.add_time_entry(sheet, first["Date"], Decimal("1.5"), job, task)
    given["deleted_project"] = (sheet, gone["ID"])
    sheet = next(free)
    entry = ct.entries_of(sheet)[0]
    ct.edit_time_entry(entry["ID"], Comment=LONG_TITLE)
    given["long_comment"] = (sheet, entry["ID"])
    sheet = next(free)
    entry = ct.entries_of(sheet)[-1]
    world.rules["bill_html"] = ns_rules.add(
        bb.html_page(502), path=rf"/timeBill/eid:ct-te-{entry['ID']}$", method="PUT", times=1
    )
    given["bill_html"] = (sheet, entry["ID"])
    # -- expenses: approved sheets cloned, one per kind
    base = sorted(expense_sheets(session), key=lambda s: s["ID"])[0]["ID"]

    def item_rule(kind: str, edit: Any) -> None:
        sheet = clone_expense_sheet(ct, base)
        item = ct.items_of(sheet)[0]
        ct_rules.add(bb.edit_records(edit, ids={item["ID"]}), path=r"/ExpenseItems$", query={"ExpenseSheetID": sheet})
        given[kind] = (sheet, item["ID"])

    add_expense_type(ct, "et-retired", "Old Parking", None)
    add_expense_type(ct, "et-gone", "Gone Category", "99999")
    given["inactive_category"] = ns.records.add("expenseCategory", {"name": "Old Parking", "isinactive": True})
    # stored, not rewritten on the wire: the sheet's TotalAmount must agree with its item, or the sheet is blocked
    # as read short (clicktime-expense-items-short) before its amount is looked at
    places = clone_expense_sheet(ct, base)
    (places_item,) = ct.items_of(places)
    with ct.store.lock:
        # spent in the company currency: an item spent in another is blocked when its Amount is not its foreign
        # amount at its rate (bad-input:AmountForeignExchangeRate), as a changed Amount alone would make it
        ct.store.expense_items[places_item["ID"]].update(
            Amount=Decimal("12.345"),
            HasForeignCurrency=False,
            AmountForeign=None,
            AmountForeignCurrency=None,
            AmountForeignExchangeRate=None,
        )
    given["amount_places"] = (places, places_item["ID"])
    item_rule("no_amount", bb.drop_field("Amount"))
    item_rule("amount_text", bb.set_field("Amount", "12,50"))
    item_rule("bad_expense_date", bb.set_field("ExpenseDate", "2026-13-01"))
    item_rule("unknown_currency", foreign("XYZ", Decimal("1.1")))
    item_rule("no_rate", foreign("EUR", None))
    item_rule("inactive_type", bb.set_field("ExpenseTypeID", "et-retired"))
    item_rule("deleted_category", bb.set_field("ExpenseTypeID", "et-gone"))
    item_rule("reimbursable", lambda item: item.update(Reimbursable=None, PaymentTypeID="pt-unknown"))
    sheet = clone_expense_sheet(ct, base)
    world.rules["items_errors"] = ct_rules.add(
        bb.clicktime_errors_on_200("Expense items could not be loaded."),
        path=r"/ExpenseItems$",
        query={"ExpenseSheetID": sheet},
    )
    given["items_errors"] = (sheet, None)
    sheet = clone_expense_sheet(ct, base)
    ct_rules.add(bb.edit_records(bb.set_field("Title", LONG_TITLE), ids={sheet}), path=r"/ExpenseSheets(/[^/]+)?$")
    given["long_title"] = (sheet, None)
    for kind, content, mime in (
        ("receipt_large", b"x" * (11 * 1024 * 1024), "image/png"),
        ("receipt_type", b"<html><body>receipt</body></html>", "text/html"),
    ):
        sheet = clone_expense_sheet(ct, base)
        item = ct.items_of(sheet)[0]
        ct.set_receipt(item["ID"], content, mime)
        given[kind] = (sheet, item["ID"])
    sheet = clone_expense_sheet(ct, base)
    world.rules["sheet_truncated"] = ct_rules.add(bb.truncated, path=rf"/ExpenseSheets/{sheet}$", times=1)
    given["sheet_truncated"] = (sheet, None)
    sheet = clone_expense_sheet(ct, base)
    world.rules["expense_put_html"] = ns_rules.add(
        bb.html_page(502), path=r"/expenseReport/eid:ct-es-" + sheet + "$", method="PUT", times=1
    )
    given["report_html_502"] = (sheet, None)
    with Captured() as logs:
        world.runs["time"] = run(session, "time")
        world.runs["expenses"] = run(session, "expenses")
    world.logs = logs.records
    world.settle()
    return world
