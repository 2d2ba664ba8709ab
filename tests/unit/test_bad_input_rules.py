"""The pure rules behind the bad-input suite (tests/e2e/test_bad_input.py): how a malformed ClickTime record, a broken
NetSuite answer and an amount with too many decimal places are told apart and named."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from ctsync.clicktime.client import validated
from ctsync.clicktime.models import ExpenseItem, TimeEntry, Timesheet
from ctsync.errors import BadInput, TransientError
from ctsync.netsuite.client import _flag, _json_payload
from ctsync.netsuite.errors import NetSuiteValidationError
from ctsync.records.expense_lines import line_money
from ctsync.records.references import Currency

USD = Currency("1", "USD", "US Dollar", 2, True)
JPY = Currency("3", "JPY", "Yen", 0, False)


def entry(**fields: object) -> dict[str, object]:
    return {"ID": "te-7", "Date": "2026-10-19", "Hours": "7.5", **fields}


def test_numbers_as_strings_are_read_exactly() -> None:
    assert validated(TimeEntry, entry(Hours="0.33"), "GET /Reports/Time").Hours == Decimal("0.33")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"Hours": "seven"}, "Hours", ("time entry te-7", "unreadable Hours", "'seven'")),
        ({"Hours": "NaN"}, "Hours", ("time entry te-7", "unreadable Hours")),
        ({"Hours": None}, "Hours", ("time entry te-7",)),
        ({"Date": "2026-02-30"}, "Date", ("unreadable Date", "YYYY-MM-DD", "'2026-02-30'")),
        ({"Date": "19/10/2026"}, "Date", ("unreadable Date",)),
    ],
)
def test_a_malformed_time_entry_is_bad_input_naming_the_entry_and_the_field(fields, field, words) -> None:
    with pytest.raises(BadInput) as raised:
        validated(TimeEntry, entry(**fields), "GET /Reports/Time")
    assert raised.value.field == field and raised.value.cause_key == f"bad-input:{field.lower()}"
    assert "GET /Reports/Time" in raised.value.message
    for word in words:
        assert word in raised.value.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"Hours": "1_0"}, "Hours"),  # Python's Decimal reads 10: ClickTime never writes it, so it is not a number
        ({"Hours": "\uff18"}, "Hours"),  # a full-width 8, read as 8 h by Decimal
        ({"Hours": "\u0663"}, "Hours"),  # Arabic-Indic 3
        ({"BillingRate": "1_000"}, "BillingRate"),
        ({"Date": "20261102"}, "Date"),  # compact ISO: fromisoformat reads it, `Date[:10]` would not
        ({"Date": "2026-11-0\uff12"}, "Date"),
    ],
)
def test_numbers_and_dates_only_in_ascii_and_their_plain_form(fields, field) -> None:
    """Money-review finding, 2026-12-03: loose forms were read as other values (1_0 as 10 h) or passed the check
    and broke later (a compact date became a permanent reconciliation difference)."""
    with pytest.raises(BadInput) as raised:
        validated(TimeEntry, entry(**fields), "GET /Reports/Time")
    assert raised.value.field == field and "time entry te-7" in raised.value.message


def test_a_date_with_spaces_around_it_is_read_as_the_date() -> None:
    """A leading space passed the check and was cut to ' 2026-11-0' later: retried five times, then dead-lettered
    as gave-up:valueerror with no record named (money review, 2026-12-03)."""
    assert validated(TimeEntry, entry(Date=" 2026-11-02 "), "GET").Date == "2026-11-02"
    item = {"ID": "ei-1", "ExpenseSheetID": "es-1", "ExpenseDate": " 2026-11-10", "Amount": "1"}
    assert validated(ExpenseItem, item, "GET").ExpenseDate == "2026-11-10"
    assert validated(TimeEntry, entry(Date="2026-11-02T00:00:00"), "GET").Date == "2026-11-02T00:00:00"
    assert validated(TimeEntry, entry(Hours=" 1.5 ", BillingRate="1e2"), "GET").BillingRate == Decimal("100")


def test_a_missing_field_says_so() -> None:
    record = entry()
    del record["Date"]
    with pytest.raises(BadInput, match="time entry te-7 has no Date"):
        validated(TimeEntry, record, "GET /Reports/Time")


def test_an_unreadable_approval_stamp_names_the_timesheet() -> None:
    sheet = {"ID": "ts-1", "UserID": "u", "StartDate": "2026-10-19", "EndDate": "2026-10-25", "Status": "Approved"}
    assert validated(Timesheet, {**sheet, "ApprovedDate": "2026-10-27T14:00:00"}, "GET").ApprovedDate
    with pytest.raises(BadInput, match="timesheet ts-1 has an unreadable ApprovedDate") as raised:
        validated(Timesheet, {**sheet, "ApprovedDate": "last Tuesday"}, "GET /Timesheets/ts-1")
    assert raised.value.cause_key == "bad-input:approveddate"


def test_a_malformed_expense_item_names_the_item() -> None:
    item = {"ID": "ei-1", "ExpenseSheetID": "es-1", "ExpenseDate": "2026-10-01", "Amount": "12,50"}
    with pytest.raises(BadInput, match="expense item ei-1 has an unreadable Amount"):
        validated(ExpenseItem, item, "GET /ExpenseItems")
    assert validated(ExpenseItem, {**item, "Amount": "12.50"}, "GET").Amount == Decimal("12.50")


def answer(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


@pytest.mark.parametrize(
    "body", [b"<html><body>502 Bad Gateway</body></html>", b'{"items": [{"id": "1", "title": "cut', b"\xff\xfe"]
)
def test_a_netsuite_2xx_body_that_is_not_json_is_retried_and_named(body: bytes) -> None:
    with pytest.raises(TransientError) as raised:
        _json_payload(
            answer(200, body, "text/html"),
            "POST",
            "https://acct.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql",
        )
    assert raised.value.code == "BAD_BODY" and raised.value.cause_key == "netsuite-bad-body"
    assert "POST /services/rest/query/v1/suiteql" in raised.value.message and "not JSON" in raised.value.message


def test_netsuite_error_list_on_a_200_is_an_error_not_an_empty_page() -> None:
    body = b'{"status": 200, "o:errorDetails": [{"detail": "Search error", "o:errorCode": "UNEXPECTED_ERROR"}]}'
    with pytest.raises(NetSuiteValidationError) as raised:
        _json_payload(answer(200, body), "POST", "https://x/services/rest/query/v1/suiteql")
    assert "Search error" in raised.value.message and "an error list on a 200 answer" in raised.value.message
    assert raised.value.code == "UNEXPECTED_ERROR"


def test_booleans_as_text_are_read_as_what_they_say() -> None:
    assert _flag("false") is False and _flag("TRUE") is True and _flag(True) is True and _flag(None) is False


def item(amount: str, **fields: object) -> ExpenseItem:
    return ExpenseItem.model_validate(
        {"ID": "ei-9", "ExpenseSheetID": "es-1", "ExpenseDate": "2026-10-01", "Amount": amount, **fields}
    )


def by_iso(iso: str) -> Currency | None:
    return {"USD": USD, "JPY": JPY}.get(iso)


def test_an_amount_with_more_places_than_its_currency_is_rounded_half_up_and_said() -> None:
    money, problem = line_money(item("12.345"), USD, "USD", by_iso, None)
    assert problem is None and money is not None and money.amount == Decimal("12.35")
    assert money.rounded == (
        "expense item ei-9: Amount 12.345 has more decimal places than USD has (2): sent as 12.35",
    )


def test_yen_with_decimals_is_rounded_to_whole_yen() -> None:
    foreign = {"HasForeignCurrency": True, "AmountForeign": "1500.5", "AmountForeignCurrency": "JPY"}
    money, _ = line_money(item("10.00", **foreign), JPY, "USD", by_iso, None)
    assert money is not None and money.amount == Decimal("1501")
    assert "AmountForeign 1500.5" in money.rounded[0] and "JPY has (0)" in money.rounded[0]


def test_an_amount_within_its_currency_is_not_flagged() -> None:
    money, _ = line_money(item("12.3"), USD, "USD", by_iso, None)
    assert money is not None and money.amount == Decimal("12.30") and money.rounded == ()
