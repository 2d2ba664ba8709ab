"""The account's accounting rules that a client's write must pass: closed periods, billed time, paid reports,
plus what the server sets on an expense report and the checks on files and folders.

These run on REST writes only (RecordStore.policies); the test helpers (`records.add/update/delete`, the
loader, `close_period`, ...) model an administrator and are not held to them.

Sources: exports addendum §1.4 (closed periods and billed time), §2.2 (expense report status letters), §2.4
(the closed-period message, as fyle's tests assert it), §3 (files), §4 (accountingperiod columns), §7 U2/U7.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from simulators.netsuite.errors import NetSuiteError, bad_request
from simulators.netsuite.schema import FILE_TYPES

if TYPE_CHECKING:
    from simulators.netsuite.records import RecordStore

CLOSED_PERIOD_DETAIL = "The transaction date you specified is not within the date range of your accounting period."
# UNVERIFIED: the REST text (and code) for billed time and paid reports is not in any public source (addendum
# §1.4, §7 U2); USER_ERROR with a free-text detail is what NetSuite gives other business-rule refusals.
BILLED_TIME_DETAIL = "This time entry has already been billed and cannot be modified."
PAID_REPORT_DETAIL = "This expense report has been paid and cannot be modified."
PAID_IN_FULL = "I"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class AccountingRules:
    """The WritePolicy of the simulated account.

    closed_period_blocks_time: whether a closed period refuses time bills too. UNVERIFIED (addendum §1.4): time
        bills are normally non-posting, and whether a closed period blocks them depends on the account; the
        simulator blocks by default, the strict reading.
    """

    def __init__(self, store: RecordStore, today: Callable[[], date]) -> None:
        self.store = store
        self.today = today
        self.closed_period_blocks_time = True

    def before_write(self, rtype: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rtype == "expenseReport":
            if old is not None and _ref_id(old.get("status")) == PAID_IN_FULL:
                raise bad_request(PAID_REPORT_DETAIL, "USER_ERROR")
            if new is not None:
                self._check_posting_period_field(new)
                _derive_status(new, old)
            for record in (old, new):
                if record is not None and self._expense_period_closed(record):
                    raise bad_request(CLOSED_PERIOD_DETAIL, "USER_ERROR", path="tranDate")
        elif rtype == "timeBill":
            if old is not None and old["id"] in self.store.billed_time:
                raise bad_request(BILLED_TIME_DETAIL, "USER_ERROR")
            if self.closed_period_blocks_time:
                for record in (old, new):
                    if record is not None and self._time_period_closed(record):
                        raise bad_request(CLOSED_PERIOD_DETAIL, "USER_ERROR", path="tranDate")
        elif rtype == "accountingPeriod":
            # UNVERIFIED: periods are opened, closed and locked in Manage Accounting Periods; the simulator keeps
            # them out of an integration role's reach.
            raise NetSuiteError(
                403,
                "You do not have permission to change accounting periods through web services.",
                "INSUFFICIENT_PERMISSION",
            )
        elif rtype == "file" and new is not None:
            file_type = new.get("fileType")
            # UNVERIFIED code: INVALID_FLD_VALUE is SOAP's name for it (the simulator's other invalid values say
            # INVALID_FIELD_VALUE); the exports brief asks for this one on a file type.
            if file_type not in FILE_TYPES:
                raise bad_request(
                    f"You have entered an Invalid Field Value {file_type} for the following field: fileType. "
                    f"Valid values: {', '.join(FILE_TYPES)}",
                    "INVALID_FLD_VALUE",
                    path="fileType",
                )
        elif rtype == "folder" and new is not None:
            self._check_folder_name(new)

    # -- periods -----------------------------------------------------------------------------------------
    def periods(self) -> list[dict[str, Any]]:
        return self.store.snapshot("accountingPeriod")

    def base_period(self, day: date) -> dict[str, Any] | None:
        """The base (monthly) posting period holding `day`."""
        text = day.isoformat()
        for period in self.periods():
            if is_base(period) and period["startDate"] <= text <= period["endDate"]:
                return period
        return None

    def _transaction_period(self, record: dict[str, Any]) -> dict[str, Any] | None | bool:
        """The period a transaction posts to; None when no period holds its date, False when the account has
        no accounting periods at all (then nothing is enforced)."""
        if not self.periods():
            return False
        text = record.get("tranDate")
        # UNVERIFIED: NetSuite defaults a missing tranDate to today; the simulator reads "today" in its clock.
        day = date.fromisoformat(text) if isinstance(text, str) else self.today()
        return self.base_period(day)

    def _expense_period_closed(self, record: dict[str, Any]) -> bool:
        # An explicit postingPeriod decides (UNVERIFIED, addendum §7 U7: an account that allows transaction
        # dates outside the posting period takes a tranDate in a closed period when the posting period is open).
        period: dict[str, Any] | None | bool
        chosen = _ref_id(record.get("postingPeriod"))
        period = self.store.get("accountingPeriod", chosen) if chosen else self._transaction_period(record)
        if period is False:
            return False
        # A date no period holds cannot post either. UNVERIFIED: NetSuite's wording for that case.
        return period is None or bool(period.get("closed") or period.get("allLocked") or period.get("apLocked"))

    def _time_period_closed(self, record: dict[str, Any]) -> bool:
        period = self._transaction_period(record)
        if not period:  # no periods in the account, or none holding the date: time bills do not post
            return False
        return bool(period.get("closed") or period.get("allLocked"))

    def _check_posting_period_field(self, new: dict[str, Any]) -> None:
        chosen = _ref_id(new.get("postingPeriod"))
        if chosen is None:
            return
        period = self.store.get("accountingPeriod", chosen)
        if period is not None and not is_base(period):
            # UNVERIFIED wording: a transaction posts to a base period, never to a quarter or a year.
            raise bad_request(
                f"You have entered an Invalid Field Value {chosen} for the following field: postingPeriod. "
                f"{period.get('periodName')} is not a posting period.",
                "INVALID_FIELD_VALUE",
                path="postingPeriod",
            )

    # -- folders -----------------------------------------------------------------------------------------
    def _check_folder_name(self, new: dict[str, Any]) -> None:
        # UNVERIFIED wording; the File Cabinet keeps folder names unique under one parent.
        parent = _ref_id(new.get("parent"))
        for folder in self.store.snapshot("folder"):
            same_place = _ref_id(folder.get("parent")) == parent
            if (
                folder["id"] != new["id"]
                and same_place
                and str(folder.get("name", "")).lower() == str(new.get("name", "")).lower()
            ):
                raise bad_request(
                    f"A folder named {new.get('name')!r} already exists there.", "USER_ERROR", path="name"
                )


def is_base(period: dict[str, Any]) -> bool:
    return not period.get("isYear") and not period.get("isQuarter") and not period.get("isAdjust")


def _derive_status(new: dict[str, Any], old: dict[str, Any] | None) -> None:
    """The status NetSuite shows for a report that has not been paid, from its approval boxes.

    UNVERIFIED (addendum §2.2, §7 U3): letters as in NetSuite's transaction status list; whether the approval
    boxes take effect depends on the account's approval routing. Derived on create, and again when a write
    changes one of the boxes; a status a client wrote itself is kept.
    """
    boxes = ("complete", "supervisorapproval", "accountingapproval")
    if old is None:
        if new.get("status") is not None:
            return
    elif new.get("status") != old.get("status") or all(new.get(b) == old.get(b) for b in boxes):
        return
    if new.get("accountingapproval"):
        letter = "F"  # Approved by Accounting
    elif new.get("supervisorapproval"):
        letter = "C"  # Pending Accounting Approval
    elif new.get("complete"):
        letter = "B"  # Pending Supervisor Approval
    else:
        letter = "A"  # In Progress
    new["status"] = {"id": letter}


def _ref_id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


# -- the period calendar ------------------------------------------------------------------------------------


def period_rows(first: date, last: date) -> list[dict[str, Any]]:
    """Fiscal years (calendar years) covering first..last, each with its quarters and months, parents first.

    Names as NetSuite's defaults: "FY 2026", "Q4 2026", "Oct 2026". Rows carry a `key` (their name) and
    `parent_key`; the loader turns them into records.
    """
    rows: list[dict[str, Any]] = []
    for year in range(first.year, last.year + 1):
        year_name = f"FY {year}"
        rows.append(_period(year_name, None, date(year, 1, 1), date(year, 12, 31), year=True))
        for quarter in range(4):
            q_name = f"Q{quarter + 1} {year}"
            q_start = date(year, 3 * quarter + 1, 1)
            q_end = _month_end(year, 3 * quarter + 3)
            rows.append(_period(q_name, year_name, q_start, q_end, quarter=True))
            for month in range(3 * quarter + 1, 3 * quarter + 4):
                rows.append(
                    _period(f"{MONTHS[month - 1]} {year}", q_name, date(year, month, 1), _month_end(year, month))
                )
    return rows


def _period(
    name: str, parent: str | None, start: date, end: date, *, year: bool = False, quarter: bool = False
) -> dict[str, Any]:
    return {
        "key": name,
        "parent_key": parent,
        "periodName": name,
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "isYear": year,
        "isQuarter": quarter,
        "isPosting": not (year or quarter),
        "isAdjust": False,
        "isInactive": False,
        "closed": False,
        "allLocked": False,
        "apLocked": False,
        "arLocked": False,
        "allowNonGLChanges": False,
    }


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` away from day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_today(clock: Callable[[], datetime], tz: Any) -> date:
    return clock().astimezone(tz).date()
