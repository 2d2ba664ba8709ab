"""The shape of a seeded company, shared by both simulators and the generator.

One `Company` describes what exists in NetSuite (customers, projects, tasks, employees, categories, items)
and in ClickTime (users, expense types, payment types, company settings) before the integration runs, plus
an activity plan: the time and expenses people log once their jobs and tasks exist in ClickTime. IDs here
are NetSuite internal IDs for NetSuite records and stable keys for ClickTime ones; the ClickTime simulator
mints its own opaque IDs when it loads them.

Money and hours are Decimal; dates are `datetime.date`; instants are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class Subsidiary:
    id: str
    name: str
    currency_id: str


@dataclass
class Currency:
    id: str  # NetSuite internal id
    iso: str  # "USD"
    name: str


@dataclass
class Customer:
    id: str
    entity_id: str  # "C-2001"
    company_name: str
    subsidiary_id: str
    is_inactive: bool = False


@dataclass
class Project:
    id: str
    entity_id: str  # the project number, "P-1042"
    company_name: str  # the project name
    customer_id: str
    subsidiary_id: str
    status_id: str  # entityStatus id; see CLOSED_PROJECT_STATUS
    start_date: date | None
    projected_end_date: date | None
    is_inactive: bool = False
    allow_time: bool = True
    allow_expenses: bool = True


# NetSuite's standard project statuses (entityStatus on job). UNVERIFIED ids: accounts can add their own.
PROJECT_STATUSES = {"1": "Closed", "2": "In Progress", "3": "Not Awarded", "4": "Pending", "5": "Awarded"}
CLOSED_PROJECT_STATUS = "1"


@dataclass
class ProjectTask:
    id: str
    project_id: str
    title: str
    parent_id: str | None = None
    status: str = "PROGRESS"  # NOTSTART | PROGRESS | COMPLETE
    is_inactive: bool = False
    non_billable: bool = False
    service_item_id: str | None = None  # from the assignee line, when the task has one


@dataclass
class Employee:
    id: str
    entity_id: str  # employee number / name as NetSuite shows it
    first_name: str
    last_name: str
    email: str
    subsidiary_id: str
    currency_id: str
    is_inactive: bool = False


@dataclass
class ExpenseCategory:
    id: str
    name: str
    is_inactive: bool = False


@dataclass
class ServiceItem:
    id: str
    item_id: str  # "Consulting Hours"
    is_inactive: bool = False


@dataclass
class ClickTimeUser:
    key: str  # stable key for the generator; the simulator mints the ClickTime ID
    name: str
    email: str
    employee_number: str
    is_active: bool = True


@dataclass
class ClickTimeExpenseType:
    key: str
    name: str
    accounting_package_id: str | None  # the NetSuite expense category id, where the customer keeps it there
    is_active: bool = True


@dataclass
class ClickTimePaymentType:
    key: str
    name: str
    reimbursable: bool
    accounting_package_id: str | None = None


@dataclass
class ClickTimeSettings:
    currency_iso: str = "USD"
    task_restriction_method: str = "byjob"  # byjob | mytasks
    billable_setting: str = "Task"  # Job | Task
    timesheet_model: str = "weekly"
    week_starts_on: str = "Monday"


@dataclass
class PlannedTimeEntry:
    date: date
    hours: Decimal
    project_id: str  # NetSuite ids: bound to ClickTime jobs/tasks when the activity is loaded
    task_id: str
    comment: str
    is_billable: bool


@dataclass
class PlannedTimesheet:
    user_key: str
    start_date: date
    end_date: date
    status: str  # ClickTime Timesheet Status: Open | Waiting | Approved | Rejected | Locked ...
    entries: list[PlannedTimeEntry] = field(default_factory=list)


@dataclass
class PlannedExpenseItem:
    expense_date: date
    expense_type_key: str
    payment_type_key: str
    project_id: str
    amount: Decimal  # in the company currency
    description: str
    billable: bool
    foreign_amount: Decimal | None = None
    foreign_currency: str | None = None  # ISO
    exchange_rate: Decimal | None = None
    receipt: bytes | None = None
    receipt_type: str | None = None  # MIME type
    # The receipt exists (ReceiptURL is set) but downloading it fails with this status, until the simulator's
    # heal_receipt: the generator gives exactly one item per company such a receipt.
    receipt_fails: bool = False
    receipt_fail_status: int = 500


@dataclass
class PlannedExpenseSheet:
    user_key: str
    title: str
    sheet_date: date
    status: str  # ClickTime ExpenseSheet Status: open | waiting | approved | rejected | paid
    items: list[PlannedExpenseItem] = field(default_factory=list)


@dataclass
class Company:
    seed: int
    name: str
    subsidiaries: list[Subsidiary]
    currencies: list[Currency]
    customers: list[Customer]
    projects: list[Project]
    tasks: list[ProjectTask]
    employees: list[Employee]
    expense_categories: list[ExpenseCategory]
    service_items: list[ServiceItem]
    clicktime_settings: ClickTimeSettings
    users: list[ClickTimeUser]
    expense_types: list[ClickTimeExpenseType]
    payment_types: list[ClickTimePaymentType]
    timesheets: list[PlannedTimesheet]
    expense_sheets: list[PlannedExpenseSheet]
