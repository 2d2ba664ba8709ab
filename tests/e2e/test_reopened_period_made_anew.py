"""Review of 2026-12-04's "a posting out of a closed period is kept while its date's period is the same, even once
that period is reopened" (`ExpenseExport._dates`). A report NetSuite no longer holds (a person deleted it) is made
anew "as a first export is" (README; `ExpenseExport._planned`, and a time bill made anew: `TimeExport._date`). Once
October is reopened, a first export of an October sheet goes to October. But the deleted report's mapping still
keeps "posted to November", the plan keeps it there (the period being open, `_planned` does not plan it as a first
export), and the report is made anew in November with a memo saying "period Oct 2026 is closed", which it is not.

Fixed (2026-12-04; the test failed before): README, "second finance review", the review of its diff.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401
from tests.e2e.test_reopened_period_keeps_posting import OCTOBER_DAY, exported_into_november, period_name

pytestmark = pytest.mark.e2e


def test_a_report_deleted_in_netsuite_is_made_anew_in_its_reopened_month(world_factory):
    world, sheet, item, report = exported_into_november(world_factory)
    world.ns.reopen_period(OCTOBER_DAY)
    world.ns.records.delete("expenseReport", report["id"])  # a person deletes it in NetSuite
    world.approved_again(sheet, lambda: world.item(sheet, "12.00", day=OCTOBER_DAY))

    result = world.run()

    now = world.report(sheet)
    assert now is not None and now["id"] != report["id"], world.said(result)
    assert period_name(world, now) == "Oct 2026", (
        f"report {now['id']}, made anew for a sheet dated {OCTOBER_DAY} while October is open, was posted to "
        f"{period_name(world, now)} with memo {now.get('memo')!r}"
    )
    said = world.said(result)
    assert "which is open again: made anew in that period" in said and "on_closed_period" not in said, said
    assert "is closed" not in (now.get("memo") or ""), now.get("memo")
