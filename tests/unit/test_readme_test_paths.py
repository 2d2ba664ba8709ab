"""Review of 2026-12-04: README's "Fixed" entries for the non-billable task and the reconciliation of job fields name
the tests that pin them (`tests/e2e/test_review_daily_billable_by_job.py`,
`tests/e2e/test_review_daily_reconcile_job_fields.py`), but those tests were renamed by the merges of the day
(f22e9bb, 47207b3: `test_time_export_non_billable_task_by_job.py`, `test_reconcile_job_fields_by_hand.py`). A reader
following the README to the test that proves a fix finds nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_file_the_readme_names_exists():
    named = sorted(set(re.findall(r"tests/[\w/]+\.py", (ROOT / "README.md").read_text(encoding="utf-8"))))
    missing = [path for path in named if not (ROOT / path).exists()]
    assert missing == [], f"README names test files that do not exist: {missing}"
