"""A write whose answer was lost leaves its record unsettled, and a later look writes over what a late request
changed (ctsync.records.targets: `upsert_target`, `retire`, `recheck`), against the real MappingStore on moto.

The target is a dict of records by API path; its writes note themselves as the ClickTime client's do, and a
"late" write is one the test applies to the dict when it chooses (as the simulators' `late` fault does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ctsync import unsettled
from ctsync.errors import TransientError
from ctsync.records import targets
from ctsync.records.targets import Applied, TargetOps, recheck, retire, upsert_target
from ctsync.state import MappingStore

V1 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
V2 = V1 + timedelta(minutes=5)
KIND = "project"
PAYLOAD = {"Name": "Website", "JobNumber": "P-1042", "IsActive": True}
LONG = timedelta(hours=1)  # no look in these tests comes that late after a doubtful write


class Target:
    """ClickTime jobs by path. `lose_next` makes the next PATCH's answer lost: the request is kept, not applied,
    and the client's retry (the same fields) is applied, as a request processed late would leave things."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.lose_next = False
        self.fail_next = False  # every attempt of the next PATCH loses its answer: the call fails
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.reads = 0

    def create(self, fields: dict[str, Any]) -> str:
        job = f"j-{len(self.records) + 1}"
        self.records[f"/Jobs/{job}"] = dict(fields)
        unsettled.note("POST", "/Jobs", fields, doubtful=False)
        return job

    def patch(self, path: str, fields: dict[str, Any]) -> None:
        self.patches.append((path, dict(fields)))
        if self.fail_next:
            self.fail_next = False
            self.held.append((path, dict(fields)))
            unsettled.note("PATCH", path, fields, doubtful=True)
            raise TransientError(f"ClickTime PATCH {path}: ReadTimeout", code="CONNECTION")
        if self.lose_next:
            self.lose_next = False
            self.held.append((path, dict(fields)))
            unsettled.note("PATCH", path, fields, doubtful=True)
        self.records[path].update(fields)
        unsettled.note("PATCH", path, fields, doubtful=False)

    def land_late(self) -> None:
        for path, fields in self.held:
            self.records[path].update(fields)
        self.held = []

    def read(self, path: str) -> dict[str, Any] | None:
        self.reads += 1
        return dict(self.records[path]) if path in self.records else None


@pytest.fixture
def store(table) -> MappingStore:
    return MappingStore(table)


@pytest.fixture
def now(monkeypatch) -> list[datetime]:
    """The engine's clock, moved by the test: `now[0] += …`."""
    clock = [datetime(2026, 12, 1, 2, 0, tzinfo=UTC)]
    monkeypatch.setattr(targets, "utc_now", lambda: clock[0])
    return clock


@pytest.fixture
def listings(store, monkeypatch) -> list[str]:
    """Every listing of a record for a later look, as it is made."""
    made: list[str] = []
    listed = store.list_unsettled

    def spy(kind: str, source_id: str) -> None:
        made.append(source_id)
        listed(kind, source_id)

    monkeypatch.setattr(store, "list_unsettled", spy)
    return made


def ops(target: Target) -> TargetOps:
    return TargetOps(
        kind=KIND,
        find=lambda: None,
        create=target.create,
        update=lambda job, payload, _before: target.patch(f"/Jobs/{job}", payload),
        path=lambda job: f"/Jobs/{job}",
    )


def upsert(store: MappingStore, target: Target, payload: dict[str, Any], version: datetime) -> None:
    upsert_target(store, ops(target), source_id="101", version=version, payload=payload, owner=f"{version}:101")


def deactivate(store: MappingStore, target: Target, version: datetime) -> None:
    retire(
        store,
        KIND,
        "101",
        version,
        lambda mapping: target.patch(f"/Jobs/{mapping.target_id}", {"IsActive": False}),
        owner=f"{version}:101",
        path=lambda job: f"/Jobs/{job}",
    )


def look(store: MappingStore, target: Target, settle_after: timedelta = LONG):
    return recheck(
        store, KIND, "101", read=target.read, write=target.patch, owner="check:101", settle_after=settle_after
    )


def test_a_clean_write_lists_nothing_and_leaves_no_unsettled_details(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)
    assert store.unsettled(KIND) == []
    assert unsettled.SINCE not in store.get(KIND, "101").details


def test_a_late_update_that_reactivates_a_retired_target_is_written_over_by_the_next_look(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)  # answered only by the retry
    assert store.unsettled(KIND) == ["101"]
    deactivate(store, target, V2 + timedelta(minutes=1))
    target.land_late()  # the lost rename lands now, IsActive true with it
    assert target.records["/Jobs/j-1"]["IsActive"] is True

    applied = look(store, target)

    assert applied == Applied(
        "updated", "j-1", store.get(KIND, "101"), "a late write had changed IsActive: written again"
    )
    assert target.patches[-1] == ("/Jobs/j-1", {"IsActive": False})  # only the field that drifted
    assert target.records["/Jobs/j-1"] == {"Name": "Renamed", "JobNumber": "P-1042", "IsActive": False}
    assert store.unsettled(KIND) == ["101"]  # too soon to say no late request can still land
    assert store.get(KIND, "101").deleted is True


def test_a_look_that_finds_the_target_in_step_writes_nothing_and_forgets_the_record_once_late_enough(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)
    patches = len(target.patches)

    listed = store.get(KIND, "101")
    assert look(store, target) == Applied(
        "unchanged", "j-1", listed, "looked at again: the target holds what was written"
    )
    assert store.unsettled(KIND) == ["101"] and unsettled.SINCE in store.get(KIND, "101").details
    assert look(store, target, settle_after=timedelta(0)).action == "unchanged"

    assert len(target.patches) == patches and target.reads == 2
    assert store.unsettled(KIND) == []
    details = store.get(KIND, "101").details
    assert unsettled.SINCE not in details and unsettled.DESIRED not in details
    forgotten = store.get(KIND, "101")
    assert look(store, target) == Applied("unchanged", "j-1", forgotten, "nothing left to look at")
    assert target.reads == 2


def test_a_listed_record_with_nothing_unsettled_or_no_mapping_is_unlisted_without_a_read(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)  # a clean write: nothing to look at
    store.list_unsettled(KIND, "101")
    store.list_unsettled(KIND, "999")  # never synced
    store.list_unsettled("task", "101")  # another kind: stays

    assert look(store, target) == Applied("unchanged", "j-1", store.get(KIND, "101"), "nothing left to look at")
    never = recheck(store, KIND, "999", read=target.read, write=target.patch, owner="o", settle_after=LONG)

    assert never == Applied("unchanged", None, None, "nothing left to look at")
    assert store.unsettled(KIND) == [] and store.unsettled("task") == ["101"] and target.reads == 0


def test_the_record_is_forgotten_exactly_when_the_wait_is_over(store, now) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)  # the doubtful write, at now[0]
    now[0] += timedelta(minutes=15) - timedelta(seconds=1)
    look(store, target, settle_after=timedelta(minutes=15))
    assert store.unsettled(KIND) == ["101"]
    now[0] += timedelta(seconds=1)
    look(store, target, settle_after=timedelta(minutes=15))
    assert store.unsettled(KIND) == []


def test_only_a_doubtful_write_lists_the_record_again(store, listings) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)
    upsert(store, target, {**PAYLOAD, "Name": "Again"}, V2 + timedelta(minutes=1))  # clean, while unsettled
    deactivate(store, target, V2 + timedelta(minutes=2))
    assert listings == ["101"]
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Back"}, V2 + timedelta(minutes=3))
    assert listings == ["101", "101"]


def test_a_newer_write_after_the_doubtful_one_is_what_the_look_restores(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Second"}, V2)
    upsert(store, target, {**PAYLOAD, "Name": "Third"}, V2 + timedelta(minutes=1))
    target.records["/Jobs/j-1"]["Name"] = "Second"  # the lost request lands after the newer write
    target.records["/Jobs/j-1"]["IsActive"] = False  # and something else changed a field the writes carried

    assert look(store, target).detail == "a late write had changed IsActive, Name: written again"
    assert target.records["/Jobs/j-1"] == {**PAYLOAD, "Name": "Third"}


def test_the_look_reads_and_writes_while_holding_the_records_lock(store, table) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)
    target.records["/Jobs/j-1"]["IsActive"] = False
    owners: list[str] = []

    def read(path: str) -> dict[str, Any] | None:
        owners.append(table.get_item(Key={"pk": f"MAP#{KIND}#101", "sk": "MAP"})["Item"].get("lock_owner"))
        return target.read(path)

    recheck(store, KIND, "101", read=read, write=target.patch, owner="check:101", settle_after=LONG)

    assert owners == ["check:101"] and target.records["/Jobs/j-1"]["IsActive"] is True


def test_a_doubtful_write_by_the_look_itself_keeps_the_record_listed_whatever_the_wait(store, now) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)
    target.records["/Jobs/j-1"]["Name"] = "Website"
    target.lose_next = True
    now[0] += timedelta(hours=2)

    assert look(store, target, settle_after=timedelta(0)).action == "updated"
    assert store.unsettled(KIND) == ["101"]
    details = store.get(KIND, "101").details
    assert details[unsettled.SINCE] == "2026-12-01T04:00:00Z"  # the look's own doubtful write restarts the wait
    assert unsettled.desired_fields(details) == {**PAYLOAD, "Name": "Renamed"}


def test_a_target_gone_from_clicktime_is_forgotten_not_failed(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    upsert(store, target, {**PAYLOAD, "Name": "Renamed"}, V2)
    del target.records["/Jobs/j-1"]

    listed = store.get(KIND, "101")
    applied = look(store, target)

    assert applied == Applied("skipped", "j-1", listed, "the target is gone: /Jobs/j-1 was not found")
    assert store.unsettled(KIND) == [] and unsettled.SINCE not in store.get(KIND, "101").details


def test_a_doubtful_deactivation_lists_the_record_with_the_target_inactive(store) -> None:
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    target.lose_next = True
    deactivate(store, target, V2)
    assert store.unsettled(KIND) == ["101"]
    target.records["/Jobs/j-1"]["IsActive"] = True

    target.records["/Jobs/j-1"]["Name"] = "Renamed by someone"  # no doubtful write of ours carried a name
    assert look(store, target).detail == "a late write had changed IsActive: written again"
    assert target.patches[-1] == ("/Jobs/j-1", {"IsActive": False})
    assert target.records["/Jobs/j-1"] == {"Name": "Renamed by someone", "JobNumber": "P-1042", "IsActive": False}


@pytest.mark.parametrize("failing", ["update", "deactivation"])
def test_a_doubtful_write_of_an_attempt_that_failed_lists_the_record_though_its_retry_was_clean(store, failing) -> None:
    # Every attempt's answer was lost, so the attempt failed; the message's redelivery then wrote with no doubt,
    # and cannot tell that the first request is still on its way.
    target = Target()
    upsert(store, target, PAYLOAD, V1)
    renamed = {**PAYLOAD, "Name": "Renamed"}
    target.fail_next = True
    with pytest.raises(TransientError):
        if failing == "update":
            upsert(store, target, renamed, V2)
        else:
            deactivate(store, target, V2)
    assert store.unsettled(KIND) == ["101"]
    if failing == "update":
        upsert(store, target, renamed, V2)  # the redelivery
        deactivate(store, target, V2 + timedelta(minutes=1))
        target.land_late()  # the lost rename, IsActive true with it
        assert target.records["/Jobs/j-1"]["IsActive"] is True
        wanted = {**renamed, "IsActive": False}
    else:
        # What the target must hold meanwhile is what the failed attempt sent
        assert unsettled.desired_fields(store.get(KIND, "101").details) == {"IsActive": False}
        return

    look(store, target)

    assert target.records["/Jobs/j-1"] == wanted
