"""Timesheets (with their actions and history), time entries, and the Reports/Time rows.

Time is read-only over HTTP apart from the timesheet actions (see approvals.py): entries come from
`load_activity`, as people would log them in the ClickTime UI.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from simulators.clicktime.approvals import TIMESHEET_FLOW, available, timesheet_action
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
from simulators.common.server import Response


def entries_of(store: Store, sheet_id: str) -> list[Record]:
    return [e for e in store.time_entries.values() if e["_timesheet"] == sheet_id]


def timesheet_view(store: Store, sheet: Record) -> Record:
    start = date.fromisoformat(sheet["StartDate"])
    days = (date.fromisoformat(sheet["EndDate"]) - start).days + 1
    totals = {(start + timedelta(days=i)).isoformat(): Decimal("0") for i in range(days)}
    for entry in entries_of(store, sheet["ID"]):
        totals[entry["Date"]] = totals.get(entry["Date"], Decimal("0")) + entry["Hours"]
    return {
        **sheet,
        "User": brief(store.users.get(sheet["UserID"])),
        "DayTotals": [{"Date": d, "Hours": h} for d, h in totals.items()],
        "Actions": [{"Action": a} for a in available(TIMESHEET_FLOW, sheet)],
    }


def entry_view(store: Store, entry: Record) -> Record:
    job = store.jobs.get(entry["JobID"])
    return {
        **entry,
        "Job": brief(job),
        "Task": brief(store.tasks.get(entry["TaskID"])),
        "User": brief(store.users.get(entry["UserID"])),
        "Client": brief(store.clients.get(job["ClientID"])) if job else None,
    }


def report_row(store: Store, entry: Record) -> Record:
    """A Reports/Time row: the entry plus its billability under the company's "Billability by" setting.

    UNVERIFIED: IsBillable is the task's (BillableSetting "Task") or the job's ("Job") flag at report time.
    """
    source = store.tasks if store.settings.billable_setting == "Task" else store.jobs
    owner = source.get(entry["TaskID"] if store.settings.billable_setting == "Task" else entry["JobID"])
    return {**entry, "IsBillable": bool(owner and owner.get("IsBillable"))}


# -- handlers --------------------------------------------------------------------------------------------


def list_timesheets(call: Call) -> Response:
    store = call.store
    rows = call.filtered(
        list(store.timesheets.values()),
        {
            "Status": field_in("Status"),
            "UserID": field_in("UserID"),
            "DivisionID": user_field(store, "DivisionID"),
            "EmploymentTypeID": user_field(store, "EmploymentTypeID"),
            # UNVERIFIED: the date filters select timesheet periods; the simulator takes the periods that lie
            # wholly inside [FromDate, ToDate], the narrower reading, so clients must use generous windows.
            "FromDate": date_on_or_after("StartDate"),
            "ToDate": date_on_or_before("EndDate"),
        },
    )
    rows = sort_records(rows, ("StartDate", True), ("ID", False))
    return call.page("Timesheet", rows, lambda s: timesheet_view(store, s))


def get_timesheet(call: Call) -> Response:
    sheet = found(call.store.timesheets, call.params["timesheetID"], "Timesheet")
    return call.one("Timesheet", timesheet_view(call.store, sheet))


def list_timesheet_actions(call: Call) -> Response:
    sheet = found(call.store.timesheets, call.params["timesheetID"], "Timesheet")
    return call.page(None, [{"Action": a} for a in available(TIMESHEET_FLOW, sheet)])


def post_timesheet_action(call: Call) -> Response:
    sheet = found(call.store.timesheets, call.params["timesheetID"], "Timesheet")
    timesheet_action(call.store, sheet, call.body["Action"], call.body.get("Comment"))
    return call.one("Timesheet", timesheet_view(call.store, sheet))


def list_timesheet_history(call: Call) -> Response:
    sheet = found(call.store.timesheets, call.params["timesheetID"], "Timesheet")
    return call.page("TimesheetHistory", list(reversed(call.store.history.get(sheet["ID"], []))))


def list_timesheet_entries(call: Call) -> Response:
    sheet = found(call.store.timesheets, call.params["timesheetID"], "Timesheet")
    rows = call.filtered(entries_of(call.store, sheet["ID"]), {"JobID": field_in("JobID")})
    rows = sort_records(rows, ("Date", True), ("ID", True))
    return call.page("TimeEntry", rows, lambda e: entry_view(call.store, e))


def list_time_entries(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.time_entries.values()),
        {
            "ID": field_in("ID"),
            "JobID": field_in("JobID"),
            "TaskID": field_in("TaskID"),
            "UserID": field_in("UserID"),
            "StartDate": date_on_or_after("Date"),
            "EndDate": date_on_or_before("Date"),
            "EntryDate": date_in("Date"),
        },
    )
    rows = sort_records(rows, ("Date", True), ("ID", True))
    return call.page("TimeEntry", rows, lambda e: entry_view(call.store, e))


def get_time_entry(call: Call) -> Response:
    entry = found(call.store.time_entries, call.params["timeEntryID"], "Time entry")
    return call.one("TimeEntry", entry_view(call.store, entry))


def report_time(call: Call) -> Response:
    store = call.store
    entries = list(store.time_entries.values())
    sheets = call.query.filters.get("TimesheetID")
    if sheets:  # one timesheet's report: its rows only are built (not one per entry of the whole account)
        entries = [e for e in entries if e["_timesheet"] in sheets]
    rows = [report_row(store, e) for e in entries]
    rows = call.filtered(
        rows,
        {
            "JobID": field_in("JobID"),
            "UserID": field_in("UserID"),
            "TaskID": field_in("TaskID"),
            "ClientID": lambda r, values: store.jobs.get(r["JobID"], {}).get("ClientID") in values,
            "DivisionID": user_field(store, "DivisionID"),
            "TimesheetID": lambda r, values: r["_timesheet"] in values,
            "TimesheetStatus": lambda r, values: store.timesheets[r["_timesheet"]]["Status"] in values,
            "StartDate": date_on_or_after("Date"),
            "EndDate": date_on_or_before("Date"),
            "IsBillable": field_in("IsBillable"),
            # LabelID is left out on purpose: whether it keeps or drops labelled rows is unknown (UNVERIFIED),
            # so the simulator answers 400 rather than guess.
        },
    )
    return call.page("ReportTimeRow", sort_records(rows, ("Date", False), ("ID", False)))


ROUTES = [
    ("GET", "/Timesheets", list_timesheets),
    ("GET", "/Timesheets/{timesheetID}", get_timesheet),
    ("GET", "/Timesheets/{timesheetID}/Actions", list_timesheet_actions),
    ("POST", "/Timesheets/{timesheetID}/Actions", post_timesheet_action),
    ("GET", "/Timesheets/{timesheetID}/History", list_timesheet_history),
    ("GET", "/Timesheets/{timesheetID}/TimeEntries", list_timesheet_entries),
    ("GET", "/TimeEntries", list_time_entries),
    ("GET", "/TimeEntries/{timeEntryID}", get_time_entry),
    ("GET", "/Reports/Time", report_time),
]
