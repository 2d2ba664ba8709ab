"""`ctns plan` must say what the run will do for a same-day correction under a date-only stamp (d3201ec).

Fixed since, found by a second review (2026-12-02) of `d3201ec`; failed before the fix (`ctns plan` carries `judged_by_worker`)."""

from __future__ import annotations

import pytest

from tests.e2e.test_expense_export_review import World, lines  # noqa: F401
from tests.e2e.test_expense_export_third_review import plan_steps

pytestmark = pytest.mark.e2e


def test_plan_of_a_date_only_correction_that_keeps_the_totals_agrees_with_the_run(world):
    sheet, item, _ = world.exported_item("2026-11-23")
    (before,) = lines(world.report(sheet))

    # moved to another project and approved again the same day: every total the listing shows stays
    world.approved_again(sheet, lambda: world.ct.edit_expense_item(item, JobID=world.job2), "2026-11-23")

    steps = plan_steps(world)
    result = world.run()
    (after,) = lines(world.report(sheet))
    assert after.get("customer") != before.get("customer"), "precondition: the run updates the report"

    step = steps.get(sheet)
    assert step is not None and step.action == "update", (
        f"ctns plan says {(step.action, step.detail) if step else 'nothing (unchanged)'} for expense sheet {sheet}; "
        f"the run: {result.counts('expenses')}"
    )
