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
    "folder",
    "accountingPeriod",
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
    "expenseReport.postingPeriod": ("accountingPeriod",),
    "expenseCategory.expenseitem": (),
    "file.folder": ("folder",),
    "folder.parent": ("folder",),
    "accountingPeriod.parent": ("accountingPeriod",),
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

# UNVERIFIED shape, like the file's: the SOAP Folder record's essentials. The REST document service keeps
# folders; the simulator keeps them as a record type so that PUT /record/v1/folder/eid:<x> creates one.
FOLDER_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "string"},
    "externalId": {"type": "string", "label": "External ID"},
    "name": {"type": "string", "label": "Name"},
    "parent": {"type": "object", "kind": "reference", "ref": "folder", "label": "Sub-Folder of"},
    "description": {"type": "string", "label": "Description"},
    "lastModifiedDate": {"type": "string", "format": "date-time", "label": "Last Modified Date"},
    "links": {"type": "array"},
    "refName": {"type": "string"},
}

# UNVERIFIED REST names: accountingPeriod is not in the transcribed Browser. These are the SuiteQL columns of
# the exports addendum §4 in REST's camelCase (SuiteQL lower-cases them back: periodname, alllocked, ...).
ACCOUNTING_PERIOD_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "string"},
    "periodName": {"type": "string", "label": "Period Name"},
    "startDate": {"type": "string", "format": "date", "label": "Start Date"},
    "endDate": {"type": "string", "format": "date", "label": "End Date"},
    "parent": {"type": "object", "kind": "reference", "ref": "accountingPeriod", "label": "Subperiod of"},
    "closed": {"type": "boolean", "label": "Closed"},
    "closedOnDate": {"type": "string", "format": "date", "label": "Closed On"},
    "allLocked": {"type": "boolean", "label": "All Locked"},
    "apLocked": {"type": "boolean", "label": "A/P Locked"},
    "arLocked": {"type": "boolean", "label": "A/R Locked"},
    "allowNonGLChanges": {"type": "boolean", "label": "Allow Non-G/L Changes"},
    "isPosting": {"type": "boolean", "label": "Posting"},
    "isInactive": {"type": "boolean", "label": "Inactive"},
    "isYear": {"type": "boolean", "label": "Year"},
    "isQuarter": {"type": "boolean", "label": "Quarter"},
    "isAdjust": {"type": "boolean", "label": "Adjustment"},
    "lastModifiedDate": {"type": "string", "format": "date-time", "label": "Last Modified Date"},
    "links": {"type": "array"},
    "refName": {"type": "string"},
}
EXTRA_TYPES = {"file": FILE_FIELDS, "folder": FOLDER_FIELDS, "accountingPeriod": ACCOUNTING_PERIOD_FIELDS}

# File type ids the simulator accepts in file.fileType: NetSuite's ids for the receipt formats the product
# sends. NetSuite knows many more (PLAINTEXT, HTMLDOC, ...); the simulator refuses them, so that a receipt of
# another kind (HEIC, HTML) must be dealt with before it reaches NetSuite.
FILE_TYPES = ("PNGIMAGE", "JPGIMAGE", "GIFIMAGE", "TIFFIMAGE", "BMPIMAGE", "PDF")

# Fields a create must carry. timeBill: "employee and hours are Required on Add" (SOAP schema help, research
# notes §2.2). UNVERIFIED for the rest: NetSuite defaults a missing tranDate to today, which for a sync is a
# silent wrong date, so the simulator refuses it; expense lines without category/amount/date and files without
# a folder cannot be saved in the UI, so the simulator refuses them too.
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "timeBill": ("employee", "hours", "tranDate"),
    "expenseReport": ("entity",),
    # UNVERIFIED: NetSuite may infer fileType from the name's extension; the simulator wants it said.
    "file": ("name", "folder", "fileType", "content"),
    "folder": ("name",),
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
    # The schema's definitions (type, format, label, ...), for the metadata catalog.
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    sublist_definitions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

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
            definition = EXTRA_TYPES[name] if name in EXTRA_TYPES else raw[name]["fields"]
            fields = {n: _spec(f"{name}.{n}", n, d) for n, d in definition.items()}
            fields.update(_custom(custom_fields.get(name, {})))
            sublists, sublist_definitions = {}, {}
            for sub_name, sub in ({} if name in EXTRA_TYPES else raw[name]["sublists"]).items():
                line = {n: _spec(f"{name}.{sub_name}.{n}", n, d) for n, d in sub["fields"].items()}
                line.update(_custom(custom_fields.get(f"{name}.{sub_name}", {})))
                sublists[sub_name] = line
                sublist_definitions[sub_name] = sub["fields"]
            created = next((c for c in ("dateCreated", "createdDate") if c in fields), None)
            self.types[name] = RecordType(name, fields, sublists, created, dict(definition), sublist_definitions)
        self._by_lower = {name.lower(): record_type for name, record_type in self.types.items()}

    def get(self, name: str) -> RecordType | None:
        """The record type a URL names. Record type names are case-insensitive, as NetSuite's are: timebill,
        timeBill and TIMEBILL all name timeBill."""
        return self._by_lower.get(name.lower())


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
