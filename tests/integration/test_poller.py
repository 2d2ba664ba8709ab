"""The poller (ctsync.sync.poller) against the real stores on moto, with a scripted change source and a queue
that records what it is sent.

What is shown: each phase's window starts at its own watermark minus the overlap (a first run at the first-run
start), ends at the source's clock, and moves the watermark there only once the phase is read in full; a failed
phase is one cause and keeps its watermark (a failed adoption holds back the rest of the run); unchanged records
and skip markers stay out of the queue, existing targets are adopted; the cursor is saved after every batch, so a
run that dies or hands over resumes where it stood; one run at a time per sync (the lease, held for the whole
configured time and released when a run ends or raises).

Our clock (the stores' `utc_now`) is a fake far from the source's clock, so nothing depends on the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ctsync.config import WindowSettings
from ctsync.errors import NeedsAttention
from ctsync.state import Cursor, MappingStore, ProgressStore, RunLog
from ctsync.state.mappings import Mapping
from ctsync.sync import poller as poller_module
from ctsync.sync.definition import ADOPT, ChangeBatch, SyncDefinition, Window
from ctsync.sync.messages import Change, PollRequest, WorkMessage
from ctsync.sync.poller import Poller
from tests.integration.conftest import dynamodb_calls

SYNC = "projects"
KIND = "project"
# The source's clock: a day behind ours (the fake clock of the stores starts at conftest.T0, 2026-11-25 17:00).
SOURCE_NOW = datetime(2026, 11, 24, 12, 30, 0, tzinfo=UTC)
WINDOWS = WindowSettings(overlap_minutes=45, first_run_days=30, lease_seconds=900, stop_margin_seconds=60)
PLENTY_MS = 10 * 60 * 1000
V1 = datetime(2026, 11, 24, 11, 0, 0, tzinfo=UTC)


def change(source_id: str, *, op: str = "upsert", fingerprint: str = "", **snapshot: Any) -> Change:
    return Change(
        source_id=source_id, version=V1, op=op, snapshot={"id": source_id, **snapshot}, fingerprint=fingerprint
    )  # type: ignore[arg-type]


class ScriptedSource:
    """A change source whose phases yield scripted batches; a phase may fail (NeedsAttention, or anything) at
    a given batch, and `during` runs a hook while a batch is being read (another invocation starting, say)."""

    def __init__(self, phases: tuple[str, ...] = ("changes",), end: datetime = SOURCE_NOW) -> None:
        self.phases = phases
        self.end = end
        self.batches: dict[str, list[ChangeBatch]] = {p: [] for p in phases}
        self.fail: dict[str, tuple[int, BaseException]] = {}  # phase -> (before batch number, error)
        self.reads: list[tuple[str, Window, str | None]] = []
        self.during: Callable[[str, int], None] | None = None

    def window_end(self) -> datetime:
        return self.end

    def read(self, phase: str, window: Window, after: str | None) -> Iterator[ChangeBatch]:
        self.reads.append((phase, window, after))
        keys = [b.last_key for b in self.batches[phase]]
        start = keys.index(after) + 1 if after in keys else 0
        for number, batch in enumerate(self.batches[phase][start:], start=start):
            if phase in self.fail and self.fail[phase][0] == number:
                raise self.fail[phase][1]
            if self.during:
                self.during(phase, number)
            yield batch
        if phase in self.fail and self.fail[phase][0] >= len(self.batches[phase]):
            raise self.fail[phase][1]


class RecordingQueue:
    """The work queue's send, recorded (the SQS side is tested in test_queues)."""

    def __init__(self) -> None:
        self.sent: list[WorkMessage] = []
        self.calls = 0

    def send(self, messages: Iterable[WorkMessage]) -> int:
        self.calls += 1
        batch = list(messages)
        self.sent.extend(batch)
        return len(batch)


class NoApplier:
    def apply(self, message: WorkMessage) -> Any:  # the poller never applies
        raise AssertionError("the poller must not apply messages")


class Harness:
    def __init__(self, table: Any, source: ScriptedSource, windows: WindowSettings = WINDOWS, **definition: Any):
        self.table = table
        self.source = source
        self.progress = ProgressStore(table)
        self.runlog = RunLog(table)
        self.mappings = MappingStore(table)
        self.queue = RecordingQueue()
        self.continued: list[PollRequest] = []
        self.windows = windows
        self.definition = SyncDefinition(name=SYNC, mapping_kind=KIND, source=source, applier=NoApplier(), **definition)

    def poller(self) -> Poller:
        return Poller(
            self.definition,
            self.progress,
            self.runlog,
            self.mappings,
            self.queue,  # type: ignore[arg-type]
            self.windows,
            self.continued.append,
        )

    def run(self, request: PollRequest | None = None, remaining_ms: Callable[[], int] = lambda: PLENTY_MS):
        return self.poller().run(request or PollRequest(sync=SYNC), remaining_ms)

    def lease(self) -> dict[str, Any] | None:
        return self.table.get_item(Key={"pk": f"SYNC#{SYNC}", "sk": "LEASE"}).get("Item")


@pytest.fixture
def metrics(monkeypatch) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    monkeypatch.setattr(poller_module, "count", lambda name, value=1: seen.append((name, value)))
    return seen


@pytest.fixture
def ours(clock, monkeypatch):
    """Our clock, as the poller and the stores read it."""
    monkeypatch.setattr(poller_module, "utc_now", clock)
    return clock


# -- windows and watermarks ---------------------------------------------------------------------------------
def test_a_first_run_reads_from_the_first_run_start_to_the_sources_now_and_sets_the_watermark(table, ours, metrics):
    source = ScriptedSource(("changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1"), change("2")], "2")]
    source.batches["deletions"] = [ChangeBatch([change("9", op="delete")], "9")]
    h = Harness(table, source)

    result = h.run()

    first_start = SOURCE_NOW - timedelta(days=30)
    assert [(p, w, a) for p, w, a in source.reads] == [
        ("changes", Window(start=first_start, end=SOURCE_NOW, first_run=True), None),
        ("deletions", Window(start=first_start, end=SOURCE_NOW, first_run=True), None),
    ]
    # The watermark is the source's clock when the run started, never ours (a day apart here).
    assert h.progress.watermarks(SYNC) == {"changes": SOURCE_NOW, "deletions": SOURCE_NOW}
    # Each watermark keeps the run that moved it and when (for a person reading the table).
    mark = table.get_item(Key={"pk": f"SYNC#{SYNC}", "sk": "WATERMARK#changes"})["Item"]
    assert mark["run_id"] == result.run_id and mark["set_at"] == "2026-11-25T17:00:00Z"
    assert result.status == "enqueued"
    assert (result.enqueued, result.unchanged, result.adopted, result.reason) == (3, 0, 0, "")
    # The run ID: the sync, our clock when the run opened, and six hex digits (it names the run in every log line).
    assert (
        result.sync == SYNC and result.run_id and re.fullmatch(rf"{SYNC}-20261125T170000Z-[0-9a-f]{{6}}", result.run_id)
    )
    assert [(m.sync, m.run_id, m.source_id, m.op, m.version) for m in h.queue.sent] == [
        (SYNC, result.run_id, "1", "upsert", V1),
        (SYNC, result.run_id, "2", "upsert", V1),
        (SYNC, result.run_id, "9", "delete", V1),
    ]
    assert h.queue.sent[0].snapshot == {"id": "1"}
    summary = h.runlog.summary(result.run_id)
    assert summary is not None
    assert (summary.sync, summary.status, summary.enqueued, summary.started_at) == (SYNC, "enqueued", 3, ours.now)
    assert summary.finished_at == ours.now
    assert summary.counts["unchanged"] == 0
    assert h.progress.cursor(SYNC) is None
    assert h.lease() is None  # released: the next run is not blocked
    assert h.runlog.runs(SYNC) == [result.run_id]
    assert ("Enqueued", 2) in metrics and ("Enqueued", 1) in metrics and ("RunCompleted", 1) in metrics


def test_each_phase_starts_at_its_own_watermark_minus_the_overlap(table, ours):
    source = ScriptedSource(("changes", "deletions", "closed"))
    h = Harness(table, source)
    changes_mark = SOURCE_NOW - timedelta(hours=2)
    deletions_mark = SOURCE_NOW - timedelta(hours=5)
    h.progress.advance_watermark(SYNC, "changes", changes_mark, "earlier")
    h.progress.advance_watermark(SYNC, "deletions", deletions_mark, "earlier")

    h.run()

    windows = {phase: window for phase, window, _ in source.reads}
    assert windows["changes"] == Window(start=changes_mark - timedelta(minutes=45), end=SOURCE_NOW, first_run=False)
    assert windows["deletions"] == Window(start=deletions_mark - timedelta(minutes=45), end=SOURCE_NOW, first_run=False)
    # A phase new since the last run has no watermark: it reads from the first-run start, as onboarding.
    assert windows["closed"] == Window(start=SOURCE_NOW - timedelta(days=30), end=SOURCE_NOW, first_run=True)
    assert h.progress.watermarks(SYNC) == {p: SOURCE_NOW for p in source.phases}


class WideningSource(ScriptedSource):
    """A source whose zone comparison could not prove its zone for this season (`records.netsuite_zone`): it asks
    every window to start `margin` earlier, once it has opened one (`window_end`)."""

    def __init__(self, phases: tuple[str, ...], margin: timedelta) -> None:
        super().__init__(phases)
        self.margin = margin
        self.asked: list[datetime] = []
        self.opened = False

    def window_end(self) -> datetime:
        self.opened = True
        return super().window_end()

    def start_margin(self, start: datetime) -> timedelta:
        self.asked.append(start)
        return self.margin if self.opened else timedelta(0)


def test_a_source_that_cannot_prove_its_zone_for_the_season_has_its_windows_start_earlier_and_kept(table, ours):
    """Phoenix configured, NetSuite writing Los Angeles, the only sample from July: in December the window's
    literal is read an hour late, so the window starts an hour (the source's margin) earlier than watermark less
    overlap; the start is in the cursor, so a continuation in a new invocation (a new source, which has asked
    nothing yet) reads its phases from it too (review, 2026-12-03)."""
    source = WideningSource(("changes", "deletions"), timedelta(hours=1))
    source.batches["changes"] = [ChangeBatch([change(str(i))], str(i)) for i in range(1, 4)]
    source.batches["deletions"] = [ChangeBatch([change("9", op="delete")], "9")]
    h = Harness(table, source)
    mark = SOURCE_NOW - timedelta(hours=2)
    h.progress.advance_watermark(SYNC, "changes", mark, "earlier")
    left = iter([PLENTY_MS, 1])

    h.run(remaining_ms=lambda: next(left))

    widened = mark - timedelta(minutes=45) - timedelta(hours=1)
    assert source.reads[0][1].start == widened
    assert mark - timedelta(minutes=45) in source.asked
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None and cursor.starts["changes"] == widened
    assert cursor.starts["deletions"] == SOURCE_NOW - timedelta(days=30, hours=1)  # first run: widened as well

    h.definition = replace(h.definition, source=(fresh := WideningSource(source.phases, timedelta(0))))
    fresh.batches = source.batches
    h.run(h.continued[0])

    assert [(p, w.start, a) for p, w, a in fresh.reads] == [
        ("changes", widened, "2"),
        ("deletions", SOURCE_NOW - timedelta(days=30, hours=1), None),
    ]
    assert fresh.asked == []  # a resumed run does not open a window


def test_a_watermark_written_without_a_phase_serves_every_phase(table, ours):
    source = ScriptedSource(("changes", "deletions"))
    h = Harness(table, source)
    legacy = SOURCE_NOW - timedelta(hours=3)
    table.put_item(Item={"pk": f"SYNC#{SYNC}", "sk": "WATERMARK", "value": "2026-11-24T09:30:00Z", "run_id": "old"})
    h.progress.advance_watermark(SYNC, "changes", SOURCE_NOW - timedelta(hours=1), "earlier")

    h.run()

    windows = {phase: window for phase, window, _ in source.reads}
    assert windows["changes"].start == SOURCE_NOW - timedelta(hours=1, minutes=45)
    assert windows["deletions"] == Window(start=legacy - timedelta(minutes=45), end=SOURCE_NOW, first_run=False)


def test_a_change_made_during_the_last_run_is_read_again(table, ours):
    """The overlap in action: a record stamped just before the last watermark falls in the next window."""
    source = ScriptedSource()
    h = Harness(table, source)
    h.run()
    late = SOURCE_NOW - timedelta(minutes=10)  # committed with an earlier timestamp, seen after the last read
    source.end = SOURCE_NOW + timedelta(hours=1)

    h.run()

    window = source.reads[-1][1]
    assert window.start <= late < window.end
    assert window.start == SOURCE_NOW - timedelta(minutes=45)


def test_a_failed_phase_is_one_cause_and_keeps_its_watermark_while_the_others_move(table, ours, metrics):
    source = ScriptedSource(("changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    source.batches["deletions"] = [ChangeBatch([change("8", op="delete")], "8")]
    source.fail["changes"] = (
        1,
        NeedsAttention("permission 'Lists > Projects' is missing", cause="permission:projects", fix="grant it"),
    )
    h = Harness(table, source)
    before = SOURCE_NOW - timedelta(hours=6)
    h.progress.advance_watermark(SYNC, "changes", before, "earlier")

    result = h.run()

    assert result.status == "partial"
    assert result.reason == "changes phase failed (permission:projects)"
    assert result.enqueued == 2  # what was read before the failure, and the other phase
    assert h.progress.watermarks(SYNC) == {"changes": before, "deletions": SOURCE_NOW}
    assert [(p, a) for p, _, a in source.reads] == [("changes", None), ("deletions", None)]
    (failure,) = h.runlog.failures(result.run_id)
    assert failure.sync == SYNC
    assert failure.source_id == "phase:changes"
    assert failure.kind == "NEEDS_ATTENTION"
    assert failure.reason == (
        "the changes phase of the projects sync could not be read: permission 'Lists > Projects' is missing"
    )
    assert (failure.cause_key, failure.fix) == ("permission:projects", "grant it")
    assert h.runlog.causes(SYNC)[0].key == "permission:projects"
    summary = h.runlog.summary(result.run_id)
    assert summary is not None and summary.status == "partial" and summary.finished_at == ours.now
    assert ("SystemicFailure", 1) in metrics
    assert h.lease() is None and h.progress.cursor(SYNC) is None


def test_a_failed_phase_is_recorded_in_the_cursor_and_resumed_runs_keep_it(table, ours):
    """A phase that failed before a hand-over stays failed in the continuation: its watermark does not move."""
    source = ScriptedSource(("changes", "deletions"))
    source.batches["deletions"] = [ChangeBatch([change("8", op="delete")], "8"), ChangeBatch([change("9")], "9")]
    source.fail["changes"] = (0, NeedsAttention("no permission", cause="permission:x"))
    h = Harness(table, source)

    first = h.run(remaining_ms=lambda: 1000)  # hands over after the first batch of deletions
    assert first.status == "continued"
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None
    assert cursor.failed_phases == {"changes": "permission:x"} and cursor.phase == "deletions"
    assert cursor.after == "8"

    second = h.run(h.continued[0])

    assert second.status == "partial" and second.reason == "changes phase failed (permission:x)"
    assert h.progress.watermarks(SYNC) == {"deletions": SOURCE_NOW}


def test_a_failed_adoption_holds_back_the_rest_of_the_run(table, ours):
    """Changes read without adoption could create twins of targets that already exist: nothing else is read."""
    source = ScriptedSource((ADOPT, "changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    source.fail[ADOPT] = (0, NeedsAttention("the custom field is missing", cause="field:custentity_ct"))
    h = Harness(table, source)

    result = h.run()

    assert [p for p, _, _ in source.reads] == [ADOPT]
    assert h.queue.sent == []
    assert h.progress.watermarks(SYNC) == {}
    assert result.status == "partial"
    assert result.reason == (
        "adopt phase failed (field:custentity_ct); changes phase failed (field:custentity_ct); "
        "deletions phase failed (field:custentity_ct)"
    )


def test_a_phase_failing_after_its_last_batch_still_keeps_its_watermark(table, ours):
    source = ScriptedSource(("changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1")], "1"), ChangeBatch([change("2")], "2")]
    source.fail["changes"] = (2, NeedsAttention("refused", cause="query-refused"))
    h = Harness(table, source)

    h.run()

    assert h.progress.watermarks(SYNC) == {"deletions": SOURCE_NOW}
    # The failure forgets the phase's resume key: a run that resumed there would not reread the phase.
    assert [(p, a) for p, _, a in source.reads] == [("changes", None), ("deletions", None)]


def test_a_failure_is_recorded_under_the_errors_own_code(table, ours):
    source = ScriptedSource(("changes",))
    source.fail["changes"] = (0, NeedsAttention("the role lacks SuiteQL", code="NS_PERMISSION", cause="perm:suiteql"))
    h = Harness(table, source)

    result = h.run()

    (failure,) = h.runlog.failures(result.run_id)
    assert (failure.kind, failure.cause_key) == ("NS_PERMISSION", "perm:suiteql")


def test_a_run_that_dies_after_a_phase_failed_resumes_that_phase_from_its_start_and_keeps_it_failed(table, ours):
    """The failure is in the saved cursor at once, the phase's resume key forgotten: a run that dies before it
    finishes (here: writing its end) leaves a cursor whose continuation neither skips part of the phase nor
    moves its watermark."""
    source = ScriptedSource(("changes",))
    source.batches["changes"] = [ChangeBatch([change("1")], "1"), ChangeBatch([change("2")], "2")]
    source.fail["changes"] = (1, NeedsAttention("refused", cause="query-refused"))
    h = Harness(table, source)

    def dies(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("DynamoDB went away")

    h.progress.end_run = dies  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        h.run()
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None
    assert (cursor.phase, cursor.after, cursor.failed_phases) == ("changes", None, {"changes": "query-refused"})
    del h.progress.end_run
    del source.fail["changes"]

    result = h.run()

    assert [(p, a) for p, _, a in source.reads] == [("changes", None), ("changes", None)]
    assert result.status == "partial" and result.reason == "changes phase failed (query-refused)"
    assert h.progress.watermarks(SYNC) == {}
    assert h.progress.cursor(SYNC) is None


# -- what is queued -----------------------------------------------------------------------------------------
def test_unchanged_records_and_skip_markers_are_not_queued(table, ours):
    source = ScriptedSource()
    source.batches["changes"] = [
        ChangeBatch(
            [
                change("same", fingerprint="fp-same"),
                change("edited", fingerprint="fp-new"),
                change("skipped", fingerprint="fp-skip"),
                change("skipped-edited", fingerprint="fp-skip-2"),
                change("no-fingerprint"),
                change("retired", fingerprint="fp-retired"),
                change("gone", op="delete", fingerprint="fp-gone"),
                change("new", fingerprint="fp-n"),
            ],
            "z",
        )
    ]
    h = Harness(table, source)
    h.mappings.put(Mapping(kind=KIND, source_id="same", target_id="t1", fingerprint="fp-same"))
    h.mappings.put(Mapping(kind=KIND, source_id="edited", target_id="t2", fingerprint="fp-old"))
    h.mappings.put(Mapping(kind=KIND, source_id="no-fingerprint", target_id="t3", fingerprint=""))
    h.mappings.put(Mapping(kind=KIND, source_id="retired", target_id="t4", fingerprint="fp-retired", deleted=True))
    h.mappings.put(Mapping(kind=KIND, source_id="gone", target_id="t5", fingerprint="fp-gone"))
    h.mappings.note_skipped(KIND, "skipped", "fp-skip")
    h.mappings.note_skipped(KIND, "skipped-edited", "fp-skip-1")
    h.mappings.note_skipped(KIND, "no-fingerprint", "")

    result = h.run()

    assert [m.source_id for m in h.queue.sent] == [
        "edited",
        "skipped-edited",
        "no-fingerprint",
        "retired",
        "gone",
        "new",
    ]
    assert [m.fingerprint for m in h.queue.sent][:2] == ["fp-new", "fp-skip-2"]
    assert (result.enqueued, result.unchanged) == (6, 2)
    summary = h.runlog.summary(result.run_id)
    assert summary is not None and summary.counts["unchanged"] == 2 and summary.enqueued == 6


def test_a_change_the_source_cannot_tell_apart_is_queued_whatever_its_fingerprint_and_says_so(table, ours):
    """An approval stamped with a date alone reads the same for every approval of its day (`Change.judged_by_worker`):
    queued though the mapping holds its fingerprint, and the message tells the worker to judge it too."""
    source = ScriptedSource()
    same = change("same-day", fingerprint="fp-same")
    judged = Change(same.source_id, same.version, snapshot=same.snapshot, fingerprint="fp-same", judged_by_worker=True)
    source.batches["changes"] = [ChangeBatch([judged, change("held", fingerprint="fp-held")], "z")]
    h = Harness(table, source)
    h.mappings.put(Mapping(kind=KIND, source_id="same-day", target_id="t1", fingerprint="fp-same"))
    h.mappings.put(Mapping(kind=KIND, source_id="held", target_id="t2", fingerprint="fp-held"))

    result = h.run()

    assert [(m.source_id, m.judged_by_worker) for m in h.queue.sent] == [("same-day", True)]
    assert (result.enqueued, result.unchanged) == (1, 1)


def test_a_skip_marker_without_a_fingerprint_never_matches(table, ours):
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("a")], "a")]
    h = Harness(table, source)
    table.put_item(
        Item={
            "pk": f"MAP#{KIND}#a",
            "sk": "MAP",
            "kind": KIND,
            "source_id": "a",
            "skipped_fingerprint": "x",
            "updated_at": "2026-11-24T00:00:00Z",
        }
    )  # a marker for another snapshot; this change has no fingerprint

    assert h.run().enqueued == 1


def test_the_definitions_own_rule_decides_what_is_unchanged(table, ours):
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("a", fingerprint="f"), change("b", fingerprint="f")], "b")]
    seen: list[tuple[str, str]] = []

    def unchanged(c: Change, m: Mapping) -> bool:
        seen.append((c.source_id, m.target_id))
        return c.source_id == "a"

    h = Harness(table, source, unchanged=unchanged)
    h.mappings.put(Mapping(kind=KIND, source_id="a", target_id="ta", fingerprint="other"))
    h.mappings.put(Mapping(kind=KIND, source_id="b", target_id="tb", fingerprint="f"))

    result = h.run()

    assert seen == [("a", "ta"), ("b", "tb")]
    assert [m.source_id for m in h.queue.sent] == ["b"]
    assert (result.enqueued, result.unchanged) == (1, 1)


def test_existing_targets_are_adopted_before_changes_and_never_queued(table, ours):
    source = ScriptedSource((ADOPT, "changes"))
    source.batches[ADOPT] = [
        ChangeBatch(
            [
                change("1", op="adopt", target_id="ct-1"),
                change("2", op="adopt", target_id="ct-2", kind="customer"),
                change("3", op="adopt", target_id="ct-other"),
            ],
            "3",
        )
    ]
    source.batches["changes"] = [ChangeBatch([change("1", fingerprint="f1")], "1")]
    h = Harness(table, source)
    h.mappings.put(Mapping(kind=KIND, source_id="3", target_id="ct-3"))

    result = h.run()

    assert result.adopted == 2
    mapping = h.mappings.get(KIND, "1")
    assert mapping is not None and mapping.target_id == "ct-1" and mapping.content_hash == ""
    customer = h.mappings.get("customer", "2")
    assert customer is not None and customer.target_id == "ct-2"
    assert h.mappings.get(KIND, "2") is None
    kept = h.mappings.get(KIND, "3")
    assert kept is not None and kept.target_id == "ct-3"
    # The adopted record's change is queued: its target is brought up to date, not created again.
    assert [m.source_id for m in h.queue.sent] == ["1"]
    assert result.enqueued == 1


# -- the cursor: resuming, handing over -----------------------------------------------------------------------
def test_near_the_time_limit_the_run_hands_over_and_the_continuation_resumes_after_the_last_batch(table, ours):
    source = ScriptedSource(("changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change(str(i))], str(i)) for i in range(1, 4)]
    source.batches["deletions"] = [ChangeBatch([change("9", op="delete")], "9")]
    h = Harness(table, source)
    left = iter([PLENTY_MS, 60_000, 59_999])  # at the margin is still enough; below it is not

    first = h.run(remaining_ms=lambda: next(left))

    assert first.status == "continued" and first.enqueued == 3
    assert first.run_id
    (request,) = h.continued
    assert request.sync == SYNC and request.lease_token
    assert h.lease() is not None and h.lease()["owner"] == request.lease_token  # the lease is handed over
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None and (cursor.phase, cursor.after, cursor.enqueued) == ("changes", "3", 3)
    summary = h.runlog.summary(first.run_id)
    assert summary is not None and summary.status == "continued" and summary.enqueued == 3
    assert summary.finished_at is None
    assert h.progress.watermarks(SYNC) == {}
    # A scheduled run arriving meanwhile does not join in.
    assert h.run().status == "skipped"

    second = h.run(request)

    assert second.status == "enqueued" and second.run_id == first.run_id and second.enqueued == 4
    assert [(p, a) for p, _, a in source.reads][-2:] == [("changes", "3"), ("deletions", None)]
    assert source.reads[-2][1] == source.reads[0][1]  # the same window
    assert [m.source_id for m in h.queue.sent] == ["1", "2", "3", "9"]
    assert h.progress.watermarks(SYNC) == {"changes": SOURCE_NOW, "deletions": SOURCE_NOW}
    assert h.progress.cursor(SYNC) is None and h.lease() is None


def test_handing_over_within_a_later_phase_keeps_that_phase(table, ours):
    source = ScriptedSource(("changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    source.batches["deletions"] = [ChangeBatch([change("8", op="delete")], "8"), ChangeBatch([change("9")], "9")]
    h = Harness(table, source)
    left = iter([PLENTY_MS, 1])

    h.run(remaining_ms=lambda: next(left))
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None and (cursor.phase, cursor.after) == ("deletions", "8")

    h.run(h.continued[0])

    assert [(p, a) for p, _, a in source.reads] == [("changes", None), ("deletions", None), ("deletions", "8")]
    assert [m.source_id for m in h.queue.sent] == ["1", "8", "9"]


def test_a_run_that_raises_releases_its_lease_and_keeps_its_cursor(table, ours):
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change(str(i))], str(i)) for i in range(1, 4)]
    source.fail["changes"] = (2, ConnectionError("NetSuite went away"))
    h = Harness(table, source)

    with pytest.raises(ConnectionError):
        h.run()

    assert h.lease() is None  # the sync is not blocked until the lease expires
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None and (cursor.after, cursor.enqueued) == ("2", 2)
    del source.fail["changes"]

    result = h.run()  # at once, on the same clock: not skipped

    assert result.status == "enqueued" and result.enqueued == 3
    assert source.reads[-1][2] == "2"
    assert [m.source_id for m in h.queue.sent] == ["1", "2", "3"]


def test_a_run_that_dies_while_opening_its_window_releases_the_lease(table, ours):
    source = ScriptedSource()
    h = Harness(table, source)

    def broken() -> datetime:
        raise TimeoutError("serverTime timed out")

    source.window_end = broken  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        h.run()
    assert h.lease() is None


def test_a_run_that_dies_at_the_start_of_a_phase_resumes_after_its_last_queued_batch(table, ours):
    """The cursor is saved when a batch queued work (not on a bare phase change): a run that dies as the next
    phase starts resumes after the last batch it queued, reads on from there and queues nothing twice."""
    source = ScriptedSource(("changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    source.batches["deletions"] = [ChangeBatch([change("9", op="delete")], "9")]
    source.fail["deletions"] = (0, ConnectionError("NetSuite went away"))
    h = Harness(table, source)

    with pytest.raises(ConnectionError):
        h.run()
    cursor = h.progress.cursor(SYNC)
    assert cursor is not None and (cursor.phase, cursor.after, cursor.enqueued) == ("changes", "1", 1)
    del source.fail["deletions"]

    h.run()

    assert [(p, a) for p, _, a in source.reads] == [
        ("changes", None),
        ("deletions", None),
        ("changes", "1"),
        ("deletions", None),
    ]
    assert [m.source_id for m in h.queue.sent] == ["1", "9"]


def test_batches_that_queue_nothing_do_not_save_the_cursor(table, ours):
    """An unchanged pass writes no cursor: only the run's end clears it (in the transaction that ends the run)."""
    source = ScriptedSource(("changes", "deletions"))
    h = Harness(table, source)
    for source_id in ("1", "2", "3"):
        h.mappings.note_skipped(KIND, source_id, f"fp-{source_id}")
    source.batches["changes"] = [ChangeBatch([change(str(n), fingerprint=f"fp-{n}")], str(n)) for n in (1, 2, 3)]
    saves: list[str | None] = []
    real_save = h.progress.save_cursor
    h.progress.save_cursor = lambda sync, cursor: (saves.append(cursor.after), real_save(sync, cursor))[1]

    h.run()

    assert h.queue.sent == []
    assert saves == []
    assert h.progress.cursor(SYNC) is None


def needs_no_target(change: Change) -> str | None:
    return "closed and never synced" if change.snapshot.get("status") == "closed" else None


def test_a_record_that_needs_no_target_and_never_had_one_is_marked_skipped_not_queued(table, ours, metrics):
    source = ScriptedSource(("changes",))
    source.batches["changes"] = [
        ChangeBatch(
            [
                change("open", fingerprint="fp-open", status="open"),
                change("closed", fingerprint="fp-closed", status="closed"),
                change("closed-synced", fingerprint="fp-cs", status="closed"),
                change("closed-no-fingerprint", status="closed"),
            ],
            "k1",
        )
    ]
    h = Harness(table, source, needs_no_target=needs_no_target)
    h.mappings.put(Mapping(kind=KIND, source_id="closed-synced", target_id="T-1", fingerprint="fp-old"))

    result = h.run()

    # the closed record with a target goes to the worker (to deactivate it), and so does one without a
    # fingerprint (a skip marker could never match it again)
    assert sorted(m.source_id for m in h.queue.sent) == ["closed-no-fingerprint", "closed-synced", "open"]
    assert (result.enqueued, result.skipped, result.unchanged) == (3, 1, 0)
    marker = h.mappings.get_many(KIND, ["closed"])["closed"]
    assert (marker.target_id, marker.fingerprint) == ("", "fp-closed")
    assert h.runlog.summary(result.run_id).counts.get("skipped") == 1
    assert ("Skipped", 1) in metrics  # the metric the worker's skips add to

    # the next run leaves it out as unchanged until it changes
    h.queue.sent.clear()
    second = h.run()
    assert "closed" not in [m.source_id for m in h.queue.sent]
    assert second.skipped == 0 and second.unchanged >= 1


def test_a_record_a_worker_holds_is_queued_not_marked(table, ours, metrics):
    """The marks are conditional: one that a worker locked meanwhile (it is creating a target) goes to the
    worker, which judges it under the lock; the others of the transaction are still marked."""
    source = ScriptedSource(("changes",))
    source.batches["changes"] = [
        ChangeBatch([change(str(n), fingerprint=f"fp-{n}", status="closed") for n in range(3)], "k1")
    ]
    h = Harness(table, source, needs_no_target=needs_no_target)
    h.mappings.lock(KIND, "1", "some-worker")

    result = h.run()

    assert [m.source_id for m in h.queue.sent] == ["1"]
    assert result.skipped == 2 and ("Skipped", 2) in metrics
    assert set(h.mappings.get_many(KIND, ["0", "2"])) == {"0", "2"}


def test_a_cursor_saved_without_first_run_flags_resumes_as_a_later_run(table, ours):
    """A cursor written by an earlier version (no per-phase first-run flags) is not taken for onboarding."""
    source = ScriptedSource(("changes",))
    h = Harness(table, source)
    start = SOURCE_NOW - timedelta(hours=1)
    h.progress.save_cursor(
        SYNC, Cursor(run_id="r-old", window_end=SOURCE_NOW, starts={"changes": start}, phase="changes")
    )

    result = h.run()

    assert source.reads == [("changes", Window(start=start, end=SOURCE_NOW, first_run=False), None)]
    assert result.run_id == "r-old" and h.progress.watermarks(SYNC) == {"changes": SOURCE_NOW}


def test_the_cursor_is_saved_after_every_batch(table, ours):
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("1"), change("2")], "2"), ChangeBatch([change("3")], "3")]
    h = Harness(table, source)
    saved: list[Cursor | None] = []
    source.during = lambda phase, number: saved.append(h.progress.cursor(SYNC))

    h.run()

    # none before the first batch queued work (a run that dies then has queued nothing: the next opens anew)
    assert [(c.after, c.enqueued) if c else None for c in saved] == [None, ("2", 2)]


# -- what a run costs and how it is logged -------------------------------------------------------------------
def quiet_night(table: Any) -> Harness:
    """A second run over three phases: watermarks set, every record's target holding it already."""
    source = ScriptedSource(("adopt", "changes", "deletions"))
    h = Harness(table, source)
    for phase in source.phases:
        h.progress.advance_watermark(SYNC, phase, SOURCE_NOW - timedelta(days=1), "r-before")
    for n in range(150):
        h.mappings.note_skipped(KIND, str(n), f"fp-{n}")
    source.batches["changes"] = [
        ChangeBatch([change(str(n), fingerprint=f"fp-{n}") for n in range(start, start + 50)], str(start + 49))
        for start in (0, 50, 100)
    ]
    return h


def test_a_quiet_run_costs_three_dynamodb_calls_beyond_its_mapping_reads(table, ours):
    h = quiet_night(table)
    calls = dynamodb_calls(table)

    result = h.run()

    assert (result.status, result.enqueued, result.unchanged) == ("enqueued", 0, 150)
    # the lease; the cursor and watermarks read together; one mapping read per batch; the run's end
    assert [name for name, _ in calls] == ["PutItem", "BatchGetItem"] + ["BatchGetItem"] * 3 + ["TransactWriteItems"]
    assert h.progress.watermarks(SYNC) == {"adopt": SOURCE_NOW, "changes": SOURCE_NOW, "deletions": SOURCE_NOW}
    assert h.progress.cursor(SYNC) is None and h.lease() is None
    summary = h.runlog.summary(result.run_id)
    assert summary is not None and h.runlog.runs(SYNC) == [result.run_id]
    assert (summary.sync, summary.status, summary.enqueued, summary.counts["unchanged"]) == (SYNC, "enqueued", 0, 150)
    assert summary.started_at == summary.finished_at == ours.now


def test_a_run_is_logged_with_its_cursor_before_its_first_message_is_queued(table, ours):
    """A worker counts its outcomes into the run's summary: the summary exists before any message can reach
    one, and so does the cursor, so a run that dies after queuing is resumed as the same run."""
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("1")], "1"), ChangeBatch([change("2")], "2")]
    h = Harness(table, source)
    at_send: list[tuple[str | None, str | None]] = []
    send = h.queue.send

    def watched(messages: Iterable[WorkMessage]) -> int:
        batch = list(messages)
        summary = h.runlog.summary(batch[0].run_id)
        cursor = h.progress.cursor(SYNC)
        at_send.append((summary.status if summary else None, cursor.run_id if cursor else None))
        h.runlog.add_counts(batch[0].run_id, {"created": 1})  # a worker, at once
        return send(batch)

    h.queue.send = watched  # type: ignore[method-assign]

    result = h.run()

    assert at_send == [("running", result.run_id), ("running", result.run_id)]
    summary = h.runlog.summary(result.run_id)
    assert (summary.status, summary.enqueued, summary.counts["created"]) == ("enqueued", 2, 2)
    assert h.runlog.runs(SYNC) == [result.run_id]


def test_a_run_is_logged_as_started_when_its_window_opened_not_when_it_first_queued(table, ours):
    """Reading takes time on our clock: the run log's start is the moment the window opened, whether the run
    is logged at its first queued message or, for a quiet run, only at its end."""
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("1", fingerprint="fp-1")], "1"), ChangeBatch([change("2")], "2")]
    source.during = lambda phase, number: ours.advance(60)
    h = Harness(table, source)
    h.mappings.note_skipped(KIND, "1", "fp-1")
    opened = ours.now

    result = h.run()

    summary = h.runlog.summary(result.run_id)
    assert (summary.status, summary.enqueued, summary.started_at) == ("enqueued", 1, opened)
    assert summary.finished_at == opened + timedelta(minutes=2)

    quiet = quiet_night(table)
    quiet.source.during = lambda phase, number: ours.advance(60)
    opened = ours.now

    result = quiet.run()

    summary = quiet.runlog.summary(result.run_id)
    assert (summary.status, summary.enqueued, summary.started_at) == ("enqueued", 0, opened)
    assert summary.finished_at == opened + timedelta(minutes=3)


def test_a_run_end_refused_as_a_whole_is_written_one_step_at_a_time(table, ours):
    """One phase's watermark already stands past this run's end (set meanwhile by a run whose lease this one
    took over once it expired): that mark is kept, the others move, and the run is still logged, its cursor
    cleared and its lease released."""
    h = quiet_night(table)
    ahead = SOURCE_NOW + timedelta(hours=1)

    def meanwhile(phase: str, number: int) -> None:
        if number == 0:
            h.progress.advance_watermark(SYNC, "deletions", ahead, "r-other")

    h.source.during = meanwhile
    calls = dynamodb_calls(table)

    result = h.run()

    names = [name for name, _ in calls]
    assert "TransactWriteItems" in names and names[-1] == "DeleteItem"  # the lease, released on its own
    assert h.progress.watermarks(SYNC) == {"adopt": SOURCE_NOW, "changes": SOURCE_NOW, "deletions": ahead}
    # each mark moved on its own names the run that moved it, as the transaction's writes do
    marks = {p: table.get_item(Key={"pk": f"SYNC#{SYNC}", "sk": f"WATERMARK#{p}"})["Item"] for p in h.source.phases}
    assert {p: item["run_id"] for p, item in marks.items()} == {
        "adopt": result.run_id,
        "changes": result.run_id,
        "deletions": "r-other",
    }
    assert h.progress.cursor(SYNC) is None and h.lease() is None
    summary = h.runlog.summary(result.run_id)
    assert (summary.status, summary.counts["unchanged"]) == ("enqueued", 150)
    assert h.runlog.runs(SYNC) == [result.run_id]


def test_a_run_end_refused_while_its_messages_are_counted_keeps_every_count(table, ours):
    """A run that queued work ends with an update of its summary (workers add to it at the same time): a
    refused transaction falls back to the plain updates, and no count is lost or doubled."""
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("1"), change("2", fingerprint="fp-2")], "2")]
    h = Harness(table, source)
    h.mappings.note_skipped(KIND, "2", "fp-2")

    def refused(*args: Any, **kwargs: Any) -> bool:
        h.runlog.add_counts(h.queue.sent[0].run_id, {"created": 1})  # the worker's count lands first
        return False

    h.progress.end_run = refused  # type: ignore[method-assign]

    result = h.run()

    summary = h.runlog.summary(result.run_id)
    assert (summary.status, summary.enqueued, summary.counts["created"], summary.counts["unchanged"]) == (
        "enqueued",
        1,
        1,
        1,
    )
    assert h.progress.watermarks(SYNC) == {"changes": SOURCE_NOW}
    assert h.progress.cursor(SYNC) is None and h.lease() is None


def test_a_cursor_from_before_run_logging_moved_to_the_end_resumes_without_logging_the_run_again(table, ours):
    """A cursor saved by an earlier version (no `logged`, no `opened_at`) belongs to a run already in the run
    log, with counts its workers added: the resumed run keeps them and its start."""
    source = ScriptedSource()
    h = Harness(table, source)
    started = ours.now - timedelta(minutes=5)
    h.runlog.start(SYNC, "r-old", started)
    h.runlog.add_counts("r-old", {"created": 3})
    item = Cursor(run_id="r-old", window_end=SOURCE_NOW, starts={"changes": SOURCE_NOW}, phase="changes")
    legacy = item.model_dump_json(exclude={"logged", "opened_at"})
    table.put_item(Item={"pk": f"SYNC#{SYNC}", "sk": "CURSOR", "cursor": legacy})

    result = h.run()

    summary = h.runlog.summary("r-old")
    assert result.run_id == "r-old"
    assert (summary.status, summary.started_at, summary.counts["created"]) == ("enqueued", started, 3)
    assert h.runlog.runs(SYNC) == ["r-old"]


def test_a_hand_over_before_anything_was_queued_logs_the_run_once(table, ours):
    source = ScriptedSource()
    source.batches["changes"] = [
        ChangeBatch([change("1", fingerprint="fp-1")], "1"),
        ChangeBatch([change("2")], "2"),
    ]
    h = Harness(table, source)
    h.mappings.note_skipped(KIND, "1", "fp-1")
    time_left = iter([0])

    first = h.run(remaining_ms=lambda: next(time_left))
    assert first.status == "continued" and h.runlog.summary(first.run_id).status == "continued"
    second = h.run(h.continued[0])

    assert second.run_id == first.run_id and [m.source_id for m in h.queue.sent] == ["2"]
    summary = h.runlog.summary(first.run_id)
    assert (summary.status, summary.enqueued, summary.counts["unchanged"]) == ("enqueued", 1, 1)
    assert h.runlog.runs(SYNC) == [first.run_id]


def test_a_failed_phase_before_anything_was_queued_is_in_the_run_log(table, ours):
    source = ScriptedSource(("changes",))
    source.fail["changes"] = (0, NeedsAttention("refused", cause="query-refused"))
    h = Harness(table, source)

    result = h.run()

    assert result.status == "partial"
    assert [f.cause_key for f in h.runlog.failures(result.run_id)] == ["query-refused"]
    assert h.runlog.summary(result.run_id).status == "partial" and h.runlog.runs(SYNC) == [result.run_id]


# -- the lease ----------------------------------------------------------------------------------------------
def test_a_second_run_of_the_sync_is_skipped_while_the_first_is_reading(table, ours):
    """The lease lasts the configured time: a run started two minutes into another's is still kept out."""
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    h = Harness(table, source)
    seen: list[Any] = []

    def meanwhile(phase: str, number: int) -> None:
        ours.advance(120)
        seen.append(h.run())

    source.during = meanwhile

    result = h.run()

    (other,) = seen
    assert other.status == "skipped"
    assert other.reason == "another run of this sync is in progress"
    assert other.run_id is None and other.enqueued == 0
    assert result.status == "enqueued"
    assert [m.source_id for m in h.queue.sent] == ["1"]


def test_the_lease_is_taken_for_the_configured_time(table, ours):
    source = ScriptedSource()
    h = Harness(table, source)
    expiries: list[int] = []
    source.during = lambda phase, number: expiries.append(int(h.lease()["expires_at"]))
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]

    h.run()

    assert expiries == [int(ours.now.timestamp()) + 900]


def test_a_lease_left_by_a_dead_invocation_is_taken_once_it_has_expired(table, ours):
    source = ScriptedSource()
    h = Harness(table, source)
    assert h.progress.acquire_lease(SYNC, "dead-invocation", 900)

    assert h.run().status == "skipped"
    ours.advance(901)
    assert h.run().status == "enqueued"


def test_a_hand_over_resumes_after_the_last_batch_read_even_one_that_queued_nothing(table, ours):
    """Batches that queue nothing do not save the cursor, but a hand-over does: the continuation reads on from
    where the run stopped, not again from the last batch that queued work."""
    source = ScriptedSource(("changes",))
    source.batches["changes"] = [
        ChangeBatch([change("1")], "1"),
        ChangeBatch([change("2", fingerprint="fp-2")], "2"),  # unchanged: its target holds it
        ChangeBatch([change("3")], "3"),
    ]
    h = Harness(table, source)
    h.mappings.note_skipped(KIND, "2", "fp-2")
    time_left = iter([PLENTY_MS, 0])  # asked after each batch: the run must stop after the second

    first = h.run(remaining_ms=lambda: next(time_left))
    assert first.status == "continued" and h.progress.cursor(SYNC).after == "2"
    h.run(h.continued[0])

    assert [after for _, _, after in source.reads] == [None, "2"]
    assert [m.source_id for m in h.queue.sent] == ["1", "3"]


# -- a second look after a write of unknown outcome --------------------------------------------------------------
def test_a_run_ends_by_queueing_a_check_of_each_listed_record_of_the_kinds_it_looks_at(table, ours, metrics):
    source = ScriptedSource()
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    h = Harness(table, source, checked_kinds=("customer", KIND))
    h.mappings.list_unsettled(KIND, "7")
    h.mappings.list_unsettled(KIND, "12")
    h.mappings.list_unsettled(KIND, "7")  # listed twice: one look
    h.mappings.list_unsettled(KIND, "12")
    h.mappings.unlist_unsettled(KIND, "12")  # looked at and settled meanwhile
    h.mappings.list_unsettled("customer", "c-3")
    h.mappings.list_unsettled("task", "t-9")  # another sync's kind: not this run's to look at

    result = h.run()

    assert [(m.op, m.source_id, m.snapshot) for m in h.queue.sent] == [
        ("upsert", "1", {"id": "1"}),
        ("check", "c-3", {"kind": "customer"}),
        ("check", "7", {"kind": KIND}),
    ]
    assert {m.run_id for m in h.queue.sent} == {result.run_id} and result.enqueued == 3
    assert h.runlog.summary(result.run_id).enqueued == 3
    assert [m for m in metrics if m[0] == "Enqueued"] == [("Enqueued", 1), ("Enqueued", 2)]  # the change; the checks


def test_a_quiet_run_reads_the_lists_of_records_to_look_at_again_with_its_watermarks_at_no_extra_cost(table, ours):
    h = quiet_night(table)
    h.definition = replace(h.definition, checked_kinds=("customer", KIND))
    calls = dynamodb_calls(table)

    result = h.run()

    assert (result.status, result.enqueued) == ("enqueued", 0) and h.queue.sent == []
    assert [name for name, _ in calls] == ["PutItem", "BatchGetItem"] + ["BatchGetItem"] * 3 + ["TransactWriteItems"]


# -- the RunCompleted metric (what <Sync>RunOverdueAlarm watches) ---------------------------------------------------
@pytest.mark.parametrize(
    "failing",
    [
        pytest.param("deletions", id="one-phase-failed-the-others-moved"),
        pytest.param(ADOPT, id="adoption-failed-nothing-read"),
    ],
)
def test_a_run_with_a_failed_phase_is_not_counted_as_completed_until_a_run_reads_its_whole_window(
    table, ours, metrics, failing
):
    """RunCompleted counts only a run that enqueued its whole window: a phase that keeps failing must let the
    overdue alarm fire (the SystemicFailure metric still counts the failure), and the next run that reads every
    phase is counted again."""
    source = ScriptedSource((ADOPT, "changes", "deletions"))
    source.batches["changes"] = [ChangeBatch([change("1")], "1")]
    source.fail[failing] = (0, NeedsAttention("the role lacks a permission", cause="permission:x"))
    h = Harness(table, source)

    result = h.run()

    assert result.status == "partial"
    assert ("SystemicFailure", 1) in metrics
    assert "RunCompleted" not in [name for name, _ in metrics]

    del source.fail[failing]
    metrics.clear()
    again = h.run()

    assert again.status == "enqueued" and ("RunCompleted", 1) in metrics
