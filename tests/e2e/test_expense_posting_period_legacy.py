"""A report exported by a version that did not keep the posting period on the sheet's mapping (before 2026-12-02):
once its own period closes, under `accounting.on_closed_period = next_open_period`, the plan placed it in the next
open period, so the reconciliation reported a difference and an unchanged re-approval was flagged for a report that
is right. Such a mapping's period is now taken from the report NetSuite holds (the period it was posted to)."""

from __future__ import annotations

import pytest

from ctsync.records.expense_lines import KIND, POSTED_TO
from tests.e2e.test_expense_export_review import World  # noqa: F401 - the module's world (world_factory)
from tests.e2e.test_expense_export_third_review import plan_steps
from tests.e2e.test_expense_posting_period_own import own_period_report

pytestmark = pytest.mark.e2e


def legacy(world, sheet: str) -> None:
    """The sheet's mapping as the version before left it: no posting period kept."""
    mappings = world.session.mappings
    mapping = mappings.get(KIND, sheet)
    assert mapping is not None and POSTED_TO in mapping.details
    details = {k: v for k, v in mapping.details.items() if k != POSTED_TO}
    mappings.put(mapping.model_copy(update={"details": details}))


def test_a_report_exported_before_the_period_was_kept_reconciles_after_its_period_closes(world_factory):
    world, sheet, report = own_period_report(world_factory)
    legacy(world, sheet)

    recon = world.reconcile()

    assert recon.ok, (
        f"report {report['id']} (posted to October before this version, unchanged) once October closes: "
        f"{[d for c in recon.checks for d in c.differences]}"
    )


def test_an_unchanged_reapproval_of_a_report_exported_before_the_period_was_kept_is_not_flagged(world_factory):
    world, sheet, report = own_period_report(world_factory)
    legacy(world, sheet)
    world.reapprove(sheet)

    step = plan_steps(world)[sheet]
    world.run()

    assert world.report(sheet)["postingPeriod"]["id"] == report["postingPeriod"]["id"]
    assert world.causes() == [], f"an unchanged approval is flagged: {[c.reason for c in world.causes()]}"
    assert step.action == "unchanged", f"ctns plan says {step.action!r} ({step.detail})"
    assert world.reconcile().ok
