"""An expense sheet is listed under a cause of the receipt step while, and only while, that cause holds for it now:
some receipt of the sheet fails for it, or the link of its stored receipts to the report's lines does.

Found with soak seed 45003 (`test_soak_receipt_cause_left_behind.py`: one receipt failing for two causes before it
was stored left its sheet under the first for good). The same kind, across the sheet: two items whose receipts fail
for different causes, one of them changing cause before it goes through; an item refused for this approval while
another item's receipt of the same cause goes through (the sheet was let go of, the refusal still there); a link
write that failed once (the sheet stayed under `receipt-link` after the retry linked the receipt). Each failed before
the fix.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ctsync.errors import TransientError
from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e

FAST = {"expenses": {"receipts": {"retry_delay_seconds": 0}}}
RECEIPT = b"%PDF-1.4 receipt\n%%EOF\n"


def _approved_sheet(world: Any, items: int) -> tuple[str, list[str]]:
    world.ct.clock.advance(timedelta(hours=8))
    world.run()
    world.ct.clock.advance(timedelta(hours=1))
    sheet = world.sheet()
    ids = [
        world.item(sheet, amount, receipt=RECEIPT + amount.encode(), receipt_type="application/pdf")
        for amount in ("42.50", "17.25")[:items]
    ]
    world.approve(sheet)
    return sheet, ids


def _failing_downloads(world: Any, monkeypatch: Any, fails: dict[str, set[int]]) -> dict[str, int]:
    """Each item's receipt download fails on the passes (1: the approval's) `fails` names; the passes counted."""
    worker = world.session.runtime("ExpensesWorker").clicktime
    download = worker.download_receipt
    passes = dict.fromkeys(fails, 0)

    def download_receipt(url: str, *args: Any, **kwargs: Any) -> Any:
        for item, failing in fails.items():
            if item in url:
                passes[item] += 1
                if passes[item] in failing:
                    raise TransientError("ClickTime 503: receipt download failed: 503 Service Unavailable")
        return download(url, *args, **kwargs)

    monkeypatch.setattr(worker, "download_receipt", download_receipt)
    return passes


def _holding(world: Any, sheet: str) -> dict[str, str]:
    return {c.key: c.reason for c in world.session.runlog.causes("expenses") if sheet in c.blocked}


def _stored_and_linked(world: Any, sheet: str, items: list[str]) -> dict[str, Any]:
    report = world.report(sheet)
    files = {f["externalId"]: str(f["id"]) for f in world.ns.files() if f.get("externalId", "").startswith("ct-rcpt-")}
    assert report is not None and all(f"ct-rcpt-{item}" in files for item in items), (report, files)
    linked = {str((line.get("expmediaitem") or {}).get("id")) for line in report["expense"]["items"]}
    assert linked == {files[f"ct-rcpt-{item}"] for item in items}, (linked, files)
    return report


def test_two_items_failing_for_different_causes_leave_the_sheet_under_none_once_both_are_stored(
    world_factory, monkeypatch
):
    """The approval's pass: A's upload fails (`receipt-upload`), B's download (`receipt-download`). The first retry:
    B is stored, A's download fails. The second: A is stored. Before the fix the sheet stayed under `receipt-upload`
    (A's mapping kept only its latest cause)."""
    world = world_factory(FAST)
    sheet, (a, b) = _approved_sheet(world, 2)
    world.ns.faults.inject(status=503, times=6, method="PUT", path=rf"/file/eid:ct-rcpt-{a}")
    passes = _failing_downloads(world, monkeypatch, {a: {2}, b: {1}})
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()

    assert passes[a] >= 3 and passes[b] >= 2, (passes, result.failures)
    report = _stored_and_linked(world, sheet, [a, b])
    assert not _holding(world, sheet), (
        f"expense sheet {sheet} went through with both receipts (report {report['id']}), yet open causes still "
        f"list it: {_holding(world, sheet)}"
    )


def test_an_item_refused_for_this_approval_keeps_the_sheet_under_its_cause_when_another_item_goes_through(
    world_factory, monkeypatch
):
    """A's upload is refused (a 400: not tried again for this approval), B's fails for now (a 503); the retry
    stores B. A's receipt is still refused under `receipt-upload`: the sheet stays listed there (before the fix,
    B's success let go of it, and `ctns errors` no longer told of A's receipt)."""
    world = world_factory(FAST)
    sheet, (a, b) = _approved_sheet(world, 2)
    world.ns.faults.inject(status=400, times=1, method="PUT", path=rf"/file/eid:ct-rcpt-{a}")
    world.ns.faults.inject(status=503, times=6, method="PUT", path=rf"/file/eid:ct-rcpt-{b}")
    passes = _failing_downloads(world, monkeypatch, {a: set(), b: set()})
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()

    assert passes[b] >= 2 and passes[a] == 1, (passes, result.failures)
    files = {f.get("externalId") for f in world.ns.files()}
    assert f"ct-rcpt-{b}" in files and f"ct-rcpt-{a}" not in files, files
    refused = world.session.mappings.get("expenseitem", a)
    assert refused is not None and refused.details.get("receipt_refused") == "receipt-upload", refused
    holding = _holding(world, sheet)
    assert "receipt-upload" in holding, (
        f"expense sheet {sheet}: item {a}'s receipt is still refused, yet its cause let go of the sheet: {holding}"
    )


def test_a_link_that_failed_once_leaves_the_sheet_under_no_cause_once_the_retry_links_it(world_factory, monkeypatch):
    """The approval's pass: the upload fails. The first retry stores the receipt, and its report write (to link it)
    fails for now (503s: `receipt-link`). The second retry links it. Before the fix the sheet stayed under
    `receipt-link`: nothing ever let go of that cause."""
    world = world_factory(FAST)
    sheet, (a,) = _approved_sheet(world, 1)
    world.ns.faults.inject(status=503, times=6, method="PUT", path=r"/file/eid:ct-rcpt-")
    worker = world.session.runtime("ExpensesWorker").clicktime
    download = worker.download_receipt
    passes = {"n": 0}

    def download_receipt(url: str, *args: Any, **kwargs: Any) -> Any:
        if a in url:
            passes["n"] += 1
            if passes["n"] == 2:
                world.ns.faults.inject(status=503, times=6, method="PUT", path=r"/expenseReport/eid:")
        return download(url, *args, **kwargs)

    monkeypatch.setattr(worker, "download_receipt", download_receipt)
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()

    assert passes["n"] == 2, (passes, result.failures)
    link_failed = [f for f in world.session.runlog.failures(result.syncs["expenses"]["run_id"])]
    assert any(f.cause_key == "receipt-link" and f.source_id == sheet for f in link_failed), link_failed
    report = _stored_and_linked(world, sheet, [a])
    assert not _holding(world, sheet), (
        f"expense sheet {sheet}: its receipt is stored and linked on report {report['id']}, yet open causes still "
        f"list it: {_holding(world, sheet)}"
    )
