"""What a target must hold while a write of unknown outcome may still land (ctsync.unsettled): pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync import unsettled
from ctsync.unsettled import DESIRED, SINCE, Write, desired_fields, desired_path, drift, follow, settled

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PATH = "/Jobs/j-1"


def test_clean_writes_leave_a_settled_record_as_it_was() -> None:
    details = {"job_id": "j-1"}
    assert follow(details, [Write("PATCH", PATH, {"Name": "A"})], PATH, T0) is details


def test_a_doubtful_write_records_when_and_what_the_target_must_hold() -> None:
    writes = [Write("PATCH", PATH, {"Name": "A", "IsActive": True}, doubtful=True), Write("PATCH", PATH, {"Name": "A"})]
    details = follow({"job_id": "j-1"}, writes, PATH, T0)
    assert details[SINCE] == "2026-12-01T08:00:00Z" and details["job_id"] == "j-1"
    assert desired_path(details) == PATH and desired_fields(details) == {"Name": "A", "IsActive": True}


def test_later_writes_of_an_unsettled_record_update_what_it_must_hold_and_keep_its_time() -> None:
    first = follow({}, [Write("PATCH", PATH, {"Name": "A", "IsActive": True}, doubtful=True)], PATH, T0)
    later = follow(first, [Write("PATCH", PATH, {"IsActive": False})], PATH, T0 + timedelta(hours=1))
    assert later[SINCE] == first[SINCE]  # only a doubtful write moves it
    assert desired_fields(later) == {"Name": "A", "IsActive": False}


def test_writes_to_other_records_and_reads_do_not_count() -> None:
    writes = [Write("POST", "/Jobs/j-1/Tasks", {"TaskID": "t"}, doubtful=True), Write("PATCH", "/Jobs/j-2", {}, True)]
    assert follow({}, writes, PATH, T0) == {}
    assert follow({}, writes, None, T0) == {}


def test_settled_drops_only_the_unsettled_details() -> None:
    details = follow({"job_id": "j-1"}, [Write("PATCH", PATH, {"Name": "A"}, doubtful=True)], PATH, T0)
    assert settled(details) == {"job_id": "j-1"} and DESIRED in details


def test_drift_names_the_fields_the_target_does_not_hold_and_leaves_unreturned_ones_alone() -> None:
    current = {"Name": "Old", "IsActive": True, "StartDate": "2026-01-05T00:00:00", "JobNumber": None}
    desired = {"Name": "New", "IsActive": False, "StartDate": "2026-01-05", "JobNumber": "P-1", "Notes": "x"}
    assert drift(current, desired) == {"Name": "New", "IsActive": False, "JobNumber": "P-1"}
    assert drift(current, {"Name": "Old", "IsActive": True, "StartDate": "2026-01-05"}) == {}
    assert drift({"IsActive": "true"}, {"IsActive": True}) == {"IsActive": True}  # a bool is not its spelling


@pytest.mark.parametrize(
    ("current", "desired"),
    [
        (1, True),  # True == 1 in Python: a flag read back as a number is not the flag sent
        (True, "True"),
        ("None", None),
        (None, "x"),
        (None, False),
        ("2026-02-01", "2026-01-05"),
        ("2026-01-05 00:00", "2026-01-05"),
        ("2026-01-05T00:00:00", "2026-01-0"),
    ],
)
def test_a_field_is_in_step_only_when_it_reads_back_as_sent(current, desired) -> None:
    assert drift({"F": current}, {"F": desired}) == {"F": desired}


@pytest.mark.parametrize(
    ("current", "desired"),
    [(None, None), (False, False), ("P-1", "P-1"), (7, "7"), ("2026-01-05T08:00:00", "2026-01-05")],
)
def test_a_field_read_back_as_sent_is_in_step(current, desired) -> None:
    assert drift({"F": current}, {"F": desired}) == {}


def test_a_settled_record_has_no_desired_fields_or_path() -> None:
    assert desired_fields({"job_id": "j-1"}) == {} and desired_path({"job_id": "j-1"}) is None


def test_the_watch_collects_only_inside_its_block_and_a_nested_block_keeps_its_own() -> None:
    unsettled.note("PATCH", PATH, {"Name": "outside"}, doubtful=True)  # no block: nowhere to go
    with unsettled.watching() as outer:
        unsettled.note("PATCH", PATH, {"Name": "A"}, doubtful=False)
        with unsettled.watching() as inner:
            unsettled.note("PATCH", "/Clients/c-1", {"Name": "C"}, doubtful=True)
        unsettled.note("GET", PATH, None, doubtful=True)  # a read changes nothing
        unsettled.note("DELETE", PATH, None, doubtful=True)  # a late delete can undo a newer write too
        unsettled.note("PUT", PATH, {"Name": "B"}, doubtful=True)
        unsettled.note("POST", "/Jobs", None, doubtful=True)  # a create whose answer was lost: no fields known
    assert outer == [
        Write("PATCH", PATH, {"Name": "A"}, False),
        Write("DELETE", PATH, {}, True),
        Write("PUT", PATH, {"Name": "B"}, True),
        Write("POST", "/Jobs", {}, True),
    ]
    assert inner == [Write("PATCH", "/Clients/c-1", {"Name": "C"}, True)]


fields = st.dictionaries(st.sampled_from(["Name", "IsActive", "JobNumber"]), st.text(max_size=3) | st.booleans())


@given(st.lists(st.tuples(fields, st.booleans()), min_size=1, max_size=8))
def test_what_the_target_must_hold_is_the_last_value_written_of_each_field(writes) -> None:
    details: dict[str, str] = {}
    for number, (body, doubtful) in enumerate(writes):
        details = follow(details, [Write("PATCH", PATH, body, doubtful)], PATH, T0 + timedelta(minutes=number))
    first_doubt = next((n for n, (_, doubtful) in enumerate(writes) if doubtful), None)
    if first_doubt is None:
        assert details == {}
        return
    expected: dict[str, object] = {}
    for body, _ in writes[first_doubt:]:
        expected.update(body)
    assert desired_fields(details) == expected
    last_doubt = max(n for n, (_, doubtful) in enumerate(writes) if doubtful)
    assert details[SINCE] == (T0 + timedelta(minutes=last_doubt)).strftime("%Y-%m-%dT%H:%M:%SZ")
