"""Keeping one target record in step with one source record (ctsync.records.targets), and writing the target
ID back into NetSuite once, verified (ctsync.records.writeback), against the real MappingStore on moto.

The target operations are fakes that record every call; the store, its lock and its fence are the real ones.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.clicktime.errors import (
    ClickTimeAlreadyExists,
    ClickTimeNotFound,
    ClickTimeOutcomeUnknown,
    ClickTimeValidationError,
)
from ctsync.errors import NeedsAttention, TransientError
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.records.targets import Applied, Holder, Settled, TargetOps, content_hash, retire, upsert_target
from ctsync.records.writeback import NOT_KEPT, SOURCE_GONE, WRITTEN_BACK_AT, WRITTEN_BACK_ID, FieldNotKept, WriteBack
from ctsync.state import Mapping, MappingStore
from ctsync.state.mappings import RecordBusy
from ctsync.sync.messages import Change
from ctsync.timeutil import from_local_text
from tests.integration.conftest import own_table

V1 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
V2 = V1 + timedelta(minutes=5)
V3 = V1 + timedelta(minutes=10)
KIND = "project"
PAYLOAD = {"Name": "Website", "JobNumber": "P-1042", "ClientID": "c-7", "IsActive": True}


class RecordingOps:
    """Target operations that record their calls; `create_error` makes the next create fail."""

    def __init__(self, *, existing: str | None = None, new_id: str = "job-1") -> None:
        self.existing = existing
        self.new_id = new_id
        self.calls: list[tuple[Any, ...]] = []
        self.create_error: Exception | None = None
        self.settle_error: Exception | None = None
        self.settled = Settled()
        self.may_exist = False
        self.with_settle = False
        self.check_first = False
        self.due = False  # a follow-up is due though the target is unchanged
        self.due_asked: list[str] = []  # the target of each mapping asked about
        self.settled_created: list[bool] = []  # what each follow-up was told: did this attempt create the target
        self.settle_args: list[tuple[str, dict[str, Any], str | None]] = []  # target, payload, target before

    def find(self) -> str | None:
        self.calls.append(("find",))
        return self.existing

    def create(self, payload: dict[str, Any]) -> str:
        self.calls.append(("create", payload))
        if self.create_error is not None:
            error, self.create_error = self.create_error, None
            raise error
        return self.new_id

    def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
        self.calls.append(("update", target_id, payload, before.target_id if before else None))

    def settle(self, target_id: str, payload: dict[str, Any], before: Mapping | None, created: bool) -> Settled:
        self.calls.append(("settle", target_id))
        self.settled_created.append(created)
        self.settle_args.append((target_id, payload, before.target_id if before else None))
        if self.settle_error is not None:
            error, self.settle_error = self.settle_error, None
            raise error
        return self.settled

    def ops(self) -> TargetOps:
        return TargetOps(
            kind=KIND,
            find=self.find,
            create=self.create,
            update=self.update,
            settle=self.settle if self.with_settle else None,
            may_exist=self.may_exist,
            check_first=self.check_first,
            due=self.is_due,
        )

    def is_due(self, mapping: Mapping) -> bool:
        self.due_asked.append(mapping.target_id)
        return self.due

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]


def apply(store: MappingStore, ops: RecordingOps, payload: dict[str, Any], version: datetime | None, **kwargs: Any):
    kwargs.setdefault("owner", "run-1:101")
    return upsert_target(store, ops.ops(), source_id="101", version=version, payload=payload, **kwargs)


@pytest.fixture
def store(table) -> MappingStore:
    return MappingStore(table)


def same_mapping(answered: Mapping | None, stored: Mapping) -> bool:
    """The mapping an upsert answers is the one it recorded (the store keeps `updated_at` to the second)."""
    return answered is not None and answered.model_dump(exclude={"updated_at"}) == stored.model_dump(
        exclude={"updated_at"}
    )


def locked_by_someone(store: MappingStore) -> bool:
    try:
        lock = store.lock(KIND, "101", owner="probe")
    except RecordBusy:
        return True
    store.release(lock)
    return False


# -- create, update, unchanged, stale ---------------------------------------------------------------------------
def test_a_first_delivery_creates_without_looking_first_and_records_the_mapping(store) -> None:
    ops = RecordingOps(new_id="job-1")
    applied = apply(store, ops, PAYLOAD, V1, details={"client": "c-7"}, fingerprint="fp-1")
    assert (applied.action, applied.target_id) == ("created", "job-1")
    # Nothing could have created it before: no lookup, one create
    assert ops.names() == ["create"] and ops.calls[0] == ("create", PAYLOAD)
    mapping = store.get(KIND, "101")
    assert (mapping.target_id, mapping.source_version, mapping.content_hash) == ("job-1", V1, content_hash(PAYLOAD))
    assert mapping.details == {"client": "c-7"} and mapping.fingerprint == "fp-1"
    assert same_mapping(applied.mapping, mapping)  # the mapping as recorded
    assert not locked_by_someone(store)


def test_same_payload_again_is_unchanged_writes_nothing_and_moves_the_fence(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    ops = RecordingOps()
    applied = apply(store, ops, PAYLOAD, V2, fingerprint="fp-2")
    assert applied.action == "unchanged" and ops.calls == []
    mapping = store.get(KIND, "101")
    assert mapping.source_version == V2 and mapping.fingerprint == "fp-2"


def test_a_changed_payload_updates_the_target_with_the_mapping_before(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1, details={"client": "c-7", "keep": "me"})
    ops = RecordingOps()
    renamed = {**PAYLOAD, "Name": "Website 2"}
    applied = apply(store, ops, renamed, V2, details={"client": "c-8"})
    assert (applied.action, applied.detail) == ("updated", "")
    assert ops.calls == [("update", "job-1", renamed, "job-1")]
    mapping = store.get(KIND, "101")
    assert mapping.content_hash == content_hash(renamed) and mapping.source_version == V2
    assert mapping.details == {"client": "c-8", "keep": "me"}


def test_a_changed_payload_without_a_version_keeps_the_applied_version(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V2)
    apply(store, RecordingOps(), {**PAYLOAD, "Name": "x"}, None)
    assert store.get(KIND, "101").source_version == V2


@pytest.mark.parametrize("payload", [PAYLOAD, {**PAYLOAD, "Name": "Older"}])
def test_an_older_version_is_skipped_as_stale_without_calls(store, payload) -> None:
    apply(store, RecordingOps(), PAYLOAD, V2)
    ops = RecordingOps()
    applied = apply(store, ops, payload, V1)
    assert (applied.action, applied.target_id, applied.detail) == (
        "skipped",
        "job-1",
        "stale: a newer version was applied",
    )
    assert ops.calls == []
    assert applied.mapping is not None and applied.mapping.source_version == V2
    assert store.get(KIND, "101").source_version == V2
    assert not locked_by_someone(store)


def test_a_deleted_mapping_is_written_even_when_the_hash_matches(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    mapping = store.get(KIND, "101")
    store.put(mapping.model_copy(update={"deleted": True}))
    ops = RecordingOps()
    assert apply(store, ops, PAYLOAD, V2).action == "updated"
    assert ops.names() == ["update"] and store.get(KIND, "101").deleted is False


# -- find before create only when a target may exist --------------------------------------------------------
def test_after_a_create_that_died_before_its_mapping_the_next_attempt_looks_and_adopts(store) -> None:
    # Given a worker that started the create and died (its lock expired or was released by a crash)
    crashed = RecordingOps()
    crashed.create_error = ClickTimeOutcomeUnknown("ClickTime POST /Jobs: ReadTimeout")
    with pytest.raises(ClickTimeOutcomeUnknown):
        apply(store, crashed, PAYLOAD, V1)
    # When the message comes back, Then the job is looked for and adopted: never created twice
    retry = RecordingOps(existing="job-made-before")
    applied = apply(store, retry, PAYLOAD, V1)
    assert applied.action == "updated" and applied.target_id == "job-made-before"
    assert retry.names() == ["find", "update"]
    assert store.get(KIND, "101").target_id == "job-made-before"


def test_a_target_found_after_a_lost_create_whose_update_fails_is_looked_for_again_not_created(store) -> None:
    """Found by mutation testing: the doubt was taken as settled on finding the target, before updating it, so
    a failed update left no mark and the next attempt created a twin."""

    class FailingUpdate(RecordingOps):
        def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
            super().update(target_id, payload, before)
            raise ConnectionError("ClickTime dropped the update")

    crashed = RecordingOps()
    crashed.create_error = ClickTimeOutcomeUnknown("ClickTime POST /Jobs: ReadTimeout")
    with pytest.raises(ClickTimeOutcomeUnknown):
        apply(store, crashed, PAYLOAD, V1)
    found = FailingUpdate(existing="job-9")
    with pytest.raises(ConnectionError):
        apply(store, found, PAYLOAD, V1)
    assert found.names() == ["find", "update"]

    third = RecordingOps(existing="job-9")
    applied = apply(store, third, PAYLOAD, V1)

    assert third.names() == ["find", "update"] and applied.target_id == "job-9"


def test_a_create_refused_outright_leaves_nothing_to_look_for(store) -> None:
    refused = RecordingOps()
    refused.create_error = ClickTimeValidationError(400, "JobNumber: too long")
    with pytest.raises(ClickTimeValidationError):
        apply(store, refused, PAYLOAD, V1)
    retry = RecordingOps()
    apply(store, retry, PAYLOAD, V1)
    assert retry.names() == ["create"]


def test_a_lost_create_looked_for_in_vain_then_refused_outright_leaves_nothing_to_look_for(store) -> None:
    crashed = RecordingOps()
    crashed.create_error = ClickTimeOutcomeUnknown("ClickTime POST /Jobs: ReadTimeout")
    with pytest.raises(ClickTimeOutcomeUnknown):
        apply(store, crashed, PAYLOAD, V1)
    # The next attempt looks (nothing was made after all), then its own create is refused outright
    refused = RecordingOps(existing=None)
    refused.create_error = ClickTimeValidationError(400, "JobNumber: too long")
    with pytest.raises(ClickTimeValidationError):
        apply(store, refused, PAYLOAD, V1)
    assert refused.names() == ["find", "create"]

    # So the doubt is settled: the attempt after that creates without looking again
    retry = RecordingOps()
    apply(store, retry, PAYLOAD, V1)
    assert retry.names() == ["create"]


def test_a_source_holding_a_written_back_id_looks_first(store) -> None:
    ops = RecordingOps(existing="job-from-before")
    ops.may_exist = True
    applied = apply(store, ops, PAYLOAD, V1)
    assert applied.target_id == "job-from-before" and ops.names() == ["find", "update"]


def test_a_create_that_lost_a_race_adopts_the_winners_record(store) -> None:
    # Another worker (another project of the same customer) created the client between our look and create
    ops = RecordingOps(existing="client-made-by-the-other-worker")
    ops.create_error = ClickTimeAlreadyExists(400, "ClientNumber 'C-2001' is already in use")
    applied = apply(store, ops, PAYLOAD, V1)
    assert applied.action == "updated" and applied.target_id == "client-made-by-the-other-worker"
    assert applied.detail == "adopted the target another worker created meanwhile"
    assert ops.names() == ["create", "find", "update"]
    # the winner's record is brought to this payload (there is no mapping before it)
    assert ops.calls[-1] == ("update", "client-made-by-the-other-worker", PAYLOAD, None)
    mapping = store.get(KIND, "101")
    assert mapping.target_id == "client-made-by-the-other-worker" and mapping.content_hash == content_hash(PAYLOAD)
    assert same_mapping(applied.mapping, mapping)
    assert not locked_by_someone(store)


def test_a_race_adoption_whose_update_fails_is_looked_for_again_not_created(store) -> None:
    class FailingUpdate(RecordingOps):
        def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
            super().update(target_id, payload, before)
            raise ConnectionError("ClickTime dropped the update")

    lost = FailingUpdate(existing="client-made-by-the-other-worker")
    lost.create_error = ClickTimeAlreadyExists(400, "ClientNumber 'C-2001' is already in use")
    with pytest.raises(ConnectionError):
        apply(store, lost, PAYLOAD, V1)
    assert store.get(KIND, "101") is None

    retry = RecordingOps(existing="client-made-by-the-other-worker")
    applied = apply(store, retry, PAYLOAD, V1)

    assert retry.names() == ["find", "update"] and applied.target_id == "client-made-by-the-other-worker"


def test_a_duplicate_refusal_with_nothing_to_adopt_is_reported(store) -> None:
    ops = RecordingOps(existing=None)
    ops.create_error = ClickTimeAlreadyExists(400, "ClientNumber 'C-2001' is already in use")
    with pytest.raises(ClickTimeAlreadyExists):
        apply(store, ops, PAYLOAD, V1)
    assert ops.names() == ["create", "find"]
    # The refusal made nothing: the next attempt has nothing to look for, it creates (once the clash is fixed)
    retry = RecordingOps(new_id="job-2")
    applied = apply(store, retry, PAYLOAD, V1)
    assert retry.names() == ["create"] and applied.target_id == "job-2"


# -- concurrency: the lock is the claim and the fence ---------------------------------------------------------
def test_two_workers_creating_one_record_make_one_target(store) -> None:
    created: list[str] = []
    gate = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            mine = MappingStore(own_table())
            ops = RecordingOps(new_id=f"job-{name}")
            original = ops.create

            def create(payload: dict[str, Any]) -> str:
                created.append(name)
                return original(payload)

            ops.create = create  # type: ignore[method-assign]
            gate.wait()
            upsert_target(mine, ops.ops(), source_id="101", version=V1, payload=PAYLOAD, owner=f"run:{name}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(created) == 1
    assert store.get(KIND, "101").target_id == f"job-{created[0]}"


def test_an_older_message_waiting_on_the_lock_does_not_overwrite_the_newer_one(store) -> None:
    # Given the record mapped at V1, and worker A applying V3 while it holds the record
    apply(store, RecordingOps(), PAYLOAD, V1)
    newer = {**PAYLOAD, "Name": "Newest"}
    lock = store.lock(KIND, "101", owner="worker-a")
    older = RecordingOps()
    outcome: list[Any] = []

    def late_older_message() -> None:
        outcome.append(
            upsert_target(
                MappingStore(own_table()),
                older.ops(),
                source_id="101",
                version=V2,
                payload={**PAYLOAD, "Name": "Older"},
                owner="worker-b",
            )
        )

    thread = threading.Thread(target=late_older_message)
    thread.start()
    # When A records V3 while B (with V2) waits for the record
    store.commit(
        lock,
        Mapping(kind=KIND, source_id="101", target_id="job-1", source_version=V3, content_hash=content_hash(newer)),
    )
    thread.join()
    # Then B is fenced off under the lock: no write to the target, the mapping keeps V3
    assert outcome[0].action == "skipped" and older.calls == []
    assert store.get(KIND, "101").source_version == V3


# -- the follow-up step ------------------------------------------------------------------------------------------
def test_a_created_target_is_recorded_before_its_follow_up_so_a_failing_follow_up_never_recreates_it(store) -> None:
    ops = RecordingOps(new_id="task-1")
    ops.with_settle = True
    ops.settle_error = ConnectionError("ClickTime dropped the link call")
    with pytest.raises(ConnectionError):
        apply(store, ops, PAYLOAD, V1)
    mapping = store.get(KIND, "101")
    assert mapping.target_id == "task-1" and mapping.content_hash == ""  # known, and due for another write
    retry = RecordingOps()
    retry.with_settle = True
    applied = apply(store, retry, PAYLOAD, V1)
    assert retry.names() == ["update", "settle"] and applied.target_id == "task-1"
    assert store.get(KIND, "101").content_hash == content_hash(PAYLOAD)


def test_a_follow_up_failure_is_raised_after_the_mapping_is_safely_recorded(store) -> None:
    ops = RecordingOps()
    ops.with_settle = True
    ops.settled = Settled(details={"written_back_id": "job-1"}, wrote=True, failure=FieldNotKept("not kept", cause="c"))
    with pytest.raises(FieldNotKept):
        apply(store, ops, PAYLOAD, V1)
    mapping = store.get(KIND, "101")
    assert mapping.content_hash == content_hash(PAYLOAD) and mapping.details["written_back_id"] == "job-1"
    assert not locked_by_someone(store)


# -- a target deleted in the target system ----------------------------------------------------------------------
def _not_found(path: str | None) -> ClickTimeNotFound:
    error = ClickTimeNotFound(404, "not found")
    error.path = path
    return error


class GoneOps(RecordingOps):
    """The mapped target's update meets `gone` (a not-found); other targets update normally."""

    def __init__(self, gone: Exception, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gone = gone

    def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
        super().update(target_id, payload, before)
        if target_id == "job-1":
            raise self.gone

    def ops(self) -> TargetOps:
        return replace(super().ops(), path=lambda target_id: f"/Jobs/{target_id}", system="ClickTime")


@pytest.mark.parametrize("path", ["/Jobs/job-1", "/Jobs/job-1/Tasks", None])
def test_a_target_deleted_in_the_target_system_is_looked_for_then_made_anew_and_followed_up_as_new(store, path) -> None:
    apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1, details={"client": "c-7"})
    ops = GoneOps(_not_found(path), new_id="job-2")
    ops.with_settle = True
    renamed = {**PAYLOAD, "Name": "Website 2"}
    applied = apply(store, ops, renamed, V2)
    assert (applied.action, applied.target_id) == ("created", "job-2")
    assert applied.detail == "project job-1 was deleted in ClickTime: made anew as job-2"
    # Looked for first (a person may have made it again), then created; the follow-up is a new target's
    assert ops.names() == ["update", "find", "create", "settle"]
    assert ops.settled_created == [True] and ops.settle_args == [("job-2", renamed, None)]
    mapping = store.get(KIND, "101")
    assert (mapping.target_id, mapping.content_hash, mapping.source_version) == ("job-2", content_hash(renamed), V2)
    assert mapping.details == {"client": "c-7"}
    assert not locked_by_someone(store)


def test_a_deleted_target_made_again_by_a_person_is_found_and_adopted_not_twinned(store) -> None:
    apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    ops = GoneOps(_not_found("/Jobs/job-1"), existing="job-9")
    applied = apply(store, ops, {**PAYLOAD, "Name": "x"}, V2)
    assert (applied.action, applied.target_id) == ("updated", "job-9")
    assert applied.detail == "project job-1 was deleted in ClickTime: found again as job-9"
    assert ops.names() == ["update", "find", "update"] and store.get(KIND, "101").target_id == "job-9"


def test_a_not_found_about_another_record_is_raised_and_makes_nothing(store) -> None:
    """A task's link to a job that is gone: the task itself is there, so it is not made again."""
    apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    ops = GoneOps(_not_found("/Jobs/job-7/Tasks"))
    with pytest.raises(ClickTimeNotFound):
        apply(store, ops, {**PAYLOAD, "Name": "x"}, V2)
    assert ops.names() == ["update"] and store.get(KIND, "101").target_id == "job-1"
    assert not locked_by_someone(store)


def test_a_target_deleted_in_the_target_system_is_retired_as_it_is(store) -> None:
    apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)

    def deactivate(_mapping: Mapping) -> None:
        raise _not_found("/Jobs/job-1")

    applied = retire(store, KIND, "101", V2, deactivate, owner="run-2:101", path=lambda t: f"/Jobs/{t}")
    assert applied.action == "updated" and "already deleted" in applied.detail
    assert store.get(KIND, "101").deleted and not locked_by_someone(store)

    def elsewhere(_mapping: Mapping) -> None:
        raise _not_found("/Jobs/job-7/Tasks/job-1")

    # A not-found about another record (a job link of a task) is raised: the record stays mapped, not retired
    upsert_target(store, RecordingOps(new_id="job-1").ops(), source_id="102", version=V1, payload=PAYLOAD, owner="o")
    with pytest.raises(ClickTimeNotFound):
        retire(store, KIND, "102", V2, elsewhere, owner="run-4:102", path=lambda t: f"/Jobs/{t}")
    assert not store.get(KIND, "102").deleted


# -- retire ---------------------------------------------------------------------------------------------------
def test_retire_deactivates_once_and_moves_the_fence(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    deactivated: list[str] = []
    applied = retire(store, KIND, "101", V2, lambda m: deactivated.append(m.target_id), owner="run-2:101")
    assert applied.action == "updated" and deactivated == ["job-1"]
    assert retire(store, KIND, "101", V3, lambda m: deactivated.append(m.target_id), owner="x").action == "unchanged"
    assert deactivated == ["job-1"]
    # A late message about the record from before its deletion cannot revive the target
    ops = RecordingOps()
    assert apply(store, ops, {**PAYLOAD, "Name": "Revived?"}, V1 + timedelta(minutes=1)).action == "skipped"
    assert ops.calls == []


def test_retire_of_a_record_never_synced_is_skipped(store) -> None:
    assert retire(store, KIND, "404", V1, lambda m: None, owner="x").action == "skipped"


def test_retire_of_a_record_never_synced_says_so() -> None:
    class NoMappings:
        def get(self, kind: str, source_id: str) -> None:
            return None

    applied = retire(NoMappings(), KIND, "404", V1, lambda m: pytest.fail("nothing to deactivate"), owner="x")  # type: ignore[arg-type]
    assert applied == Applied("skipped", None, None, "deleted before it was ever synced")


def test_retire_records_the_deletion_under_its_own_lock_and_says_what_it_did(store, table) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1, parent="customer#7")
    owners: list[str] = []

    def deactivate(mapping: Mapping) -> None:
        owners.append(table.get_item(Key={"pk": f"MAP#{KIND}#101", "sk": "MAP"})["Item"].get("lock_owner"))

    applied = retire(store, KIND, "101", V2, deactivate, owner="run-2:101")

    assert owners == ["run-2:101"]  # deactivated while holding the record's lock
    retired = store.get(KIND, "101")
    assert (retired.deleted, retired.source_version, retired.content_hash) == (True, V2, "")
    assert (retired.target_id, retired.parent) == ("job-1", "customer#7")
    assert (applied.action, applied.target_id, applied.detail) == (
        "updated",
        "job-1",
        f"deleted in the source: {KIND} made inactive",
    )
    assert applied.mapping is not None and applied.mapping.deleted and applied.mapping.source_version == V2
    assert not locked_by_someone(store)


def test_retire_of_a_retired_record_is_unchanged_and_touches_nothing(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    retire(store, KIND, "101", V2, lambda m: None, owner="a")
    before = store.get(KIND, "101")

    applied = retire(store, KIND, "101", V3, lambda m: pytest.fail("deactivated twice"), owner="b")

    assert applied == Applied("unchanged", "job-1", before, "already deactivated")
    assert store.get(KIND, "101") == before


def test_retire_that_finds_the_record_retired_meanwhile_under_the_lock_lets_go(store, table) -> None:
    """Read before another worker retired it, locked after: nothing is deactivated twice, the lock is freed."""
    apply(store, RecordingOps(), PAYLOAD, V1)
    as_read = store.get(KIND, "101")
    retire(store, KIND, "101", V2, lambda m: None, owner="other")
    now = store.get(KIND, "101")

    class ReadEarlier(MappingStore):
        def get(self, kind: str, source_id: str) -> Mapping | None:
            return as_read

    applied = retire(ReadEarlier(table), KIND, "101", V3, lambda m: pytest.fail("deactivated twice"), owner="b")

    assert (applied.action, applied.target_id, applied.detail) == ("unchanged", "job-1", "already deactivated")
    assert applied.mapping is not None and applied.mapping.deleted and applied.mapping.source_version == V2
    assert store.get(KIND, "101").source_version == now.source_version == V2
    assert not locked_by_someone(store)


# -- a unique value another record holds: number_held (retried) or number_taken (a person acts) -------------------
def refusal(field: str | None = "JobNumber") -> ClickTimeAlreadyExists:
    return ClickTimeAlreadyExists(400, "JobNumber 'P-2' is already in use", field=field)


HELD_BY_102 = Holder("ClickTime job job-2 'B' holds JobNumber 'P-2' and names NetSuite record 102", "job-2", "102")
MADE_BY_HAND = Holder("ClickTime job job-9 'B' holds JobNumber 'P-2' and names no NetSuite record", "job-9", None)


class TakenOps(RecordingOps):
    """The mapped target's update (job-1) is refused with `refused`; `taken_by` answers `holder` and records the
    payload it was asked about. `kind` may have an underscore (no product kind has one today: the texts read it as a
    space)."""

    def __init__(
        self, refused: Exception, holder: Holder | None, *, kind: str = KIND, adopt_by: str = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.refused, self.holder, self.kind, self.adopt_by = refused, holder, kind, adopt_by
        self.asked: list[dict[str, Any]] = []

    def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
        super().update(target_id, payload, before)
        if target_id == "job-1":
            raise self.refused

    def taken_by(self, payload: dict[str, Any]) -> Holder | None:
        self.asked.append(payload)
        return self.holder

    def ops(self) -> TargetOps:
        return replace(super().ops(), kind=self.kind, taken_by=self.taken_by, adopt_by=self.adopt_by)


def synced(store: MappingStore, source_id: str, target_id: str, kind: str = KIND) -> None:
    ops = replace(RecordingOps(new_id=target_id).ops(), kind=kind)
    upsert_target(store, ops, source_id=source_id, version=V1, payload=PAYLOAD, owner=f"run-1:{source_id}")


MOVED = {**PAYLOAD, "JobNumber": "P-2"}


def test_an_update_refused_for_a_number_another_synced_record_holds_is_retried_naming_that_record(store) -> None:
    """Numbers shifted in a chain (102 P-2 -> P-3, then 101 P-1 -> P-2) and 101's message came first: job-2, which
    holds P-2, is 102's target, whose own message frees it, so 101's update is tried again, not dead-lettered."""
    synced(store, "101", "job-1", "project_task")
    synced(store, "102", "job-2", "project_task")
    refused = refusal()
    ops = TakenOps(refused, HELD_BY_102, kind="project_task")
    with pytest.raises(TransientError) as raised:
        upsert_target(store, ops.ops(), source_id="101", version=V2, payload=MOVED, owner="run-2:101")
    error = raised.value
    assert error.message == (
        "ClickTime 400: JobNumber 'P-2' is already in use: ClickTime job job-2 'B' holds JobNumber 'P-2' and names "
        "NetSuite record 102, the project task of NetSuite record 102; tried again once that record's own change "
        "frees it"
    )
    assert (error.code, error.cause_key) == ("CLICKTIME_NUMBER_HELD", "clicktime-number-held:project_task.jobnumber")
    assert error.fix == (  # type: ignore[attr-defined]
        "NetSuite record 102's own change did not free the JobNumber (two records swapping it, or wanting the same "
        "one): give one of them another JobNumber in NetSuite, then ctns redrive"
    )
    # asked twice: after the refusal, and again once nothing was moved aside (freed meanwhile? then sent again)
    assert error.__cause__ is refused and ops.asked == [MOVED, MOVED]
    mapping = store.get("project_task", "101")
    assert (mapping.target_id, mapping.source_version) == ("job-1", V1)  # nothing recorded: the retry updates again


def test_a_held_refusal_without_a_field_is_keyed_and_fixed_without_one(store) -> None:
    synced(store, "101", "job-1")
    synced(store, "102", "job-2")
    with pytest.raises(TransientError) as raised:
        apply(store, TakenOps(refusal(field=None), HELD_BY_102), MOVED, V2)
    assert raised.value.cause_key == "clicktime-number-held:project.unknown"
    assert raised.value.fix == (  # type: ignore[attr-defined]
        "NetSuite record 102's own change did not free the value (two records swapping it, or wanting the same "
        "one): give one of them another value in NetSuite, then ctns redrive"
    )


class VacatingOps(TakenOps):
    """`TakenOps` whose `vacate` answers `moves` (or raises `vacate_error`), recording each call and whether the
    holder's lock was held by this attempt while it ran; a moved holder frees the number, so the retry passes."""

    def __init__(self, store: MappingStore, *, moves: bool = True, refuses_again: bool = False, **kwargs: Any):
        super().__init__(refusal(), HELD_BY_102, **kwargs)
        self.store, self.moves, self.refuses_again = store, moves, refuses_again
        self.vacate_error: Exception | None = None
        self.vacated: list[tuple[dict[str, Any], str, str, str | None]] = []

    def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
        self.calls.append(("update", target_id, payload, before.target_id if before else None))
        if target_id == "job-1" and (self.refuses_again or not self.vacated):
            raise self.refused

    def vacate(self, payload: dict[str, Any], holder: Mapping) -> bool:
        item = self.store._table.get_item(Key={"pk": f"MAP#{KIND}#{holder.source_id}", "sk": "MAP"}).get("Item", {})
        self.vacated.append((payload, holder.source_id, holder.target_id, item.get("lock_owner")))
        if self.vacate_error is not None:
            raise self.vacate_error
        return self.moves

    def ops(self) -> TargetOps:
        return replace(super().ops(), vacate=self.vacate)


def test_an_update_refused_for_a_number_whose_holder_no_longer_has_it_moves_the_holder_aside_and_takes_it(store):
    """Two projects swapping numbers (101 P-1 -> P-2, 102 P-2 -> P-1): 101's update is refused, job-2 (102's) is
    moved aside under 102's lock, and 101's update is sent again at once. 102's mapping loses its hash, so its own
    message writes job-2 whole (the number moved aside is not what 102's payload holds)."""
    synced(store, "101", "job-1")
    synced(store, "102", "job-2")
    ops = VacatingOps(store)

    applied = apply(store, ops, MOVED, V2, owner="run-2:101")

    assert (applied.action, applied.target_id) == ("updated", "job-1")
    assert ops.vacated == [(MOVED, "102", "job-2", "run-2:101:vacate")]
    assert [c[:2] for c in ops.calls] == [("update", "job-1"), ("update", "job-1")]
    assert store.get(KIND, "101").source_version == V2
    holder = store.get(KIND, "102")
    assert (holder.target_id, holder.content_hash, holder.source_version) == ("job-2", "", V1)
    probe = store.lock(KIND, "102", owner="probe")  # released
    store.release(probe)
    assert not locked_by_someone(store)
    own = RecordingOps(new_id="job-2")
    mine = upsert_target(store, own.ops(), source_id="102", version=V2, payload=PAYLOAD, owner="run-2:102")
    assert (mine.action, own.names()) == ("updated", ["update"])  # even a payload as before is written again


@pytest.mark.parametrize("way", ["still has it", "busy", "move failed", "refused again"])
def test_an_update_refused_for_a_number_whose_holder_cannot_be_moved_aside_is_held(store, way) -> None:
    """The holder's source still has the number (it is the holder's by right), its own worker holds its lock (it is
    at it), the move itself is refused, or the update is refused again after the move: `number_held`, tried again
    later, the holder's mapping as it was and its lock free; the move is tried at most once per attempt."""
    synced(store, "101", "job-1")
    synced(store, "102", "job-2")
    before = store.get(KIND, "102")
    ops = VacatingOps(store, moves=way != "still has it", refuses_again=way == "refused again")
    if way == "move failed":
        ops.vacate_error = ClickTimeValidationError(400, "JobNumber is too long", field="JobNumber")
    busy = store.lock(KIND, "102", owner="run-2:102") if way == "busy" else None

    with pytest.raises(TransientError) as raised:
        apply(store, ops, MOVED, V2, owner="run-2:101")

    assert raised.value.code == "CLICKTIME_NUMBER_HELD"
    assert len(ops.vacated) == (0 if way == "busy" else 1)
    if busy is not None:
        store.release(busy)
    after = store.get(KIND, "102")
    expected_hash = "" if way == "refused again" else before.content_hash
    assert (after.target_id, after.content_hash, after.source_version) == ("job-2", expected_hash, V1)
    probe = store.lock(KIND, "102", owner="probe")  # nobody holds it
    store.release(probe)
    assert not locked_by_someone(store)


def test_a_move_aside_that_fails_unexpectedly_frees_the_holders_lock_and_goes_up_as_it_is(store) -> None:
    """Not the target system's refusal (a defect, an interrupt): the error is not taken for a held number, and the
    holder's lock is not left to its expiry (its own message would wait as RecordBusy meanwhile)."""
    synced(store, "101", "job-1")
    synced(store, "102", "job-2")
    ops = VacatingOps(store)
    ops.vacate_error = RuntimeError("a defect in vacate")

    with pytest.raises(RuntimeError, match="a defect in vacate"):
        apply(store, ops, MOVED, V2, owner="run-2:101")

    probe = store.lock(KIND, "102", owner="probe")  # nobody holds it
    store.release(probe)
    assert store.get(KIND, "102").content_hash  # nothing moved: its hash kept


@pytest.mark.parametrize("holder", ["made by hand", "retired"])
def test_an_update_refused_for_a_number_no_live_synced_record_holds_needs_a_person(store, holder) -> None:
    """No message will free it: a record made in ClickTime, or the target of a record deleted in NetSuite (its
    mapping is kept, marked deleted), holds the number."""
    synced(store, "101", "job-1", "project_task")
    taker = MADE_BY_HAND
    if holder == "retired":
        synced(store, "102", "job-2", "project_task")
        retire(store, "project_task", "102", V2, lambda _m: None, owner="run-2:102")
        taker = HELD_BY_102
    refused = refusal()
    ops = TakenOps(refused, taker, kind="project_task")
    with pytest.raises(NeedsAttention) as raised:
        upsert_target(store, ops.ops(), source_id="101", version=V2, payload=MOVED, owner="run-2:101")
    error = raised.value
    assert error.message == f"ClickTime 400: JobNumber 'P-2' is already in use: {taker.text}"
    assert (error.code, error.cause_key) == ("CLICKTIME_NUMBER_TAKEN", "clicktime-number-taken:project_task.jobnumber")
    assert error.fix == (
        "give that ClickTime record, or this NetSuite project task, another JobNumber; then ctns redrive"
    )
    assert error.__cause__ is refused and ops.asked == [MOVED]


@pytest.mark.parametrize("way", ["nobody found", "no way to look"])
def test_an_update_refused_for_a_number_whose_holder_is_not_known_is_the_refusal_itself(store, way) -> None:
    synced(store, "101", "job-1")
    refused = refusal()
    ops = TakenOps(refused, None) if way == "nobody found" else GoneOps(refused)  # GoneOps: no `taken_by`
    with pytest.raises(ClickTimeAlreadyExists) as raised:
        apply(store, ops, MOVED, V2)
    assert raised.value is refused


@pytest.mark.parametrize(
    ("adopt_by", "link"),
    [
        ("its Accounting Package ID to 101", "set its Accounting Package ID to 101 (the next run adopts it)"),
        ("", "link it to this record"),
    ],
)
def test_a_create_refused_for_a_number_another_record_holds_names_it_and_how_to_adopt_it(store, adopt_by, link):
    """At go-live, a job made by hand before the sync holds the number: nothing to adopt by `find`."""
    refused = refusal()
    ops = TakenOps(refusal(), MADE_BY_HAND, kind="project_task", adopt_by=adopt_by, existing=None)
    ops.create_error = refused
    with pytest.raises(NeedsAttention) as raised:
        upsert_target(store, ops.ops(), source_id="101", version=V1, payload=PAYLOAD, owner="run-1:101")
    error = raised.value
    assert error.message == f"ClickTime 400: JobNumber 'P-2' is already in use: {MADE_BY_HAND.text}"
    assert (error.code, error.cause_key) == ("CLICKTIME_NUMBER_TAKEN", "clicktime-number-taken:project_task.jobnumber")
    assert error.fix == (
        f"if that ClickTime record stands for this NetSuite project task, {link}; else give one of them another "
        "JobNumber; then ctns redrive"
    )
    assert error.__cause__ is refused and ops.names() == ["create", "find"] and ops.asked == [PAYLOAD]


def test_a_create_refused_for_a_number_without_a_field_is_keyed_without_one(store) -> None:
    ops = TakenOps(refusal(), MADE_BY_HAND, existing=None)
    ops.create_error = refusal(field=None)
    with pytest.raises(NeedsAttention) as raised:
        apply(store, ops, PAYLOAD, V1)
    assert raised.value.cause_key == "clicktime-number-taken:project.unknown"
    assert raised.value.fix.endswith("else give one of them another -; then ctns redrive")


# -- the unchanged path: what moves, what is written -------------------------------------------------------------
class CountingStore(MappingStore):
    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.commits = 0
        self.releases = 0

    def commit(self, lock: Any, mapping: Mapping, *, keep_lock: bool = False) -> None:
        self.commits += 1
        super().commit(lock, mapping, keep_lock=keep_lock)

    def release(self, lock: Any) -> None:
        self.releases += 1
        super().release(lock)


def test_a_redelivery_of_the_applied_version_writes_nothing_and_answers_unchanged(table) -> None:
    store = CountingStore(table)
    apply(store, RecordingOps(), PAYLOAD, V1, fingerprint="fp-1")
    store.commits = 0
    recorded = store.get(KIND, "101")

    for fingerprint in ("fp-1", ""):  # the same snapshot, or one that carries no fingerprint
        applied = apply(store, RecordingOps(), PAYLOAD, V1, fingerprint=fingerprint)
        assert applied == Applied("unchanged", "job-1", recorded)
    assert (store.commits, store.releases) == (0, 2)
    assert store.get(KIND, "101") == recorded


def test_an_unchanged_target_with_a_new_fingerprint_moves_only_the_fingerprint(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1, fingerprint="fp-1")
    apply(store, RecordingOps(), PAYLOAD, V1, fingerprint="fp-2")
    mapping = store.get(KIND, "101")
    assert (mapping.source_version, mapping.fingerprint) == (V1, "fp-2")
    # A message without a version (a replay) moves the fingerprint and keeps the fence.
    apply(store, RecordingOps(), PAYLOAD, None, fingerprint="fp-3")
    mapping = store.get(KIND, "101")
    assert (mapping.source_version, mapping.fingerprint) == (V1, "fp-3")
    apply(store, RecordingOps(), PAYLOAD, None)
    assert store.get(KIND, "101").source_version == V1


def test_a_mapping_recorded_without_a_version_takes_the_first_version_that_confirms_it(store) -> None:
    applied = apply(store, RecordingOps(), PAYLOAD, None)
    assert applied.action == "created" and store.get(KIND, "101").source_version is None
    apply(store, RecordingOps(), PAYLOAD, V1)
    assert store.get(KIND, "101").source_version == V1


def test_a_records_parent_is_kept_until_a_message_names_another(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1, parent="customer#7")
    apply(store, RecordingOps(), {**PAYLOAD, "Name": "Renamed"}, V2)
    assert store.get(KIND, "101").parent == "customer#7"
    apply(store, RecordingOps(), {**PAYLOAD, "Name": "Moved"}, V3, parent="customer#8")
    assert store.get(KIND, "101").parent == "customer#8"


def test_the_follow_up_is_told_whether_this_attempt_created_the_target(store) -> None:
    ops = RecordingOps()
    ops.with_settle = True
    apply(store, ops, PAYLOAD, V1)  # created
    apply(store, ops, {**PAYLOAD, "Name": "Renamed"}, V2)  # updated
    ops.due = True
    apply(store, ops, {**PAYLOAD, "Name": "Renamed"}, V3)  # unchanged, follow-up due
    assert ops.settled_created == [True, False, False]
    renamed = {**PAYLOAD, "Name": "Renamed"}
    assert ops.settle_args == [("job-1", PAYLOAD, None), ("job-1", renamed, "job-1"), ("job-1", renamed, "job-1")]
    adopting = RecordingOps(existing="job-9")
    adopting.with_settle = True
    adopting.may_exist = True
    upsert_target(store, adopting.ops(), source_id="202", version=V1, payload=PAYLOAD, owner="run-1:202")
    assert adopting.settled_created == [False]  # found, not made


def test_a_created_target_whose_follow_up_wrote_is_still_created(store) -> None:
    ops = RecordingOps()
    ops.with_settle = True
    ops.settled = Settled(wrote=True, note="linked to its job")
    applied = apply(store, ops, PAYLOAD, V1)
    assert (applied.action, applied.detail) == ("created", "linked to its job")


def test_a_failed_follow_up_of_a_created_target_keeps_the_lock_until_the_attempt_lets_go(table) -> None:
    """The target is recorded (no details: the follow-up they describe did not happen), the create is resolved
    (no mark left to look for it again), and nobody takes the record between that write and the release."""
    seen: list[bool] = []

    class Probing(MappingStore):
        def release(self, lock: Any) -> None:
            seen.append(locked_by_someone(MappingStore(table)))
            super().release(lock)

    store = Probing(table)
    ops = RecordingOps(new_id="task-1")
    ops.with_settle = True
    ops.settle_error = ConnectionError("ClickTime dropped the link call")
    with pytest.raises(ConnectionError):
        apply(store, ops, PAYLOAD, V1, details={"job": "j-7"})

    assert seen == [True]
    item = table.get_item(Key={"pk": f"MAP#{KIND}#101", "sk": "MAP"})["Item"]
    assert "create_started" not in item and "lock_owner" not in item
    mapping = store.get(KIND, "101")
    assert (mapping.target_id, mapping.content_hash, mapping.details) == ("task-1", "", {})


def test_a_target_found_by_a_source_that_may_hold_one_is_adopted_and_updated(store) -> None:
    ops = RecordingOps(existing="job-9")
    ops.may_exist = True
    applied = apply(store, ops, PAYLOAD, V1)
    assert (applied.action, applied.target_id, applied.detail) == ("updated", "job-9", "adopted the existing target")
    assert ops.calls == [("find",), ("update", "job-9", PAYLOAD, None)]


# -- check first: a shared parent read before it is locked -----------------------------------------------------
class LockCountingStore(MappingStore):
    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.locks = 0

    def lock(self, *args: Any, **kwargs: Any) -> Any:
        self.locks += 1
        return super().lock(*args, **kwargs)


def checking_first(**settings: Any) -> RecordingOps:
    ops = RecordingOps()
    ops.check_first = True
    for name, value in settings.items():
        setattr(ops, name, value)
    return ops


def test_checking_first_an_unchanged_parent_confirms_it_without_a_lock(table) -> None:
    store = LockCountingStore(table)
    apply(store, RecordingOps(), PAYLOAD, V1, fingerprint="fp-1")
    recorded = store.get(KIND, "101")
    store.locks = 0
    ops = checking_first()

    applied = apply(store, ops, PAYLOAD, V2, fingerprint="fp-2")

    assert applied == Applied("unchanged", "job-1", recorded)
    assert store.locks == 0 and ops.calls == []
    mapping = store.get(KIND, "101")
    assert (mapping.source_version, mapping.fingerprint) == (V2, "fp-2")  # the fence and fingerprint moved


def test_checking_first_an_older_version_is_skipped_without_a_lock(table) -> None:
    store = LockCountingStore(table)
    apply(store, RecordingOps(), PAYLOAD, V2)
    recorded = store.get(KIND, "101")
    store.locks = 0

    applied = apply(store, checking_first(), {**PAYLOAD, "Name": "Older"}, V1)

    assert applied == Applied("skipped", "job-1", recorded, f"stale: {V1} is older than applied")
    assert store.locks == 0 and store.get(KIND, "101") == recorded


def test_checking_first_a_changed_parent_or_a_due_follow_up_goes_through_the_lock(table) -> None:
    store = LockCountingStore(table)
    apply(store, RecordingOps(), PAYLOAD, V1)
    store.locks = 0
    changed = checking_first()
    assert apply(store, changed, {**PAYLOAD, "Name": "Renamed"}, V2).action == "updated"
    assert changed.names() == ["update"] and store.locks == 1

    due = checking_first(with_settle=True, due=True)
    due.settled = Settled(details={"linked": "yes"}, wrote=True, note="linked")
    applied = apply(store, due, {**PAYLOAD, "Name": "Renamed"}, V3)
    assert (applied.action, applied.detail) == ("updated", "linked")
    assert due.names() == ["settle"] and store.locks == 2
    assert due.due_asked == ["job-1", "job-1"]  # asked about the record as read, then as locked
    assert store.get(KIND, "101").details == {"linked": "yes"}


def test_checking_first_a_record_never_synced_is_created(table) -> None:
    ops = checking_first()
    assert apply(MappingStore(table), ops, PAYLOAD, V1).action == "created"
    assert ops.names() == ["create"]


def test_a_mapping_written_without_a_fingerprint_has_none(store) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    assert store.get(KIND, "101").fingerprint == ""


# -- content hash -------------------------------------------------------------------------------------------------
def test_content_hash_is_stable_under_key_order_and_sensitive_to_values() -> None:
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    assert content_hash({"a": "1"}) != content_hash({"a": 1})


def test_content_hash_is_the_sha256_of_compact_sorted_json_with_other_values_as_text() -> None:
    """Hashes are stored with every mapping: a different canonical form would rewrite every target once."""
    import hashlib
    from decimal import Decimal

    expected = hashlib.sha256(b'{"a":1,"b":["x",true],"d":"1.50","t":"2026-03-01 09:00:00+00:00"}').hexdigest()
    assert content_hash({"t": V1, "d": Decimal("1.50"), "b": ["x", True], "a": 1}) == expected


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans()), max_size=6))
def test_content_hash_ignores_key_order_property(payload: dict[str, Any]) -> None:
    assert content_hash(dict(reversed(list(payload.items())))) == content_hash(payload)


# -- the write-back ---------------------------------------------------------------------------------------------
class FakeNetSuite:
    """Keeps one custom field per record; `drops` makes NetSuite accept a write and not keep it."""

    def __init__(self, *, drops: bool = False) -> None:
        self.values: dict[str, str | None] = {}
        self.writes: list[tuple[str, str, dict[str, Any]]] = []
        self.reads: list[tuple[str, str, list[str]]] = []
        self.drops = drops

    def update_record(self, record_type: str, record_id: str, body: dict[str, Any]) -> None:
        self.writes.append((record_type, record_id, body))
        if not self.drops:
            (value,) = body.values()
            self.values[record_id] = value

    def get_record(self, record_type: str, record_id: str, *, fields: list[str]) -> dict[str, Any]:
        self.reads.append((record_type, record_id, fields))
        return {fields[0]: self.values.get(record_id)}


def write_back(netsuite: FakeNetSuite, open_causes: set[str]) -> WriteBack:
    return WriteBack(
        netsuite, record_type="job", field="custentity_ct_job_id", cause_open=open_causes.__contains__, timezone="UTC"
    )  # type: ignore[arg-type]


def test_write_back_writes_verifies_and_remembers() -> None:
    netsuite = FakeNetSuite()
    wb = write_back(netsuite, set())
    assert wb.due(None, "job-1", None, V1)
    settled = wb.write("101", "job-1", V1)
    assert settled.wrote and settled.failure is None
    assert netsuite.writes == [("job", "101", {"custentity_ct_job_id": "job-1"})]
    mapping = Mapping(kind=KIND, source_id="101", target_id="job-1", details=settled.details)
    # a snapshot read before our own write-back still shows the field empty: not written again
    assert not wb.due(mapping, "job-1", None, V1)
    # a newer snapshot showing the field cleared (someone edited it) gets it written again
    assert wb.due(mapping, "job-1", None, V2)
    # nothing is due when the field already holds the ID; a wrong value is replaced
    assert not wb.due(mapping, "job-1", "job-1", V3)
    assert wb.due(mapping, "job-1", "job-9", V3)


def test_a_field_cleared_later_in_the_hour_repeated_when_clocks_go_back_is_written_again() -> None:
    """The write-back stamp is the snapshot's earliest reading; a snapshot is compared at its latest. Written back
    for an edit at 01:45 PDT, a clearing edit at 01:10 PST (read 09:10Z, before 01:45 read late, 09:45Z) is newer."""
    netsuite = FakeNetSuite()
    wb = WriteBack(
        netsuite,  # type: ignore[arg-type]
        record_type="job",
        field="custentity_ct_job_id",
        cause_open=set().__contains__,
        timezone="America/Los_Angeles",
    )
    first = from_local_text("2027-11-07 01:45:00", "America/Los_Angeles")
    settled = wb.write("101", "job-1", first)
    mapping = Mapping(kind=KIND, source_id="101", target_id="job-1", details=settled.details)
    assert not wb.due(mapping, "job-1", None, first)  # the snapshot written back, read before our write
    assert wb.due(mapping, "job-1", None, from_local_text("2027-11-07 01:10:00", "America/Los_Angeles"))


def test_a_field_netsuite_does_not_keep_is_reported_once_and_not_written_again_until_resolved() -> None:
    netsuite = FakeNetSuite(drops=True)
    open_causes: set[str] = set()
    wb = write_back(netsuite, open_causes)
    settled = wb.write("101", "job-1", V1)
    assert isinstance(settled.failure, FieldNotKept)
    assert settled.failure.cause_key == "field-not-kept:job.custentity_ct_job_id"
    assert "custentity_ct_job_id" in settled.failure.message and "job 101" in settled.failure.message
    assert settled.details[NOT_KEPT] == "custentity_ct_job_id"
    open_causes.add(settled.failure.cause_key)  # the worker records the cause
    mapping = Mapping(kind=KIND, source_id="101", target_id="job-1", details=settled.details)
    # The write bumped lastmodifieddate, so the project comes back newer and still empty: no write while open
    assert not wb.due(mapping, "job-1", None, V3)
    # Once the cause is resolved (the field fixed, `ctns redrive`), it is tried again
    open_causes.clear()
    assert wb.due(mapping, "job-1", None, V3)


class DeletedInNetSuite(FakeNetSuite):
    """The record was deleted in NetSuite after the poller read it: the write (or the read back) is a 404."""

    def __init__(self, *, on: str) -> None:
        super().__init__()
        self.on = on

    def update_record(self, record_type: str, record_id: str, body: dict[str, Any]) -> None:
        super().update_record(record_type, record_id, body)
        if self.on == "write":
            raise NetSuiteNotFound(404, "NONEXISTENT_ID", "record not found", path=f"/{record_type}/{record_id}")

    def get_record(self, record_type: str, record_id: str, *, fields: list[str]) -> dict[str, Any]:
        raise NetSuiteNotFound(404, "NONEXISTENT_ID", "record not found", path=f"/{record_type}/{record_id}")


@pytest.mark.parametrize("on", ["write", "read-back"])
def test_a_write_back_to_a_record_deleted_meanwhile_retires_the_target_instead_of_failing(on: str) -> None:
    netsuite = DeletedInNetSuite(on=on)
    retired: list[str] = []

    settled = write_back(netsuite, set()).write("101", "job-1", V1, gone=lambda: retired.append("job-1"))

    assert retired == ["job-1"]
    assert settled.details == {SOURCE_GONE: "true"} and settled.wrote is True and settled.failure is None
    assert settled.note == "job 101 was deleted in NetSuite meanwhile: its target made inactive"


def test_a_write_back_to_a_deleted_record_without_a_way_to_retire_raises_not_found() -> None:
    with pytest.raises(NetSuiteNotFound):
        write_back(DeletedInNetSuite(on="write"), set()).write("101", "job-1", V1)


def test_a_kept_write_back_is_stamped_with_the_id_and_version_and_clears_an_earlier_not_kept() -> None:
    netsuite = FakeNetSuite()
    settled = write_back(netsuite, set()).write("101", "job-1", V1)

    assert settled.details == {WRITTEN_BACK_ID: "job-1", WRITTEN_BACK_AT: "2026-03-01T09:00:00Z", NOT_KEPT: ""}
    assert settled.note == "wrote the ID into job.custentity_ct_job_id"
    assert netsuite.reads == [("job", "101", ["custentity_ct_job_id"])]


def test_a_field_not_kept_is_one_cause_per_record_type_and_field_named_in_lower_case() -> None:
    """Task write-backs go to `projectTask` records: the cause key is the same however the type is spelled."""
    netsuite = FakeNetSuite(drops=True)
    wb = WriteBack(
        netsuite, record_type="projectTask", field="custevent_ct_task_id", cause_open=set().__contains__, timezone="UTC"
    )  # type: ignore[arg-type]

    settled = wb.write("77", "task-1", V1)

    assert wb.cause_key == "field-not-kept:projecttask.custevent_ct_task_id"
    assert settled.failure is not None and settled.failure.cause_key == wb.cause_key
    assert settled.failure.code == "FIELD_NOT_KEPT"
    assert settled.details == {NOT_KEPT: "custevent_ct_task_id"} and settled.wrote is True
    assert "projectTask 77" in settled.failure.message and "kept None" in settled.failure.message
    assert settled.failure.fix == (
        "make custom field custevent_ct_task_id store values on projectTask records, then run `ctns redrive`"
    )


def test_a_write_back_without_a_source_version_is_stamped_with_no_time() -> None:
    settled = write_back(FakeNetSuite(), set()).write("101", "job-1", None)
    assert settled.details == {WRITTEN_BACK_ID: "job-1", WRITTEN_BACK_AT: "", NOT_KEPT: ""}


def change_of(fingerprint: str, clicktime_id: str | None, version: datetime = V2) -> Change:
    return Change(source_id="101", version=version, snapshot={"clicktime_id": clicktime_id}, fingerprint=fingerprint)


def test_a_change_is_unchanged_for_the_poller_when_the_target_holds_it_and_the_source_holds_the_id() -> None:
    wb = write_back(FakeNetSuite(), set())
    mapping = Mapping(kind=KIND, source_id="101", target_id="job-1", fingerprint="fp-1")

    assert wb.unchanged(change_of("fp-1", "job-1"), mapping) is True
    assert wb.unchanged(change_of("fp-2", "job-1"), mapping) is False  # the target does not hold this snapshot
    assert wb.unchanged(change_of("", "job-1"), mapping) is False  # no fingerprint: the worker judges
    assert wb.unchanged(change_of("fp-1", None), mapping) is False  # the ID is still to be written back
    assert wb.unchanged(change_of("fp-1", "job-9"), mapping) is False  # a wrong ID is replaced


def test_a_snapshot_read_before_our_own_write_back_is_unchanged_for_the_poller() -> None:
    """The write-back bumps `lastmodifieddate`, but a snapshot at or before the written-back version still
    shows the field empty: it is not queued again; a newer one showing it empty is (someone cleared it)."""
    wb = write_back(FakeNetSuite(), set())
    stamped = Mapping(
        kind=KIND,
        source_id="101",
        target_id="job-1",
        fingerprint="fp-1",
        details=wb.write("101", "job-1", V2).details,
    )

    assert wb.unchanged(change_of("fp-1", None, version=V2), stamped) is True
    assert wb.unchanged(change_of("fp-1", None, version=V3), stamped) is False


def test_a_change_waiting_on_an_open_field_not_kept_cause_is_unchanged_for_the_poller() -> None:
    open_causes: set[str] = set()
    wb = write_back(FakeNetSuite(drops=True), open_causes)
    settled = wb.write("101", "job-1", V1)
    mapping = Mapping(kind=KIND, source_id="101", target_id="job-1", fingerprint="fp-1", details=settled.details)

    open_causes.add(wb.cause_key)
    assert wb.unchanged(change_of("fp-1", None, version=V3), mapping) is True
    open_causes.clear()  # resolved: written again
    assert wb.unchanged(change_of("fp-1", None, version=V3), mapping) is False


def test_a_record_reaching_the_worker_while_its_field_not_kept_cause_is_open_fails_with_that_cause() -> None:
    """The poller holds such a record back (above); one that reaches the worker anyway (redriven before the fix)
    fails with the cause again rather than being judged unchanged and dropped (`WriteBack.waits`)."""
    open_causes: set[str] = set()
    wb = write_back(FakeNetSuite(), open_causes)
    waiting = Mapping(kind="project", source_id="101", target_id="job-1", details={NOT_KEPT: "custentity_ct_job_id"})
    other_field = waiting.model_copy(update={"details": {NOT_KEPT: "custentity_other"}})
    assert wb.waits(waiting) is None  # the cause was resolved (a redrive after the fix): it may be written
    open_causes.add(wb.cause_key)

    failure = wb.waits(waiting)

    assert failure is not None and failure.cause_key == wb.cause_key and failure.code == "FIELD_NOT_KEPT"
    assert (
        failure.message.startswith("job 101: ClickTime ID job-1 is not written back")
        and "`ctns redrive`" in failure.fix
    )
    assert wb.waits(None) is None and wb.waits(other_field) is None
    assert wb.waits(waiting.model_copy(update={"details": {}})) is None
