"""Review of 7224c28: receipts keyed by the approval stamp and the item's digest (ReceiptURL excluded).

Found by a third review (2026-12-02); both failed before the fix (`expense_receipts.checked_already`: under a
stamp that reads the same all day a stored receipt is downloaded again and compared; a key of the stamp alone from
before the upgrade stands for a refused receipt only)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from tests.e2e.support import CLICKTIME_STAMP
from tests.e2e.test_expense_export_review import World, lines
from tests.e2e.test_expense_receipt_same_day_recheck import LIMIT

pytestmark = pytest.mark.e2e

__all__ = ["World"]

OLD = b"%PDF-1.4 wrong receipt (another dinner)\n%%EOF\n"
NEW = b"%PDF-1.4 the right dinner receipt 42.50\n%%EOF\n"


def linked_shas(world, sheet):
    linked = [str((line.get("expmediaitem") or {}).get("id")) for line in lines(world.report(sheet))]
    shas = {f["id"]: f["sha256"] for f in world.ns.files()}
    return [shas.get(file_id) for file_id in linked]


def exported_date_only(world):
    sheet, item, _ = world.exported_item("2026-11-23", receipt=OLD)
    assert linked_shas(world, sheet) == [hashlib.sha256(OLD).hexdigest()]
    return sheet, item


@pytest.mark.parametrize(
    "same_stamp",
    [pytest.param(True, marks=pytest.mark.xfail(strict=True, reason=LIMIT)), False],
    ids=["date-only-same-stamp", "control-new-stamp"],
)
def test_a_receipt_alone_replaced_in_a_same_stamp_correction_reaches_netsuite(world, same_stamp):
    """The approver sends the sheet back because the wrong receipt was attached; the employee attaches the right
    one (nothing else changes) and it is approved again the same day."""
    sheet, item = exported_date_only(world)

    replace = lambda: world.ct.set_receipt(item, NEW, "application/pdf")  # noqa: E731
    world.approved_again(sheet, replace, "2026-11-23" if same_stamp else CLICKTIME_STAMP)
    result = world.run()

    assert linked_shas(world, sheet) == [hashlib.sha256(NEW).hexdigest()], (
        f"expense item {item}'s receipt replaced (nothing else changed) and approved again the same day: the report "
        f"line still links the wrong receipt (files {world.ns.files()}); the run: {result.syncs['expenses']}"
    )


def test_after_the_upgrade_a_correction_s_new_receipt_is_not_taken_for_the_old_one(world):
    """A child mapping written before 4b5729d keeps `receipt_checked` = the stamp alone (honoured as this item's).
    The item is then corrected (amount and receipt) and approved again the same day: the key of the stamp alone
    still matches, so the new receipt is never checked."""
    sheet, item = exported_date_only(world)
    (child,) = world.session.mappings.children("expensesheet", sheet)
    stamp_alone, _, _ = child.details["receipt_checked"].partition("#")
    world.session.mappings.put(child.model_copy(update={"details": {**child.details, "receipt_checked": stamp_alone}}))

    def correct() -> None:
        world.ct.edit_expense_item(item, Amount=Decimal("30.00"))
        world.ct.set_receipt(item, NEW, "application/pdf")

    world.approved_again(sheet, correct, "2026-11-23")
    result = world.run()

    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("30.00")]
    assert linked_shas(world, sheet) == [hashlib.sha256(NEW).hexdigest()], (
        f"expense item {item} corrected to 30.00 with a new receipt, approved again the same day after the upgrade: "
        f"the line of 30.00 still links the old receipt (files {world.ns.files()}); the run: {result.syncs['expenses']}"
    )


TOO_LARGE = b"\x89PNG\r\n\x1a\n" + b"x" * (11 * 1024 * 1024)
