"""An administrator's changes to time and expenses, without HTTP: what tests and the demo use to change the
activity between two runs of the exports (ClickTimeSimulator.edit_time_entry and friends).

They model an admin's override: they edit sheets in any status, Approved included, and leave the status and
the approval stamps alone (use the sheet actions for those). Totals (DayTotals, TotalAmount,
ReimbursableAmount) are computed from the entries and items on every read, so they always agree with them.
Every value is checked as the API would check it; money and hours are Decimal (a float is refused).
UNVERIFIED: that such an edit leaves no row in the sheet's History (ClickTime's audit log may record it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from simulators.clicktime.store import Record, Store

TIME_ENTRY_FIELDS = {
    "Date",
    "Hours",
    "JobID",
    "TaskID",
    "Comment",
    "BillingRate",
    "CostRate",
    "BreakTime",
    "StartTime",
    "EndTime",
    "CustomFields",
}
EXPENSE_ITEM_FIELDS = {
    "ExpenseDate",
    "Amount",
    "Description",
    "Comment",
    "Billable",
    "ExpenseTypeID",
    "PaymentTypeID",
    "JobID",
    "TaskID",
    "Quantity",
    "Rate",
    "AmountForeign",
    "AmountForeignCurrency",
    "AmountForeignExchangeRate",
}
_DECIMALS = {"Hours", "BillingRate", "CostRate", "BreakTime", "Amount", "Quantity", "Rate", "AmountForeign"}
_DECIMALS |= {"AmountForeignExchangeRate"}


# -- time ------------------------------------------------------------------------------------------------------


def add_time_entry(
    store: Store, timesheet_id: str, day: date | str, hours: Any, job_id: str, task_id: str, comment: str = ""
) -> Record:
    sheet = _found(store.timesheets, timesheet_id, "timesheet")
    job = _found(store.jobs, job_id, "job")
    entry: Record = {
        "ID": store.mint_id(),
        "Date": None,
        "Hours": None,
        "JobID": job_id,
        "TaskID": task_id,
        "UserID": sheet["UserID"],
        "Comment": comment,
        "BillingRate": job["BillingRate"],
        "CostRate": None,
        "BreakTime": None,
        "StartTime": None,
        "EndTime": None,
        "CustomFields": {},
        "_timesheet": timesheet_id,
        "_seq": store.next_sequence(),
    }
    _set_time_fields(store, entry, {"Date": day, "Hours": hours, "JobID": job_id, "TaskID": task_id})
    store.time_entries[entry["ID"]] = entry
    return entry


def edit_time_entry(store: Store, entry_id: str, fields: dict[str, Any]) -> Record:
    entry = _found(store.time_entries, entry_id, "time entry")
    unknown = set(fields) - TIME_ENTRY_FIELDS
    if unknown:
        raise ValueError(f"not editable on a time entry: {sorted(unknown)}; use {sorted(TIME_ENTRY_FIELDS)}")
    changed = dict(entry)
    _set_time_fields(store, changed, fields)
    entry.update(changed)
    return entry


def delete_time_entry(store: Store, entry_id: str) -> None:
    _found(store.time_entries, entry_id, "time entry")
    del store.time_entries[entry_id]


def delete_timesheet(store: Store, timesheet_id: str) -> None:
    """The sheet, its entries and its history: GET /Timesheets/{id} answers 404 afterwards."""
    _found(store.timesheets, timesheet_id, "timesheet")
    for entry_id in [e["ID"] for e in store.time_entries.values() if e["_timesheet"] == timesheet_id]:
        del store.time_entries[entry_id]
    store.history.pop(timesheet_id, None)
    del store.timesheets[timesheet_id]


def _set_time_fields(store: Store, entry: Record, fields: dict[str, Any]) -> None:
    sheet = store.timesheets[entry["_timesheet"]]
    for name, value in fields.items():
        if name in _DECIMALS:
            entry[name] = None if value is None and name != "Hours" else to_decimal(name, value)
        elif name == "Date":
            entry[name] = _day(value)
        else:
            entry[name] = value
    if not sheet["StartDate"] <= entry["Date"] <= sheet["EndDate"]:
        raise ValueError(f"{entry['Date']} is outside the timesheet {sheet['StartDate']}..{sheet['EndDate']}")
    if not Decimal(0) < entry["Hours"] <= Decimal(24):
        raise ValueError(f"Hours must be more than 0 and at most 24, not {entry['Hours']}")
    _found(store.jobs, entry["JobID"], "job")
    _found(store.tasks, entry["TaskID"], "task")
    if store.settings.task_restriction_method == "byjob" and entry["TaskID"] not in store.job_tasks.get(
        entry["JobID"], []
    ):
        raise ValueError(f"task {entry['TaskID']} is not linked to job {entry['JobID']} (tasks are restricted by job)")


# -- expenses --------------------------------------------------------------------------------------------------


def add_expense_item(
    store: Store,
    sheet_id: str,
    expense_date: date | str,
    expense_type_id: str,
    payment_type_id: str,
    amount: Any,
    *,
    description: str = "",
    comment: str = "",
    job_id: str | None = None,
    task_id: str | None = None,
    billable: bool = False,
    foreign_amount: Any = None,
    foreign_currency: str | None = None,
    exchange_rate: Any = None,
    receipt: bytes | None = None,
    receipt_type: str | None = None,
) -> Record:
    sheet = _found(store.expense_sheets, sheet_id, "expense sheet")
    item: Record = {
        "ID": store.mint_id(),
        "ExpenseSheetID": sheet_id,
        "UserID": sheet["UserID"],
        "ExpenseDate": None,
        "Amount": None,
        "Quantity": None,
        "Rate": None,
        "Currency": store.settings.currency_iso,
        "AmountForeign": None,
        "AmountForeignCurrency": None,
        "AmountForeignExchangeRate": None,
        "HasForeignCurrency": False,
        "Description": description,
        "Comment": comment,
        "Billable": billable,
        "Reimbursable": False,
        "ExpenseTypeID": expense_type_id,
        "PaymentTypeID": payment_type_id,
        "JobID": job_id,
        "TaskID": task_id,
        "_seq": store.next_sequence(),
    }
    _set_item_fields(
        store,
        item,
        {
            "ExpenseDate": expense_date,
            "Amount": amount,
            "AmountForeign": foreign_amount,
            "AmountForeignCurrency": foreign_currency,
            "AmountForeignExchangeRate": exchange_rate,
        },
    )
    store.expense_items[item["ID"]] = item
    if receipt is not None:
        if not receipt_type:
            raise ValueError("a receipt needs its MIME type (receipt_type)")
        store.receipts[item["ID"]] = (receipt, receipt_type)
    _refresh_sheet(store, sheet)
    return item


def edit_expense_item(store: Store, item_id: str, fields: dict[str, Any]) -> Record:
    item = _found(store.expense_items, item_id, "expense item")
    unknown = set(fields) - EXPENSE_ITEM_FIELDS
    if unknown:
        raise ValueError(f"not editable on an expense item: {sorted(unknown)}; use {sorted(EXPENSE_ITEM_FIELDS)}")
    changed = dict(item)
    _set_item_fields(store, changed, fields)
    item.update(changed)
    _refresh_sheet(store, store.expense_sheets[item["ExpenseSheetID"]])
    return item


def delete_expense_item(store: Store, item_id: str) -> None:
    item = _found(store.expense_items, item_id, "expense item")
    del store.expense_items[item_id]
    store.receipts.pop(item_id, None)
    store.receipt_failures.pop(item_id, None)
    _refresh_sheet(store, store.expense_sheets[item["ExpenseSheetID"]])


def delete_expense_sheet(store: Store, sheet_id: str) -> None:
    """The sheet, its items, their receipts and its history: GET /ExpenseSheets/{id} answers 404 afterwards."""
    _found(store.expense_sheets, sheet_id, "expense sheet")
    for item_id in [i["ID"] for i in store.expense_items.values() if i["ExpenseSheetID"] == sheet_id]:
        delete_expense_item(store, item_id)
    store.history.pop(sheet_id, None)
    del store.expense_sheets[sheet_id]


def _set_item_fields(store: Store, item: Record, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name in _DECIMALS:
            item[name] = None if value is None and name != "Amount" else to_decimal(name, value)
        elif name == "ExpenseDate":
            item[name] = _day(value)
        else:
            item[name] = value
    if item["Amount"] < 0:
        raise ValueError(f"Amount must not be negative, not {item['Amount']}")
    _found(store.expense_types, item["ExpenseTypeID"], "expense type")
    payment = _found(store.payment_types, item["PaymentTypeID"], "payment type")
    item["Reimbursable"] = payment["Reimbursable"]  # read-only in the API: it follows the payment type
    if item.get("JobID"):
        _found(store.jobs, item["JobID"], "job")
    elif item["Billable"]:
        raise ValueError("a billable expense item needs a JobID (as the API requires)")
    if item.get("TaskID"):
        _found(store.tasks, item["TaskID"], "task")
    foreign = (item["AmountForeign"], item["AmountForeignCurrency"], item["AmountForeignExchangeRate"])
    if any(v is not None for v in foreign) and not all(v is not None for v in foreign):
        raise ValueError("a foreign amount needs AmountForeign, AmountForeignCurrency and AmountForeignExchangeRate")
    item["HasForeignCurrency"] = foreign[0] is not None


def _refresh_sheet(store: Store, sheet: Record) -> None:
    items = [i for i in store.expense_items.values() if i["ExpenseSheetID"] == sheet["ID"]]
    sheet["EnableForeignCurrency"] = any(i["HasForeignCurrency"] for i in items)


# -- receipts --------------------------------------------------------------------------------------------------


def set_receipt(store: Store, item_id: str, content: bytes, mime: str) -> None:
    _found(store.expense_items, item_id, "expense item")
    if not isinstance(content, bytes) or not mime:
        raise ValueError("a receipt is bytes with a MIME type")
    store.receipts[item_id] = (content, mime)


def fail_receipt(store: Store, item_id: str, status: int) -> None:
    _found(store.expense_items, item_id, "expense item")
    if item_id not in store.receipts:
        raise ValueError(f"expense item {item_id} has no receipt (its ReceiptURL is null)")
    if not 400 <= status <= 599:
        raise ValueError(f"a failing download answers an error status, not {status}")
    store.receipt_failures[item_id] = status


# -- values ----------------------------------------------------------------------------------------------------


def to_decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, (int, str, Decimal)):
        raise TypeError(f"{name} must be a Decimal, an int or a numeric string (never a float), not {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def _day(value: date | str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(value).isoformat()


def _found(table: dict[str, Record], record_id: str, what: str) -> Record:
    record = table.get(record_id)
    if record is None:
        raise KeyError(f"no {what} {record_id!r}")
    return record
