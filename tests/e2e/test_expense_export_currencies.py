"""An accounts-payable clerk's morning check of the expense export in several currencies (2026-12-04 evening).

The clerk opens each report NetSuite holds and reads every line in another currency as its three figures: the
amount spent (`foreignamount`), the rate (`exchangerate`) and what posts (`amount`, in the report's currency). Those
must agree: foreign amount x rate, rounded half up to the report currency's places, is the amount (within what the
rounding of ClickTime's own rate and amount explains for a line ClickTime converted). A line that contradicts
itself is wrong whichever figure NetSuite believes (whether NetSuite recomputes a line's amount from its foreign
amount and rate is UNVERIFIED: README).

Each test failed before its fix:
- a line converted at NetSuite's rate (ClickTime gives no rate into the report's currency) whose foreign amount had
  more decimal places than its currency was converted from the unrounded figure and sent with the rounded one:
  1235 JPY x 0.00999 written as 12.33 EUR (1235 x 0.00999 = 12.34);
- an item whose ClickTime figures disagree (Amount is not AmountForeign x AmountForeignExchangeRate: a rate quoted
  the other way round, or an amount edited by hand) was written as ClickTime sent it, a line of 110.00 EUR at 0.9217
  posting 119.35 USD; it now blocks its sheet, naming the item, the three fields and their values, and the other
  sheets of the run go through;
- a rate missing in both systems said to "set expenses.exchange_rates to netsuite" when it was set so already.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tests.e2e.test_expense_export_review import World as ReviewWorld
from tests.e2e.test_expense_export_review import lines

pytestmark = pytest.mark.e2e

YEN = {"id": "9", "name": "Yen", "symbol": "JPY", "currencyPrecision": 0}
POUND = {"id": "11", "name": "British Pound", "symbol": "GBP", "currencyPrecision": 2}


class World(ReviewWorld):
    def for_euro_employee(self) -> None:
        """Sheets from here on are a EUR subsidiary's employee's (the company currency is USD)."""
        employees = {e["email"].lower(): e for e in self.ns.records.all("employee")}
        self.user = next(
            u
            for u in self.ct.users()
            if u["Email"].lower() in employees and employees[u["Email"].lower()]["subsidiary"]["id"] == "2"
        )
        self.employee = employees[self.user["Email"].lower()]["id"]


def posted(line: dict[str, Any], places: int = 2) -> Decimal:
    """What the line's foreign amount at its rate comes to, rounded half up to the report currency's places."""
    return (line["foreignamount"] * line["exchangerate"]).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def test_a_line_at_netsuites_rate_posts_its_own_foreign_amount_at_that_rate(world):
    world.ns.records.add("currency", YEN)
    world.ns.set_exchange_rate("EUR", "JPY", "0.00999", date(2026, 1, 1))
    world.for_euro_employee()
    sheet = world.sheet()
    # 1234.5 yen (ClickTime keeps a fraction of a yen): sent as 1235 JPY, and said so
    world.item(sheet, "8.26", foreign_amount="1234.5", foreign_currency="JPY", exchange_rate="0.00669")
    world.approve(sheet)

    result = world.run()

    (line,) = lines(world.report(sheet))
    assert (line["foreignamount"], line["exchangerate"]) == (Decimal("1235"), Decimal("0.00999"))
    assert line["amount"] == posted(line) == Decimal("12.34"), (
        f"NetSuite's line says {line['foreignamount']} JPY at {line['exchangerate']} and posts {line['amount']} EUR"
    )
    assert "sent as 1235" in world.said(result)
    assert world.reconcile().ok


def test_an_item_whose_clicktime_amount_is_not_its_foreign_amount_at_its_rate_blocks_its_sheet(world):
    bad = world.sheet(title="Paris")
    # 110.00 EUR at ClickTime's rate 0.9217 is 101.39 USD, not the 119.35 ClickTime's Amount says (a rate quoted
    # USD -> EUR, the other way round from the line's EUR -> USD)
    item = world.item(bad, "119.35", foreign_amount="110.00", foreign_currency="EUR", exchange_rate="0.9217")
    world.item(bad, "20.00")
    world.approve(bad)
    good = world.sheet(title="Lyon")
    world.item(good, "54.35", foreign_amount="50.00", foreign_currency="EUR", exchange_rate="1.087")  # 54.35: agrees
    world.approve(good)

    result = world.run()

    assert world.report(bad) is None, "a line of 110.00 EUR at 0.9217 posting 119.35 USD was written"
    (line,) = lines(world.report(good))  # the rest of the run goes on
    assert line["amount"] == posted(line) == Decimal("54.35")
    (cause,) = [c for c in world.causes() if bad in c.blocked]
    assert cause.key == "bad-input:AmountForeignExchangeRate"
    for told in (item, "AmountForeign 110.00 EUR", "AmountForeignExchangeRate 0.9217", "Amount 119.35", "101.39"):
        assert told in cause.reason, cause.reason
    assert "\n" not in cause.reason and "ClickTime" in cause.fix
    assert any(f["source_id"] == bad and f["in_dead_letters"] for f in result.failures)
    reconciled = world.reconcile()
    assert reconciled.totals["blocked"] == "110.00 EUR, 20.00 USD", reconciled.totals
    assert any(bad in note and "AmountForeignExchangeRate" in note for note in reconciled.notes), reconciled.notes


def test_a_rate_missing_in_both_systems_names_the_fix_that_is_left(world):
    world.ns.records.add("currency", POUND)
    world.for_euro_employee()
    sheet = world.sheet()
    item = world.item(sheet, "12.70", foreign_amount="10.00", foreign_currency="GBP", exchange_rate="1.27")
    world.approve(sheet)

    world.run()

    (cause,) = world.causes()
    assert cause.key == "exchange-rate-missing:gbp-eur" and item in cause.reason
    assert world.session.runtime().config.expenses.exchange_rates == "netsuite"
    assert "exchange_rates" not in cause.fix, f"the fix says to set what is set already: {cause.fix}"
    assert "GBP to EUR rate in NetSuite" in cause.fix


# -- an amount rounded is flagged; corrected in ClickTime (or its report withdrawn), the flag leaves the sheet ----
def rounded_yen_sheet(world) -> tuple[str, str]:
    world.ns.records.add("currency", YEN)
    sheet = world.sheet()
    item = world.item(sheet, "8.26", foreign_amount="1234.5", foreign_currency="JPY", exchange_rate="0.00669")
    world.approve(sheet)
    world.run()
    (cause,) = world.causes()
    assert cause.key == "amount-rounded" and cause.blocked == [sheet] and "AmountForeign 1234.5" in cause.reason
    return sheet, item


def test_a_rounded_amount_corrected_in_clicktime_leaves_the_amount_rounded_cause(world):
    sheet, item = rounded_yen_sheet(world)

    world.approved_again(sheet, lambda: world.ct.edit_expense_item(item, AmountForeign=Decimal("1235")))
    world.run()

    (line,) = lines(world.report(sheet))
    assert line["foreignamount"] == Decimal("1235")
    assert [c.key for c in world.causes()] == [], (
        "ctns errors still names the sheet for an AmountForeign of 1234.5 that ClickTime no longer holds: "
        f"{[(c.key, c.reason) for c in world.causes()]}"
    )


def test_a_rounded_amount_still_rounded_after_a_correction_of_another_line_keeps_its_cause(world):
    sheet, _ = rounded_yen_sheet(world)

    world.approved_again(sheet, lambda: world.item(sheet, "5.00"))
    world.run()

    assert len(lines(world.report(sheet))) == 2
    (cause,) = world.causes()
    assert cause.key == "amount-rounded" and cause.blocked == [sheet] and "AmountForeign 1234.5" in cause.reason


def test_a_rounded_amount_whose_report_is_withdrawn_leaves_the_amount_rounded_cause(world):
    sheet, _ = rounded_yen_sheet(world)
    report = world.report(sheet)["id"]

    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.act(sheet, "Reject")
    world.ct.clock.advance(timedelta(hours=12))
    world.run()

    assert world.report(sheet) is None, f"report {report} of the rejected sheet is still in NetSuite"
    assert [c.key for c in world.causes()] == [], [(c.key, c.reason) for c in world.causes()]
