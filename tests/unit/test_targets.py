"""Keeping one target record in step with one source record (ctsync.records.targets.upsert_target), and
writing the target ID back into NetSuite once (ctsync.records.writeback.write_back_id).

Both run against an in-memory MappingStore with the real store's signatures and fake target operations that
record every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.records import targets as targets_module
from ctsync.records.targets import Applied, TargetOps, content_hash, upsert_target
from ctsync.records.writeback import write_back_id
from ctsync.state import Mapping
from ctsync.state.mappings import CreationContended
from ctsync.timeutil import format_instant

V1 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
V2 = V1 + timedelta(minutes=5)
V3 = V1 + timedelta(minutes=10)
KIND = "project"


class MemoryMappings:
    """The MappingStore interface in memory: get / put / creation_claim / wait_for."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Mapping] = {}
        self.puts: list[Mapping] = []
        self.claims: list[tuple[str, str, str]] = []
        self.claim_holders: dict[tuple[str, str], str] = {}
        self.contend = False  # another worker holds the claim
        self.arrives_while_waiting: Mapping | None = None  # what the other worker records meanwhile
        self.waits: list[tuple[str, str, float]] = []

    def get(self, kind: str, source_id: str) -> Mapping | None:
        mapping = self.items.get((kind, source_id))
        return mapping.model_copy(deep=True) if mapping else None

    def put(self, mapping: Mapping) -> None:
        mapping.updated_at = datetime.now(UTC)
        stored = mapping.model_copy(deep=True)
        self.items[(mapping.kind, mapping.source_id)] = stored
        self.puts.append(stored)

    def wait_for(self, kind: str, source_id: str, seconds: float, interval: float = 0.25) -> Mapping | None:
        self.waits.append((kind, source_id, seconds))
        if self.arrives_while_waiting is not None:
            self.items[(kind, source_id)] = self.arrives_while_waiting.model_copy(deep=True)
        return self.get(kind, source_id)

    @contextmanager
    def creation_claim(self, kind: str, source_id: str, owner: str, ttl_seconds: int = 300) -> Iterator[None]:
        self.claims.append((kind, source_id, owner))
        if self.contend:
            raise CreationContended(f"another worker is creating the {kind} for {source_id}")
        self.claim_holders[(kind, source_id)] = owner
        try:
            yield
        finally:
            del self.claim_holders[(kind, source_id)]


class RecordingOps:
    def __init__(self, *, existing: str | None = None, new_id: str = "job-1") -> None:
        self.existing = existing
        self.new_id = new_id
        self.calls: list[tuple[Any, ...]] = []
        self.claim_held_during: list[bool] = []
        self.store: MemoryMappings | None = None

    def _note_claim(self) -> None:
        if self.store is not None:
            self.claim_held_during.append(bool(self.store.claim_holders))

    def find(self) -> str | None:
        self.calls.append(("find",))
        self._note_claim()
        return self.existing

    def create(self, payload: dict[str, Any]) -> str:
        self.calls.append(("create", payload))
        self._note_claim()
        return self.new_id

    def update(self, target_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
        self.calls.append(("update", target_id, payload, before))

    def ops(self) -> TargetOps:
        return TargetOps(kind=KIND, find=self.find, create=self.create, update=self.update)

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]


def apply(
    store: MemoryMappings, ops: RecordingOps, payload: dict[str, Any], version: datetime | None, **kwargs: Any
) -> Applied:
    return upsert_target(
        store, ops.ops(), source_id="101", version=version, payload=payload, claim_owner="run-1:101", **kwargs
    )


PAYLOAD = {"Name": "Website", "JobNumber": "P-1042", "ClientID": "c-7", "IsActive": True}


@pytest.fixture
def store() -> MemoryMappings:
    return MemoryMappings()


def test_first_apply_creates_and_records_the_mapping(store: MemoryMappings) -> None:
    ops = RecordingOps(new_id="job-1")
    ops.store = store
    applied = apply(store, ops, PAYLOAD, V1, details={"client": "c-7"})
    assert applied.action == "created"
    assert applied.target_id == "job-1"
    assert ops.names() == ["find", "create"]
    assert ops.calls[1] == ("create", PAYLOAD)
    assert ops.claim_held_during == [True, True]  # find and create happen under the creation claim
    assert store.claims == [(KIND, "101", "run-1:101")]
    assert store.claim_holders == {}  # released
    mapping = store.get(KIND, "101")
    assert mapping is not None
    assert mapping.target_id == "job-1"
    assert mapping.source_version == V1
    assert mapping.content_hash == content_hash(PAYLOAD)
    assert mapping.details == {"client": "c-7"}
    assert applied.mapping is not None and applied.mapping.target_id == "job-1"


def test_same_payload_again_is_unchanged_and_writes_nothing(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    ops = RecordingOps()
    applied = apply(store, ops, dict(reversed(list(PAYLOAD.items()))), V1)  # same content, other key order
    assert applied.action == "unchanged"
    assert applied.target_id == "job-1"
    assert ops.calls == []
    assert store.claims == [(KIND, "101", "run-1:101")]  # no new claim either


def test_unchanged_payload_at_a_newer_version_moves_the_fence(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    ops = RecordingOps()
    applied = apply(store, ops, PAYLOAD, V2)
    assert applied.action == "unchanged"
    assert ops.calls == []
    assert store.get(KIND, "101").source_version == V2
    # so a late, older snapshot with other content is now refused
    late = apply(store, ops, {**PAYLOAD, "Name": "Old name"}, V1 + timedelta(minutes=1))
    assert late.action == "skipped"
    assert ops.calls == []


def test_unchanged_payload_at_the_same_or_no_version_does_not_rewrite_the_mapping(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V2)
    puts = len(store.puts)
    assert apply(store, RecordingOps(), PAYLOAD, V2).action == "unchanged"
    assert apply(store, RecordingOps(), PAYLOAD, None).action == "unchanged"
    assert len(store.puts) == puts
    assert store.get(KIND, "101").source_version == V2


def test_changed_payload_updates_with_the_previous_mapping_and_merges_details(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1, details={"client": "c-7", "job_id": "j-1"})
    before = store.get(KIND, "101")
    ops = RecordingOps()
    changed = {**PAYLOAD, "Name": "Website relaunch"}
    applied = apply(store, ops, changed, V2, details={"job_id": "j-2"})
    assert applied.action == "updated"
    assert applied.target_id == "job-1"
    assert ops.names() == ["update"]
    _, target_id, payload, previous = ops.calls[0]
    assert target_id == "job-1"
    assert payload == changed
    assert previous is not None
    assert previous.content_hash == before.content_hash
    assert previous.details == {"client": "c-7", "job_id": "j-1"}
    assert previous.source_version == V1
    after = store.get(KIND, "101")
    assert after.content_hash == content_hash(changed)
    assert after.source_version == V2
    assert after.details == {"client": "c-7", "job_id": "j-2"}
    assert after.target_id == "job-1"


def test_changed_payload_without_a_version_keeps_the_applied_version(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V2)
    applied = apply(store, RecordingOps(), {**PAYLOAD, "IsActive": False}, None)
    assert applied.action == "updated"
    assert store.get(KIND, "101").source_version == V2


def test_older_version_is_skipped_as_stale_without_calls(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V2)
    puts = len(store.puts)
    ops = RecordingOps()
    applied = apply(store, ops, {**PAYLOAD, "Name": "stale"}, V1)
    assert applied.action == "skipped"
    assert "stale" in applied.detail
    assert applied.target_id == "job-1"
    assert ops.calls == []
    assert len(store.puts) == puts
    assert store.get(KIND, "101").content_hash == content_hash(PAYLOAD)


def test_older_version_with_unchanged_content_is_skipped_too(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V2)
    applied = apply(store, RecordingOps(), PAYLOAD, V1)
    assert applied.action == "skipped"
    assert store.get(KIND, "101").source_version == V2  # the fence never moves back


def test_existing_target_found_by_business_key_is_adopted_not_created(store: MemoryMappings) -> None:
    ops = RecordingOps(existing="job-77")
    ops.store = store
    applied = apply(store, ops, PAYLOAD, V1)
    assert applied.action == "updated"
    assert applied.target_id == "job-77"
    assert "adopted" in applied.detail
    assert ops.names() == ["find", "update"]
    assert ops.calls[1] == ("update", "job-77", PAYLOAD, None)  # no mapping before
    mapping = store.get(KIND, "101")
    assert mapping.target_id == "job-77"
    assert mapping.content_hash == content_hash(PAYLOAD)
    assert mapping.source_version == V1


def test_contended_creation_waits_and_treats_the_other_workers_mapping_as_existing(store: MemoryMappings) -> None:
    store.contend = True
    store.arrives_while_waiting = Mapping(
        kind=KIND, source_id="101", target_id="job-9", source_version=V1, content_hash=content_hash(PAYLOAD)
    )
    ops = RecordingOps()
    applied = apply(store, ops, PAYLOAD, V1)
    assert store.waits == [(KIND, "101", targets_module.CONTENTION_WAIT_SECONDS)]
    assert "create" not in ops.names()
    assert "find" not in ops.names()
    assert applied.action == "unchanged"
    assert applied.target_id == "job-9"


def test_contended_creation_with_newer_content_updates_the_other_workers_target(store: MemoryMappings) -> None:
    store.contend = True
    store.arrives_while_waiting = Mapping(
        kind=KIND, source_id="101", target_id="job-9", source_version=V1, content_hash=content_hash(PAYLOAD)
    )
    ops = RecordingOps()
    newer = {**PAYLOAD, "Name": "Renamed"}
    applied = apply(store, ops, newer, V2)
    assert applied.action == "updated"
    assert ops.names() == ["update"]
    assert ops.calls[0][1] == "job-9"
    assert store.get(KIND, "101").source_version == V2


def test_contended_creation_that_never_resolves_is_handed_back_to_the_queue(store: MemoryMappings) -> None:
    store.contend = True
    ops = RecordingOps()
    with pytest.raises(CreationContended):
        apply(store, ops, PAYLOAD, V1)
    assert ops.calls == []
    assert store.get(KIND, "101") is None


def test_a_deleted_mapping_is_written_even_when_the_hash_matches(store: MemoryMappings) -> None:
    apply(store, RecordingOps(), PAYLOAD, V1)
    mapping = store.get(KIND, "101")
    mapping.deleted = True
    store.put(mapping)
    ops = RecordingOps()
    applied = apply(store, ops, PAYLOAD, V2)
    assert applied.action == "updated"
    assert ops.names() == ["update"]
    assert store.get(KIND, "101").deleted is False


def test_a_mapping_passed_in_is_used_instead_of_reading_the_store(store: MemoryMappings) -> None:
    given_mapping = Mapping(kind=KIND, source_id="101", target_id="job-5", source_version=V1, content_hash="old")
    ops = RecordingOps()
    applied = apply(store, ops, PAYLOAD, V2, mapping=given_mapping)
    assert applied.action == "updated"
    assert ops.calls[0][1] == "job-5"


# -- content_hash -------------------------------------------------------------------------------------------


def test_content_hash_is_stable_under_key_order_and_sensitive_to_values() -> None:
    a = {"Name": "x", "IsActive": True, "nested": {"b": 1, "a": [1, 2]}}
    b = {"nested": {"a": [1, 2], "b": 1}, "IsActive": True, "Name": "x"}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "Name": "y"})
    assert content_hash(a) != content_hash({**a, "nested": {"b": 1, "a": [2, 1]}})  # list order matters
    assert content_hash({"IsActive": True}) != content_hash({"IsActive": "True"})
    assert len(content_hash(a)) == 64


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=15,
)


@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=8), st.randoms(use_true_random=False))
def test_content_hash_ignores_key_order_property(payload: dict[str, Any], rnd: Any) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            rnd.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    assert content_hash(shuffled(payload)) == content_hash(payload)


# -- write_back_id --------------------------------------------------------------------------------------------


class FakeNetSuite:
    def __init__(self) -> None:
        self.updates: list[tuple[str, str, dict[str, Any]]] = []

    def update_record(
        self, record_type: str, record_id: str, body: dict[str, Any], *, replace: list[str] | None = None
    ) -> None:
        self.updates.append((record_type, record_id, body))


FIELD = "custentity_ct_job_id"


def write_back(
    netsuite: FakeNetSuite, store: MemoryMappings, applied: Applied, current: str | None, version: datetime | None
) -> bool:
    return write_back_id(
        netsuite,
        store,
        record_type="job",
        field=FIELD,
        current_value=current,
        applied=applied,
        version=version,  # type: ignore[arg-type]
    )


def test_write_back_writes_when_the_field_differs_and_remembers_it(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    applied = apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    assert write_back(netsuite, store, applied, None, V1) is True
    assert netsuite.updates == [("job", "101", {FIELD: "job-1"})]
    mapping = store.get(KIND, "101")
    assert mapping.details["written_back_id"] == "job-1"
    assert mapping.details["written_back_at"] == format_instant(V1)


def test_write_back_replaces_a_wrong_value(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    applied = apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    assert write_back(netsuite, store, applied, "job-old", V1) is True
    assert netsuite.updates == [("job", "101", {FIELD: "job-1"})]


def test_write_back_does_nothing_when_the_field_already_holds_the_id(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    applied = apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    assert write_back(netsuite, store, applied, "job-1", V1) is False
    assert netsuite.updates == []


def test_write_back_not_twice_for_a_snapshot_read_before_its_own_write_back(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    first = apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    assert write_back(netsuite, store, first, None, V1) is True
    # the same snapshot again (a duplicate delivery or the overlap window): the field still reads empty
    again = apply(store, RecordingOps(), PAYLOAD, V1)
    assert again.action == "unchanged"
    assert write_back(netsuite, store, again, None, V1) is False
    # an even older snapshot of the same record
    older = apply(store, RecordingOps(), PAYLOAD, V1 - timedelta(minutes=3))
    assert write_back(netsuite, store, older, None, V1 - timedelta(minutes=3)) is False
    assert len(netsuite.updates) == 1


def test_write_back_again_when_a_newer_snapshot_shows_the_field_cleared(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    first = apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    write_back(netsuite, store, first, None, V1)
    # our write-back bumped last-modified: that snapshot shows the ID, nothing to do
    echo = apply(store, RecordingOps(), PAYLOAD, V2)
    assert write_back(netsuite, store, echo, "job-1", V2) is False
    # later someone cleared the field
    cleared = apply(store, RecordingOps(), PAYLOAD, V3)
    assert cleared.action == "unchanged"
    assert write_back(netsuite, store, cleared, None, V3) is True
    assert netsuite.updates == [("job", "101", {FIELD: "job-1"}), ("job", "101", {FIELD: "job-1"})]
    assert store.get(KIND, "101").details["written_back_at"] == format_instant(V3)


def test_write_back_after_the_target_changed_writes_the_new_id(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    first = apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V1)
    write_back(netsuite, store, first, None, V1)
    mapping = store.get(KIND, "101")
    mapping.target_id = "job-2"  # e.g. re-created after someone deleted the job
    store.put(mapping)
    applied = Applied("updated", "job-2", store.get(KIND, "101"))
    # a snapshot no newer than the last write-back, but the ID written then was another one
    assert write_back(netsuite, store, applied, "job-1", V1) is True
    assert netsuite.updates[-1] == ("job", "101", {FIELD: "job-2"})


def test_write_back_skips_skipped_and_unmapped_results(store: MemoryMappings) -> None:
    netsuite = FakeNetSuite()
    apply(store, RecordingOps(new_id="job-1"), PAYLOAD, V2)
    stale = apply(store, RecordingOps(), {**PAYLOAD, "Name": "x"}, V1)
    assert stale.action == "skipped"
    assert write_back(netsuite, store, stale, None, V1) is False
    assert write_back(netsuite, store, Applied("skipped", None, None), None, V1) is False
    assert write_back(netsuite, store, Applied("created", None, store.get(KIND, "101")), None, V1) is False
    assert netsuite.updates == []
