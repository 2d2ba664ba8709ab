"""A foreign-currency item with a comment and a refused receipt, judged again by every run of its date-only
approval's window: its receipt is downloaded and refused once per approval (`expense_receipts.item_digest` is stable
across reads).

Written by a third review (2026-12-02) as a guard; passed before and after its fixes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401
from tests.e2e.test_expense_receipt_key import TOO_LARGE, count_downloads

pytestmark = pytest.mark.e2e


def test_a_foreign_currency_item_s_refused_receipt_is_checked_once_per_approval(world, monkeypatch):
    downloads = count_downloads(monkeypatch, world)
    world.ct.clock.advance(timedelta(hours=8))
    world.run()
    world.ct.clock.advance(timedelta(hours=1))
    sheet = world.sheet()
    world.item(
        sheet,
        "42.50",
        receipt=TOO_LARGE,
        receipt_type="image/png",
        foreign_amount="39.10",
        foreign_currency="EUR",
        exchange_rate="1.08696",
        comment="team dinner",
    )
    world.approve(sheet)
    world.ct.store.expense_sheets[sheet]["ApprovedDate"] = "2026-11-23"
    world.ct.clock.advance(timedelta(hours=1))
    first = world.run()
    assert world.report(sheet) is not None, first.failures
    for hours in (1, 6, 12):
        world.ct.clock.advance(timedelta(hours=hours))
        result = world.run()
        assert result.netsuite_writes == [], result.netsuite_writes
        assert not result.failures, result.failures
    assert len(downloads) == 1
