"""The progress store's answers that a late work message and an operator rely on: when a run opened (from its ID),
whether a later run may have read the source since (`ProgressStore.read_since`), the watermarks an operator reads
(`phase_watermarks`) and who holds the lease until when (`lease`). The store is the real one on moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ctsync.state.progress import ProgressStore, run_opened
from ctsync.state.table import TTL_ATTRIBUTE
from tests.integration.conftest import T0, dynamodb_calls

FIRST = "projects-20270104T100000Z-aaaaaa"
PHASES = ("changes", "deletions")


@pytest.mark.parametrize(
    ("run_id", "opened"),
    [
        (FIRST, datetime(2027, 1, 4, 10, 0, 0, tzinfo=UTC)),
        ("time-export-20261231T235959Z-0a1b2c", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_a_run_ids_opening_is_read_as_an_instant_in_utc(run_id, opened) -> None:
    found = run_opened(run_id)
    assert found == opened and found is not None and found.tzinfo is UTC


@pytest.mark.parametrize(
    "run_id",
    [
        "r1",
        "",
        "projects-20270104T100000Z",  # no hex after it
        "projects-20270104T100000Z-aaaaaa-retry",  # not at the end
        "projects-20270104T1000Z-aaaaaa",  # not to the second
        "projects-20270104T100000Z-AAAAAA",  # the poller writes lower-case hex
    ],
)
def test_an_id_the_poller_does_not_make_says_nothing_of_when_its_run_opened(run_id) -> None:
    assert run_opened(run_id) is None


def test_a_run_opened_in_the_same_second_as_the_messages_run_counts_as_later(table, clock):
    progress = ProgressStore(table)
    progress.advance_watermark("projects", "deletions", T0, "projects-20270104T100000Z-bbbbbb")
    assert progress.read_since("projects", PHASES, FIRST) is True
    # One opened a second earlier is not (the message may be the newer)
    assert progress.read_since("projects", PHASES, "projects-20270104T100001Z-cccccc") is False


def test_only_the_syncs_own_watermarks_of_the_phases_named_are_read(table, clock):
    progress = ProgressStore(table)
    later = "projects-20270105T100000Z-bbbbbb"
    progress.advance_watermark("projects", "another", T0, later)  # a phase not asked about
    progress.advance_watermark("tasks", "changes", T0, later)  # another sync's
    assert progress.read_since("projects", PHASES, FIRST) is False
    # The phase-less watermark counts too
    table.put_item(Item={"pk": "SYNC#projects", "sk": "WATERMARK", "value": "2027-01-05T10:00:00Z", "run_id": later})
    assert progress.read_since("projects", PHASES, FIRST) is True


def test_a_watermark_set_without_a_run_says_nothing(table, clock):
    """`ctns` sets watermarks without a run ID (a reset): neither its own run's end nor a later run's."""
    progress = ProgressStore(table)
    table.put_item(Item={"pk": "SYNC#projects", "sk": "WATERMARK#changes", "value": "2027-01-05T10:00:00Z"})
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is True
    assert progress.read_since("projects", PHASES, FIRST) is False


def test_after_its_run_ended_a_lease_counts_until_its_expiry_second_and_not_after(table, clock):
    progress = ProgressStore(table)
    progress.advance_watermark("projects", "changes", T0, FIRST)
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is True
    clock.advance(60)
    assert progress.read_since("projects", PHASES, FIRST) is True  # held to its expiry second, as `lease` says
    clock.advance(1)
    assert progress.read_since("projects", PHASES, FIRST) is False  # expired: no run holds it


def test_its_own_run_ended_and_a_later_run_holding_the_lease_is_yes_whatever_order_dynamodb_answers_in(table, clock):
    """The lease item and the watermarks come back in one answer: each is weighed, whichever comes first."""
    progress = ProgressStore(table)
    for phase in PHASES:
        progress.advance_watermark("projects", phase, T0, FIRST)
    assert progress.acquire_lease("projects", "inv-b", seconds=60) is True
    client = table.meta.client
    original = client.batch_get_item

    def reversed_answer(**kwargs):
        response = original(**kwargs)
        response["Responses"][table.name].reverse()
        return response

    assert progress.read_since("projects", PHASES, FIRST) is True
    client.batch_get_item = reversed_answer
    try:
        assert progress.read_since("projects", PHASES, FIRST) is True
    finally:
        del client.batch_get_item


def test_read_since_reads_consistently_in_one_request(table, clock):
    calls = dynamodb_calls(table)
    assert ProgressStore(table).read_since("projects", PHASES, FIRST) is False
    ((name, body),) = calls
    keys = body["RequestItems"][table.name]["Keys"]
    assert name == "BatchGetItem" and body["RequestItems"][table.name]["ConsistentRead"] is True
    assert [(k["pk"]["S"], k["sk"]["S"]) for k in keys] == [
        ("SYNC#projects", "WATERMARK"),
        ("SYNC#projects", "WATERMARK#changes"),
        ("SYNC#projects", "WATERMARK#deletions"),
        ("SYNC#projects", "LEASE"),
    ]


def test_an_operator_reads_the_phases_own_watermarks_and_the_phase_less_one_only_while_none_has_its_own(table, clock):
    progress = ProgressStore(table)
    assert progress.phase_watermarks("projects") == {}
    table.put_item(Item={"pk": "SYNC#projects", "sk": "WATERMARK", "value": "2027-01-01T00:00:00Z"})
    assert progress.phase_watermarks("projects") == {"*": datetime(2027, 1, 1, tzinfo=UTC)}
    progress.advance_watermark("projects", "changes", T0, FIRST)
    progress.advance_watermark("projects", "deletions", T0 + timedelta(hours=1), FIRST)
    assert progress.phase_watermarks("projects") == {"changes": T0, "deletions": T0 + timedelta(hours=1)}


def test_the_lease_names_its_holder_and_its_expiry_in_utc_until_that_second(table, clock):
    progress = ProgressStore(table)
    assert progress.lease("projects") is None and progress.lease_holder("projects") is None
    assert progress.acquire_lease("projects", "inv-a", seconds=90) is True
    until = T0 + timedelta(seconds=90)
    assert progress.lease("projects") == ("inv-a", until)
    assert progress.lease("projects")[1].tzinfo is UTC
    assert progress.lease_holder("projects") == "inv-a"
    assert int(table.get_item(Key={"pk": "SYNC#projects", "sk": "LEASE"})["Item"][TTL_ATTRIBUTE]) == until.timestamp()
    clock.advance(90)
    assert progress.lease("projects") == ("inv-a", until)
    clock.advance(1)
    assert progress.lease("projects") is None and progress.lease_holder("projects") is None
