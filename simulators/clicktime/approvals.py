"""The approval state machines of timesheets and expense sheets, their stamps and their history.

ApprovedDate (verbose) is what the time and expenses syncs use as their watermark, so every action sets or
clears the Submitted/Approved/Rejected stamps exactly as the status changes, and records a history row.
UNVERIFIED: ClickTime's full state machines are not documented. The tables below are the common path; any
other action (approving an unsubmitted sheet, JobApproval, RemoveApprovals, ...) is refused with a 400.
"""

from __future__ import annotations

from simulators.clicktime.store import Record, Store, brief
from simulators.clicktime.validation import bad_request

# Action -> resulting status, per current status. None: back to the status the sheet was locked from.
TIMESHEET_FLOW: dict[str, dict[str, str | None]] = {
    "Open": {"Submit": "Waiting", "Lock": "Locked"},
    "Rejected": {"Submit": "Waiting", "Lock": "Locked"},
    "Waiting": {"Approve": "Approved", "Reject": "Rejected", "UndoSubmit": "Open", "Lock": "Locked"},
    "Approved": {"UndoApproval": "Waiting", "Lock": "Locked"},
    "Locked": {"Unlock": None},
    "JobHold": {},
    "TORAHold": {},
}
EXPENSE_FLOW: dict[str, dict[str, str | None]] = {
    "open": {"Submit": "waiting"},
    "rejected": {"Submit": "waiting"},
    "waiting": {"Approve": "approved", "Reject": "rejected", "UndoSubmit": "open"},
    "approved": {"UndoApproval": "waiting", "MarkPaid": "paid"},
    "paid": {"RevertToUnpaid": "approved"},
}
STAMP_KINDS = ("Submitted", "Approved", "Rejected")


def stamp(sheet: Record, kind: str, user: Record | None, when: str | None = None) -> None:
    """Set, or clear when user is None, a sheet's <kind>Date, <kind>By and <kind>ByUserID."""
    sheet[f"{kind}Date"] = when if user else None
    sheet[f"{kind}By"] = user["Name"] if user else None
    sheet[f"{kind}ByUserID"] = user["ID"] if user else None


def add_history(
    store: Store, sheet_id: str, action: str, comment: str | None, when: str, actor: Record | None = None
) -> None:
    actor = actor or store.admin
    store.history.setdefault(sheet_id, []).append(
        {
            "Action": action,
            "ActionByUserID": actor["ID"],
            "ActionByUserName": actor["Name"],
            "ActionByUser": brief(actor),
            "Comment": comment,
            "Date": when,
            "HasAttestation": False,
            "JobID": None,
            "JobStatus": None,
        }
    )


def available(flow: dict[str, dict[str, str | None]], sheet: Record) -> list[str]:
    return list(flow.get(sheet["Status"], {}))


def _apply(
    store: Store, flow: dict[str, dict[str, str | None]], what: str, sheet: Record, action: str, comment: str | None
) -> tuple[str | None, str]:
    """Check the action, update the common stamps; the new status (None: unlock) and the time stamp."""
    allowed = flow.get(sheet["Status"], {})
    if action not in allowed:
        raise bad_request(
            f"The action '{action}' is not available for {what} with status '{sheet['Status']}'", "Action"
        )
    actor, now = store.admin, store.now()
    if action == "Submit":
        stamp(sheet, "Submitted", actor, now)
        stamp(sheet, "Rejected", None)
    elif action == "Approve":
        stamp(sheet, "Approved", actor, now)
    elif action == "Reject":
        stamp(sheet, "Rejected", actor, now)
    elif action == "UndoApproval":
        stamp(sheet, "Approved", None)
    elif action == "UndoSubmit":
        stamp(sheet, "Submitted", None)
    add_history(store, sheet["ID"], action, comment, now)
    return allowed[action], now


def timesheet_action(store: Store, sheet: Record, action: str, comment: str | None = None) -> Record:
    target, _ = _apply(store, TIMESHEET_FLOW, "a timesheet", sheet, action, comment)
    if action == "Submit":
        sheet["HasBeenSubmitted"] = True
    elif action == "Lock":
        sheet["_unlock_to"] = sheet["Status"]
    elif action == "Unlock":
        target = sheet.pop("_unlock_to", "Open")
    sheet["Status"] = target
    return sheet


def expense_sheet_action(
    store: Store, sheet: Record, action: str, comment: str | None = None, check: str | None = None
) -> Record:
    target, _ = _apply(store, EXPENSE_FLOW, "an expense sheet", sheet, action, comment)
    if action == "MarkPaid":
        sheet["Paid"], sheet["Check"] = True, check  # Check: the check number, or any payment reference
    elif action == "RevertToUnpaid":
        sheet["Paid"], sheet["Check"] = False, None
    if comment:
        sheet["Comment"] = comment
    sheet["Status"] = target
    return sheet
