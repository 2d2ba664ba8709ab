"""Review of 7224c28: `ctns plan` passes `judged_by_worker`, so every date-only approval of the window goes to the
expense export's `verdict`, which must then agree with the run.

Found by a third review (2026-12-02); failed before the fix (`ExpenseExport.verdict` counts a receipt refused for
this approval as done)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401
from tests.e2e.test_expense_export_third_review import plan_steps
from tests.e2e.test_expense_receipt_key import TOO_LARGE

pytestmark = pytest.mark.e2e


def test_plan_of_an_unchanged_date_only_approval_with_a_refused_receipt_agrees_with_the_run(world):
    sheet, _, first = world.exported_item("2026-11-23", receipt=TOO_LARGE, receipt_type="image/png")
    assert world.report(sheet) is not None
    assert any("bytes" in f["reason"] for f in first.failures), first.failures

    world.ct.clock.advance(timedelta(hours=1))  # the next run, same day: nothing changed in ClickTime
    steps = plan_steps(world)
    result = world.run()
    assert result.counts("expenses")["unchanged"] == 1 and result.netsuite_writes == [], result.syncs["expenses"]

    step = steps.get(sheet)
    assert step is None or step.action == "unchanged", (
        f"ctns plan says {(step.action, step.detail)} for expense sheet {sheet} (approved 2026-11-23, unchanged, its "
        f"receipt refused for this approval); the run: {result.counts('expenses')}"
    )
