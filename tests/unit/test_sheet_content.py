"""What of a listed sheet the poller compares besides its stamp (`SheetKind.content`): a correction approved again
under the same stamp changes it; ClickTime giving the same decimal as a number one night and a string the next
(clicktime-api §1.5) does not, or every such sheet would be exported again."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ctsync.records.clicktime_source import EXPENSE_SHEETS, TIMESHEETS, decimal_text, time_by_day
from ctsync.records.targets import content_hash

hours = st.decimals(min_value=0, max_value=24, places=2, allow_nan=False, allow_infinity=False)


@given(hours)
def test_a_decimal_reads_the_same_as_a_json_number_a_string_or_with_trailing_zeros(value: Decimal) -> None:
    # The client reads JSON numbers as Decimal (`jsonutil.loads`), whole ones as int
    forms = {decimal_text(value), decimal_text(str(value)), decimal_text(f"{value:.4f}")}
    if value == value.to_integral_value():
        forms.add(decimal_text(int(value)))
    assert len(forms) == 1


def test_days_without_time_and_the_order_of_days_do_not_count() -> None:
    listed = [{"Date": "2026-11-03", "Hours": "7.50"}, {"Date": "2026-11-02", "Hours": 0}]
    again = [{"Date": "2026-11-02", "Hours": "0.00"}, {"Date": "2026-11-03", "Hours": 7.5}, {"Date": "2026-11-04"}]
    assert time_by_day(listed) == time_by_day(again) == [("2026-11-03", "7.5")]


def test_a_correction_changes_the_fingerprint_and_a_representation_does_not() -> None:
    def fingerprint(kind, sheet):
        return content_hash({"content": kind.content(sheet)})

    sheet = {"DayTotals": [{"Date": "2026-11-02", "Hours": 6}]}
    assert fingerprint(TIMESHEETS, sheet) == fingerprint(
        TIMESHEETS, {"DayTotals": [{"Date": "2026-11-02", "Hours": "6.0"}]}
    )
    assert fingerprint(TIMESHEETS, sheet) != fingerprint(
        TIMESHEETS, {"DayTotals": [{"Date": "2026-11-02", "Hours": 4}]}
    )
    assert fingerprint(TIMESHEETS, sheet) != fingerprint(
        TIMESHEETS, {"DayTotals": [{"Date": "2026-11-03", "Hours": 6}]}
    )
    report = {"TotalAmount": 42.5, "ReimbursableAmount": "42.50", "ExpenseItemCount": 1}
    assert fingerprint(EXPENSE_SHEETS, report) == fingerprint(
        EXPENSE_SHEETS, {"TotalAmount": "42.50", "ReimbursableAmount": 42.5, "ExpenseItemCount": "1"}
    )
    assert fingerprint(EXPENSE_SHEETS, report) != fingerprint(EXPENSE_SHEETS, {**report, "TotalAmount": "30.00"})


def test_what_cannot_be_read_is_kept_as_given_so_a_change_of_it_is_still_a_change() -> None:
    assert decimal_text("n/a") == "n/a" and decimal_text(True) == "True" and decimal_text(None) is None
    assert time_by_day(None) is None and time_by_day("7.5") is None
    assert time_by_day([{"Date": "2026-11-02", "Hours": "n/a"}]) == [("2026-11-02", "n/a")]
