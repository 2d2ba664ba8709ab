"""The expense reconciliation against what NetSuite holds, after changes a review found it misjudged: a posted
(report-currency) amount edited on a foreign line, a blocked re-approval of a sheet whose report stays in NetSuite,
a receipt removed in ClickTime."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctsync.reconcile.expenses import reconcile_expenses
from simulators.generator import UNMAPPED_EXPENSE_TYPE
from tests.e2e.support import run
from tests.e2e.test_expense_export import (  # noqa: F401 - fixtures
    activity,
    expense_types,
    exportable_sheets,
    exported,
    lines_of,
    report_of,
)

pytestmark = pytest.mark.e2e


def reconcile(session):
    runtime = session.runtime()
    return reconcile_expenses(runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)


def amounts_check(result):
    (check,) = [c for c in result.checks if c.name.startswith("amounts per employee")]
    return check


def posted_check(result):
    (check,) = [c for c in result.checks if c.name.startswith("amounts posted")]
    return check


def test_reconciliation_sees_a_report_currency_amount_that_differs_on_a_foreign_currency_line(exported):  # noqa: F811
    session = exported
    ns = session.simulators.netsuite
    clean = reconcile(session)
    assert amounts_check(clean).differences == [] and posted_check(clean).differences == []
    assert clean.totals["clicktime_posted"] == clean.totals["netsuite_posted"]
    report, index = next(
        (report, i)
        for sheet in exportable_sheets(session)
        for report in [report_of(session, sheet["ID"])]
        for i, line in enumerate(lines_of(report))
        if line.get("currency")  # spent in EUR, kept on a USD report: `amount` is what posts
    )
    lines = lines_of(report)
    lines[index] = {**lines[index], "amount": lines[index]["amount"] + Decimal("100.00")}
    ns.records.update("expenseReport", report["id"], {"expense": {"items": lines}})

    result = reconcile(session)

    # NetSuite now books 100.00 more (in the report's currency) than ClickTime approved for that line; what was
    # spent, in its own currency, is unchanged
    assert amounts_check(result).differences == []
    (difference,) = posted_check(result).differences
    planned, held = (Decimal(part.rsplit(" ", 1)[1]) for part in difference.split(": ", 1)[1].split(", "))
    assert held - planned == Decimal("100.00"), difference
    assert result.totals["clicktime_posted"] != result.totals["netsuite_posted"]


def test_a_blocked_reapproval_does_not_drop_a_report_still_in_netsuite_from_the_netsuite_totals(exported):  # noqa: F811
    session = exported
    ct = session.simulators.clicktime
    before = reconcile(session)
    sheet = exportable_sheets(session)[0]
    held = report_of(session, sheet["ID"])
    gifts = next(t for t in expense_types(session).values() if t["Name"] == UNMAPPED_EXPENSE_TYPE)
    first = ct.items_of(sheet["ID"])[0]
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "one more item")
    ct.add_expense_item(sheet["ID"], first["ExpenseDate"], gifts["ID"], first["PaymentTypeID"], "12.00")
    ct.expense_sheet_action(sheet["ID"], "Approve")
    run(session, "expenses")  # blocked: the unmapped type; the report stays in NetSuite as it was
    assert report_of(session, sheet["ID"]) == held

    after = reconcile(session)

    # NetSuite holds exactly what it held before: its total must not change
    assert after.totals["netsuite"] == before.totals["netsuite"]
    (reports_check,) = [c for c in after.checks if c.name.startswith("approved sheets with their report")]
    assert reports_check.expected == len(exportable_sheets(session)) + 1  # the blocked sheet's report is there too


def test_a_receipt_removed_in_clicktime_is_not_reported_as_an_unlinked_receipt(exported):  # noqa: F811
    session = exported
    ct = session.simulators.clicktime
    failing = set(ct.failing_receipts())
    sheet = next(
        s
        for s in exportable_sheets(session)
        if any(ct.receipt(i["ID"]) for i in ct.items_of(s["ID"]))
        and not failing & {i["ID"] for i in ct.items_of(s["ID"])}
    )
    item = next(i for i in ct.items_of(sheet["ID"]) if ct.receipt(i["ID"]))
    receipts_check = lambda result: next(c for c in result.checks if c.name.startswith("receipts stored"))  # noqa: E731
    assert receipts_check(reconcile(session)).differences == []  # clean after the export
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "wrong receipt")
    with ct.store.lock:
        ct.store.receipts.pop(item["ID"])  # the person removed the wrong receipt from the item
    ct.expense_sheet_action(sheet["ID"], "Approve")
    run(session, "expenses")
    linked = [ln for ln in lines_of(report_of(session, sheet["ID"])) if ln.get("expmediaitem")]
    assert len(linked) == len([i for i in ct.items_of(sheet["ID"]) if ct.receipt(i["ID"])])  # its line links none now

    # ClickTime has no receipt for the item and its line links none: nothing is missing
    assert receipts_check(reconcile(session)).differences == []


@pytest.mark.parametrize("removal", ["receipt", "item"])
def test_with_attach_a_receipt_removed_in_clicktime_leaves_the_report(open_session, removal):
    # Found by a review: the export only ever attached files, so a receipt removed in ClickTime (the wrong one,
    # someone else's) or an item deleted with its receipt stayed attached to the report in NetSuite
    session = open_session({"expenses": {"receipts": {"link": "attach"}}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    run(session, "expenses")
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    failing = set(ct.failing_receipts())
    sheet = next(
        s
        for s in exportable_sheets(session)
        if sum(1 for i in ct.items_of(s["ID"]) if ct.receipt(i["ID"])) >= 1
        and len(ct.items_of(s["ID"])) >= 2
        and not failing & {i["ID"] for i in ct.items_of(s["ID"])}
    )
    report = report_of(session, sheet["ID"])["id"]
    attached_before = set(ns.attachments("expenseReport", report))
    item = next(i for i in ct.items_of(sheet["ID"]) if ct.receipt(i["ID"]))
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "that receipt is not mine")
    if removal == "receipt":
        with ct.store.lock:
            ct.store.receipts.pop(item["ID"])
    else:
        ct.delete_expense_item(item["ID"])
    ct.expense_sheet_action(sheet["ID"], "Approve")
    run(session, "expenses")

    wanted = len([i for i in ct.items_of(sheet["ID"]) if ct.receipt(i["ID"])])
    attached = set(ns.attachments("expenseReport", report))
    assert len(attached) == wanted == len(attached_before) - 1 and attached < attached_before
    (check,) = [c for c in reconcile(session).checks if c.name.startswith("receipts stored")]
    assert check.differences == []
