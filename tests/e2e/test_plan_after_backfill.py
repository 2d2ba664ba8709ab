"""Review of 2026-12-04, day 2: `ctns plan` after a watermark set back (a test that failed before its fix), on the
non-billable task's world (`tests.e2e.test_time_export_non_billable_task.World`)."""

from __future__ import annotations

import pytest

from tests.e2e.test_time_export_non_billable_task import World  # noqa: F401  (the module's World, for `world`)
from tests.e2e.test_time_export_review import WEEK

pytestmark = pytest.mark.e2e


def test_plan_after_a_watermark_set_back_says_what_the_backfill_run_will_write(world_factory):
    """`ctns reset-watermark time --to DAY` (or a backfill's watermark) makes the next run plan every timesheet it
    reads again (`Cursor.reread`, `SyncDefinition.replans_on_reread`), and it writes a NetSuite task's non-billable flag
    changed since the export. `ctns plan` opened its window from the same watermark but judged each sheet by its
    fingerprint alone: it said nothing would change for a sheet the run then updated."""
    from ctns.plan import plan_sync
    from ctsync.state import ProgressStore
    from tests.e2e.test_frozen_then_released import BEFORE_EVERYTHING
    from tests.e2e.test_time_export_non_billable_backfill import BILLS_BY_JOB

    world = world_factory({"accounting": {"tasks_not_from_netsuite": "project_only"}}, clicktime_settings=BILLS_BY_JOB)
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "3")
    world.approve(sheet)
    world.run()
    world.set_non_billable(world.task)
    ProgressStore(world.session.state_table).reset_watermarks(world.sync, BEFORE_EVERYTHING)

    runtime = world.session.runtime()
    steps = {step.source_id: step for step in plan_sync("time", runtime, runtime.config).steps}
    result = world.run()

    assert world.bill(entry)["isBillable"] is False, result.counts("time")  # what the run does
    assert sheet in steps and steps[sheet].action == "update", (steps.get(sheet), result.counts("time"))
