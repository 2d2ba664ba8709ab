"""Review of 279d2bc: ClickTime downloads of a receipts retry (`ReceiptStep.again`) under a same-day stamp.

Found by a fourth review (2026-12-02); failed before the fix (no stored receipt is downloaded again)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import SHEET_DAY, World  # noqa: F401
from tests.e2e.test_expense_receipt_key import count_downloads

pytestmark = pytest.mark.e2e

FAST = {"expenses": {"receipts": {"retry_delay_seconds": 0}}}


@pytest.mark.parametrize("same_stamp", [True, False], ids=["date-only", "control-timestamped"])
def test_a_receipts_retry_of_one_item_does_not_download_the_others_again(world_factory, monkeypatch, same_stamp):
    """Four receipts, three stored at the approval's pass; the fourth's download fails (503) for that pass and its
    first retry. Each retry is for that one receipt."""
    world = world_factory(FAST)
    downloads = count_downloads(monkeypatch, world)
    world.ct.clock.advance(timedelta(hours=8))
    world.run()
    world.ct.clock.advance(timedelta(hours=1))
    sheet = world.sheet()
    items = [
        world.item(
            sheet,
            f"{10 + n}.00",
            SHEET_DAY + timedelta(days=n),
            receipt=b"%PDF-1.4 r" + str(n).encode() + b"\n%%EOF\n",
            receipt_type="application/pdf",
        )
        for n in range(4)
    ]
    world.approve(sheet)
    if same_stamp:
        world.ct.store.expense_sheets[sheet]["ApprovedDate"] = "2026-11-23"
    world.ct.fail_receipt(items[3], 503)
    failing = {"left": 2}
    download = world.session.runtime("ExpensesWorker").clicktime.download_receipt

    def heal_after_two(url, *args, **kwargs):
        if items[3] in url and failing["left"] == 0:
            world.ct.heal_receipt(items[3])
        try:
            return download(url, *args, **kwargs)
        finally:
            if items[3] in url:
                failing["left"] -= 1

    monkeypatch.setattr(world.session.runtime("ExpensesWorker").clicktime, "download_receipt", heal_after_two)
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()
    assert len(world.ns.files()) == 4, (world.ns.files(), result.failures)

    per_item = Counter(next(i for i in items if i in url) for url in downloads)
    others = {item: per_item[item] for item in items[:3]}
    assert all(n == 1 for n in others.values()), (
        f"expense sheet {sheet}: one receipt (item {items[3]}) downloaded {per_item[items[3]]} time(s) (its pass, its retries, the link check); the three "
        f"stored at the approval's pass were downloaded from ClickTime again by each retry: {others}"
    )
