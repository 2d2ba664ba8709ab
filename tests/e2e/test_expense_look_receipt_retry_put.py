"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): the receipt step's retry (a receipts-only message) writes the whole report again to link a receipt
(`ReceiptStep._link`). When that PUT's answer is lost, nothing lists the sheet: `_under_lock` records doubts only on
`_export`/`_withdraw` commits and on failure; `ReceiptStep.again` commits without `_with_doubts`. Processed after a
later correction, the late PUT puts the first approval's amounts back and no run looks again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctsync.records import expense_receipts
from tests.e2e.support import run
from tests.e2e.test_expense_export import (  # noqa: F401
    REPORTS,
    activity,
    external_id,
    receipt_items,
    sheet_with_receipts,
)
from tests.e2e.test_expense_late_writes import after_the_wait, amounts, clock  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_late_put_of_the_receipt_retry_that_undoes_a_correction_is_written_over(activity, clock, monkeypatch):  # noqa: F811
    session = activity
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheet = sheet_with_receipts(session)
    path = f"{REPORTS}eid:{external_id(sheet['ID'])}"
    item = receipt_items(session, [sheet])[0]
    ct.faults.inject(status=500, times=2, method="GET", path=rf"/receipts/{item['ID']}$")
    original = expense_receipts.ReceiptStep._link
    state = {"armed": True}

    def link(self, plan, *args, **kwargs):
        if (
            state["armed"] and plan.sheet.ID == sheet["ID"]
        ):  # the retry's PUT linking the receipt is the one whose answer is lost
            state["armed"] = False
            ns.faults.inject("late", times=1, method="PUT", path=f"{path}$")
        return original(self, plan, *args, **kwargs)

    monkeypatch.setattr(expense_receipts.ReceiptStep, "_link", link)
    run(session, "expenses")
    assert ns.faults.fired["late"] == 1 and ct.faults.fired["500"] == 2, (ns.faults.fired, ct.faults.fired)
    first = amounts(session, sheet["ID"])

    # Corrected in ClickTime and approved again: written
    one = ct.items_of(sheet["ID"])[0]
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "Wrong amount")
    ct.edit_expense_item(one["ID"], Amount=str(Decimal(str(one["Amount"])) + Decimal("10.00")))
    ct.expense_sheet_action(sheet["ID"], "Approve")
    run(session, "expenses")
    corrected = amounts(session, sheet["ID"])
    assert corrected != first

    assert ns.process_held() == 1  # the receipt retry's PUT, with the old amounts, lands after the correction
    assert amounts(session, sheet["ID"]) == first
    after_the_wait(session, clock)
    looked = run(session, "expenses")
    after_the_wait(session, clock)
    run(session, "expenses")

    assert amounts(session, sheet["ID"]) == corrected, (
        f"a late PUT of the receipt retry put the old amounts {first} back over the approved correction {corrected} "
        f"and no run wrote the report again: finance pays the uncorrected amounts ({looked.counts('expenses')})"
    )
