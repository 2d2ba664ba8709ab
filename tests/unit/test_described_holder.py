"""The ClickTime record holding a unique value another record wants (ctsync.records.targets.described_holder): what a
create or update refused for that value names (`number_taken`, `number_held`), and whose target it is."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ctsync.records.targets import Holder, described_holder


def job(target_id: str, number: str | None, source: str | None, name: str = "Website") -> SimpleNamespace:
    return SimpleNamespace(ID=target_id, Name=name, JobNumber=number, AccountingPackageID=source)


class Listing:
    """ClickTime's job list: `filtered` answers a read by JobNumber, `every` a read of all; each call recorded."""

    def __init__(self, filtered: list[SimpleNamespace], every: list[SimpleNamespace]) -> None:
        self.filtered, self.every = filtered, every
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **filters: Any) -> list[SimpleNamespace]:
        self.calls.append(filters)
        return self.filtered if filters else self.every


def test_the_holder_found_by_clicktimes_filter_is_described_with_its_target_and_source():
    listing = Listing([job("J2", "P-2", "102", name="Acme – Web")], [])

    holder = described_holder("job", "JobNumber", "P-2", "101", listing)

    assert holder == Holder(
        "ClickTime job J2 'Acme – Web' holds JobNumber 'P-2' and names NetSuite record 102", "J2", "102"
    )
    assert listing.calls == [{"JobNumber": "P-2"}]  # found by the filter: every job is not read


def test_the_records_own_target_and_another_value_are_not_holders():
    """The filter may answer the record's own job (it carries this NetSuite ID) and, in other letters, none."""
    own = job("J1", "P-2", "101")
    listing = Listing([own], [own, job("J3", "P-3", "103"), job("J2", "p-2", "102")])

    holder = described_holder("job", "JobNumber", "P-2", "101", listing)

    assert holder is not None and (holder.target_id, holder.source_id) == ("J2", "102")
    assert holder.text == "ClickTime job J2 'Website' holds JobNumber 'p-2' and names NetSuite record 102"
    assert listing.calls == [{"JobNumber": "P-2"}, {}]


def test_a_holder_made_in_clicktime_carries_no_source_id():
    for blank in ("", None):
        holder = described_holder("job", "JobNumber", "P-2", "101", Listing([], [job("J9", "P-2", blank)]))
        assert holder == Holder(
            "ClickTime job J9 'Website' holds JobNumber 'P-2' and names no NetSuite record (made in ClickTime)",
            "J9",
            None,
        )


def test_no_holder_when_no_other_record_has_the_value():
    """A job without a number holds none (not even one spelled like a placeholder)."""
    every = [job("J1", "XXXX", "101"), job("J4", None, "104"), job("J5", "", None)]
    assert described_holder("job", "JobNumber", "XXXX", "101", Listing([], every)) is None
