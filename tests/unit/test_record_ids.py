"""The IDs a line about a record names (`SyncDefinition.ids`, `ctsync.sync.record_ids`): never a placeholder or a
`kind:id` form in an ID field; the record's parts in `<system>_ids`, capped; named by the worker's lines even when
the applier noted none (from the parts' mappings)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ctsync.errors import NeedsAttention, TransientError
from ctsync.state import Mapping
from ctsync.sync import record_ids
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Outcome, WorkMessage
from tests.unit.test_worker_routing import VERSION, FakeApplier, FakeMappings, Harness

TIME = SyncDefinition(
    "time",
    "timesheet",
    None,
    None,
    source_system="clicktime",
    target_system="netsuite",
    parts=True,  # type: ignore[arg-type]
)


def test_no_id_field_holds_a_placeholder_or_a_kind_id_form() -> None:
    keys = TIME.ids("S1", "employee:123")
    assert keys["target_id"] is None and keys["netsuite_id"] is None and keys["netsuite_ids"] is None
    assert keys["clicktime_id"] == "S1" and keys["clicktime_ids"] == " S1 "
    assert TIME.ids("S1", Mapping.placeholder("timesheet", "S1"))["netsuite_id"] is None


def test_the_parts_noted_are_listed_once_each_and_capped_saying_how_many_were_left_out() -> None:
    with record_ids.noting():
        record_ids.note(source=["E1", "E2", "E1", "", None, "timeentry:E9"], target=["2100", "2101"])
        keys = TIME.ids("S1", None)
    assert keys["clicktime_ids"] == " S1 E1 E2 " and keys["netsuite_ids"] == " 2100 2101 "
    assert "ids_left_out" not in keys
    with record_ids.noting():
        record_ids.note(target=[str(n) for n in range(record_ids.LISTED + 5)])
        keys = TIME.ids("S1", None)
    assert len(str(keys["netsuite_ids"]).split()) == record_ids.LISTED and keys["ids_left_out"] == 5
    assert TIME.ids("S1", None)["netsuite_ids"] is None  # outside the block nothing noted stays


class PartsMappings(FakeMappings):
    def __init__(self, mappings: dict[tuple[str, str], Mapping], parts: list[Mapping]) -> None:
        super().__init__(mappings)
        self.parts = parts

    def children(self, kind: str, source_id: str) -> list[Mapping]:
        return [m for m in self.parts if m.parent == f"{kind}#{source_id}"]


def time_harness(result: Any, mappings: FakeMappings) -> Harness:
    h = Harness(result, mappings=mappings, sync="time")
    h.worker._definition = replace(TIME, applier=h.applier)
    return h


def time_body() -> str:
    message = WorkMessage(sync="time", run_id="run-1", source_id="S1", version=VERSION, snapshot={})
    return message.model_dump_json()


def sheet_store() -> PartsMappings:
    sheet = Mapping(kind="timesheet", source_id="S1", target_id="employee:123")
    bill = Mapping(kind="timeentry", source_id="E1", target_id="2100", parent="timesheet#S1")
    return PartsMappings({("timesheet", "S1"): sheet}, [bill])


def test_a_dead_lettered_record_names_its_parts_from_their_mappings_and_no_made_up_target(caplog) -> None:
    h = time_harness(NeedsAttention("a validation error"), sheet_store())
    with caplog.at_level("ERROR"):
        h.handle(time_body())
    assert h.dead_letters.sent[0][1].target_id is None  # not "employee:123"
    (line,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert line.netsuite_id is None and line.target_id is None
    assert line.netsuite_ids == " 2100 " and line.clicktime_ids == " S1 E1 "


def test_a_retried_record_names_its_parts(caplog) -> None:
    h = time_harness(TransientError("timeout"), sheet_store())
    with caplog.at_level("WARNING"):
        try:
            h.handle(time_body(), 1)
        except TransientError:
            pass
    (line,) = [r for r in caplog.records if "will be retried" in r.getMessage()]
    assert line.netsuite_ids == " 2100 " and line.clicktime_ids == " S1 E1 "


def test_an_applied_record_names_what_its_applier_noted(caplog) -> None:
    class Noting(FakeApplier):
        def apply(self, message: WorkMessage) -> Outcome:
            record_ids.note(source=["E7"], target=["2107"])
            return super().apply(message)

    h = time_harness(Outcome("created", "employee:123"), sheet_store())
    h.applier = Noting(Outcome("created", "employee:123"))
    h.worker._definition = replace(TIME, applier=h.applier)
    with caplog.at_level("INFO"):
        h.handle(time_body())
    (line,) = [r for r in caplog.records if r.getMessage().endswith(": created")]
    assert line.target_id is None and line.netsuite_ids == " 2107 " and line.clicktime_ids == " S1 E7 "
