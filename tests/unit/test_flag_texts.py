"""The text of a record's flags of one cause (`records.blocking.flagged`): every flag named while the text stays
within what a cause keeps, then how many more (the money review, 2026-12-03 evening)."""

from __future__ import annotations

from ctsync.records.blocking import flagged
from ctsync.state.runlog import REASON_LIMIT


def test_every_flag_is_named_after_the_record_once() -> None:
    assert flagged("timesheet 7", ["bill 1 frozen", "bill 2 frozen"]) == "timesheet 7: bill 1 frozen; bill 2 frozen"
    assert flagged("timesheet 7", ["bill 1 frozen"]) == "timesheet 7: bill 1 frozen"


def test_flags_past_the_limit_are_counted_not_cut() -> None:
    texts = [f"time bill {n} (entry e-{n}) is in closed period Nov 2026: not changed" for n in range(100)]

    text = flagged("timesheet 7", texts)

    assert len(text) <= REASON_LIMIT
    shown = text.count("time bill ")
    assert 1 < shown < 100 and text.endswith(f"; and {100 - shown} more")
    assert all(f"time bill {n} " in text for n in range(shown))
