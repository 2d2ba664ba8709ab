"""Every flag a record gets in one run is kept (the money review, 2026-12-03 evening; both failed before the fix).

A record that went through with several flags (two frozen bills of one timesheet, two amounts of one expense sheet
rounded) kept only the last one: the run's failure item was keyed by the record alone (`FAIL#<source>`), so each
flag overwrote the one before, and the cause's reason was the last flag's text. The run's failures (what the run's
report and `ctns errors` show) and the cause's reason now name every flag of the record.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_expense_export_review import lines
from tests.e2e.test_time_export_review import WEEK, minutes

pytestmark = pytest.mark.e2e


def reasons(world, result, cause_key: str) -> list[str]:
    run_id = result.syncs[world.sync]["run_id"]
    return [f.reason for f in world.session.runlog.failures(run_id) if f.cause_key == cause_key]


def test_both_frozen_bills_of_a_corrected_timesheet_are_named(time_world):
    world = time_world
    sheet = world.sheet()
    first = world.entry(sheet, WEEK, "2")
    second = world.entry(sheet, WEEK + timedelta(days=1), "3")
    world.approve(sheet)
    world.run()
    bills = [world.bill(first)["id"], world.bill(second)["id"]]
    world.ns.close_period(WEEK)
    world.reapprove(
        sheet,
        lambda: (
            world.ct.edit_time_entry(first, Hours=Decimal("2.5")),
            world.ct.edit_time_entry(second, Hours=Decimal("3.5")),
        ),
    )

    result = world.run()

    assert (minutes(world.bill(first)), minutes(world.bill(second))) == (120, 180)  # November is closed
    told = reasons(world, result, "time-bill-frozen")
    assert told and all(any(f"time bill {bill} " in reason for reason in told) for bill in bills), told
    reported = [f["reason"] for f in result.failures if f["source_id"] == sheet]
    assert all(any(f"time bill {bill} " in reason for reason in reported) for bill in bills), reported
    cause = world.session.runlog.cause("time", "time-bill-frozen")
    assert cause.count == 2 and cause.blocked == [sheet]  # one flag per bill, as before
    assert all(f"time bill {bill} " in cause.reason for bill in bills), cause.reason


def test_both_rounded_amounts_of_an_expense_sheet_are_named(expense_world):
    world = expense_world
    world.ns.records.add("currency", {"id": "9", "name": "Yen", "symbol": "JPY", "currencyPrecision": 0})
    world.ns.records.add("currency", {"id": "10", "name": "Kuwaiti Dinar", "symbol": "KWD", "currencyPrecision": 3})
    sheet = world.sheet()
    yen = world.item(sheet, "8.26", foreign_amount="1234.5", foreign_currency="JPY", exchange_rate="0.00669")
    dinar = world.item(sheet, "32.55", foreign_amount="10.0005", foreign_currency="KWD", exchange_rate="3.2548")
    world.item(sheet, "5.00")
    world.approve(sheet)

    result = world.run()

    sent = sorted(line.get("foreignamount") for line in lines(world.report(sheet)) if line.get("foreignamount"))
    assert sent == [Decimal("10.001"), Decimal("1235")]
    told = reasons(world, result, "amount-rounded")
    for item, amount in ((yen, "1234.5"), (dinar, "10.0005")):
        assert any(f"expense item {item}: AmountForeign {amount}" in reason for reason in told), told
    cause = world.session.runlog.cause("expenses", "amount-rounded")
    assert cause.count == 2 and cause.blocked == [sheet]
    assert f"expense item {yen}:" in cause.reason and f"expense item {dinar}:" in cause.reason, cause.reason
