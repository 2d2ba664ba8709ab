"""Users, the token's own user (/Me), the Company, and the expense reference lists the syncs read.

All read-only over HTTP except PATCH /Company: users, expense types and payment types are set up by `load`.
"""

from __future__ import annotations

from decimal import Decimal

from simulators.clicktime.context import Call, any_permission, field_in, found
from simulators.clicktime.schema import schema
from simulators.clicktime.store import Record, Store, sort_records
from simulators.common.server import Response
from simulators.company import ClickTimeSettings

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$", "JPY": "¥", "CHF": "CHF"}

USER_DEFAULTS: Record = {
    "IsActive": True,
    "SecurityLevel": "STANDARD",
    "AccountingPackageID": None,
    "CustomFields": {},
    "StartDate": None,
    "EndDate": None,
    "DivisionID": None,
    "EmploymentTypeID": None,
    "Notes": "",
    "SubjectToTimesheetApproval": True,
    "SubjectToExpenseApproval": True,
    "SubjectToTimesheetCompletion": True,
    "TimesheetApproverID": None,
    "ExpenseApproverID": None,
    "TimeOffApproverID": None,
}


def check_settings(settings: ClickTimeSettings) -> None:
    """Company settings must be values the API can report; a typo here would make every test lie."""
    for field, enum in [
        ("task_restriction_method", "Get.CompanyModel_Root_TaskRestrictionMethod"),
        ("billable_setting", "Get.CompanyModel_Root_BillableSetting"),
        ("timesheet_model", "Get.CompanyModel_Root_TimesheetModel"),
        ("week_starts_on", "Get.CompanyModel_Root_WeekStartsOn"),
    ]:
        value = getattr(settings, field)
        if value not in schema().enum(enum):
            raise ValueError(f"ClickTimeSettings.{field}={value!r} is not one of {schema().enum(enum)}")


def create_user(
    store: Store,
    name: str,
    email: str,
    employee_number: str,
    *,
    is_active: bool = True,
    security_level: str = "STANDARD",
) -> Record:
    user = {
        "ID": store.mint_id(),
        **USER_DEFAULTS,
        "CustomFields": {},
        "Name": name,
        "Email": email,
        "EmployeeNumber": employee_number,
        "IsActive": is_active,
        "SecurityLevel": security_level,
        "TimesheetApproverID": store.admin_id or None,
        "ExpenseApproverID": store.admin_id or None,
    }
    store.users[user["ID"]] = user
    return user


def user_view(store: Store, user: Record) -> Record:
    def ref(user_id: str | None) -> Record | None:
        other = store.users.get(user_id or "")
        return None if other is None else {k: v for k, v in other.items() if not k.startswith("_")}

    return {
        **user,
        "TimesheetApprover": ref(user.get("TimesheetApproverID")),
        "ExpenseApprover": ref(user.get("ExpenseApproverID")),
    }


def company_view(store: Store) -> Record:
    s = store.settings
    currency = store.currencies.get(s.currency_iso, {})
    company: Record = {
        "ID": store.company_id,
        "Name": store.company_name,
        "IsActive": True,
        "CurrencyISO": s.currency_iso,
        "CurrencyName": currency.get("Currency"),
        "CurrencySymbol": CURRENCY_SYMBOLS.get(s.currency_iso),
        "CurrencyFormat": "Symbol",
        "TaskRestrictionMethod": s.task_restriction_method,
        "BillableSetting": s.billable_setting,
        "TimesheetModel": s.timesheet_model,
        "WeekStartsOn": s.week_starts_on,
        # The simulator's company lets everyone use every job, and bills by job rate.
        "JobRestrictionMethod": "none",
        "BillingRateModel": "JOB",
        "LockDate": None,
        "AuditLoggingEnabled": False,
        "DCAALogEnabled": False,
        "PrecisionForHoursValues": 2,
        "MinTimeIncrement": Decimal("0.25"),
        "AllowZeroHourTimeEntries": False,
        "CustomFields": {},
        "OptionalModules": {},
        "SetupWizardComplete": True,
        "IsTestCompany": True,
        "JobTermSingular": "Job",
        "JobTermPlural": "Jobs",
        "TaskTermSingular": "Task",
        "TaskTermPlural": "Tasks",
        "ClientTermSingular": "Client",
        "ClientTermPlural": "Clients",
    }
    company.update(store.company_overrides)
    return company


# -- handlers --------------------------------------------------------------------------------------------


def get_me(call: Call) -> Response:
    admin = call.store.admin
    me = {
        **user_view(call.store, admin),
        "AuthToken": {"Token": call.store.token, "TokenCreationTime": admin["_token_created"]},
    }
    return call.one("User", me, variant="Me")


def list_users(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.users.values()),
        {
            name: field_in(name)
            for name in (
                "ID",
                "Name",
                "Email",
                "DivisionID",
                "TimesheetApproverID",
                "ExpenseApproverID",
                "EmploymentTypeID",
                "SecurityLevel",
                "IsActive",
                "SubjectToTimesheetCompletion",
            )
        }
        | {
            "WithPermission": any_permission,
            "JobID": any_permission,  # JobRestrictionMethod "none": every user has access to every job
        },
    )
    return call.page("User", sort_records(rows, ("Name", False), ("ID", False)), lambda u: user_view(call.store, u))


def get_user(call: Call) -> Response:
    return call.one("User", user_view(call.store, found(call.store.users, call.params["userID"], "User")))


def get_company(call: Call) -> Response:
    return call.one("Company", company_view(call.store))


def patch_company(call: Call) -> Response:
    fields = dict(call.body)
    if "CurrencyISO" in fields:
        call.store.settings.currency_iso = fields.pop("CurrencyISO")
    call.store.company_overrides.update(fields)
    return call.one("Company", company_view(call.store))


def list_currencies(call: Call) -> Response:
    rows = call.filtered(list(call.store.currencies.values()), {"CurrencyISO": field_in("CurrencyISO")})
    return call.page("Currency", sort_records(rows, ("Currency", False)))


def get_currency(call: Call) -> Response:
    return call.one("Currency", found(call.store.currencies, call.params["currencyISO"], "Currency"))


def list_expense_types(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.expense_types.values()),
        {"ID": field_in("ID"), "Name": field_in("Name"), "IsActive": field_in("IsActive")},
    )
    return call.page("ExpenseType", sort_records(rows, ("Name", False), ("ID", False)))


def get_expense_type(call: Call) -> Response:
    return call.one("ExpenseType", found(call.store.expense_types, call.params["expenseTypeID"], "Expense type"))


def list_payment_types(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.payment_types.values()),
        {
            "ID": field_in("ID"),
            "Name": field_in("Name"),
            "IsActive": field_in("IsActive"),
            "Reimbursable": field_in("Reimbursable"),
        },
    )
    return call.page("PaymentType", sort_records(rows, ("Name", False), ("ID", False)))


def get_payment_type(call: Call) -> Response:
    return call.one("PaymentType", found(call.store.payment_types, call.params["paymentTypeID"], "Payment type"))


ROUTES = [
    ("GET", "/Me", get_me),
    ("GET", "/Users", list_users),
    ("GET", "/Users/{userID}", get_user),
    ("GET", "/Company", get_company),
    ("PATCH", "/Company", patch_company),
    ("GET", "/Currencies", list_currencies),
    ("GET", "/Currencies/{currencyISO}", get_currency),
    ("GET", "/ExpenseTypes", list_expense_types),
    ("GET", "/ExpenseTypes/{expenseTypeID}", get_expense_type),
    ("GET", "/PaymentTypes", list_payment_types),
    ("GET", "/PaymentTypes/{paymentTypeID}", get_payment_type),
]
