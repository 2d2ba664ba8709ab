"""The five hand-made mutants of issue 11, each applied alone to a copy of the core and run against the tests
that must kill it: `make mutate` runs this after mutmut (`.venv/bin/python scripts/named_mutants.py` alone).

mutmut's operators change one token at a time; these mutants are whole changes of meaning (a different clock,
a missing argument), so they are written out here. Each must make its tests fail (pytest exit code 1, not a
collection error); the script exits non-zero if one survives or no longer applies to the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "layers" / "core"


@dataclass(frozen=True)
class Named:
    title: str
    path: str  # under layers/core
    old: str  # must occur exactly once
    new: str
    tests: tuple[str, ...]  # pytest node ids that must fail


POLLER = "ctsync/sync/poller.py"
# Our clock, callable from a module that does not import it (so the mutant fails by its value, not a NameError).
OUR_CLOCK = "__import__('ctsync.timeutil', fromlist=['utc_now']).utc_now()"
POLLER_TESTS = "tests/integration/test_poller.py"

MUTANTS = (
    Named(
        "the window's overlap removed (start = watermark)",
        POLLER,
        "else mark - timedelta(minutes=self._windows.overlap_minutes)",
        "else mark",
        (
            f"{POLLER_TESTS}::test_each_phase_starts_at_its_own_watermark_minus_the_overlap",
            f"{POLLER_TESTS}::test_a_change_made_during_the_last_run_is_read_again",
        ),
    ),
    Named(
        "the source's start margin ignored (a zone sample from another season reads windows late)",
        POLLER,
        "starts[phase] = start - start_margin(self._source, start)",
        "starts[phase] = start",
        (
            f"{POLLER_TESTS}::"
            "test_a_source_that_cannot_prove_its_zone_for_the_season_has_its_windows_start_earlier_and_kept",
        ),
    ),
    Named(
        "the watermark from our clock: the poller's window end is utc_now(), not the source's",
        POLLER,
        "end = self._source.window_end()",
        "end = utc_now()",
        (f"{POLLER_TESTS}::test_a_first_run_reads_from_the_first_run_start_to_the_sources_now_and_sets_the_watermark",),
    ),
    Named(
        "the watermark from our clock: NetSuite's change source ends its window at utc_now(), not server_time()",
        "ctsync/records/netsuite_source.py",
        "end = self._client.server_time()",
        f"end = {OUR_CLOCK}",
        ("tests/unit/test_source_clocks.py::test_the_window_ends_at_netsuites_clock_not_ours",),
    ),
    Named(
        "the watermark from our clock: ClickTime's sheet source ends its window at utc_now(), not server_time()",
        "ctsync/records/clicktime_source.py",
        "return self._clicktime.server_time() - self._skew",
        f"return {OUR_CLOCK} - self._skew",
        ("tests/unit/test_source_clocks.py::test_the_sheet_window_ends_at_clicktimes_clock_less_the_skew",),
    ),
    Named(
        "the poller's lease shortened to one second",
        POLLER,
        "self._sync, token, self._windows.lease_seconds, handed_over_by=request.lease_token",
        "self._sync, token, 1, handed_over_by=request.lease_token",
        (
            f"{POLLER_TESTS}::test_the_lease_is_taken_for_the_configured_time",
            f"{POLLER_TESTS}::test_a_second_run_of_the_sync_is_skipped_while_the_first_is_reading",
        ),
    ),
    Named(
        "retire() not moving the version fence",
        "ctsync/records/targets.py",
        'update={"deleted": True, "source_version": version, "content_hash": "", "details": kept}',
        'update={"deleted": True, "content_hash": "", "details": kept}',
        ("tests/integration/test_targets.py::test_retire_deactivates_once_and_moves_the_fence",),
    ),
    Named(
        "a poller that raises keeps its lease",
        POLLER,
        "            self._progress.release_lease(self._sync, token)\n            raise\n",
        "            raise\n",
        (
            f"{POLLER_TESTS}::test_a_run_that_raises_releases_its_lease_and_keeps_its_cursor",
            f"{POLLER_TESTS}::test_a_run_that_dies_while_opening_its_window_releases_the_lease",
        ),
    ),
)


def pytest(tests: list[str] | tuple[str, ...], core: Path) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(core), str(ROOT)]), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def fresh_copy(work: Path) -> Path:
    copy = work / "core"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(CORE / "ctsync", copy / "ctsync", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def check(mutant: Named, work: Path) -> tuple[bool, str]:
    """Apply one mutant to a fresh copy of the core and run its tests, one test at a time: each must fail."""
    copy = fresh_copy(work)
    target = copy / mutant.path
    text = target.read_text()
    if text.count(mutant.old) != 1:
        return False, f"does not apply: {mutant.old!r} occurs {text.count(mutant.old)} times in {mutant.path}"
    target.write_text(text.replace(mutant.old, mutant.new))
    outcomes = [(test, pytest([test], copy)) for test in mutant.tests]
    survived = [t for t, code in outcomes if code != 1]
    if survived:
        return False, "not killed by " + ", ".join(f"{t} (pytest exit {c})" for t, c in outcomes if c != 1)
    return True, "killed by " + ", ".join(t.rpartition("::")[2] for t, _ in outcomes)


def main() -> int:
    failed = 0
    with tempfile.TemporaryDirectory(prefix="named-mutants-") as work:
        # The killing tests pass on the code as it is: a mutant is killed by its meaning, not a broken test.
        every = sorted({test for mutant in MUTANTS for test in mutant.tests})
        code = pytest(every, fresh_copy(Path(work)))
        if code != 0:
            print(f"named mutants: the killing tests fail on the unmutated code (pytest exit {code})")
            return 1
        for mutant in MUTANTS:
            killed, detail = check(mutant, Path(work))
            failed += not killed
            print(f"{'KILLED  ' if killed else 'SURVIVED'} {mutant.title}\n         {detail}", flush=True)
    print(f"\nnamed mutants: {len(MUTANTS) - failed} of {len(MUTANTS)} killed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
