"""The bills a time bill write of unknown outcome may still change, as the timesheet's mapping keeps them
(`ctsync.records.time_doubts`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ctsync import unsettled
from ctsync.records import time_doubts
from ctsync.records.time_export import external_id
from ctsync.state import Mapping

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
BILL = "/record/v1/timeBill/"


def bill(entry_id: str, internal_id: str) -> Mapping:
    return Mapping(kind="timeentry", source_id=entry_id, target_id=internal_id, parent="timesheet#s-1")


def write(method: str, path: str, *, doubtful: bool) -> unsettled.Write:
    return unsettled.Write(method, path, {}, doubtful)


def test_a_doubtful_put_names_its_bill_by_external_id_and_a_doubtful_delete_by_the_bill_it_deleted() -> None:
    bills = [bill("e-1", "101"), bill("e-2", "102")]
    writes = [
        write("PUT", f"{BILL}eid:ct-te-e-2", doubtful=False),  # answered: nothing in doubt, and the rest still count
        write("PUT", f"{BILL}eid:ct-te-e-3", doubtful=True),
        write("DELETE", f"{BILL}102", doubtful=True),
        write("PUT", f"{BILL}eid:ct-te-e-1", doubtful=False),  # answered: nothing in doubt
        write("DELETE", f"{BILL}999", doubtful=True),  # no bill of this timesheet
        write("PATCH", "/record/v1/job/77", doubtful=True),  # not a time bill
    ]
    assert time_doubts.doubted_bills(writes, bills, external_id) == {"ct-te-e-3", "ct-te-e-2"}


def test_doubts_add_up_and_the_wait_starts_again_at_the_last_doubtful_write() -> None:
    first = time_doubts.with_doubts({"entries": "3"}, {"ct-te-b"}, NOW)
    later = time_doubts.with_doubts(first, {"ct-te-a"}, NOW + timedelta(minutes=7))

    assert time_doubts.in_doubt(later) == {"ct-te-a", "ct-te-b"}
    assert later["entries"] == "3"
    assert unsettled.wait_over_at(later, timedelta(seconds=900)) == NOW + timedelta(minutes=22)
    assert time_doubts.with_doubts(later, set(), NOW + timedelta(hours=1)) == later  # nothing new: unchanged


def test_a_new_mapping_carries_the_doubts_and_a_settled_one_drops_them() -> None:
    details = time_doubts.with_doubts({"entries": "3", "minutes": "90"}, {"ct-te-a"}, NOW)

    assert time_doubts.carried(details) == {
        unsettled.SINCE: details[unsettled.SINCE],
        time_doubts.DOUBTED: '["ct-te-a"]',
    }
    assert time_doubts.cleared(details) == {"entries": "3", "minutes": "90"}
    assert time_doubts.carried({"entries": "3"}) == {}
    assert time_doubts.in_doubt({}) == set() and unsettled.wait_over_at({}, timedelta(0)) is None
