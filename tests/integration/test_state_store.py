"""The state stores (mappings, progress, run log) against DynamoDB as moto emulates it.

The table is created from template.yaml itself (read through `ctns.stack.load()`), so these tests exercise the
key schema and indexes that would really be deployed, and fail if the template and the code drift apart.
Time-dependent behaviour (claim and lease expiry) runs on a fake clock patched into the stores.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ctsync.errors import TransientError
from ctsync.state import mappings as mappings_module
from ctsync.state.mappings import LOCK_SECONDS, LostLock, Mapping, MappingStore, RecordBusy
from ctsync.state.progress import Breaker, Cursor, PollFailure, ProgressStore
from ctsync.state.runlog import BLOCKED_SAMPLE, OUTCOMES, Failure, RunEnd, RunLog
from ctsync.state.table import BY_KIND, BY_PARENT, BY_TARGET, PK, SK, TTL_ATTRIBUTE, without_keys, write_together
from tests.integration.conftest import T0, dynamodb_calls, own_table


# -- the table, as the template declares it ------------------------------------------------------------------
def test_the_template_declares_what_the_stores_use(table_properties):
    keys = {k["KeyType"]: k["AttributeName"] for k in table_properties["KeySchema"]}
    assert keys == {"HASH": PK, "RANGE": SK}
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table_properties["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        BY_TARGET: ["gsi1pk", "gsi1sk"],
        BY_KIND: ["gsi2pk", "gsi2sk"],
        BY_PARENT: ["gsi3pk", "gsi3sk"],
    }
    assert table_properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


class PagingTable:
    """The table, but every query returns at most `limit` items: exercises the callers' paging loops."""

    def __init__(self, table: Any, limit: int) -> None:
        self._table, self._limit = table, limit
        self.queries = 0

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries += 1
        return self._table.query(Limit=self._limit, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


# -- MappingStore --------------------------------------------------------------------------------------------
def test_a_mapping_round_trips(table):
    store = MappingStore(table)
    version = datetime(2026, 11, 24, 21, 0, 5, tzinfo=UTC)
    store.put(
        Mapping(
            kind="project",
            source_id="1774",
            target_id="ct-job-1",
            source_version=version,
            content_hash="abc123",
            details={"client": "ct-client-9"},
        )
    )

    got = store.get("project", "1774")

    assert got is not None
    assert (got.kind, got.source_id, got.target_id, got.content_hash) == ("project", "1774", "ct-job-1", "abc123")
    assert got.source_version == version and got.details == {"client": "ct-client-9"} and got.deleted is False
    assert got.updated_at.tzinfo is not None
    assert store.get("project", "9999") is None
    assert store.get("task", "1774") is None  # kinds are separate


def test_by_target_finds_the_mapping_and_follows_a_retarget(table):
    store = MappingStore(table)
    store.put(Mapping(kind="project", source_id="1774", target_id="ct-job-1"))
    assert store.by_target("project", "ct-job-1").source_id == "1774"
    assert store.by_target("task", "ct-job-1") is None

    # When the mapping is rewritten with another target, the old target no longer points back to it
    store.put(Mapping(kind="project", source_id="1774", target_id="ct-job-2", deleted=True))
    assert store.by_target("project", "ct-job-1") is None
    moved = store.by_target("project", "ct-job-2")
    assert moved.source_id == "1774" and moved.deleted is True


def test_all_of_kind_pages_through_every_mapping(table):
    store = MappingStore(table)
    for n in range(130):
        store.put(Mapping(kind="project", source_id=f"p{n:03d}", target_id=f"ct-{n}"))
    for n in range(5):
        store.put(Mapping(kind="task", source_id=f"t{n}", target_id=f"ct-t{n}"))

    assert sorted(m.source_id for m in store.all_of_kind("project")) == [f"p{n:03d}" for n in range(130)]

    # With DynamoDB handing out small pages, every mapping still comes once
    paging = PagingTable(table, limit=20)
    listed = [m.source_id for m in MappingStore(paging).all_of_kind("project")]
    assert sorted(listed) == [f"p{n:03d}" for n in range(130)] and len(listed) == len(set(listed))
    assert paging.queries >= 7
    assert sorted(m.source_id for m in MappingStore(paging).all_of_kind("task")) == [f"t{n}" for n in range(5)]


def test_get_many_reads_many_mappings_in_batches_of_a_hundred(table):
    store = MappingStore(table)
    store.put_many(Mapping(kind="project", source_id=str(n), target_id=f"ct-{n}") for n in range(250))
    found = store.get_many("project", [str(n) for n in range(0, 300)] + ["7"])
    assert set(found) == {str(n) for n in range(250)}
    assert found["199"].target_id == "ct-199"
    assert store.get_many("task", ["1", "2"]) == {}


def test_children_lists_the_mappings_of_one_parent(table):
    store = MappingStore(table)
    store.put_many(
        [Mapping(kind="timeentry", source_id=f"te-{n}", target_id=f"tb-{n}", parent="timesheet#ts-1") for n in range(3)]
        + [Mapping(kind="timeentry", source_id="te-9", target_id="tb-9", parent="timesheet#ts-2")]
    )
    assert sorted(m.source_id for m in store.children("timesheet", "ts-1")) == ["te-0", "te-1", "te-2"]
    assert [m.target_id for m in store.children("timesheet", "ts-2")] == ["tb-9"]
    store.delete_many("timeentry", ["te-0", "te-1"])
    assert [m.source_id for m in store.children("timesheet", "ts-1")] == ["te-2"]


class UnprocessedTable:
    """The table, but its first BatchGetItem reads only `served` of the keys asked for and hands the others back
    as UnprocessedKeys, in the request's own form (as DynamoDB does under load or past 16 MB in one answer)."""

    def __init__(self, table: Any, served: int) -> None:
        self._table, self._served = table, served
        self.batches: list[int] = []  # how many keys each BatchGetItem asked for
        real = table.meta.client

        def batch_get_item(RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
            request = RequestItems[table.name]
            self.batches.append(len(request["Keys"]))
            if len(self.batches) > 1 or len(request["Keys"]) <= served:
                return real.batch_get_item(RequestItems=RequestItems)
            head, tail = request["Keys"][:served], request["Keys"][served:]
            response = real.batch_get_item(RequestItems={table.name: {**request, "Keys": head}})
            response["UnprocessedKeys"] = {table.name: {**request, "Keys": tail}}
            return response

        self.meta = SimpleNamespace(client=SimpleNamespace(batch_get_item=batch_get_item))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def test_get_many_reads_again_the_keys_dynamodb_left_unprocessed(table):
    MappingStore(table).put_many(Mapping(kind="project", source_id=str(n), target_id=f"ct-{n}") for n in range(130))
    partial = UnprocessedTable(table, served=40)

    found = MappingStore(partial).get_many("project", [str(n) for n in range(130)])

    assert set(found) == {str(n) for n in range(130)} and found["99"].target_id == "ct-99"
    # the first hundred: 40 read, the other 60 asked for again; then the last 30
    assert partial.batches == [100, 60, 30]


def test_the_mapping_store_reads_consistently(table):
    """DynamoDB reads are eventually consistent unless asked: a worker could read a mapping or a lock's state a
    moment old (moto, like DynamoDB Local, always reads consistently, so only the request can show it)."""
    store = MappingStore(table)
    store.put(Mapping(kind="project", source_id="1774", target_id="ct-job-1"))
    calls = dynamodb_calls(table)

    store.get("project", "1774")
    store.get_many("project", ["1774", "1775"])

    reads = {name: params for name, params in calls}
    assert reads["GetItem"]["ConsistentRead"] is True
    assert reads["BatchGetItem"]["RequestItems"][table.name]["ConsistentRead"] is True


def test_a_record_lock_keeps_a_second_worker_out_until_the_mapping_is_committed(table):
    store = MappingStore(table)
    lock = store.lock("customer", "12", owner="worker-a")
    assert lock.mapping is None and not lock.create_may_exist
    with pytest.raises(RecordBusy) as caught:
        store.lock("customer", "12", owner="worker-b")
    assert isinstance(caught.value, TransientError)  # retried later, not dead-lettered
    store.lock("customer", "13", owner="worker-b")  # other records are not blocked
    assert store.get("customer", "12") is None  # a lock on a new record is not a mapping
    store.lock("customer", "12", owner="worker-a")  # its holder may take it again (a redelivery of its own)

    store.commit(lock, Mapping(kind="customer", source_id="12", target_id="ct-client-12"))

    taken = store.lock("customer", "12", owner="worker-b")
    assert taken.mapping is not None and taken.mapping.target_id == "ct-client-12"


def test_a_released_lock_keeps_the_create_mark_only_while_a_create_may_have_happened(table):
    store = MappingStore(table)
    lock = store.lock("customer", "12", owner="worker-a")
    lock.create_attempted = True  # the create was sent, its answer is unknown
    store.release(lock)
    # The next holder is told a create may have happened, so it looks before creating
    again = store.lock("customer", "12", owner="worker-b")
    assert again.create_may_exist
    # It looked and found nothing, then its create was refused outright: nothing to look for any more
    again.resolved = True
    again.create_attempted = again.create_refused = True
    store.release(again)
    quiet = store.lock("customer", "12", owner="worker-c")
    assert not quiet.create_may_exist
    store.release(quiet)  # gave up before creating anything
    assert not store.lock("customer", "12", owner="worker-d").create_may_exist


def test_a_holder_that_dies_leaves_the_create_mark_for_the_next(table, clock):
    store = MappingStore(table, clock=clock.epoch)
    store.lock("customer", "12", owner="worker-a")  # and the process dies: no release
    clock.advance(LOCK_SECONDS + 1)
    assert store.lock("customer", "12", owner="worker-b").create_may_exist


def test_an_expired_lock_is_taken_over_and_the_late_holder_cannot_commit(table, clock):
    store = MappingStore(table, clock=clock.epoch)
    stalled = store.lock("project", "1774", owner="worker-a")
    clock.advance(LOCK_SECONDS - 1)
    with pytest.raises(RecordBusy):
        store.lock("project", "1774", owner="worker-b")
    clock.advance(2)
    taken = store.lock("project", "1774", owner="worker-b")

    # The late holder's mapping write is refused (it no longer holds the record) and releases nothing
    with pytest.raises(LostLock):
        store.commit(stalled, Mapping(kind="project", source_id="1774", target_id="stale-job"))
    store.release(stalled)
    with pytest.raises(RecordBusy):
        store.lock("project", "1774", owner="worker-c")
    store.commit(taken, Mapping(kind="project", source_id="1774", target_id="ct-job"))
    assert store.get("project", "1774").target_id == "ct-job"


class WaitClock:
    """Stands in for the `time` module in the mapping store: `monotonic` is fake, and `sleep` records the pause,
    moves it on and then calls `on_sleep` (another worker acting meanwhile), so waits take no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Any = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep()


@pytest.fixture
def wait_clock(monkeypatch) -> WaitClock:
    fake = WaitClock()
    monkeypatch.setattr(mappings_module, "time", fake)
    return fake


def test_a_held_lock_is_refused_at_once_unless_asked_to_wait(table, wait_clock):
    store = MappingStore(table)
    store.lock("customer", "12", owner="worker-a")

    with pytest.raises(RecordBusy) as caught:
        store.lock("customer", "12", owner="worker-b")
    assert wait_clock.sleeps == []  # no wait by default
    assert caught.value.message == "another worker is writing the customer for 12"

    # Asked to wait 0.4 s, it tries every 0.2 s until the wait is over, then gives up
    with pytest.raises(RecordBusy):
        store.lock("customer", "12", owner="worker-b", wait_seconds=0.4)
    assert wait_clock.sleeps == [0.2, 0.2]


def test_a_waiting_lock_is_taken_as_soon_as_the_holder_commits(table, wait_clock):
    store = MappingStore(table)
    held = store.lock("customer", "12", owner="worker-a")

    def holder_commits_during_the_second_pause() -> None:
        if len(wait_clock.sleeps) == 2:
            store.commit(held, Mapping(kind="customer", source_id="12", target_id="ct-client-12"))

    wait_clock.on_sleep = holder_commits_during_the_second_pause

    lock = store.lock("customer", "12", owner="worker-b", wait_seconds=10)

    assert wait_clock.sleeps == [0.2, 0.2]  # taken at the try after the commit
    assert lock.mapping is not None and lock.mapping.target_id == "ct-client-12"


def test_a_mapping_item_written_before_hashes_fingerprints_and_deletion_existed_reads_with_their_defaults(table):
    """Items an earlier version of the product wrote lack the newer attributes: the empty hash makes the next
    message write the target, the empty fingerprint keeps the poller from taking the record as unchanged."""
    table.put_item(
        Item={
            PK: "MAP#project#1774",
            SK: "MAP",
            "kind": "project",
            "source_id": "1774",
            "target_id": "ct-job-1",
            "updated_at": "2026-01-05T09:00:00Z",
        }
    )

    mapping = MappingStore(table).get("project", "1774")

    assert mapping is not None and mapping.target_id == "ct-job-1"
    assert (mapping.content_hash, mapping.fingerprint, mapping.deleted) == ("", "", False)
    assert (mapping.source_version, mapping.details, mapping.parent) == (None, {}, None)


def test_a_lock_waits_for_another_holder_to_commit(table):
    store = MappingStore(table)
    held = store.lock("customer", "12", owner="worker-a")

    def other_worker() -> None:
        time.sleep(0.3)
        MappingStore(own_table()).commit(held, Mapping(kind="customer", source_id="12", target_id="ct-client-12"))

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        lock = store.lock("customer", "12", owner="worker-b", wait_seconds=10)
    finally:
        thread.join()
    assert lock.mapping is not None and lock.mapping.target_id == "ct-client-12"


def test_commit_can_keep_the_lock_for_a_follow_up(table):
    store = MappingStore(table)
    lock = store.lock("task", "5001", owner="worker-a")
    store.commit(lock, Mapping(kind="task", source_id="5001", target_id="ct-task-1"), keep_lock=True)
    assert store.get("task", "5001").target_id == "ct-task-1"  # recorded at once
    with pytest.raises(RecordBusy):
        store.lock("task", "5001", owner="worker-b")  # and still held
    store.commit(lock, Mapping(kind="task", source_id="5001", target_id="ct-task-1", content_hash="h"))
    assert store.lock("task", "5001", owner="worker-b").mapping.content_hash == "h"


def test_a_lock_kept_for_a_follow_up_is_held_afresh_and_still_expires(table, clock):
    store = MappingStore(table, clock=clock.epoch)
    lock = store.lock("task", "5001", owner="worker-a")
    clock.advance(100)
    store.commit(lock, Mapping(kind="task", source_id="5001", target_id="ct-task-1"), keep_lock=True)

    clock.advance(LOCK_SECONDS - 1)  # past the first hold, within the one the commit took afresh
    with pytest.raises(RecordBusy):
        store.lock("task", "5001", owner="worker-b")
    clock.advance(2)  # a holder that died after the commit does not keep the record for ever
    taken = store.lock("task", "5001", owner="worker-b")
    assert taken.mapping is not None and taken.mapping.target_id == "ct-task-1"


def test_adopt_records_a_target_only_where_none_is_known(table):
    store = MappingStore(table)
    store.put(Mapping(kind="project", source_id="1774", target_id="ct-job-1"))
    assert store.adopt("project", "1774", "hand-made-job") is False
    assert store.get("project", "1774").target_id == "ct-job-1"
    assert store.adopt("project", "1775", "hand-made-job") is True
    adopted = store.get("project", "1775")
    assert adopted.target_id == "hand-made-job" and adopted.content_hash == "" and adopted.details["adopted"] == "true"
    # a lock placeholder (a create in flight elsewhere) is not a mapping: adoption fills it
    store.lock("project", "1776", owner="worker-a")
    assert store.adopt("project", "1776", "hand-made-2") is True


def test_confirm_moves_the_fence_only_when_nobody_holds_the_record(table):
    store = MappingStore(table)
    store.put(Mapping(kind="project", source_id="1774", target_id="j", source_version=T0, content_hash="h"))
    mapping = store.get("project", "1774")
    store.confirm(mapping, T0 + timedelta(hours=1), "fp-1")
    moved = store.get("project", "1774")
    assert moved.source_version == T0 + timedelta(hours=1) and moved.fingerprint == "fp-1"
    store.confirm(moved, T0, "fp-2")  # an older version never moves it back
    assert store.get("project", "1774").source_version == T0 + timedelta(hours=1)
    store.lock("project", "1774", owner="worker-a")
    store.confirm(store.get("project", "1774"), T0 + timedelta(hours=2), "fp-3")
    assert store.get("project", "1774").fingerprint == "fp-2"  # the holder decides


def test_a_confirm_that_would_change_nothing_writes_nothing(table):
    store = MappingStore(table)
    store.put(Mapping(kind="project", source_id="1774", target_id="j", source_version=T0, fingerprint="fp-1"))
    mapping = store.get("project", "1774")
    calls = dynamodb_calls(table)

    store.confirm(mapping, T0, "fp-1")  # the version and the snapshot already applied
    store.confirm(mapping, None, "")  # nothing known about either
    store.confirm(mapping, T0 - timedelta(hours=1), "fp-1")  # an older version

    assert calls == []
    store.confirm(mapping, T0, "fp-2")
    assert [name for name, _ in calls] == ["UpdateItem"]
    moved = store.get("project", "1774")
    assert (moved.source_version, moved.fingerprint) == (T0, "fp-2")


def test_a_skip_marker_never_covers_a_lock(table):
    store = MappingStore(table)
    held = store.lock("task", "5001", owner="worker-a")
    held.create_attempted = True

    assert store.note_skipped("task", "5001", "fp") is False

    with pytest.raises(RecordBusy):
        store.lock("task", "5001", owner="worker-b")  # still held
    assert store.get_many("task", ["5001"]) == {}  # and no marker
    store.release(held)
    assert store.lock("task", "5001", owner="worker-b").create_may_exist  # the create mark survived too


def test_a_skip_marker_reads_back_as_a_mapping_without_a_target(table, clock):
    store = MappingStore(table)
    clock.advance(60)
    store.note_skipped("project", "closed", "fp-closed")

    marker = store.get_many("project", ["closed"])["closed"]

    assert (marker.kind, marker.source_id, marker.target_id) == ("project", "closed", "")
    assert marker.fingerprint == "fp-closed" and marker.details == {"skipped": "true"}
    assert marker.updated_at == clock.now  # when it was judged
    assert store.get("project", "closed") is None  # `get` answers real mappings only


# -- ProgressStore -------------------------------------------------------------------------------------------
def test_the_watermark_only_moves_forward_per_phase(table):
    progress = ProgressStore(table)
    assert progress.watermark("projects", "changes") is None

    assert progress.advance_watermark("projects", "changes", T0, run_id="r1") is True
    assert progress.advance_watermark("projects", "changes", T0 - timedelta(hours=1), run_id="r2") is False
    assert progress.advance_watermark("projects", "changes", T0, run_id="r3") is False
    assert progress.watermark("projects", "changes") == T0
    assert progress.advance_watermark("projects", "changes", T0 + timedelta(seconds=1), run_id="r4") is True
    assert progress.watermark("projects", "changes") == T0 + timedelta(seconds=1)
    assert progress.watermark("projects", "deletions") is None  # per phase
    assert progress.watermark("tasks", "changes") is None  # per sync
    assert progress.watermarks("projects") == {"changes": T0 + timedelta(seconds=1)}


def test_a_watermark_without_a_phase_serves_every_phase(table):
    # What earlier versions wrote: the next run of an upgraded stack continues from it
    table.put_item(Item={PK: "SYNC#projects", SK: "WATERMARK", "value": "2026-11-25T17:00:00Z", "run_id": "old"})
    progress = ProgressStore(table)
    assert progress.watermark("projects", "deletions") == T0
    progress.reset_watermarks("projects", None)
    assert progress.watermarks("projects") == {}


def test_resetting_watermarks_to_a_moment_sets_every_phase_there_even_backwards(table):
    """`ctns reset-watermark --to`: each phase (and a watermark of an earlier version) is set, marked as a reset."""
    table.put_item(Item={PK: "SYNC#projects", SK: "WATERMARK", "value": "2026-11-25T17:00:00Z", "run_id": "old"})
    progress = ProgressStore(table)
    progress.advance_watermark("projects", "changes", T0 + timedelta(hours=2), run_id="r1")
    progress.advance_watermark("projects", "deletions", T0 + timedelta(hours=3), run_id="r1")
    back = T0 - timedelta(days=2)

    progress.reset_watermarks("projects", back)

    assert progress.watermarks("projects") == {"*": back, "changes": back, "deletions": back}
    items = table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "SYNC#projects"})["Items"]
    marks = {item[SK]: (item["value"], item["run_id"]) for item in items if item[SK].startswith("WATERMARK")}
    assert marks == {
        "WATERMARK": ("2026-11-23T17:00:00Z", "reset"),
        "WATERMARK#changes": ("2026-11-23T17:00:00Z", "reset"),
        "WATERMARK#deletions": ("2026-11-23T17:00:00Z", "reset"),
    }
    # and the run that reads from them knows it is a re-read (a backfill: `SyncDefinition.replans_on_reread`)
    assert progress.run_state("projects", ["changes", "deletions"])[3] == {"*", "changes", "deletions"}
    progress.advance_watermark("projects", "changes", T0, run_id="r2")
    assert progress.run_state("projects", ["changes", "deletions"])[3] == {"*", "deletions"}


def test_concurrent_advances_leave_the_latest_watermark(table):
    moments = [T0 + timedelta(minutes=m) for m in (7, 3, 11, 5, 2, 13, 1, 8)]
    barrier = threading.Barrier(len(moments))

    def advance(moment: datetime) -> None:
        store = ProgressStore(own_table())
        barrier.wait()
        store.advance_watermark("time", "approved", moment, run_id=moment.isoformat())

    threads = [threading.Thread(target=advance, args=(m,)) for m in moments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ProgressStore(table).watermark("time", "approved") == max(moments)


def test_the_progress_store_reads_consistently(table):
    """A cursor, a watermark, a lease or a pause read a moment old would restart a finished page, read a window
    again or miss a pause: every read asks DynamoDB for a consistent one (moto always reads consistently)."""
    progress = ProgressStore(table)
    calls = dynamodb_calls(table)

    progress.cursor("projects")
    progress.lease_holder("projects")
    progress.breaker("projects")
    progress.watermarks("projects")

    assert [name for name, _ in calls] == ["GetItem", "GetItem", "GetItem", "Query"]
    assert all(body["ConsistentRead"] is True for _, body in calls)


def test_cursor_save_load_and_clear(table):
    progress = ProgressStore(table)
    assert progress.cursor("projects") is None
    cursor = Cursor(
        run_id="r1",
        window_end=T0,
        starts={"changes": T0 - timedelta(hours=3), "deletions": T0 - timedelta(hours=3)},
        first_run={"changes": False, "deletions": True},
        phase="changes",
        after="1774",
        enqueued=250,
    )

    progress.save_cursor("projects", cursor)
    assert progress.cursor("projects") == cursor
    moved = cursor.model_copy(update={"phase": "deletions", "after": None, "enqueued": 300})
    progress.save_cursor("projects", moved)
    assert progress.cursor("projects") == moved
    assert progress.cursor("tasks") is None

    progress.clear_cursor("projects")
    assert progress.cursor("projects") is None


def test_the_breaker_says_whether_this_worker_opened_it(table):
    progress = ProgressStore(table)
    assert progress.breaker("time") is None
    breaker = Breaker(cause_key="netsuite-login", kind="needs_attention", reason="bad token", until=T0, opened_at=T0)
    assert progress.open_breaker("time", breaker) is True
    assert progress.open_breaker("time", breaker) is False  # the same cause, still open: someone else said it
    assert progress.breaker("time") == breaker
    later = breaker.model_copy(update={"opened_at": T0 + timedelta(minutes=10), "until": T0 + timedelta(minutes=15)})
    assert progress.open_breaker("time", later) is True  # the earlier pause was over: a new opening
    progress.close_breaker("time")
    assert progress.breaker("time") is None


def test_the_lease_keeps_runs_apart(table, clock):
    progress = ProgressStore(table)
    # The first invocation takes the lease; a second one is refused
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is True
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is False
    assert progress.lease_holder("projects") == "inv-a"
    # Another sync has its own lease
    assert progress.acquire_lease("tasks", "inv-b", seconds=60) is True

    # The holder renews: past the first expiry it still holds it
    clock.advance(50)
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is True
    clock.advance(50)
    assert progress.lease_holder("projects") == "inv-a"
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is False

    # A release by someone else does nothing
    progress.release_lease("projects", "inv-b")
    assert progress.lease_holder("projects") == "inv-a"


def test_read_since_tells_whether_a_later_run_may_have_read_the_source_since_a_run(table, clock):
    """What the worker asks before applying a message that would change its target (`Worker._superseded`)."""
    progress = ProgressStore(table)
    phases = ("changes", "deletions")
    first, second = "projects-20270104T100000Z-aaaaaa", "projects-20270105T100000Z-bbbbbb"
    # Nothing known, or a run ID the poller does not make: no later run
    assert progress.read_since("projects", phases, first) is False
    assert progress.read_since("projects", phases, "r1") is False
    # Its own run in progress (it holds the lease), then ended: no later run yet
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is True
    assert progress.read_since("projects", phases, first) is False
    progress.advance_watermark("projects", "changes", T0, first)
    progress.advance_watermark("projects", "deletions", T0, first)
    progress.release_lease("projects", "inv-a")
    assert progress.read_since("projects", phases, first) is False
    # A later run holds the lease (it may have read the record and queued nothing): yes
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is True
    assert progress.read_since("projects", phases, first) is True
    progress.release_lease("projects", "inv-b")
    # A later run moved a watermark (one phase is enough): yes; for that run itself, no
    progress.advance_watermark("projects", "changes", T0 + timedelta(days=1), second)
    assert progress.read_since("projects", phases, first) is True
    assert progress.read_since("projects", phases, second) is False
    # Another sync's runs say nothing
    assert progress.read_since("tasks", phases, "tasks-20270104T100000Z-cccccc") is False


def test_a_lease_is_handed_over_only_to_the_named_successor(table, clock):
    progress = ProgressStore(table)
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is True
    # Naming the wrong predecessor does not help
    assert progress.acquire_lease("projects", "inv-x", seconds=60, handed_over_by="inv-z") is False
    # The continuation invocation takes it over from inv-a
    assert progress.acquire_lease("projects", "inv-b", seconds=60, handed_over_by="inv-a") is True
    assert progress.lease_holder("projects") == "inv-b"
    # inv-a is no longer the holder, so it cannot take it back, nor release it
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is False
    progress.release_lease("projects", "inv-a")
    assert progress.lease_holder("projects") == "inv-b"


def test_an_expired_lease_can_be_taken_and_a_released_one_is_free(table, clock):
    progress = ProgressStore(table)
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is True
    clock.advance(61)
    assert progress.lease_holder("projects") is None  # expired, though the item is still there
    assert progress.acquire_lease("projects", "inv-c", seconds=60) is True
    assert progress.lease_holder("projects") == "inv-c"

    progress.release_lease("projects", "inv-c")
    assert progress.lease_holder("projects") is None
    assert progress.acquire_lease("projects", "inv-d", seconds=60) is True


def test_at_its_exact_expiry_second_a_lease_is_still_held_and_reported_so(table, clock):
    """A lease is taken over only once its expiry is past (`acquire_lease`'s `ttl < now`); `lease_holder`, what
    `ctns status` shows, agrees with that to the second."""
    progress = ProgressStore(table)
    assert progress.acquire_lease("projects", "inv-a", seconds=60) is True

    clock.advance(60)  # the expiry second itself
    assert progress.lease_holder("projects") == "inv-a"
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is False

    clock.advance(1)
    assert progress.lease_holder("projects") is None
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is True


def test_a_pause_item_expires_a_day_after_the_pause_ends(table):
    """DynamoDB's TTL deletes an old breaker item; not before the pause and a day to read it have passed."""
    progress = ProgressStore(table)
    until = T0 + timedelta(minutes=15)
    progress.open_breaker(
        "time", Breaker(cause_key="outage", kind="outage", reason="ClickTime is down", until=until, opened_at=T0)
    )

    item = table.get_item(Key={PK: "SYNC#time", SK: "BREAKER"})["Item"]
    assert int(item[TTL_ATTRIBUTE]) == int((until + timedelta(days=1)).timestamp())


def test_a_failed_poll_is_kept_until_a_run_of_its_sync_ends(table, clock):
    progress = ProgressStore(table)
    failure = PollFailure(
        at=T0, reason="projects poller failed: config document /ctns/config is invalid", kind="CONFIG"
    )
    progress.note_poll_failure("projects", failure)
    progress.note_poll_failure("tasks", failure)
    assert progress.poll_failure("projects") == failure and progress.poll_failure("time") is None

    progress.acquire_lease("projects", "inv-a", seconds=60)
    assert progress.end_run("projects", "inv-a", phases=["changes"], window_end=T0, run_id="r-1", also=[]) is True
    assert progress.poll_failure("projects") is None  # in the run end's one transaction
    assert progress.poll_failure("tasks") == failure  # another sync's stays
    item = table.get_item(Key={PK: "SYNC#tasks", SK: "POLL_FAILURE"})["Item"]
    assert int(item[TTL_ATTRIBUTE]) == int((T0 + timedelta(days=30)).timestamp())

    # the poller's fallback when the run end's transaction is refused clears it on its own
    progress.note_poll_failure("time", failure)
    progress.clear_poll_failure("tasks")
    assert progress.poll_failure("tasks") is None and progress.poll_failure("time") == failure


def test_a_run_end_moves_a_watermark_to_the_same_item_advance_watermark_writes(table, clock):
    """`end_run`'s watermarks (one transaction) and `advance_watermark` (its fallback, one at a time) leave the
    same item: the value, the run that set it and when, for whoever reads the table."""
    progress = ProgressStore(table)
    progress.acquire_lease("projects", "inv-a", seconds=60)
    clock.advance(5)

    assert progress.end_run("projects", "inv-a", phases=["changes"], window_end=T0, run_id="r-1", also=[]) is True
    assert progress.advance_watermark("tasks", "changes", T0, run_id="r-1") is True

    together = table.get_item(Key={PK: "SYNC#projects", SK: "WATERMARK#changes"})["Item"]
    apart = table.get_item(Key={PK: "SYNC#tasks", SK: "WATERMARK#changes"})["Item"]
    assert (
        without_keys(together)
        == without_keys(apart)
        == {
            "value": "2026-11-25T17:00:00Z",
            "run_id": "r-1",
            "set_at": "2026-11-25T17:00:05Z",
        }
    )


def test_a_runs_state_is_read_again_where_dynamodb_left_keys_unprocessed(table):
    """`run_state` reads the cursor and every watermark in one BatchGetItem; keys DynamoDB hands back
    unprocessed (under load) are asked for again, and what the first answer held is kept."""
    progress = ProgressStore(table)
    cursor = Cursor(run_id="r-1", window_end=T0, phase="changes", after="1774")
    progress.save_cursor("projects", cursor)
    progress.advance_watermark("projects", "changes", T0 - timedelta(hours=1), run_id="r-0")
    progress.advance_watermark("projects", "deletions", T0 - timedelta(hours=2), run_id="r-0")
    partial = UnprocessedTable(table, served=1)

    found, marks, _, _ = ProgressStore(partial).run_state("projects", ["changes", "deletions"])  # type: ignore[arg-type]

    assert found == cursor
    assert marks == {"changes": T0 - timedelta(hours=1), "deletions": T0 - timedelta(hours=2)}
    assert partial.batches == [4, 3]  # the cursor, the legacy watermark and both phases'; then all but the first


def test_a_runs_state_brings_the_lists_of_records_to_look_at_again_in_the_same_read(table):
    progress, mappings = ProgressStore(table), MappingStore(table)
    progress.advance_watermark("projects", "changes", T0, run_id="r-0")
    mappings.list_unsettled("project", "101")
    mappings.list_unsettled("customer", "7")
    mappings.list_unsettled("task", "5")
    calls = dynamodb_calls(table)
    wanted = [MappingStore.unsettled_key(kind) for kind in ("project", "customer", "never-listed")]

    cursor, marks, others, _ = progress.run_state("projects", ["changes"], also=wanted)

    assert [name for name, _ in calls] == ["BatchGetItem"]
    assert (cursor, marks) == (None, {"changes": T0})
    assert MappingStore.unsettled_in(others) == {"project": ["101"], "customer": ["7"]}
    mappings.unlist_unsettled("project", "101")
    assert mappings.unsettled("project") == [] and mappings.unsettled("task") == ["5"]


def test_a_runs_state_is_read_consistently(table):
    """A cursor or a watermark read a moment old would read a window again or lose a page (moto always reads
    consistently: the request shows it)."""
    calls = dynamodb_calls(table)

    assert ProgressStore(table).run_state("projects", ["changes"]) == (None, {}, [], set())  # a first run: nothing yet

    ((name, body),) = calls
    assert name == "BatchGetItem" and body["RequestItems"][table.name]["ConsistentRead"] is True


# -- RunLog --------------------------------------------------------------------------------------------------
def test_a_run_summary_starts_empty_and_records_status(table, clock):
    log = RunLog(table)
    log.start("projects", "run-1", started_at=T0)

    summary = log.summary("run-1")
    assert summary.sync == "projects" and summary.started_at == T0 and summary.status == "running"
    assert summary.counts == {outcome: 0 for outcome in OUTCOMES} and summary.enqueued == 0
    assert summary.finished_at is None and summary.notes == {}

    log.set_status("run-1", "enqueued", enqueued=42)
    clock.advance(30)
    log.set_status("run-1", "continued", finished=True)
    summary = log.summary("run-1")
    assert (summary.status, summary.enqueued, summary.finished_at) == ("continued", 42, T0 + timedelta(seconds=30))
    assert log.summary("run-unknown") is None


def test_counts_from_concurrent_workers_add_up_exactly(table):
    RunLog(table).start("time", "run-7", started_at=T0)
    workers, per_worker = 8, 25
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            log = RunLog(own_table())
            barrier.wait()
            for i in range(per_worker):
                log.count("run-7", "created")
                if i % 5 == 0:
                    log.count("run-7", "failed")
                if n % 2 == 0:
                    log.count("run-7", "skipped", amount=3)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    counts = RunLog(table).summary("run-7").counts
    assert counts["created"] == workers * per_worker
    assert counts["failed"] == workers * (per_worker // 5)
    assert counts["skipped"] == (workers // 2) * per_worker * 3
    assert counts["updated"] == counts["unchanged"] == counts["retried"] == 0


def test_an_unknown_outcome_is_refused(table):
    RunLog(table).start("time", "run-8", started_at=T0)
    with pytest.raises(ValueError, match="outcome"):
        RunLog(table).count("run-8", "exploded")


def test_notes_appear_in_the_summary(table):
    log = RunLog(table)
    log.start("tasks", "run-2", started_at=T0)
    log.note("run-2", "links", "skipped: the company does not restrict tasks by job")
    log.note("run-2", "window", "read changes since 2026-11-24T21:00:00Z")
    assert log.summary("run-2").notes == {
        "links": "skipped: the company does not restrict tasks by job",
        "window": "read changes since 2026-11-24T21:00:00Z",
    }


def test_failures_are_listed_per_run_and_grouped_by_cause_key(table):
    log = RunLog(table)
    unmapped = "employee-unmapped:sam.freelance@contractor.example.com"
    log.start("time", "run-1", started_at=T0)
    log.start("time", "run-2", started_at=T0 + timedelta(hours=1))

    def fail(run: str, source: str, key: str, reason: str, at: datetime = T0, **extra: Any) -> bool:
        return log.record_failure(
            run,
            Failure(
                sync="time", source_id=source, kind="NEEDS_ATTENTION", reason=reason, cause_key=key, at=at, **extra
            ),
        )

    # The text names the record; the key names the cause
    assert fail("run-1", "ts-1", unmapped, "ClickTime user sam (ts-1) has no NetSuite employee") is True
    assert fail("run-1", "ts-2", unmapped, "ClickTime user sam (ts-2) has no NetSuite employee") is False
    fail("run-1", "ts-3", "period-closed", "period Oct 2026 is closed", target_id="tb-9", fix="reopen Oct 2026")
    fail("run-2", "ts-4", unmapped, "ClickTime user sam (ts-4) has no NetSuite employee", at=T0 + timedelta(hours=1))

    # Each run lists its own failures with their reasons
    failures = {f.source_id: f for f in log.failures("run-1")}
    assert set(failures) == {"ts-1", "ts-2", "ts-3"}
    assert failures["ts-3"].target_id == "tb-9" and failures["ts-3"].cause_key == "period-closed"
    assert [f.source_id for f in log.failures("run-2")] == ["ts-4"]

    # And each cause shows up once per sync, with a count, first and last seen, and the records it blocks
    causes = {c.key: c for c in log.causes("time")}
    assert set(causes) == {unmapped, "period-closed"}
    cause = causes[unmapped]
    assert cause.count == 3 and cause.blocked == ["ts-1", "ts-2", "ts-4"]
    assert (cause.first_seen, cause.last_seen) == (T0, T0 + timedelta(hours=1))
    assert cause.reason.endswith("(ts-4) has no NetSuite employee")
    assert causes["period-closed"].fix == "reopen Oct 2026"


def test_a_run_keeps_every_failure_of_one_record(table):
    """Keyed by the record alone, a record's second failure of a run overwrote its first (review, 2026-12-03
    evening): two causes of one record, a flag and then its dead letter, are each kept; a flag recorded again (a
    retry) and a dead letter redriven are still one item each."""
    log = RunLog(table)
    log.start("time", "run-1", started_at=T0)

    def fail(key: str, reason: str, **extra: Any) -> None:
        log.record_failure(
            "run-1",
            Failure(sync="time", source_id="ts-1", kind="FLAGGED", reason=reason, cause_key=key, at=T0, **extra),
        )

    fail("frozen", "bills 1, 2 frozen")
    fail("short", "the report is short")
    fail("short", "the report is short")  # a retry tells it again
    fail("gave-up:x", "gave up", dead_lettered=True)
    fail("gave-up:x", "gave up again", dead_lettered=True)  # a redrive that fails again
    log.record_failure(
        "run-1", Failure(sync="time", source_id="ts-10", kind="FLAGGED", reason="other", cause_key="short", at=T0)
    )

    reasons = sorted(f.reason for f in log.failures("run-1") if f.source_id == "ts-1")
    assert reasons == ["bills 1, 2 frozen", "gave up again", "the report is short"]
    assert sorted(i["reason"] for i in log.failures_of("run-1", "ts-1")) == reasons  # not ts-10's
    assert log.dead_lettered_in("run-1", "ts-1") is True

    # A failure naming several flags of the record (`records.blocking.record_flags`) counts each
    log.record_failure(
        None, Failure(sync="time", source_id="ts-2", kind="FLAGGED", reason="bills 3, 4", cause_key="frozen"), count=2
    )
    assert log.cause("time", "frozen").count == 3


def test_a_cause_lists_a_bounded_sample_counts_everything_and_expires_once_closed(table, clock):
    log = RunLog(table, retention_days=30)
    for n in range(BLOCKED_SAMPLE + 20):
        log.record_failure(
            None,
            Failure(sync="expenses", source_id=f"es-{n:03d}", kind="GAVE_UP", reason="x" * 2000, cause_key="k", at=T0),
        )
    cause = log.cause("expenses", "k")
    assert cause.count == BLOCKED_SAMPLE + 20 and len(cause.blocked) == BLOCKED_SAMPLE
    assert len(cause.reason) == 1000
    item = table.get_item(Key={PK: "CAUSE#expenses", SK: "k"})["Item"]
    assert TTL_ATTRIBUTE not in item  # open: kept until it is closed (tests/integration/test_open_cause_retention.py)
    log.resolve_cause("expenses", "k")
    item = table.get_item(Key={PK: "CAUSE#expenses", SK: "k"})["Item"]
    assert int(item[TTL_ATTRIBUTE]) == int((clock.now + timedelta(days=30)).timestamp())


def test_a_resolved_cause_opens_again_on_its_next_failure(table):
    log = RunLog(table)
    failure = Failure(
        sync="projects", source_id="1774", kind="FIELD_NOT_KEPT", reason="r", cause_key="field-not-kept:job.f"
    )
    assert log.record_failure(None, failure) is True
    log.resolve_cause("projects", "field-not-kept:job.f")
    assert log.causes("projects") == [] and not log.cause("projects", "field-not-kept:job.f").open
    assert log.record_failure(None, failure) is True
    assert [c.key for c in log.causes("projects")] == ["field-not-kept:job.f"]


def test_a_record_not_tried_under_a_pause_counts_under_its_cause_but_keeps_the_reason_that_opened_it(table):
    log = RunLog(table)
    opening = Failure(
        sync="time",
        source_id="ts-1",
        kind="SYSTEMIC",
        reason="NetSuite 401 INVALID_LOGIN: the token in the NetSuite secret ctsync/netsuite is refused",
        cause_key="netsuite-login",
        fix="create a new token and put it into the NetSuite secret ctsync/netsuite",
        dead_lettered=True,
    )
    log.record_failure("run-1", opening)
    not_tried = opening.model_copy(
        update={
            "source_id": "ts-2",
            "reason": "not tried: the sync is paused until 12:00 because ...",
            "not_tried": True,
        }
    )
    log.record_failure("run-1", not_tried)

    cause = log.cause("time", "netsuite-login")
    assert cause.reason == opening.reason and cause.fix == opening.fix
    assert cause.count == 2 and set(cause.blocked) == {"ts-1", "ts-2"} and set(cause.held) == {"ts-1", "ts-2"}
    # The run keeps each record's own text, and the mark is not stored with it
    assert [f.reason for f in log.failures("run-1")] == [opening.reason, not_tried.reason]
    assert not any(f.not_tried for f in log.failures("run-1"))


def test_a_cause_first_met_by_a_record_not_tried_still_has_a_reason_and_fix(table):
    log = RunLog(table)
    log.record_failure(
        None,
        Failure(
            sync="time",
            source_id="ts-2",
            kind="SYSTEMIC",
            reason="not tried",
            cause_key="k",
            fix="do x",
            not_tried=True,
        ),
    )
    cause = log.cause("time", "k")
    assert (cause.reason, cause.fix) == ("not tried", "do x")


def test_a_pause_keeps_the_fix_of_the_failure_that_opened_it(table):
    store = ProgressStore(table)
    breaker = Breaker(
        cause_key="netsuite-login", kind="needs_attention", reason="bad token", until=T0, opened_at=T0, fix="do x"
    )
    store.open_breaker("time", breaker)
    assert store.breaker("time").fix == "do x"


def test_a_batch_adds_its_counts_in_one_update(table):
    log = RunLog(table)
    log.start("tasks", "run-3", started_at=T0)
    log.add_counts("run-3", {"created": 7, "failed": 2, "deferred": 1, "skipped": 0})
    log.add_counts("run-3", {"created": 1})
    counts = log.summary("run-3").counts
    assert (counts["created"], counts["failed"], counts["deferred"], counts["skipped"]) == (8, 2, 1, 0)


def test_runs_are_listed_newest_first(table):
    log = RunLog(table)
    progress = ProgressStore(table)
    # Progress items share the sync's partition; they must not show up as runs
    progress.advance_watermark("projects", "changes", T0, run_id="r-mid")
    progress.acquire_lease("projects", "inv-1", seconds=60)
    progress.save_cursor("projects", Cursor(run_id="r-mid", window_end=T0, phase="changes"))
    log.start("projects", "r-mid", started_at=T0)
    log.start("projects", "r-new", started_at=T0 + timedelta(hours=1))
    log.start("projects", "r-old", started_at=T0 - timedelta(hours=1))
    log.start("tasks", "r-other", started_at=T0 + timedelta(hours=2))

    assert log.runs("projects") == ["r-new", "r-mid", "r-old"]
    assert log.runs("projects", limit=2) == ["r-new", "r-mid"]
    assert log.runs("tasks") == ["r-other"]


def test_run_items_expire_after_the_retention(table, clock):
    RunLog(table, retention_days=30).start("projects", "run-1", started_at=T0)
    item = table.get_item(Key={PK: "RUN#run-1", SK: "SUMMARY"})["Item"]
    assert int(item[TTL_ATTRIBUTE]) == int((T0 + timedelta(days=30)).timestamp())


def test_a_record_that_went_through_after_all_leaves_its_cause_which_closes_once_its_sample_is_empty(table):
    log = RunLog(table)
    for source_id in ("es-1", "es-2"):
        log.record_failure(
            None, Failure(sync="expenses", source_id=source_id, kind="RECEIPT", reason="r", cause_key="dl")
        )
    log.unblock("expenses", "dl", "es-1")
    log.unblock("expenses", "dl", "es-9")  # never named: nothing happens
    assert log.cause("expenses", "dl").blocked == ["es-2"] and log.cause("expenses", "dl").open
    log.unblock("expenses", "dl", "es-2")
    assert log.cause("expenses", "dl").open is False and log.causes("expenses") == []
    log.unblock("expenses", "absent", "es-1")  # no such cause: nothing happens

    # A cause that overflowed its sample may block records nobody listed: it stays open
    for n in range(BLOCKED_SAMPLE + 1):
        log.record_failure(None, Failure(sync="time", source_id=f"ts-{n}", kind="K", reason="r", cause_key="big"))
    for n in range(BLOCKED_SAMPLE + 1):
        log.unblock("time", "big", f"ts-{n}")
    assert log.cause("time", "big").blocked == [] and log.cause("time", "big").open


def test_a_run_end_written_one_call_at_a_time_records_its_status_finish_and_counts(table, clock):
    """`finish`, the fallback when the run's end could not be one transaction: a run logged at its start gets
    its status, its queued count, when it finished and the outcomes the poller judged; a quiet run not logged
    yet is logged whole (its summary and its entry in the sync's list of runs)."""
    log = RunLog(table)
    log.start("projects", "r-logged", started_at=T0)
    clock.advance(90)

    log.finish(
        RunEnd(
            sync="projects",
            run_id="r-logged",
            started_at=T0,
            status="partial",
            enqueued=4,
            counts={"unchanged": 3, "skipped": 0},
            logged=True,
        )
    )
    log.finish(
        RunEnd(
            sync="projects",
            run_id="r-quiet",
            started_at=T0 + timedelta(seconds=60),
            status="enqueued",
            enqueued=0,
            counts={"unchanged": 150, "skipped": 2},
            logged=False,
        )
    )

    logged = log.summary("r-logged")
    assert (logged.status, logged.enqueued, logged.finished_at) == ("partial", 4, T0 + timedelta(seconds=90))
    assert (logged.counts["unchanged"], logged.counts["skipped"]) == (3, 0)
    quiet = log.summary("r-quiet")
    assert (quiet.sync, quiet.started_at, quiet.status, quiet.enqueued) == (
        "projects",
        T0 + timedelta(seconds=60),
        "enqueued",
        0,
    )
    assert quiet.finished_at == T0 + timedelta(seconds=90)
    assert (quiet.counts["unchanged"], quiet.counts["skipped"]) == (150, 2)
    assert log.runs("projects") == ["r-quiet", "r-logged"]


@pytest.mark.parametrize("logged", [True, False], ids=["logged-at-start", "quiet-run-logged-at-its-end"])
def test_a_run_end_as_one_transaction_records_what_the_calls_one_at_a_time_record(table, clock, logged):
    """`finish_writes` (the run's end, in the transaction that moves the watermarks) and `finish` (its
    fallback) leave the same summary and list of runs, whether or not the run was logged at its start."""

    def end(run_id: str) -> RunEnd:
        return RunEnd(
            sync="projects",
            run_id=run_id,
            started_at=T0,
            status="partial",
            enqueued=7,
            counts={"unchanged": 5, "skipped": 2},
            logged=logged,
        )

    log = RunLog(table)
    if logged:
        log.start("projects", "r-together", started_at=T0)
        log.start("projects", "r-apart", started_at=T0)
        log.add_counts("r-together", {"created": 1})
        log.add_counts("r-apart", {"created": 1})
    clock.advance(45)

    assert write_together(table, log.finish_writes(end("r-together"))) is True
    log.finish(end("r-apart"))

    together, apart = log.summary("r-together"), log.summary("r-apart")
    assert together.model_dump(exclude={"run_id"}) == apart.model_dump(exclude={"run_id"})
    assert (together.status, together.enqueued, together.finished_at) == ("partial", 7, T0 + timedelta(seconds=45))
    assert (together.counts["unchanged"], together.counts["skipped"]) == (5, 2)
    assert together.counts["created"] == (1 if logged else 0)
    assert sorted(log.runs("projects")) == ["r-apart", "r-together"]


def test_the_run_log_reads_causes_and_runs_consistently(table):
    """A cause or a summary read a moment old would miss a failure just counted (`ctns redrive` resolves the
    open causes it reads): every read asks DynamoDB for a consistent one (moto always reads consistently, so
    only the request can show it)."""
    log = RunLog(table)
    calls = dynamodb_calls(table)

    log.cause("time", "period-closed")
    log.causes("time")
    log.summary("run-1")
    log.failures("run-1")

    assert [name for name, _ in calls] == ["GetItem", "Query", "Query", "Query"]
    assert all(body["ConsistentRead"] is True for _, body in calls)


def test_a_runs_failures_and_a_syncs_causes_are_read_across_every_page(table):
    """A run's items and a sync's causes can outgrow one DynamoDB answer (1 MB): every page is read."""
    log = RunLog(table)
    log.start("time", "run-1", started_at=T0)
    log.note("run-1", "window", "read changes since 2026-11-24T21:00:00Z")
    for n in range(7):
        log.record_failure(
            "run-1", Failure(sync="time", source_id=f"ts-{n}", kind="K", reason="r", cause_key=f"cause-{n}")
        )
    paging = PagingTable(table, limit=2)
    paged = RunLog(paging)

    assert sorted(f.source_id for f in paged.failures("run-1")) == [f"ts-{n}" for n in range(7)]
    assert sorted(c.key for c in paged.causes("time")) == [f"cause-{n}" for n in range(7)]
    summary = paged.summary("run-1")
    assert summary.notes == {"window": "read changes since 2026-11-24T21:00:00Z"} and summary.status == "running"
    assert paging.queries >= 4 + 4 + 5


def test_a_failure_counted_past_a_full_sample_is_not_a_new_cause(table):
    """Only a cause's first failure (or its first after being resolved) is worth an ERROR line, also once its
    sample of blocked records is full and failures are only counted."""
    log = RunLog(table)

    def fail(n: int) -> bool:
        return log.record_failure(None, Failure(sync="time", source_id=f"ts-{n}", kind="K", reason="r", cause_key="k"))

    firsts = [fail(n) for n in range(BLOCKED_SAMPLE + 3)]

    assert firsts == [True] + [False] * (BLOCKED_SAMPLE + 2)
    log.resolve_cause("time", "k")
    assert fail(BLOCKED_SAMPLE + 3) is True


def test_a_run_log_made_without_a_retention_keeps_runs_thirty_days_like_the_deployed_default(table, clock):
    """`ctns` makes its run log without a retention: its runs expire when the deployed stack's would
    (RUN_LOG_RETENTION_DAYS defaults to 30)."""
    RunLog(table).start("projects", "run-1", started_at=T0)

    item = table.get_item(Key={PK: "RUN#run-1", SK: "SUMMARY"})["Item"]
    assert int(item[TTL_ATTRIBUTE]) == int((T0 + timedelta(days=30)).timestamp())


def test_a_cause_never_recorded_reads_as_none(table):
    log = RunLog(table)
    log.record_failure(None, Failure(sync="time", source_id="ts-1", kind="K", reason="r", cause_key="known"))

    assert log.cause("time", "never-seen") is None
    assert log.cause("expenses", "known") is None  # causes are per sync


def test_a_failure_without_a_cause_key_is_grouped_under_its_kind_in_lower_case(table):
    log = RunLog(table)
    for source_id in ("es-1", "es-2"):
        log.record_failure(None, Failure(sync="expenses", source_id=source_id, kind="GAVE_UP", reason="r"))

    (cause,) = log.causes("expenses")
    assert (cause.key, cause.kind, cause.count, cause.blocked) == ("gave_up", "GAVE_UP", 2, ["es-1", "es-2"])
    assert log.cause("expenses", "gave_up") == cause


def test_a_cause_of_exactly_a_full_sample_closes_once_every_record_it_listed_went_through(table):
    """A cause that counted exactly BLOCKED_SAMPLE failures listed every one of them: once each went through,
    nothing is left blocked, so it closes (only a cause that counted more may block records nobody listed)."""
    log = RunLog(table)
    for n in range(BLOCKED_SAMPLE):
        log.record_failure(None, Failure(sync="time", source_id=f"ts-{n}", kind="K", reason="r", cause_key="full"))
    assert len(log.cause("time", "full").blocked) == BLOCKED_SAMPLE

    for n in range(BLOCKED_SAMPLE):
        log.unblock("time", "full", f"ts-{n}")

    cause = log.cause("time", "full")
    assert cause.blocked == [] and cause.count == BLOCKED_SAMPLE and cause.open is False


def test_a_record_leaving_a_cause_that_still_blocks_others_costs_one_write(table):
    """Only a cause whose sample emptied is worth trying to close: one that still lists other records is left
    as it is after taking the record out (no second, refused write)."""
    log = RunLog(table)
    for source_id in ("es-1", "es-2"):
        log.record_failure(None, Failure(sync="expenses", source_id=source_id, kind="K", reason="r", cause_key="dl"))
    calls = dynamodb_calls(table)

    log.unblock("expenses", "dl", "es-1")

    assert [name for name, _ in calls] == ["UpdateItem"]
    assert log.cause("expenses", "dl").blocked == ["es-2"] and log.cause("expenses", "dl").open


class FailsWhileClosing:
    """The table, but another record's failure is counted into the cause just before `unblock` tries to close
    it (between its two writes), as a worker elsewhere could."""

    def __init__(self, table: Any, failure: Failure) -> None:
        self._table, self._failure = table, failure
        self.updates = 0

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self.updates += 1
        if self.updates == 2:
            RunLog(self._table).record_failure(None, self._failure)
        return self._table.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def test_a_cause_that_fails_again_while_it_is_being_closed_stays_open(table):
    log = RunLog(table)
    log.record_failure(None, Failure(sync="expenses", source_id="es-1", kind="K", reason="r", cause_key="dl"))
    racing = FailsWhileClosing(table, Failure(sync="expenses", source_id="es-2", kind="K", reason="r", cause_key="dl"))

    RunLog(racing).unblock("expenses", "dl", "es-1")  # the close is refused, quietly

    assert racing.updates == 2
    cause = log.cause("expenses", "dl")
    assert cause.open is True and cause.blocked == ["es-2"] and cause.count == 2


def test_a_resolved_cause_forgets_its_sample_so_its_next_failure_lists_only_the_new_record(table):
    log = RunLog(table)
    for source_id in ("1774", "1775"):
        log.record_failure(None, Failure(sync="projects", source_id=source_id, kind="K", reason="r", cause_key="f"))

    log.resolve_cause("projects", "f")
    assert log.cause("projects", "f").blocked == []

    log.record_failure(None, Failure(sync="projects", source_id="1776", kind="K", reason="r", cause_key="f"))
    assert log.cause("projects", "f").blocked == ["1776"] and log.cause("projects", "f").open


def test_resolving_a_cause_that_does_not_exist_writes_nothing(table):
    """`ctns redrive` resolves the causes it just read; one gone meanwhile (expired) is refused, not written
    back as a bare item with no count, no kind and no dates."""
    log = RunLog(table)

    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        log.resolve_cause("projects", "never-seen")

    assert log.causes("projects", open_only=False) == []
    assert "Item" not in table.get_item(Key={PK: "CAUSE#projects", SK: "never-seen"})


def test_the_run_list_shows_the_twenty_newest_runs_unless_asked_for_more(table):
    log = RunLog(table)
    for n in range(25):
        log.start("projects", f"r-{n:02d}", started_at=T0 + timedelta(minutes=n))

    assert log.runs("projects") == [f"r-{n:02d}" for n in range(24, 4, -1)]
    assert len(log.runs("projects", limit=25)) == 25


# -- skip markers in bulk -----------------------------------------------------------------------------------
def test_skip_markers_in_bulk_take_one_transaction_per_hundred_and_never_cover_a_mapping_or_a_lock(table):
    store = MappingStore(table)
    store.put(Mapping(kind="project", source_id="mapped", target_id="J-1", fingerprint="fp-old"))
    store.lock("project", "locked", "a-worker")
    records = [(f"p{n}", f"fp-{n}") for n in range(150)] + [("mapped", "fp-m"), ("locked", "fp-l"), ("bare", "")]
    calls: list[str] = []
    client = table.meta.client
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))

    marked = store.note_skipped_many("project", records)

    assert marked == {f"p{n}" for n in range(150)}
    # 100 in one transaction; the second (52 records) is refused for the two it must not cover and is then
    # marked record by record
    assert calls.count("TransactWriteItems") == 2 and calls.count("PutItem") == 52
    found = store.get_many("project", [s for s, _ in records])
    assert found["p7"].target_id == "" and found["p7"].fingerprint == "fp-7"
    assert (found["mapped"].target_id, found["mapped"].fingerprint) == ("J-1", "fp-old")
    assert "bare" not in found
    assert store.get("project", "locked") is None  # still only a lock, no mapping and no marker


def test_a_skip_marker_answers_whether_it_was_written(table):
    store = MappingStore(table)
    store.put(Mapping(kind="task", source_id="mapped", target_id="T-1"))

    assert store.note_skipped("task", "new", "fp") is True
    assert store.note_skipped("task", "mapped", "fp") is False
    assert store.note_skipped("task", "no-fingerprint", "") is False


def test_only_an_unsettled_kinds_list_item_is_read_as_its_list():
    """The items beside the lists in the run's read (its cursor and watermarks) are never taken for one, whatever
    their attributes, nor is another item under a list's partition key."""
    items = [
        {"pk": "UNSETTLED#project", "sk": "LIST", "ids": {"12", "3"}},
        {"pk": "PROGRESS#projects", "sk": "LIST", "ids": {"x"}},
        {"pk": "UNSETTLED#task", "sk": "OTHER", "ids": {"y"}},
        {"sk": "LIST", "ids": {"z"}},
    ]
    assert MappingStore.unsettled_in(items) == {"project": ["12", "3"]}
