"""4b5729d: a receipt is checked once per approval keyed by `<stamp>#<listing fingerprint>`. The listing's fingerprint
also moves without any new approval (the sheet marked paid in ClickTime: `Status`, `Paid` are in the snapshot), so a
receipt NetSuite cannot take ("not tried again until the sheet is approved anew") is downloaded and flagged again.

Fixed since, found by a second review (2026-12-02) of `4b5729d`; failed before the fix (receipts keyed by the stamp and the item as ClickTime lists it, `expense_receipts.item_digest`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e

TOO_LARGE = b"\x89PNG\r\n\x1a\n" + b"x" * (11 * 1024 * 1024)


def count_downloads(monkeypatch, world) -> list[str]:
    runtime = world.session.runtime("ExpensesWorker")
    seen: list[str] = []
    download = runtime.clicktime.download_receipt

    def spy(url, *args, **kwargs):
        seen.append(url)
        return download(url, *args, **kwargs)

    monkeypatch.setattr(runtime.clicktime, "download_receipt", spy)
    return seen


def test_a_refused_receipt_is_not_downloaded_and_flagged_again_when_the_sheet_is_marked_paid(world, monkeypatch):
    downloads = count_downloads(monkeypatch, world)
    sheet = world.sheet()
    item = world.item(sheet, "42.50", receipt=TOO_LARGE, receipt_type="image/png")
    world.approve(sheet)
    first = world.run()
    assert world.report(sheet) is not None
    assert any(
        "too large" in f["reason"] or "10 MB" in f["reason"] or "bytes" in f["reason"] for f in first.failures
    ), first.failures
    assert len(downloads) == 1

    world.ct.clock.advance(timedelta(hours=2))
    approved = world.ct.store.expense_sheets[sheet]["ApprovedDate"]
    world.act(sheet, "MarkPaid")  # the employee is paid in ClickTime: no new approval
    assert world.ct.store.expense_sheets[sheet]["ApprovedDate"] == approved
    world.ct.clock.advance(timedelta(hours=12))
    second = world.run()

    again = [
        f for f in second.failures if "too large" in f["reason"] or "10 MB" in f["reason"] or "bytes" in f["reason"]
    ]
    assert len(downloads) == 1 and not again, (
        f"expense sheet {sheet} marked paid in ClickTime (ApprovedDate {approved} kept): item {item}'s receipt, "
        f"refused as too large for this approval, was downloaded {len(downloads) - 1} more time(s) and flagged again: "
        f"{again}"
    )


def test_after_the_upgrade_a_refused_receipt_is_not_downloaded_and_flagged_again_for_the_same_approval(
    world, monkeypatch
):
    """A child mapping written before 4b5729d keeps `receipt_checked` = the stamp alone: the next pass over the same
    approval (here a date-only stamp, which every run of its window re-processes) no longer matches it."""
    from ctsync.records.expense_lines import ITEM_KIND

    downloads = count_downloads(monkeypatch, world)
    sheet, item, first = world.exported_item("2026-11-23", receipt=TOO_LARGE, receipt_type="image/png")
    assert any("bytes" in f["reason"] for f in first.failures), first.failures
    (child,) = world.session.mappings.children("expensesheet", sheet)
    stamp_alone, _, _ = child.details["receipt_checked"].partition("#")
    # as the version before 4b5729d wrote it
    world.session.mappings.put(child.model_copy(update={"details": {**child.details, "receipt_checked": stamp_alone}}))
    assert child.kind == ITEM_KIND and len(downloads) == 1

    world.ct.clock.advance(timedelta(hours=1))  # the next run, same day, nothing changed in ClickTime
    second = world.run()

    again = [f for f in second.failures if "bytes" in f["reason"]]
    assert len(downloads) == 1 and not again, (
        f"expense sheet {sheet} unchanged since its approval: item {item}'s receipt, refused for this approval before "
        f"the upgrade, was downloaded {len(downloads) - 1} more time(s) and flagged again: {again}"
    )
