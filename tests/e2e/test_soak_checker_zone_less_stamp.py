"""The soak checker's first-window judgement (`invariants._outside_windows`) against approval stamps without a zone.

The product reads a sheet whose `ApprovedDate` has no zone (or is a date alone) as late as that stamp can stand for
(`timeutil.latest_instant_of`: up to 12 h after its UTC reading, a day to its end anywhere) when it compares it with a
window's start, so that such an approval is never left out. The checker read the same stamp as its UTC reading (a
naive datetime for a zone-less one): a sheet the first window DID read, of which nothing reached NetSuite and no
failure was recorded, was judged "outside the windows read" (a date alone: a loss hidden) or the check crashed
comparing a naive with an aware instant (so did its watermark check, "would never be read again"). The checker now
judges by the latest instant too: outside only what no window can have read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.e2e import invariants

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # ClickTime's clock when the first time run began
DAYS, SKEW = 35, 60
WINDOW = START - timedelta(days=DAYS, seconds=SKEW + 1)  # the checker's first window start


def _session(stamps: dict[str, str]) -> SimpleNamespace:
    clicktime = SimpleNamespace(
        timesheets=lambda: [{"ID": sid, "ApprovedDate": stamp, "Status": "Approved"} for sid, stamp in stamps.items()],
        entries_of=lambda sid: [{"ID": f"E{sid}"}],
    )
    netsuite = SimpleNamespace(records=SimpleNamespace(all=lambda record: []))  # nothing of them in NetSuite
    config = SimpleNamespace(
        windows=SimpleNamespace(for_sync=lambda sync: SimpleNamespace(first_run_days=DAYS)),
        clicktime=SimpleNamespace(clock_skew_seconds=SKEW),
    )
    session = SimpleNamespace(
        simulators=SimpleNamespace(clicktime=clicktime, netsuite=netsuite),
        runtime=lambda: SimpleNamespace(config=config),
    )
    vars(session)[invariants.FIRST_RUNS] = {"time": START}
    return session


@pytest.mark.parametrize(
    "stamp",
    [
        (WINDOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"),  # no zone: may be up to 12 h later in UTC
        (WINDOW - timedelta(hours=3)).strftime("%Y-%m-%d"),  # a date alone: any time of that day, anywhere
    ],
)
def test_a_zone_less_stamp_the_first_window_may_have_read_is_not_outside(stamp: str) -> None:
    session = _session({"T1": stamp})
    assert invariants._outside_windows(session, "time", {"T1": "missing"}, {}) == {}


def test_a_stamp_no_reading_puts_inside_the_first_window_is_outside() -> None:
    early = WINDOW - timedelta(days=2)
    stamps = {
        "T1": early.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "T2": early.strftime("%Y-%m-%dT%H:%M:%S"),
        "T3": early.strftime("%Y-%m-%d"),
        "T4": (WINDOW - timedelta(seconds=1)).isoformat(),  # with its zone: the instant itself
    }
    outside = invariants._outside_windows(_session(stamps), "time", dict.fromkeys(stamps, "missing"), {})
    assert sorted(outside) == ["T1", "T2", "T3", "T4"]
    assert "outside the windows read" in outside["T2"]


def _watermarked(stamps: dict[str, str], mark: datetime) -> SimpleNamespace:
    session = _session(stamps)
    runtime = session.runtime()
    runtime.progress = SimpleNamespace(watermarks=lambda sync: {"approved": mark})
    runtime.config.windows = SimpleNamespace(for_sync=lambda sync: SimpleNamespace(overlap_minutes=0))
    session.runtime = lambda: runtime
    session.simulators.clicktime.clock = lambda: mark + timedelta(hours=1)
    session.runlog = SimpleNamespace(causes=lambda sync: [])
    session.runner = SimpleNamespace(dead_letters=lambda sync: [])
    return session


def test_the_watermark_check_reads_a_zone_less_stamp_as_the_next_window_does() -> None:
    # The same judgement in `_watermark` ("would never be read again"): the next run reads a sheet whose stamp can
    # stand for an instant at or after its start; a zone-less stamp had crashed the check (naive against aware)
    mark = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    stamps = {
        "T1": (mark - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"),  # read again: up to 12 h later
        "T2": (mark - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),  # not: the instant itself
        "T3": (mark - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S"),  # not: 12 h later is still before
    }
    problems = invariants._watermark(_watermarked(stamps, mark), "time", dict.fromkeys(stamps, "missing"))
    assert sorted(p.split()[1] for p in problems) == ["T2", "T3"], problems
