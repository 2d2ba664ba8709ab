"""The simulator's NetSuite account: records per REST type, in memory, behind one lock.

Stored records are never changed in place: a write builds a new dict and swaps it in. That lets SuiteQL read
a snapshot of references without copying every record, while writers carry on.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from simulators.netsuite.errors import NetSuiteError, bad_request
from simulators.netsuite.names import display_name
from simulators.netsuite.schema import REQUIRED_ON_CREATE, FieldSpec, RecordSchema, RecordType
from simulators.netsuite.writes import iso_instant, missing_values, normalize

# Customers, projects and employees are all entities in NetSuite and draw from one id sequence, so an entity id
# names one record (a timeBill.customer may be a customer or a project, and is never both).
ID_SPACES = {"customer": "entity", "job": "entity", "employee": "entity"}


class WritePolicy(Protocol):
    """A rule of the account that a client's write (REST, not a test helper) must pass.

    `before_write` sees the record as stored (`old`, None on create) and as it will be stored (`new`, None on
    delete); it may set server-side values on `new` (a fresh dict) and raises a NetSuiteError to refuse.
    """

    def before_write(self, rtype: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None: ...


def _id_order(record: dict[str, Any]) -> tuple[bool, int, str]:
    """Numeric ids in numeric order, then any others."""
    key = record["id"]
    return (not key.isdigit(), int(key) if key.isdigit() else 0, key)


class RecordStore:
    def __init__(self, schema: RecordSchema, clock: Callable[[], datetime]) -> None:
        self._schema = schema
        self._clock = clock
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in schema.types}
        self._external: dict[str, dict[str, str]] = {t: {} for t in schema.types}
        # Each id space mints from its own range (entities 100.., projectTask 1100.., ...), so an id used as
        # the wrong type usually names nothing instead of silently naming another record.
        self._next_id: dict[str, int] = {}
        for i, t in enumerate(schema.types):
            self._next_id.setdefault(ID_SPACES.get(t, t), 100 + 1000 * i)
        self._deleted: list[dict[str, Any]] = []
        # Custom fields that do not keep what a client writes (not on the form, cleared by a workflow):
        # record type -> field names. See NetSuiteSimulator.unkept_fields.
        self.unkept_fields: dict[str, set[str]] = {}
        self.policies: list[WritePolicy] = []
        self.billed_time: set[str] = set()  # timeBill ids that have been billed (NetSuiteSimulator.mark_time_billed)
        self._attachments: dict[tuple[str, str], list[str]] = {}  # (record type, id) -> attached file ids
        # Currency Exchange Rates (NetSuiteSimulator.set_exchange_rate): rows of basecurrency, transactioncurrency,
        # exchangerate (Decimal), effectivedate (YYYY-MM-DD); not a REST record type here, read through SuiteQL.
        self.exchange_rates: list[dict[str, Any]] = []

    # -- for tests, the demo and the loader --------------------------------------------------------
    def add(self, rtype: str, fields: dict[str, Any]) -> str:
        """Create a record from a REST-shaped body (unknown names refused); an "id" in it is kept."""
        wanted = fields.get("id")
        if wanted is not None and not isinstance(wanted, str):
            raise ValueError(f"{rtype} id must be a string, got {wanted!r}")
        with self._lock:
            record_type = self._type(rtype)
            rtype = record_type.name
            if wanted is not None and self._taken(rtype, wanted):
                raise ValueError(f"{rtype} id {wanted} is already taken")
            changes = normalize(record_type, fields, strict_names=True, resolve=self._resolve)
            return self._write(record_type, wanted or self._mint(rtype), changes, creating=True)

    def get(self, rtype: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records[self._type(rtype).name].get(record_id)
            return copy.deepcopy(record) if record is not None else None

    def update(self, rtype: str, record_id: str, fields: dict[str, Any]) -> None:
        """Set fields (sublists given are replaced) as a user editing the record in NetSuite would."""
        with self._lock:
            record_type = self._type(rtype)
            record_id = self._existing(record_type.name, record_id)
            changes = normalize(record_type, fields, strict_names=True, resolve=self._resolve)
            self._write(record_type, record_id, changes, replace={k for k in changes if k in record_type.sublists})

    def delete(self, rtype: str, record_id: str) -> None:
        self.remove(rtype, record_id)

    def attachments(self, rtype: str, record_id: str) -> list[str]:
        with self._lock:
            return list(self._attachments.get((self._type(rtype).name, record_id), []))

    def all(self, rtype: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.snapshot(rtype))

    # -- for the REST routes -----------------------------------------------------------------------
    def create(self, rtype: str, body: Any, *, strict_names: bool) -> str:
        with self._lock:
            record_type = self._type(rtype)
            changes = normalize(record_type, body, strict_names=strict_names, resolve=self._resolve)
            return self._write(record_type, self._mint(record_type.name), changes, creating=True, client=True)

    def patch(self, rtype: str, key: str, body: Any, *, strict_names: bool, replace: set[str]) -> str:
        with self._lock:
            record_type = self._type(rtype)
            record_id = self._existing(record_type.name, key)
            changes = normalize(record_type, body, strict_names=strict_names, resolve=self._resolve)
            return self._write(record_type, record_id, changes, replace=replace, client=True)

    def upsert(
        self, rtype: str, external_id: str, body: Any, *, strict_names: bool, replace: set[str]
    ) -> tuple[str, bool]:
        """PUT .../eid:<external_id>: update the record holding that external id, or create it."""
        with self._lock:
            record_type = self._type(rtype)
            rtype = record_type.name
            changes = normalize(record_type, body, strict_names=strict_names, resolve=self._resolve)
            if changes.get("externalId", external_id) != external_id:
                raise bad_request(
                    f"The body's externalId {changes['externalId']!r} differs from the URL's eid:{external_id}.",
                    "INVALID_FIELD_VALUE",
                    path="externalId",
                )
            changes["externalId"] = external_id
            existing = self._external[rtype].get(external_id)
            if existing is not None:
                return self._write(record_type, existing, changes, replace=replace, client=True), False
            return self._write(record_type, self._mint(rtype), changes, creating=True, client=True), True

    def remove(self, rtype: str, key: str, *, client: bool = False) -> str:
        """Delete a record; `client` (a REST DELETE) runs the account's write policies first."""
        with self._lock:
            rtype = self._type(rtype).name
            record_id = self._existing(rtype, key)
            if client:
                for policy in self.policies:
                    policy.before_write(rtype, self._records[rtype][record_id], None)
            record = self._records[rtype].pop(record_id)
            if record.get("externalId"):
                self._external[rtype].pop(record["externalId"], None)
            self._attachments.pop((rtype, record_id), None)
            if rtype == "file":
                for attached in self._attachments.values():
                    while record_id in attached:
                        attached.remove(record_id)
            if rtype == "timeBill":
                self.billed_time.discard(record_id)
            row = {
                "recordid": record_id,
                "recordtypeid": rtype.lower(),
                "deleteddate": iso_instant(self._clock()),
                "name": display_name(record),
            }
            self._deleted.append(row)
            return record_id

    def find(self, rtype: str, key: str) -> dict[str, Any]:
        """The record an URL key (`123` or `eid:abc`) names, or a 404."""
        with self._lock:
            rtype = self._type(rtype).name
            record_id = self._existing(rtype, key)
            return copy.deepcopy(self._records[rtype][record_id])

    def attach(self, rtype: str, key: str, file_key: str) -> None:
        """POST .../{type}/{id}/!attach/file/{fileId}.

        UNVERIFIED: attaching a file twice keeps one attachment, and attaching leaves the record's
        lastModifiedDate alone (an attachment is not a field of the record).
        """
        with self._lock:
            rtype = self._type(rtype).name
            record_id = self._existing(rtype, key)
            file_id = self._existing("file", file_key)
            attached = self._attachments.setdefault((rtype, record_id), [])
            if file_id not in attached:
                attached.append(file_id)

    def detach(self, rtype: str, key: str, file_key: str) -> None:
        with self._lock:
            rtype = self._type(rtype).name
            record_id = self._existing(rtype, key)
            file_id = self._existing("file", file_key)
            attached = self._attachments.get((rtype, record_id), [])
            if file_id in attached:
                attached.remove(file_id)

    # -- for SuiteQL and rendering -----------------------------------------------------------------
    def snapshot(self, rtype: str) -> list[dict[str, Any]]:
        """The current records, by id. Read-only: the dicts are the stored ones."""
        with self._lock:
            records = list(self._records[self._type(rtype).name].values())
        return sorted(records, key=_id_order)

    def deleted_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._deleted)

    def name_of(self, targets: tuple[str, ...], record_id: str) -> str | None:
        with self._lock:
            for target in targets:
                record = self._records.get(target, {}).get(record_id)
                if record is not None:
                    return display_name(record)
        return None

    def type_of(self, targets: tuple[str, ...], record_id: str) -> str | None:
        """Which of the target types holds this id (a timeBill.customer may be a customer or a job)."""
        with self._lock:
            return next((t for t in targets if record_id in self._records.get(t, {})), None)

    # -- internals ---------------------------------------------------------------------------------
    def _type(self, rtype: str) -> RecordType:
        record_type = self._schema.get(rtype)
        if record_type is None:
            raise NetSuiteError(404, f"Record type '{rtype}' does not exist.", "NONEXISTENT_ID")
        return record_type

    def _existing(self, rtype: str, key: str) -> str:
        if key.startswith("eid:"):
            record_id = self._external[rtype].get(key[4:])
        else:
            record_id = key if key in self._records[rtype] else None
        if record_id is None:
            raise NetSuiteError(
                404,
                f"The record instance does not exist. Provide a valid record instance ID ({rtype} {key}).",
                "NONEXISTENT_ID",
            )
        return record_id

    def _taken(self, rtype: str, record_id: str) -> bool:
        space = ID_SPACES.get(rtype)
        types = [t for t, s in ID_SPACES.items() if s == space] if space else [rtype]
        return any(record_id in self._records[t] for t in types)

    def _mint(self, rtype: str) -> str:
        space = ID_SPACES.get(rtype, rtype)
        while self._taken(rtype, str(self._next_id[space])):
            self._next_id[space] += 1
        return str(self._next_id[space])

    def _resolve(self, spec: FieldSpec, ref: dict[str, Any], path: str) -> dict[str, str]:
        if not spec.targets:
            return {"id": ref["id"]} if "id" in ref else {"externalId": ref["externalId"]}
        if "id" in ref:
            key = ref["id"]
            if any(key in self._records[t] for t in spec.targets):
                return {"id": key}
        else:
            key = ref["externalId"]
            for target in spec.targets:
                if key in self._external[target]:
                    return {"id": self._external[target][key]}
        raise bad_request(f"Invalid {spec.name} reference key {key}.", "INVALID_KEY_OR_REF", path=path)

    def _write(
        self,
        rtype: RecordType,
        record_id: str,
        changes: dict[str, Any],
        *,
        creating: bool = False,
        replace: set[str] = frozenset(),
        client: bool = False,
    ) -> str:
        """Store a create or update. `client`: the write comes from a REST client, so fields the account does not
        keep are dropped (the write still counts as a change) and the account's write policies run."""
        old = {} if creating else self._records[rtype.name][record_id]
        if client:
            unkept = self._unkept(rtype.name)
            changes = {k: v for k, v in changes.items() if k not in unkept}
        record = {**old, "id": record_id}
        for name, value in changes.items():
            if value is None:
                record.pop(name, None)
            elif rtype.fields[name].kind == "sublist":
                kept = [] if creating or name in replace else old.get(name, {}).get("items", [])
                lines = [*kept, *value["items"]]
                # Line numbers are the server's and run 1..n, as NetSuite numbers a sublist.
                record[name] = {"items": [{**line, "line": str(n)} for n, line in enumerate(lines, 1)]}
            else:
                record[name] = value
        for name in replace - changes.keys():
            if name in rtype.sublists:
                record.pop(name, None)  # ?replace=<sublist> without lines in the body empties it
        if creating:
            missing = [f for f in REQUIRED_ON_CREATE.get(rtype.name, ()) if record.get(f) is None]
            if missing:
                raise missing_values(missing)
        if client:
            for policy in self.policies:
                policy.before_write(rtype.name, None if creating else old, record)
        self._index_external(rtype.name, record_id, old.get("externalId"), record.get("externalId"))
        now = iso_instant(self._clock())
        record["lastModifiedDate"] = now
        if creating and rtype.created_field:
            record[rtype.created_field] = now
        self._records[rtype.name][record_id] = record
        if creating and record_id.isdigit():
            space = ID_SPACES.get(rtype.name, rtype.name)
            self._next_id[space] = max(self._next_id[space], int(record_id) + 1)
        return record_id

    def _unkept(self, rtype: str) -> set[str]:
        return {f for t, fields in self.unkept_fields.items() if t.lower() == rtype.lower() for f in fields}

    def _index_external(self, rtype: str, record_id: str, old: str | None, new: str | None) -> None:
        if old == new:
            return
        index = self._external[rtype]
        if new is not None and index.get(new, record_id) != record_id:
            # UNVERIFIED: the o:errorCode for a duplicate external id on REST (SOAP says DUP_RCRD/DUP_ENTITY).
            raise bad_request(
                f"A {rtype} record with external ID {new!r} already exists.", "DUP_RCRD", path="externalId"
            )
        if old is not None:
            index.pop(old, None)
        if new is not None:
            index[new] = record_id
