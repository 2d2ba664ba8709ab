"""What each record type looks like: field names in their exact case, and what kind of value each takes.

Built from `simulators/schemas/netsuite-records.json` (the REST API Browser, 2026.1) plus the account's custom
fields. The Browser types some references by a representative record (`timeBill.employee` says `customer`,
`timeBill.item` says `kitItem`), so the record types a reference must really point at are corrected here;
only those are checked for existence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

# The record types the simulator stores, in a fixed order: the order gives each type its id range.
STORED_TYPES = (
    "job",
    "projectTask",
    "timeBill",
    "expenseReport",
    "employee",
    "expenseCategory",
    "customer",
    "subsidiary",
    "currency",
    "serviceSaleItem",
    "file",
)

# Set by the server on every write: writes to them are ignored, as NetSuite ignores them.
SERVER_FIELDS = frozenset({"id", "lastModifiedDate", "createdDate", "dateCreated", "links", "refName"})
SERVER_LINE_FIELDS = frozenset({"id", "line", "links", "refName"})

# Where a reference really points (record type [, alternative]); keyed "type.field" or "type.sublist.field".
REFERENCE_TARGETS: dict[str, tuple[str, ...]] = {
    "job.parent": ("customer", "job"),
    "job.projectManager": ("employee",),
    "projectTask.project": ("job",),
    "projectTask.assignee.resource": ("employee",),
    "projectTask.assignee.serviceItem": ("serviceSaleItem",),
    "timeBill.employee": ("employee",),
    "timeBill.customer": ("customer", "job"),
    # UNVERIFIED strictness: caseTaskEvent may also name a support case or a CRM task/event; the simulator only
    # has project tasks, so anything else is an invalid reference here.
    "timeBill.caseTaskEvent": ("projectTask",),
    "timeBill.item": ("serviceSaleItem",),
    "expenseReport.entity": ("employee",),
    "expenseReport.expense.customer": ("customer", "job"),
    "expenseReport.expense.expmediaitem": ("file",),
    "expenseCategory.expenseitem": (),
}

# UNVERIFIED shape: the REST document service is not in the record browser. These are the SOAP File record's
# essentials (name, folder, content as base64) plus what the simulator needs to key it.
FILE_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "string"},
    "externalId": {"type": "string"},
    "name": {"type": "string"},
    "folder": {"type": "object", "kind": "reference", "ref": "nsResource"},
    "fileType": {"type": "string"},
    "content": {"type": "string", "format": "base64"},
    "description": {"type": "string"},
    "lastModifiedDate": {"type": "string", "format": "date-time"},
    "links": {"type": "array"},
    "refName": {"type": "string"},
}

# Fields a create must carry. timeBill: "employee and hours are Required on Add" (SOAP schema help, research
# notes §2.2). UNVERIFIED for the rest: NetSuite defaults a missing tranDate to today, which for a sync is a
# silent wrong date, so the simulator refuses it; expense lines without category/amount/date and files without
# a folder cannot be saved in the UI, so the simulator refuses them too.
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "timeBill": ("employee", "hours", "tranDate"),
    "expenseReport": ("entity",),
    "file": ("name", "folder", "content"),
}
REQUIRED_ON_LINE: dict[str, tuple[str, ...]] = {
    "expenseReport.expense": ("category", "amount", "expensedate"),
}

CUSTOM_KINDS = {"string", "boolean", "reference", "number", "date", "datetime"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # string|date|datetime|duration|base64|boolean|number|integer|reference|enum|refcollection|...
    targets: tuple[str, ...] = ()  # record types a reference must exist in; empty: not checked
    enum: tuple[str, ...] | None = None
    custom: bool = False


@dataclass
class RecordType:
    name: str
    fields: dict[str, FieldSpec]
    sublists: dict[str, dict[str, FieldSpec]] = field(default_factory=dict)
    created_field: str | None = None  # dateCreated on entities, createdDate on transactions

    @property
    def table(self) -> str:
        """The SuiteQL table name."""
        return "item" if self.name == "serviceSaleItem" else self.name.lower()


class RecordSchema:
    def __init__(self, custom_fields: dict[str, dict[str, str]] | None = None) -> None:
        raw = _raw_schema()["records"]
        custom_fields = custom_fields or {}
        for key, fields in custom_fields.items():
            for script_id, kind in fields.items():
                if kind not in CUSTOM_KINDS:
                    raise ValueError(
                        f"custom field {key}.{script_id}: kind {kind!r} is not one of {sorted(CUSTOM_KINDS)}"
                    )
        self.types: dict[str, RecordType] = {}
        for name in STORED_TYPES:
            definition = raw[name]["fields"] if name != "file" else FILE_FIELDS
            fields = {n: _spec(f"{name}.{n}", n, d) for n, d in definition.items()}
            fields.update(_custom(custom_fields.get(name, {})))
            sublists = {}
            for sub_name, sub in (raw[name]["sublists"] if name != "file" else {}).items():
                line = {n: _spec(f"{name}.{sub_name}.{n}", n, d) for n, d in sub["fields"].items()}
                line.update(_custom(custom_fields.get(f"{name}.{sub_name}", {})))
                sublists[sub_name] = line
            created = next((c for c in ("dateCreated", "createdDate") if c in fields), None)
            self.types[name] = RecordType(name, fields, sublists, created)

    def get(self, name: str) -> RecordType | None:
        return self.types.get(name)


@cache
def _raw_schema() -> dict[str, Any]:
    text = (resources.files("simulators") / "schemas" / "netsuite-records.json").read_text("utf-8")
    return json.loads(text)


def _spec(key: str, name: str, definition: dict[str, Any]) -> FieldSpec:
    kind = definition.get("kind")
    if key == "timeBill.hours":
        return FieldSpec(name, "duration")  # the Browser's label is "Duration"; the wire form is "H:MM"
    if kind == "reference":
        ref = definition.get("ref", "")
        targets = REFERENCE_TARGETS.get(key, (ref,) if ref in STORED_TYPES else ())
        return FieldSpec(name, "reference", targets=targets)
    if kind == "enumReference" or (definition.get("type") == "object" and not kind and "properties" in definition):
        values = definition.get("properties", {}).get("id", {}).get("enum")
        return FieldSpec(name, "enum", enum=tuple(values) if values else None)
    if kind == "referenceCollection":
        element = definition.get("element", "")
        return FieldSpec(name, "refcollection", targets=(element,) if element in STORED_TYPES else ())
    if kind in ("sublist", "subrecord"):
        return FieldSpec(name, kind)
    kinds = {"boolean": "boolean", "number": "number", "integer": "integer", "array": "array"}
    if definition.get("type") == "string":
        return FieldSpec(
            name,
            {"date": "date", "date-time": "datetime", "base64": "base64"}.get(definition.get("format", ""), "string"),
        )
    return FieldSpec(name, kinds.get(definition.get("type", ""), "object"))


def _custom(fields: dict[str, str]) -> dict[str, FieldSpec]:
    return {script_id: FieldSpec(script_id, kind, custom=True) for script_id, kind in fields.items()}
