"""ClickTime resources as the syncs read them. Field names are ClickTime's, in its PascalCase.

Decimal fields accept JSON numbers (parsed as Decimal) and strings of a plain number in ASCII (`-12.50`, `1e2`):
the API has sent both over time; Python's Decimal would also read `1_0` as 10 and full-width digits, which
ClickTime never writes. Unknown fields are ignored so a new ClickTime field never breaks a sync. Dates stay text as
ClickTime sends them (spaces around them dropped), but must start with a real `YYYY-MM-DD` date: a record with a
date or number nobody can read is refused where it is read (`ClickTimeClient` turns the refusal into a `BadInput`
naming the record and the field), never deep in a sync.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from ctsync.timeutil import parse_loose_instant

_PLAIN_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_NUMBER = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _day(value: str) -> str:
    """The date as sent, spaces around it dropped: the syncs read its first ten characters as the day."""
    value = value.strip()
    try:
        if not _PLAIN_DAY.match(value):  # fromisoformat also reads 20261102 and non-ASCII digits
            raise ValueError
        date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError("is not a date as YYYY-MM-DD") from None
    return value


def _plain_number(value: Any) -> Any:
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()):
        raise ValueError("is not a number")
    return value


def _instant(value: str) -> str:
    try:
        parse_loose_instant(value)
    except ValueError:
        raise ValueError("is not a date and time (ISO 8601)") from None
    return value


Day = Annotated[str, AfterValidator(_day)]
Number = Annotated[Decimal, BeforeValidator(_plain_number)]
Instant = Annotated[str, AfterValidator(_instant)]


class ClickTimeModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Job(ClickTimeModel):
    ID: str
    Name: str = ""
    JobNumber: str | None = None
    ClientID: str | None = None
    IsActive: bool = True
    AccountingPackageID: str | None = None
    StartDate: str | None = None
    EndDate: str | None = None
    Notes: str | None = None


class Task(ClickTimeModel):
    ID: str
    Name: str = ""
    TaskCode: str | None = None
    IsActive: bool = True
    IsBillable: bool | None = None
    AccountingPackageID: str | None = None
    Notes: str | None = None


class Client(ClickTimeModel):
    ID: str
    Name: str = ""
    ClientNumber: str | None = None
    ShortName: str | None = None
    IsActive: bool = True
    AccountingPackageID: str | None = None


class User(ClickTimeModel):
    ID: str
    Name: str = ""
    Email: str | None = None
    EmployeeNumber: str | None = None
    AccountingPackageID: str | None = None
    IsActive: bool = True


class Company(ClickTimeModel):
    ID: str | None = None
    Name: str | None = None
    CurrencyISO: str | None = None
    TaskRestrictionMethod: str | None = None
    BillableSetting: str | None = None
    TimesheetModel: str | None = None

    @property
    def restricts_tasks_by_job(self) -> bool:
        return (self.TaskRestrictionMethod or "").lower() == "byjob"


class Timesheet(ClickTimeModel):
    ID: str
    UserID: str
    StartDate: Day
    EndDate: Day
    Status: str
    ApprovedDate: Instant | None = None
    ApprovedByUserID: str | None = None
    # verbose only, {Date, Hours} per day of the sheet; read as sent (a cross-check: a malformed total must not make
    # the timesheet unreadable)
    DayTotals: list[dict[str, Any]] | None = None


class TimeEntry(ClickTimeModel):
    ID: str
    Date: Day
    Hours: Number
    JobID: str | None = None
    TaskID: str | None = None
    UserID: str | None = None
    Comment: str | None = None
    IsBillable: bool | None = None
    BillingRate: Number | None = None
    CostRate: Number | None = None


class ExpenseSheet(ClickTimeModel):
    ID: str
    UserID: str
    Title: str | None = None
    ExpenseSheetDate: Day | None = None
    Status: str
    Paid: bool | None = None
    TotalAmount: Number | None = None
    # verbose only; read as sent, like a timesheet's DayTotals (a cross-check of the items read: a malformed count
    # must not make the sheet unreadable)
    ExpenseItemCount: Any = None
    ApprovedDate: Instant | None = None
    ApprovedByUserID: str | None = None


class ExpenseItem(ClickTimeModel):
    ID: str
    ExpenseSheetID: str
    ExpenseDate: Day
    Amount: Number
    Currency: str | None = None
    AmountForeign: Number | None = None
    AmountForeignCurrency: str | None = None
    AmountForeignExchangeRate: Number | None = None
    HasForeignCurrency: bool | None = None
    Description: str | None = None
    Comment: str | None = None
    Quantity: Number | None = None  # mileage: distance (Amount = Quantity x Rate in ClickTime)
    Rate: Number | None = None
    Billable: bool | None = None
    Reimbursable: bool | None = None
    ExpenseTypeID: str | None = None
    PaymentTypeID: str | None = None
    JobID: str | None = None
    TaskID: str | None = None
    ReceiptURL: str | None = None


class ExpenseType(ClickTimeModel):
    ID: str
    Name: str = ""
    IsActive: bool = True
    AccountingPackageID: str | None = None


class PaymentType(ClickTimeModel):
    ID: str
    Name: str = ""
    IsActive: bool = True
    Reimbursable: bool | None = None
    AccountingPackageID: str | None = None
