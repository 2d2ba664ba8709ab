"""Expense sheets (with their actions and history), expense items, and receipt downloads.

Sheets and items come from `load_activity`; over HTTP they are read, and sheets move through their actions
(see approvals.py).
Totals are computed from the items each time, so they can never disagree with them.
"""

from __future__ import annotations

from decimal import Decimal

from simulators.clicktime.approvals import EXPENSE_FLOW, available, expense_sheet_action
from simulators.clicktime.context import (
    Call,
    date_in,
    date_on_or_after,
    date_on_or_before,
    field_in,
    found,
    user_field,
)
from simulators.clicktime.store import Record, Store, brief, sort_records
from simulators.clicktime.validation import bad_request
from simulators.common.server import HttpError, Request, Response

ZERO = Decimal("0.00")


def items_of(store: Store, sheet_id: str) -> list[Record]:
    return [i for i in store.expense_items.values() if i["ExpenseSheetID"] == sheet_id]


def sheet_view(store: Store, sheet: Record) -> Record:
    items = items_of(store, sheet["ID"])
    return {
        **sheet,
        "TotalAmount": sum((i["Amount"] for i in items), ZERO),
        "ReimbursableAmount": sum((i["Amount"] for i in items if i["Reimbursable"]), ZERO),
        "ExpenseItemCount": len(items),
        "User": brief(store.users.get(sheet["UserID"])),
        "Actions": [{"Action": a} for a in available(EXPENSE_FLOW, sheet)],
    }


def item_view(store: Store, item: Record, base_url: str) -> Record:
    # UNVERIFIED: ReceiptURL points at the API host and needs the token; null when there is no receipt.
    url = f"{base_url}/receipts/{item['ID']}" if item["ID"] in store.receipts else None
    return {
        **item,
        "ReceiptURL": url,
        "ExpenseSheet": brief(store.expense_sheets.get(item["ExpenseSheetID"])),
        "ExpenseType": brief(store.expense_types.get(item["ExpenseTypeID"])),
        "PaymentType": brief(store.payment_types.get(item["PaymentTypeID"])),
        "Job": brief(store.jobs.get(item.get("JobID") or "")),
        "Task": brief(store.tasks.get(item.get("TaskID") or "")),
        "User": brief(store.users.get(item["UserID"])),
    }


def _sorted(
    rows: list[Record], sort_by: list[str] | None, keys: dict[str, str], default: list[tuple[str, bool]]
) -> list[Record]:
    """Order by the SortBy parameter ("Field", or "-Field" for descending) or by the spec's default order."""
    if not sort_by:
        return sort_records(rows, *default)
    name = sort_by[0]
    field = keys.get(name.removeprefix("-"))
    if field is None:
        raise bad_request(f"'{name}' is not a valid SortBy value; use one of {', '.join(keys)}", "SortBy")
    return sort_records(rows, (field, name.startswith("-")), ("ID", False))


# -- handlers --------------------------------------------------------------------------------------------


def list_expense_sheets(call: Call) -> Response:
    store = call.store
    sort_by = call.query.filters.pop("SortBy", None)  # an ordering, not a filter
    rows = [{**sheet_view(store, s), "_user": store.users[s["UserID"]]["Name"]} for s in store.expense_sheets.values()]
    rows = call.filtered(
        rows,
        {
            "ID": field_in("ID"),
            "Status": field_in("Status"),
            "Paid": field_in("Paid"),
            "UserID": field_in("UserID"),
            "ExpenseApproverID": user_field(store, "ExpenseApproverID"),
            "UserIsActive": user_field(store, "IsActive"),
            "DivisionID": user_field(store, "DivisionID"),
            "EmploymentTypeID": user_field(store, "EmploymentTypeID"),
            "ExpenseDate": lambda r, values: any(
                i["ExpenseDate"] in {v.isoformat() for v in values} for i in items_of(store, r["ID"])
            ),
            "FromExpenseSheetDate": date_on_or_after("ExpenseSheetDate"),
            "ToExpenseSheetDate": date_on_or_before("ExpenseSheetDate"),
        },
    )
    rows = _sorted(
        rows,
        sort_by,
        {
            "Date": "ExpenseSheetDate",
            "ExpenseItemCount": "ExpenseItemCount",
            "ReimbursableAmount": "ReimbursableAmount",
            "Status": "Status",
            "Title": "Title",
            "TotalAmount": "TotalAmount",
            "User": "_user",
        },
        [("ExpenseSheetDate", True), ("_user", False), ("_seq", True)],
    )
    return call.page("ExpenseSheet", rows)


def get_expense_sheet(call: Call) -> Response:
    sheet = found(call.store.expense_sheets, call.params["expenseSheetID"], "Expense sheet")
    return call.one("ExpenseSheet", sheet_view(call.store, sheet))


def list_expense_sheet_actions(call: Call) -> Response:
    sheet = found(call.store.expense_sheets, call.params["expenseSheetID"], "Expense sheet")
    return call.bare_list([{"Action": a} for a in available(EXPENSE_FLOW, sheet)])


def post_expense_sheet_action(call: Call) -> Response:
    sheet = found(call.store.expense_sheets, call.params["expenseSheetID"], "Expense sheet")
    body = call.body
    expense_sheet_action(call.store, sheet, body["Action"], body.get("Comment"), body.get("Check"))
    return call.one("ExpenseSheet", sheet_view(call.store, sheet))


def list_expense_sheet_history(call: Call) -> Response:
    sheet = found(call.store.expense_sheets, call.params["expenseSheetID"], "Expense sheet")
    return call.page("ExpenseSheetHistory", list(reversed(call.store.history.get(sheet["ID"], []))))


def list_expense_items(call: Call) -> Response:
    store = call.store
    sort_by = call.query.filters.pop("SortBy", None)
    rows = [
        {**i, "_type": store.expense_types[i["ExpenseTypeID"]]["Name"], "_receipt": i["ID"] in store.receipts}
        for i in store.expense_items.values()
    ]
    rows = call.filtered(
        rows,
        {
            "ID": field_in("ID"),
            "Amount": field_in("Amount"),
            "ExpenseDate": date_in("ExpenseDate"),
            "ExpenseSheetID": field_in("ExpenseSheetID"),
            "ExpenseTypeID": field_in("ExpenseTypeID"),
            "JobID": field_in("JobID"),
            "UserID": field_in("UserID"),
            "ExpenseSheetStatus": lambda r, values: store.expense_sheets[r["ExpenseSheetID"]]["Status"] in values,
            "FromExpenseDate": date_on_or_after("ExpenseDate"),
            "ToExpenseDate": date_on_or_before("ExpenseDate"),
        },
    )
    rows = _sorted(
        rows,
        sort_by,
        {
            "Date": "ExpenseDate",
            "Type": "_type",
            "Description": "Description",
            "Job": "JobID",
            "Billable": "Billable",
            "PaymentType": "PaymentTypeID",
            "Amount": "Amount",
            "ReceiptURL": "_receipt",
        },
        [("ExpenseDate", True), ("_type", False), ("_seq", True)],
    )
    return call.page("ExpenseItem", rows, lambda i: item_view(store, i, call.base_url))


def get_expense_item(call: Call) -> Response:
    item = found(call.store.expense_items, call.params["expenseItemID"], "Expense item")
    return call.one("ExpenseItem", item_view(call.store, item, call.base_url))


def get_receipt(store: Store, request: Request) -> Response:
    """The receipt file behind an item's ReceiptURL (not an API v2 endpoint; see item_view)."""
    if request.query:
        raise bad_request("The receipt URL takes no query parameters")
    item_id = request.params["itemID"]
    receipt = store.receipts.get(item_id)
    if receipt is None:
        raise HttpError(404, f"No receipt for expense item '{item_id}'")
    failing = store.receipt_failures.get(item_id)
    if failing is not None:  # ClickTimeSimulator.fail_receipt. UNVERIFIED: the body of a failed download.
        raise HttpError(failing, f"The receipt of expense item '{item_id}' could not be retrieved")
    content, mime = receipt
    # Content-Length is always set (SimulatorServer), so a client can stream a large receipt and stop early.
    return Response(200, content, content_type=mime)


ROUTES = [
    ("GET", "/ExpenseSheets", list_expense_sheets),
    ("GET", "/ExpenseSheets/{expenseSheetID}", get_expense_sheet),
    ("GET", "/ExpenseSheets/{expenseSheetID}/Actions", list_expense_sheet_actions),
    ("POST", "/ExpenseSheets/{expenseSheetID}/Actions", post_expense_sheet_action),
    ("GET", "/ExpenseSheets/{expenseSheetID}/History", list_expense_sheet_history),
    ("GET", "/ExpenseItems", list_expense_items),
    ("GET", "/ExpenseItems/{expenseItemID}", get_expense_item),
]
