"""An expense sheet corrected and approved again without its approval stamp changing (a stamp with a date alone,
approved again the same day; no stamp at all): the poller's only view of an approval is the listed sheet, so the
correction was held as exported and the report kept the old amount. The listing's totals are now part of what the
poller compares (`SheetKind.content`). The time export's: `test_time_export_correction_same_stamp.py`."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from tests.e2e.support import CLICKTIME_STAMP
from tests.e2e.test_expense_export_review import World, lines

pytestmark = pytest.mark.e2e

__all__ = ["World"]  # the `world` fixture builds the review's world


@pytest.mark.parametrize("same_stamp", ["2026-11-23", None], ids=["date-only", "no-stamp"])
def test_a_correction_approved_again_under_the_same_stamp_reaches_netsuite(world, same_stamp):
    sheet, item, _ = world.exported_item(same_stamp)  # 12:00Z
    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("42.50")]

    def correct() -> None:
        world.ct.edit_expense_item(item, Amount=Decimal("30.00"))

    world.approved_again(sheet, correct, same_stamp)  # 14:00Z: 42.50 -> 30.00, approved again the same day
    result = world.run()

    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("30.00")], (
        f"expense sheet {sheet} corrected to 30.00 and approved again (ApprovedDate {same_stamp!r} both times): the "
        f"report still has 42.50; the run: {result.syncs['expenses']}"
    )


# -- found by a review of the change above: the amount reached NetSuite but the receipt is checked once per approval,
# keyed by its stamp, which a date-only stamp keeps; the key now holds what the listing showed of the sheet too.
OLD = b"%PDF-1.4 old dinner receipt 42.50\n%%EOF\n"
NEW = b"%PDF-1.4 corrected dinner receipt 30.00\n%%EOF\n"


@pytest.mark.parametrize("same_stamp", [True, False], ids=["date-only-same-stamp", "control-new-stamp"])
def test_a_receipt_replaced_in_a_same_stamp_correction_reaches_netsuite(world, same_stamp):
    sheet, item, _ = world.exported_item("2026-11-23", receipt=OLD)
    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("42.50")]
    assert [f["sha256"] for f in world.ns.files()] == [hashlib.sha256(OLD).hexdigest()]

    def correct() -> None:
        world.ct.edit_expense_item(item, Amount=Decimal("30.00"))
        world.ct.set_receipt(item, NEW, "application/pdf")

    world.approved_again(sheet, correct, "2026-11-23" if same_stamp else CLICKTIME_STAMP)
    result = world.run()

    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("30.00")]
    linked = {str((line.get("expmediaitem") or {}).get("id")) for line in lines(world.report(sheet))}
    shas = {f["id"]: f["sha256"] for f in world.ns.files()}
    assert [shas.get(file_id) for file_id in linked] == [hashlib.sha256(NEW).hexdigest()], (
        f"expense item {item} corrected to 30.00 with a new receipt, approved again the same day: the line of 30.00 "
        f"still links the old receipt (files {world.ns.files()}); the run: {result.syncs['expenses']}"
    )


# -- found by the same review: a same-day correction that keeps every total the listing shows (an item moved to
# another project, re-categorised, made billable) was held as exported. An approval stamped with a date alone is now
# judged by the worker, which reads the items (`Change.judged_by_worker`).
@pytest.mark.parametrize("same_stamp", [True, False], ids=["same-stamp", "control-new-stamp"])
@pytest.mark.parametrize("edit", ["project", "category", "billable"])
def test_a_same_stamp_correction_that_keeps_the_totals_reaches_netsuite(world, edit, same_stamp):
    sheet, item, _ = world.exported_item("2026-11-23")
    (before,) = lines(world.report(sheet))
    fields = {
        "project": {"JobID": world.job2},
        "category": {"ExpenseTypeID": world.lodging},
        "billable": {"Billable": True},
    }[edit]

    correct = lambda: world.ct.edit_expense_item(item, **fields)  # noqa: E731
    world.approved_again(sheet, correct, "2026-11-23" if same_stamp else CLICKTIME_STAMP)
    result = world.run()

    (after,) = lines(world.report(sheet))
    keys = {"project": "customer", "category": "category", "billable": "isBillable"}
    assert after.get(keys[edit]) != before.get(keys[edit]), (
        f"expense item {item} corrected ({fields}) and approved again the same day: the report line still has "
        f"{keys[edit]} = {after.get(keys[edit])!r}; the run: {result.syncs['expenses']}"
    )
