"""Review of 279d2bc: a real approval at exactly 00:00:00Z on a tenant whose stamps are instants (`Z`, to the second)
reads as "a day as its midnight" (`timeutil.same_all_day`).

Found by a fourth review (2026-12-02); failed before the fix (no stored receipt is downloaded again)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401
from tests.e2e.test_expense_receipt_key import count_downloads
from tests.e2e.test_expense_receipt_same_day_recheck import PDF, linked_shas

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("second", [0, 1], ids=["approved-00:00:00Z", "control-00:00:01Z"])
def test_a_timestamped_approval_at_midnight_is_not_re_downloaded_nor_unlinked_by_later_runs(world, monkeypatch, second):
    downloads = count_downloads(monkeypatch, world)
    world.ct.clock.advance(timedelta(hours=21))  # 2026-11-23T23:00Z
    world.run()
    sheet = world.sheet()
    item = world.item(sheet, "42.50", receipt=PDF, receipt_type="application/pdf")
    world.act(sheet, "Submit")
    world.ct.clock.advance(datetime(2026, 11, 24, 0, 0, second, tzinfo=UTC) - world.ct.clock())
    world.act(sheet, "Approve")
    stamp = world.ct.store.expense_sheets[sheet]["ApprovedDate"]
    assert stamp.startswith("2026-11-24T00:00:0") and stamp.endswith("Z"), stamp
    world.ct.clock.advance(timedelta(minutes=30))
    world.run()
    assert linked_shas(world, sheet) == [hashlib.sha256(PDF).hexdigest()]

    world.ct.fail_receipt(item, 404)  # a glitch of ClickTime's receipt host during the next run
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    world.ct.heal_receipt(item)
    for hours in (2, 6):
        world.ct.clock.advance(timedelta(hours=hours))
        world.run()

    assert linked_shas(world, sheet) == [hashlib.sha256(PDF).hexdigest()] and len(downloads) == 1, (
        f"expense sheet {sheet} approved at {stamp} (a timestamped tenant), exported with its receipt, unchanged "
        f"since: later runs downloaded the receipt {len(downloads) - 1} more time(s) and its report line now links "
        f"{linked_shas(world, sheet)}"
    )
