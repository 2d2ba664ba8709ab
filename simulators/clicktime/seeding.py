"""Putting a generated `Company` into the simulator, without HTTP.

* `load`: what exists in ClickTime before the integration runs (users, expense and payment types, company
  settings, currencies).
* `load_activity`: the time and expenses people log once the syncs have created jobs and tasks; planned
  entries whose NetSuite project or task has no ClickTime job or task yet are skipped and counted.
* `seed_jobs_and_tasks`: creates clients, jobs, tasks and links directly, for tests of the ClickTime side
  alone, and returns the ID maps.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from simulators.clicktime import catalog
from simulators.clicktime.approvals import STAMP_KINDS, add_history, stamp
from simulators.clicktime.people import CURRENCY_SYMBOLS, check_settings, create_user
from simulators.clicktime.store import Record, Store, format_instant
from simulators.company import CLOSED_PROJECT_STATUS, Company, PlannedExpenseSheet, PlannedTimesheet

SUBMITTED_STATUSES = {"Waiting", "Approved", "Rejected", "Locked"}


@dataclass
class Keys:
    """ClickTime IDs minted for the generator's stable keys."""

    users: dict[str, str] = field(default_factory=dict)
    expense_types: dict[str, str] = field(default_factory=dict)
    payment_types: dict[str, str] = field(default_factory=dict)


@dataclass
class SeededIds:
    """NetSuite id -> ClickTime ID, per kind, as `seed_jobs_and_tasks` created them."""

    clients: dict[str, str]
    jobs: dict[str, str]
    tasks: dict[str, str]


def load(store: Store, keys: Keys, company: Company, *, keep_settings: bool) -> None:
    """Users, expense and payment types, settings and currencies. Loading the same company again adds nothing."""
    store.company_name = company.name
    if not keep_settings:
        check_settings(company.clicktime_settings)
        store.settings = copy.deepcopy(company.clicktime_settings)
    rates = _planned_rates(company)
    for currency in company.currencies:
        store.currencies[currency.iso] = {
            "Currency": currency.name,
            "CurrencyISO": currency.iso,
            "CurrencySymbol": CURRENCY_SYMBOLS.get(currency.iso),
            # UNVERIFIED: Rate read as "company currency per unit of this one"; 1 for the company currency.
            "Rate": rates.get(currency.iso),
        }
    for user in company.users:
        if user.key not in keys.users:
            keys.users[user.key] = create_user(
                store, user.name, user.email, user.employee_number, is_active=user.is_active
            )["ID"]
    for expense_type in company.expense_types:
        if expense_type.key not in keys.expense_types:
            record: Record = {
                "ID": store.mint_id(),
                "Name": expense_type.name,
                "IsActive": expense_type.is_active,
                "Description": "",
                "AccountingPackageID": expense_type.accounting_package_id,
                "Rate": None,
                "Type": None,
            }
            store.expense_types[record["ID"]] = record
            keys.expense_types[expense_type.key] = record["ID"]
    for payment_type in company.payment_types:
        if payment_type.key not in keys.payment_types:
            payment: Record = {
                "ID": store.mint_id(),
                "Name": payment_type.name,
                "IsActive": True,
                "Description": "",
                "AccountingPackageID": payment_type.accounting_package_id,
                "Reimbursable": payment_type.reimbursable,
            }
            store.payment_types[payment["ID"]] = payment
            keys.payment_types[payment_type.key] = payment["ID"]


def _planned_rates(company: Company) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {company.clicktime_settings.currency_iso: Decimal("1")}
    for sheet in company.expense_sheets:
        for item in sheet.items:
            if item.foreign_currency and item.exchange_rate is not None:
                rates.setdefault(item.foreign_currency, item.exchange_rate)
    return rates


def load_activity(
    store: Store,
    keys: Keys,
    company: Company,
    job_for_project: Callable[[str], str | None],
    task_for_task: Callable[[str], str | None],
) -> dict[str, int]:
    """Timesheets with their entries and expense sheets with their items; returns what was created/skipped."""
    if not keys.users:
        raise RuntimeError("load(company) must run before load_activity(company, ...)")
    counts = {
        "timesheets": 0,
        "time_entries": 0,
        "time_entries_skipped": 0,
        "expense_sheets": 0,
        "expense_items": 0,
        "expense_items_skipped": 0,
    }
    for planned in company.timesheets:
        _timesheet(store, keys, planned, job_for_project, task_for_task, counts)
    for planned_sheet in company.expense_sheets:
        _expense_sheet(store, keys, planned_sheet, job_for_project, counts)
    return counts


def _at(store: Store, day: date, hour: int) -> str:
    """A stamp on `day` at `hour` UTC, never later than the simulator's clock."""
    return format_instant(min(datetime.combine(day, time(hour), tzinfo=UTC), store.clock()))


def _timesheet(
    store: Store,
    keys: Keys,
    planned: PlannedTimesheet,
    job_for_project: Callable[[str], str | None],
    task_for_task: Callable[[str], str | None],
    counts: dict[str, int],
) -> None:
    user = store.users[keys.users[planned.user_key]]
    sheet: Record = {
        "ID": store.mint_id(),
        "UserID": user["ID"],
        "StartDate": planned.start_date.isoformat(),
        "EndDate": planned.end_date.isoformat(),
        "Status": planned.status,
        "HasBeenSubmitted": planned.status in SUBMITTED_STATUSES,
        "_seq": store.next_sequence(),
    }
    for kind in STAMP_KINDS:
        stamp(sheet, kind, None)
    # People submit the morning after the period ends and the admin decides that afternoon.
    after = planned.end_date + timedelta(days=1)
    if sheet["HasBeenSubmitted"]:
        when = _at(store, after, 9)
        stamp(sheet, "Submitted", user, when)
        add_history(store, sheet["ID"], "Submit", None, when, actor=user)
    if planned.status in {"Approved", "Rejected"}:
        kind, action = ("Approved", "Approve") if planned.status == "Approved" else ("Rejected", "Reject")
        when = _at(store, after, 15)
        stamp(sheet, kind, store.admin, when)
        add_history(store, sheet["ID"], action, None, when)
    store.timesheets[sheet["ID"]] = sheet
    counts["timesheets"] += 1
    for entry in planned.entries:
        job_id, task_id = job_for_project(entry.project_id), task_for_task(entry.task_id)
        if job_id is None or task_id is None or not _usable(store, job_id, task_id):
            counts["time_entries_skipped"] += 1
            continue
        job = store.jobs[job_id]
        record = {
            "ID": store.mint_id(),
            "Date": entry.date.isoformat(),
            "Hours": entry.hours,
            "JobID": job_id,
            "TaskID": task_id,
            "UserID": user["ID"],
            "Comment": entry.comment,
            "BillingRate": job["BillingRate"],
            "CostRate": None,
            "BreakTime": None,
            "StartTime": None,
            "EndTime": None,
            "CustomFields": {},
            "_timesheet": sheet["ID"],
            "_seq": store.next_sequence(),
        }
        store.time_entries[record["ID"]] = record
        counts["time_entries"] += 1


def _usable(store: Store, job_id: str, task_id: str) -> bool:
    """Could someone log time on this job and task? Both must exist, and be linked when tasks are by job."""
    if job_id not in store.jobs or task_id not in store.tasks:
        return False
    if store.settings.task_restriction_method == "byjob":
        return task_id in store.job_tasks.get(job_id, [])
    return True


def _expense_sheet(
    store: Store,
    keys: Keys,
    planned: PlannedExpenseSheet,
    job_for_project: Callable[[str], str | None],
    counts: dict[str, int],
) -> None:
    user = store.users[keys.users[planned.user_key]]
    sheet: Record = {
        "ID": store.mint_id(),
        "UserID": user["ID"],
        "Title": planned.title,
        "Description": "",
        "ExpenseSheetDate": planned.sheet_date.isoformat(),
        "TrackingID": "",
        "Status": planned.status,
        "Paid": planned.status == "paid",
        "Check": None,
        "Comment": None,
        "EnableForeignCurrency": any(i.foreign_currency for i in planned.items),
        "_seq": store.next_sequence(),
    }
    for kind in STAMP_KINDS:
        stamp(sheet, kind, None)
    if planned.status != "open":
        when = _at(store, planned.sheet_date + timedelta(days=1), 10)
        stamp(sheet, "Submitted", user, when)
        add_history(store, sheet["ID"], "Submit", None, when, actor=user)
    if planned.status in {"approved", "paid", "rejected"}:
        kind, action = ("Rejected", "Reject") if planned.status == "rejected" else ("Approved", "Approve")
        when = _at(store, planned.sheet_date + timedelta(days=2), 14)
        stamp(sheet, kind, store.admin, when)
        add_history(store, sheet["ID"], action, None, when)
    store.expense_sheets[sheet["ID"]] = sheet
    counts["expense_sheets"] += 1
    for planned_item in planned.items:
        job_id = job_for_project(planned_item.project_id)
        if not job_id or job_id not in store.jobs:
            counts["expense_items_skipped"] += 1
            continue
        payment_type = store.payment_types[keys.payment_types[planned_item.payment_type_key]]
        foreign = planned_item.foreign_currency is not None
        item = {
            "ID": store.mint_id(),
            "ExpenseSheetID": sheet["ID"],
            "UserID": user["ID"],
            "ExpenseDate": planned_item.expense_date.isoformat(),
            "Amount": planned_item.amount,
            # UNVERIFIED: Quantity and Rate only matter for mileage types, which the simulator has none of.
            # UNVERIFIED: Currency is the company currency, the one Amount is in.
            "Quantity": None,
            "Rate": None,
            "Currency": store.settings.currency_iso,
            "AmountForeign": planned_item.foreign_amount,
            "AmountForeignCurrency": planned_item.foreign_currency,
            "AmountForeignExchangeRate": planned_item.exchange_rate,
            "HasForeignCurrency": foreign,
            "Description": planned_item.description,
            "Comment": "",
            "Billable": planned_item.billable,
            "Reimbursable": payment_type["Reimbursable"],
            "ExpenseTypeID": keys.expense_types[planned_item.expense_type_key],
            "PaymentTypeID": payment_type["ID"],
            "JobID": job_id,
            "TaskID": None,
            "_seq": store.next_sequence(),
        }
        store.expense_items[item["ID"]] = item
        if planned_item.receipt is not None:
            store.receipts[item["ID"]] = (planned_item.receipt, planned_item.receipt_type or "application/pdf")
            if planned_item.receipt_fails:
                store.receipt_failures[item["ID"]] = planned_item.receipt_fail_status
        counts["expense_items"] += 1


def seed_jobs_and_tasks(store: Store, company: Company, *, unique_task_names: bool) -> SeededIds:
    """Clients, jobs and (leaf) tasks for the company's NetSuite records, with AccountingPackageID = NetSuite id.

    What the projects and tasks syncs would create, for tests that exercise the ClickTime side alone. Task
    names are prefixed with the project number, since ClickTime's task list is company-wide.
    """
    ids = SeededIds({}, {}, {})
    for customer in company.customers:
        ids.clients[customer.id] = catalog.create_client(
            store,
            {
                "Name": customer.company_name,
                "ClientNumber": customer.entity_id,
                "AccountingPackageID": customer.id,
                "IsActive": not customer.is_inactive,
            },
        )["ID"]
    projects = {p.id: p for p in company.projects}
    for project in company.projects:
        active = not project.is_inactive and project.allow_time and project.status_id != CLOSED_PROJECT_STATUS
        fields: Record = {
            "Name": project.company_name,
            "JobNumber": project.entity_id,
            "ClientID": ids.clients[project.customer_id],
            "AccountingPackageID": project.id,
            "IsActive": active,
        }
        if project.start_date:
            fields["StartDate"] = project.start_date.isoformat()
        if project.projected_end_date:
            fields["EndDate"] = project.projected_end_date.isoformat()
        ids.jobs[project.id] = catalog.create_job(store, fields)["ID"]
    titles = {t.id: t.title for t in company.tasks}
    parents = {t.parent_id for t in company.tasks if t.parent_id}
    for task in company.tasks:
        if task.id in parents:
            continue  # summary tasks take no time: only their subtasks become ClickTime tasks
        path = f"{titles[task.parent_id]} / {task.title}" if task.parent_id else task.title
        ids.tasks[task.id] = catalog.create_task(
            store,
            {
                "Name": f"{projects[task.project_id].entity_id} {path}",
                "AccountingPackageID": task.id,
                "IsActive": not task.is_inactive and task.status != "COMPLETE",
                "IsBillable": not task.non_billable,
            },
            unique_names=unique_task_names,
        )["ID"]
        if store.settings.task_restriction_method == "byjob":
            catalog.link_task(store, ids.jobs[task.project_id], ids.tasks[task.id])
    return ids
