"""The state stores (mappings, progress, run log) against DynamoDB as moto emulates it.

The table is created from template.yaml itself (read through `ctns.stack.load()`), so these tests exercise the
key schema and indexes that would really be deployed, and fail if the template and the code drift apart.
Time-dependent behaviour (claim and lease expiry) runs on a fake clock patched into the stores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ctns import stack as ctns_stack
from ctns.local_aws import atomic_moto
from ctsync.errors import TransientError
from ctsync.state import mappings as mappings_module
from ctsync.state import progress as progress_module
from ctsync.state import runlog as runlog_module
from ctsync.state.mappings import CreationContended, Mapping, MappingStore
from ctsync.state.progress import Cursor, ProgressStore
from ctsync.state.runlog import OUTCOMES, Failure, RunLog
from ctsync.state.table import BY_KIND, BY_TARGET, PK, SK, TTL_ATTRIBUTE

TABLE = "ctns-state-test"
T0 = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)


# -- the table, as the template declares it ------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_properties() -> dict[str, Any]:
    return ctns_stack.load().resources["StateTable"]["Properties"]


def test_the_template_declares_what_the_stores_use(table_properties):
    keys = {k["KeyType"]: k["AttributeName"] for k in table_properties["KeySchema"]}
    assert keys == {"HASH": PK, "RANGE": SK}
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table_properties["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        BY_TARGET: ["gsi1pk", "gsi1sk"],
        BY_KIND: ["gsi2pk", "gsi2sk"],
        "by_parent": ["gsi3pk", "gsi3sk"],
    }
    assert table_properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    # Requests one at a time, as DynamoDB applies each atomically (moto's backends are not thread-safe).
    with mock_aws(), atomic_moto():
        yield


@pytest.fixture
def table(aws, table_properties) -> Any:
    wanted = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    client = boto3.client("dynamodb")
    client.create_table(TableName=TABLE, **{k: table_properties[k] for k in wanted})
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=table_properties["TimeToLiveSpecification"])
    return boto3.resource("dynamodb").Table(TABLE)


def own_table() -> Any:
    """A Table object for another thread (boto3 resources are not shared between threads)."""
    return boto3.session.Session().resource("dynamodb").Table(TABLE)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    for module in (mappings_module, progress_module, runlog_module):
        monkeypatch.setattr(module, "utc_now", fake)
    return fake


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


def test_a_creation_claim_keeps_a_second_worker_out_until_released(table):
    store = MappingStore(table)
    with store.creation_claim("customer", "12", owner="worker-a"):
        with pytest.raises(CreationContended) as caught:
            with store.creation_claim("customer", "12", owner="worker-b"):
                pytest.fail("a second worker got the claim")
        assert isinstance(caught.value, TransientError)  # the message is retried later, not dead-lettered
        # Other records are not blocked
        with store.creation_claim("customer", "13", owner="worker-b"):
            pass
        # The holder itself may claim again (a redelivered message of its own)
        with store.creation_claim("customer", "12", owner="worker-a"):
            pass
    # Once released, the next worker gets it
    with store.creation_claim("customer", "12", owner="worker-b"):
        pass


def test_a_claim_is_released_when_the_block_fails(table):
    store = MappingStore(table)
    with pytest.raises(RuntimeError):
        with store.creation_claim("customer", "12", owner="worker-a"):
            raise RuntimeError("the create failed")
    with store.creation_claim("customer", "12", owner="worker-b"):
        pass


def test_an_expired_claim_is_taken_over_and_the_late_holder_does_not_release_it(table, clock):
    store = MappingStore(table)
    # Given worker-a claims and then stalls (its block never ends)
    stalled = store.creation_claim("customer", "12", owner="worker-a", ttl_seconds=300)
    stalled.__enter__()
    clock.advance(299)
    with pytest.raises(CreationContended):
        with store.creation_claim("customer", "12", owner="worker-b"):
            pass

    # When the claim has expired, worker-b takes it over
    clock.advance(2)
    taken = store.creation_claim("customer", "12", owner="worker-b")
    taken.__enter__()

    # And worker-a finishing late does not release worker-b's claim
    stalled.__exit__(None, None, None)
    with pytest.raises(CreationContended):
        with store.creation_claim("customer", "12", owner="worker-c"):
            pass
    taken.__exit__(None, None, None)
    with store.creation_claim("customer", "12", owner="worker-c"):
        pass


def test_wait_for_returns_a_mapping_recorded_by_another_worker(table):
    store = MappingStore(table)

    def other_worker() -> None:
        time.sleep(0.2)
        MappingStore(own_table()).put(Mapping(kind="customer", source_id="12", target_id="ct-client-12"))

    thread = threading.Thread(target=other_worker)
    started = time.monotonic()
    thread.start()
    try:
        found = store.wait_for("customer", "12", seconds=5, interval=0.02)
    finally:
        thread.join()
    assert found is not None and found.target_id == "ct-client-12"
    assert 0.15 < time.monotonic() - started < 4


def test_wait_for_gives_up_after_its_time(table):
    started = time.monotonic()
    assert MappingStore(table).wait_for("customer", "404", seconds=0.1, interval=0.02) is None
    assert time.monotonic() - started < 2


# -- ProgressStore -------------------------------------------------------------------------------------------
def test_the_watermark_only_moves_forward(table):
    progress = ProgressStore(table)
    assert progress.watermark("projects") is None

    assert progress.advance_watermark("projects", T0, run_id="r1") is True
    assert progress.advance_watermark("projects", T0 - timedelta(hours=1), run_id="r2") is False
    assert progress.advance_watermark("projects", T0, run_id="r3") is False
    assert progress.watermark("projects") == T0
    assert progress.advance_watermark("projects", T0 + timedelta(seconds=1), run_id="r4") is True
    assert progress.watermark("projects") == T0 + timedelta(seconds=1)
    assert progress.watermark("tasks") is None  # per sync


def test_concurrent_advances_leave_the_latest_watermark(table):
    moments = [T0 + timedelta(minutes=m) for m in (7, 3, 11, 5, 2, 13, 1, 8)]
    barrier = threading.Barrier(len(moments))

    def advance(moment: datetime) -> None:
        store = ProgressStore(own_table())
        barrier.wait()
        store.advance_watermark("time", moment, run_id=moment.isoformat())

    threads = [threading.Thread(target=advance, args=(m,)) for m in moments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ProgressStore(table).watermark("time") == max(moments)


def test_cursor_save_load_and_clear(table):
    progress = ProgressStore(table)
    assert progress.cursor("projects") is None
    cursor = Cursor(
        run_id="r1", window_start=T0 - timedelta(hours=3), window_end=T0, phase="changes", after="1774", enqueued=250
    )

    progress.save_cursor("projects", cursor)
    assert progress.cursor("projects") == cursor
    moved = cursor.model_copy(update={"phase": "deletions", "after": None, "enqueued": 300})
    progress.save_cursor("projects", moved)
    assert progress.cursor("projects") == moved
    assert progress.cursor("tasks") is None

    progress.clear_cursor("projects")
    assert progress.cursor("projects") is None


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


def test_failures_are_listed_per_run_and_grouped_by_cause(table):
    log = RunLog(table)
    unmapped = "Employee 'Sam Freelance' (CTR-9001) has no NetSuite employee"
    closed = "Accounting period Nov 2026 is closed"
    log.start("time", "run-1", started_at=T0)
    log.start("time", "run-2", started_at=T0 + timedelta(hours=1))
    log.record_failure("run-1", Failure(sync="time", source_id="te-1", kind="NEEDS_ATTENTION", reason=unmapped, at=T0))
    log.record_failure("run-1", Failure(sync="time", source_id="te-2", kind="NEEDS_ATTENTION", reason=unmapped, at=T0))
    log.record_failure(
        "run-1", Failure(sync="time", source_id="te-3", target_id="tb-9", kind="BAD_INPUT", reason=closed, at=T0)
    )
    log.record_failure(
        "run-2",
        Failure(sync="time", source_id="te-4", kind="NEEDS_ATTENTION", reason=unmapped, at=T0 + timedelta(hours=1)),
    )

    # Each run lists its own failures with their reasons
    failures = {f.source_id: f for f in log.failures("run-1")}
    assert set(failures) == {"te-1", "te-2", "te-3"}
    assert (
        failures["te-3"].reason == closed
        and failures["te-3"].target_id == "tb-9"
        and failures["te-3"].kind == "BAD_INPUT"
    )
    assert failures["te-1"].at == T0
    assert [f.source_id for f in log.failures("run-2")] == ["te-4"]

    # And each cause shows up once per sync, with every source record it blocks
    cause = table.get_item(Key={PK: "CAUSE#time", SK: unmapped}, ConsistentRead=True)["Item"]
    assert cause["blocked"] == {"te-1", "te-2", "te-4"}
    assert cause["kind"] == "NEEDS_ATTENTION" and cause["last_seen"] == "2026-11-25T18:00:00Z"
    other = table.get_item(Key={PK: "CAUSE#time", SK: closed}, ConsistentRead=True)["Item"]
    assert other["blocked"] == {"te-3"}
    causes = table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "CAUSE#time"})["Items"]
    assert len(causes) == 2


def test_a_long_reason_is_grouped_under_its_first_500_characters(table):
    log = RunLog(table)
    log.start("expenses", "run-1", started_at=T0)
    reason = "x" * 700
    log.record_failure("run-1", Failure(sync="expenses", source_id="ei-1", kind="GAVE_UP", reason=reason))
    assert log.failures("run-1")[0].reason == reason  # the full reason stays on the run
    item = table.get_item(Key={PK: "CAUSE#expenses", SK: "x" * 500})["Item"]
    assert item["blocked"] == {"ei-1"}


def test_runs_are_listed_newest_first(table):
    log = RunLog(table)
    progress = ProgressStore(table)
    # Progress items share the sync's partition; they must not show up as runs
    progress.advance_watermark("projects", T0, run_id="r-mid")
    progress.acquire_lease("projects", "inv-1", seconds=60)
    progress.save_cursor("projects", Cursor(run_id="r-mid", window_start=T0, window_end=T0, phase="changes"))
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
