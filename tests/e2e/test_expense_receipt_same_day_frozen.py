"""Review of 279d2bc: a frozen report under a same-day stamp.

A known limit since the fourth review (strict xfail): the replaced receipt is not seen under a same-day stamp."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World, lines  # noqa: F401
from tests.e2e.test_expense_receipt_key import count_downloads
from tests.e2e.test_expense_receipt_same_day_recheck import LIMIT, PDF, exported_date_only, linked_shas
from tests.e2e.test_frozen_then_released import backfill

pytestmark = pytest.mark.e2e

NEW = b"%PDF-1.4 the right dinner receipt 42.50\n%%EOF\n"


@pytest.mark.xfail(strict=True, reason=LIMIT)
def test_a_replaced_receipt_of_a_frozen_report_is_flagged_once_and_stored_once_released(world, monkeypatch):
    downloads = count_downloads(monkeypatch, world)
    sheet, item = exported_date_only(world)
    report = world.report(sheet)
    world.ns.records.update(
        "expenseReport", report["id"], {"supervisorapproval": True, "accountingapproval": True, "status": {"id": "F"}}
    )
    world.reapprove(sheet, lambda: world.ct.set_receipt(item, NEW, "application/pdf"))
    world.ct.store.expense_sheets[sheet]["ApprovedDate"] = "2026-11-23"
    world.ct.clock.advance(timedelta(hours=1))
    flagged = world.run()
    runs = []
    for hours in (1, 3, 6):
        world.ct.clock.advance(timedelta(hours=hours))
        runs.append(world.run())
    assert linked_shas(world, sheet) == [hashlib.sha256(PDF).hexdigest()]
    first = [f.reason for f in world.session.runlog.failures(flagged.syncs["expenses"]["run_id"])]
    later = [[f.reason for f in world.session.runlog.failures(r.syncs["expenses"]["run_id"])] for r in runs]
    assert first and not any(later), (first, later, len(downloads))
    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    backfill(world)
    assert linked_shas(world, sheet) == [hashlib.sha256(NEW).hexdigest()], (linked_shas(world, sheet), world.ns.files())
