"""A backfill of a sync that never ran writes one watermark for every phase (phase-less); the sync's runs then keep
their own per phase and never move that one. It was left standing: `ctns status` showed its old date as the
sync's watermark, and every later backfill after that date was refused as moving the watermark "forward". Found by
the review of 2026-12-03's changes; failed before the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctns.target import open_target
from ctsync.timeutil import format_instant, utc_now
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(small_stack):
    return small_stack


def test_a_first_backfills_watermark_does_not_outlive_the_runs_own(stack, capsys):
    assert ctns(capsys, "backfill", "projects", "--since", "2026-11-01").code == 0  # the sync had never run
    assert ctns(capsys, "run", "projects").code == 0
    yesterday = format_instant(utc_now() - timedelta(days=1))

    status = ctns(capsys, "status", "--json").json
    again = ctns(capsys, "backfill", "projects", "--since", yesterday)

    [row] = [r for r in status["syncs"] if r["sync"] == "projects"]
    assert not row["watermark"].startswith("2026-11-01"), row["watermarks"]
    assert again.code == 0, again.err
    with open_target(None) as target:
        marks = target.progress.watermarks("projects")
    assert set(marks) == {"*", "adopt", "changes", "deletions"}  # each phase has its own; the first one is left over
