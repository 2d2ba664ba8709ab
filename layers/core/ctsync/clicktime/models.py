"""ClickTime resources as the syncs read them. Field names are ClickTime's, in its PascalCase.

Decimal fields accept JSON numbers (parsed as Decimal) and strings: the API has sent both over time.
Unknown fields are ignored so a new ClickTime field never breaks a sync. Dates stay text as ClickTime sends them,
but must start with a real `YYYY-MM-DD` date: a record with a date nobody can read is refused where it is read
(`ClickTimeClient` turns the refusal into a `BadInput` naming the record and the field), never deep in a sync.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

from ctsync.timeutil import parse_loose_instant


def _day(value: str) -> str:
    try:
        date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValueError("is not a date as YYYY-MM-DD") from None
    return value


def _instant(value: str) -> str:
    try:
        parse_loose_instant(value)
    except ValueError:
        raise ValueError("is not a date and time (ISO 8601)") from None
    return value


Day = Annotated[str, AfterValidator(_day)]
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
    Hours: Decimal
    JobID: str | None = None
    TaskID: str | None = None
    UserID: str | None = None
    Comment: str | None = None
    IsBillable: bool | None = None
    BillingRate: Decimal | None = None
    CostRate: Decimal | None = None


class ExpenseSheet(ClickTimeModel):
    ID: str
    UserID: str
    Title: str | None = None
    ExpenseSheetDate: Day | None = None
    Status: str
    Paid: bool | None = None
    TotalAmount: Decimal | None = None
    ApprovedDate: Instant | None = None
    ApprovedByUserID: str | None = None


class ExpenseItem(ClickTimeModel):
    ID: str
    ExpenseSheetID: str
    ExpenseDate: Day
    Amount: Decimal
    Currency: str | None = None
    AmountForeign: Decimal | None = None
    AmountForeignCurrency: str | None = None
    AmountForeignExchangeRate: Decimal | None = None
    HasForeignCurrency: bool | None = None
    Description: str | None = None
    Comment: str | None = None
    Quantity: Decimal | None = None  # mileage: distance (Amount = Quantity x Rate in ClickTime)
    Rate: Decimal | None = None
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
