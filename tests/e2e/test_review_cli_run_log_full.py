"""`ctns run --logs FILE` whose FILE cannot take the functions' lines once the run is under way (a full disk): the
run happens (records are written to both systems, dead letters queued), then the command ends in one line about
the log, exit 2 (documented as "a usage or configuration mistake", and README says a bad `--logs` file is "refused
before the command starts"). The run's results table and its failures are never printed: the person believes
nothing ran, and does not learn what the run wrote or which records failed. The demo was fixed for exactly this
("prints its results before it writes its report"); `ctns run` was not (review-cli, 2026-12-04).

Cause: `ctns/commands/common.py:function_output` raises the log's OSError as its `with` block ends, and
`ctns/commands/run.py:_run_local_stack` (and `_run_simulated`, `_run_configured`) call `_report` only after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_support import ctns, start_local_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Any, monkeypatch: Any) -> Any:
    stack = start_local_stack(tmp_path, monkeypatch, with_failures=True)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_run_whose_log_fills_the_disk_still_prints_what_it_did(served, capsys):
    result = ctns(capsys, "run", "projects", "--logs", "/dev/full")

    assert result.problems[-1:] == ["ctns: /dev/full: No space left on device (the functions' log)"], result.err
    # The run did happen: the seeded project without a customer is now a dead letter on the local stack.
    assert "pass  sync" in result.out, f"the run's results were not printed; stdout was {result.out!r}"
    assert "project-without-customer" in result.out or "has no customer" in result.out, result.out
