"""The one mapping store: which source record became which target record, at which version and content.

One item per source record (`MAP#<kind>#<source id>`), with a reverse index by target ID, an index by kind and
an index by parent (a timesheet lists its time bills). The item is also the record's **lock**: a worker that
is about to write a record's target takes it with one conditional update, and releases it with the mapping
write itself (a put conditional on still holding it). So two workers never write one record at once, and the
version fence (an older message never overwrites a newer one) is checked under the lock instead of between
a read and a write.

The content hash of what was last written lets a worker skip a write that would change nothing; the
`fingerprint` of the source snapshot last applied lets the poller leave an unchanged record out of the queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from ctsync.errors import TransientError
from ctsync.state.table import BY_KIND, BY_PARENT, BY_TARGET, PK, SK, write_together
from ctsync.timeutil import format_instant, parse_instant, utc_now

LOCK_SECONDS = 300  # as long as a worker invocation may run
BATCH_GET = 100  # DynamoDB's BatchGetItem limit
TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit


class Mapping(BaseModel):
    kind: str  # record kind: "project", "customer", "task", "timesheet", "timeentry", …
    source_id: str
    target_id: str
    source_version: datetime | None = None
    content_hash: str = ""  # what was last written to the target; "" forces the next write
    fingerprint: str = ""  # the source snapshot last applied in full
    details: dict[str, str] = Field(default_factory=dict)  # kind-specific facts, e.g. the job a task is linked to
    parent: str | None = None  # "<kind>#<source id>" of the record this one belongs to
    deleted: bool = False
    updated_at: datetime = Field(default_factory=utc_now)

    @staticmethod
    def placeholder(kind: str, source_id: str) -> str:
        """The target ID of a mapping whose record has nothing of its own in the target system (yet): names no
        record there."""
        return f"{kind}:{source_id}"

    @classmethod
    def of_no_target(cls, kind: str, source_id: str, **fields: Any) -> Mapping:
        """A mapping kept for a record nothing of which is in the target system (a sheet blocked, or whose first
        write failed, before anything of it got there): deleted, its target a placeholder naming no record there."""
        return cls(kind=kind, source_id=source_id, target_id=cls.placeholder(kind, source_id), deleted=True, **fields)

    @property
    def names_a_target(self) -> bool:
        """Whether `target_id` names something in the target system (not a `placeholder`)."""
        return bool(self.target_id) and self.target_id != self.placeholder(self.kind, self.source_id)


class RecordBusy(TransientError):
    """Another worker holds this record right now; try again once it has recorded its mapping."""

    code = "RECORD_BUSY"


# The name earlier versions used; kept for the tests and logs that know it.
CreationContended = RecordBusy


class LostLock(TransientError):
    """The record's lock expired and another worker took it before this one recorded its write."""

    code = "LOST_LOCK"


@dataclass
class Lock:
    """A held record lock, and what the item said when it was taken."""

    kind: str
    source_id: str
    owner: str
    mapping: Mapping | None  # the mapping as it stood (None: the record has no target yet)
    create_may_exist: bool  # a previous holder may have created the target and not recorded it: look first
    create_attempted: bool = False  # this holder called create (its outcome may be unknown)
    create_refused: bool = False  # this holder's create was refused outright: nothing was made
    resolved: bool = False  # this holder found or made the target (the doubt above is settled)
    # External IDs of targets a holder noted it was about to write before their mappings were recorded
    # (`MappingStore.note_writes`): as the item said when the lock was taken, and then with this holder's notes
    writes_noted: frozenset[str] = frozenset()
    noted_on_item: frozenset[str] = frozenset()  # what the item holds of them (`release` writes the difference)
    # This holder gave the lock up (a `commit` without `keep_lock`, or `release`): nothing more is written under it
    released: bool = False

    @property
    def keep_create_mark(self) -> bool:
        """Whether the next holder must still look before creating, if this one gives up now."""
        return (self.create_attempted and not self.create_refused) or (self.create_may_exist and not self.resolved)


def _pk(kind: str, source_id: str) -> str:
    return f"MAP#{kind}#{source_id}"


WRITES_NOTED = "writes_noted"  # item attribute: `MappingStore.note_writes`
UNSETTLED = "UNSETTLED#"  # + kind: the item listing that kind's records to look at again


class MappingStore:
    def __init__(self, table: Any, clock: Any = time.time) -> None:
        self._table = table
        self._clock = clock

    # -- reading -------------------------------------------------------------------------------------
    def get(self, kind: str, source_id: str) -> Mapping | None:
        item = self._table.get_item(Key={PK: _pk(kind, source_id), SK: "MAP"}, ConsistentRead=True).get("Item")
        return _to_mapping(item)

    def get_many(self, kind: str, source_ids: Iterable[str]) -> dict[str, Mapping]:
        """Mappings of many records of one kind, 100 keys per call (unprocessed keys read again).

        Records the worker skipped (never synced, not wanted in the target) come back as skip markers: a mapping
        with an empty `target_id` and the fingerprint of the snapshot it skipped (see `note_skipped`).
        """
        wanted = list(dict.fromkeys(source_ids))
        found: dict[str, Mapping] = {}
        client = self._table.meta.client
        for start in range(0, len(wanted), BATCH_GET):
            # The resource's client (de)serialises items itself: keys and items are plain values.
            keys: list[dict[str, Any]] = [{PK: _pk(kind, s), SK: "MAP"} for s in wanted[start : start + BATCH_GET]]
            while keys:
                response = client.batch_get_item(
                    RequestItems={self._table.name: {"Keys": keys, "ConsistentRead": True}}
                )
                for item in response.get("Responses", {}).get(self._table.name, []):
                    mapping = _to_mapping(item) or _skip_marker(item)
                    if mapping:
                        found[mapping.source_id] = mapping
                keys = response.get("UnprocessedKeys", {}).get(self._table.name, {}).get("Keys", [])
        return found

    def writes_noted(self, kind: str, source_id: str) -> frozenset[str]:
        """The external IDs noted on the record's item (`note_writes`) and not settled since: what the next holder's
        lock will find (`Lock.writes_noted`), for a reader that takes no lock (`ctns plan`). One read."""
        item = self._table.get_item(Key={PK: _pk(kind, source_id), SK: "MAP"}, ConsistentRead=True).get("Item")
        return _noted(item)

    def by_target(self, kind: str, target_id: str) -> Mapping | None:
        """The mapping whose target is `target_id`: a live one before any deleted one (a record recreated in the
        source and linked to the same target leaves the old mapping deleted beside it)."""
        response = self._table.query(
            IndexName=BY_TARGET, KeyConditionExpression=Key("gsi1pk").eq(f"TGT#{kind}#{target_id}")
        )
        found = [m for m in map(_to_mapping, response.get("Items", [])) if m is not None]
        return next((m for m in found if not m.deleted), found[0] if found else None)

    def live_by_target(self, kind: str, *, max_pages: int) -> dict[str, Mapping | None]:
        """Target ID -> the live mapping of `kind` to it, from at most `max_pages` pages (1 MB each) of the kind's
        index: a lookup table for many `by_target` questions at the cost of a few queries. A target whose only
        mappings are deleted maps to None."""
        found: dict[str, Mapping | None] = {}
        # (an item without a target, a lock's placeholder, is not a mapping: `_query_index` leaves it out)
        for mapping in self._query_index(BY_KIND, "gsi2pk", f"KIND#{kind}", max_pages=max_pages):
            if not mapping.deleted:
                found[mapping.target_id] = mapping
            else:
                found.setdefault(mapping.target_id, None)
        return found

    def all_of_kind(self, kind: str) -> Iterator[Mapping]:
        yield from self._query_index(BY_KIND, "gsi2pk", f"KIND#{kind}")

    def children(self, parent_kind: str, parent_id: str) -> list[Mapping]:
        """Every mapping that belongs to one parent record (a timesheet's time bills, a sheet's receipts)."""
        return list(self._query_index(BY_PARENT, "gsi3pk", f"PARENT#{parent_kind}#{parent_id}"))

    def _query_index(
        self, index: str, attribute: str, value: str, *, max_pages: int | None = None
    ) -> Iterator[Mapping]:
        kwargs: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": Key(attribute).eq(value)}
        pages = 0
        while max_pages is None or pages < max_pages:
            pages += 1
            response = self._table.query(**kwargs)
            for item in response.get("Items", []):
                mapping = _to_mapping(item)
                if mapping:
                    yield mapping
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- records to look at again (a write of unknown outcome; `ctsync.unsettled`) -----------------------
    # One item per kind holds the listed source IDs as a string set: the poller reads it in the BatchGetItem it
    # makes anyway (`ProgressStore.run_state`), so a quiet run costs no more calls. Writes of unknown outcome are
    # rare; an item's 400 KB holds some 15,000 IDs listed at once.
    @staticmethod
    def unsettled_key(kind: str) -> dict[str, str]:
        return {PK: f"{UNSETTLED}{kind}", SK: "LIST"}

    def list_unsettled(self, kind: str, source_id: str) -> None:
        """List a record whose target a late request may still change, for the later runs' look."""
        self._table.update_item(
            Key=self.unsettled_key(kind), UpdateExpression="ADD ids :id", ExpressionAttributeValues={":id": {source_id}}
        )

    def unlist_unsettled(self, kind: str, source_id: str) -> None:
        self._table.update_item(
            Key=self.unsettled_key(kind),
            UpdateExpression="DELETE ids :id",
            ExpressionAttributeValues={":id": {source_id}},
        )

    def unsettled(self, kind: str) -> list[str]:
        """The source IDs of the records of `kind` listed for a later look, sorted."""
        item = self._table.get_item(Key=self.unsettled_key(kind), ConsistentRead=True).get("Item")
        return self.unsettled_in([item] if item else []).get(kind, [])

    @staticmethod
    def unsettled_in(items: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
        """Kind -> listed source IDs (sorted), from the listing items among `items`."""
        return {
            str(item[PK]).removeprefix(UNSETTLED): sorted(str(source_id) for source_id in item.get("ids", ()))
            for item in items
            if str(item.get(PK, "")).startswith(UNSETTLED) and item.get(SK) == "LIST"
        }

    # -- writing without a lock ------------------------------------------------------------------------
    def put(self, mapping: Mapping) -> None:
        """Write a mapping outright: for records only one writer can own (children under their parent's lock)."""
        self._table.put_item(Item=_to_item(mapping))

    def put_many(self, mappings: Iterable[Mapping]) -> None:
        with self._table.batch_writer() as batch:
            for mapping in mappings:
                batch.put_item(Item=_to_item(mapping))

    def delete_many(self, kind: str, source_ids: Iterable[str]) -> None:
        with self._table.batch_writer() as batch:
            for source_id in source_ids:
                batch.delete_item(Key={PK: _pk(kind, source_id), SK: "MAP"})

    def adopt(self, kind: str, source_id: str, target_id: str, details: dict[str, str] | None = None) -> bool:
        """Record a target that already carries the source's ID (made by hand or by an earlier integration).

        Only where the store knows no target for the record yet; its hash is empty, so the next message about
        the record brings the target up to date instead of creating a twin. False when a mapping existed.
        """
        mapping = Mapping(
            kind=kind, source_id=source_id, target_id=target_id, details={"adopted": "true", **(details or {})}
        )
        try:
            self._table.put_item(
                Item=_to_item(mapping),
                ConditionExpression=Attr(PK).not_exists() | Attr("target_id").not_exists(),
            )
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    def confirm(self, mapping: Mapping, version: datetime | None, fingerprint: str) -> None:
        """The target already holds this version: move the fence and the fingerprint on, without a lock, only
        if nobody holds the record and its content is still what was compared (else the holder decides)."""
        sets, values = [], {":hash": mapping.content_hash}
        if version and (mapping.source_version is None or version > mapping.source_version):
            sets.append("source_version = :v")
            values[":v"] = format_instant(version)
        if fingerprint and fingerprint != mapping.fingerprint:
            sets.append("fingerprint = :f")
            values[":f"] = fingerprint
        if not sets:
            return
        try:
            self._table.update_item(
                Key={PK: _pk(mapping.kind, mapping.source_id), SK: "MAP"},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_not_exists(lock_owner) AND content_hash = :hash",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _is_conflict(error):
                raise

    def note_skipped(self, kind: str, source_id: str, fingerprint: str) -> bool:
        """Remember that this snapshot of a record has no target and needs none (a closed project never
        synced), so the poller leaves it out until the record changes. Never over a real mapping or a lock:
        False (nothing written) when the record has either."""
        if not fingerprint:
            return False
        try:
            self._table.put_item(Item=_skip_item(kind, source_id, fingerprint), ConditionExpression=_SKIP_CONDITION)
        except ClientError as error:
            if not _is_conflict(error):
                raise
            return False
        return True

    def note_skipped_many(self, kind: str, records: Iterable[tuple[str, str]]) -> set[str]:
        """`note_skipped` for many `(source_id, fingerprint)` pairs in one transaction per 100 (DynamoDB's
        limit): one call where a message per record would cost the worker four or more. Returns the source IDs
        marked; a record that meanwhile got a mapping or a lock is not (the transaction is refused as a whole,
        and its records are then marked one by one, so only those are left out)."""
        pending = [(s, f) for s, f in dict(records).items() if f]
        marked: set[str] = set()
        for start in range(0, len(pending), TRANSACTION_ITEMS):
            chunk = pending[start : start + TRANSACTION_ITEMS]
            puts = [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": _skip_item(kind, source_id, fingerprint),
                        "ConditionExpression": "attribute_not_exists(target_id) AND attribute_not_exists(lock_owner)",
                    }
                }
                for source_id, fingerprint in chunk
            ]
            if write_together(self._table, puts):
                marked.update(s for s, _ in chunk)
            else:
                marked.update(s for s, f in chunk if self.note_skipped(kind, s, f))
        return marked

    # -- the record lock -----------------------------------------------------------------------------
    def lock(self, kind: str, source_id: str, owner: str, *, wait_seconds: float = 0.0) -> Lock:
        """Take the record's lock (one conditional update), waiting up to `wait_seconds` for another holder.

        The same update marks that a create may happen (`create_started`): a holder that dies holding the lock
        leaves the mark, so the next one looks for the target before creating; the mapping write (a put of the
        whole item) or a release that knows no create happened removes it. Raises RecordBusy when another live
        worker holds the lock after the wait.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            now = int(self._clock())
            try:
                response = self._table.update_item(
                    Key={PK: _pk(kind, source_id), SK: "MAP"},
                    UpdateExpression="SET lock_owner = :owner, lock_until = :until, create_started = :t",
                    ConditionExpression=Attr("lock_owner").not_exists()
                    | Attr("lock_until").lt(now)
                    | Attr("lock_owner").eq(owner),
                    ExpressionAttributeValues={":owner": owner, ":until": now + LOCK_SECONDS, ":t": True},
                    ReturnValues="ALL_OLD",
                )
            except ClientError as error:
                if not _is_conflict(error):
                    raise
                if time.monotonic() >= deadline:
                    raise RecordBusy(f"another worker is writing the {kind} for {source_id}") from error
                time.sleep(0.2)
                continue
            old = response.get("Attributes") or {}
            return Lock(
                kind=kind,
                source_id=source_id,
                owner=owner,
                mapping=_to_mapping(old),
                create_may_exist=bool(old.get("create_started")),
                writes_noted=_noted(old),
                noted_on_item=_noted(old),
            )

    def note_writes(self, lock: Lock, external_ids: Iterable[str]) -> None:
        """Note on the record's item, before writing them, targets that no mapping knows yet (their external IDs),
        so that a holder failing or dying before their mappings are recorded leaves the next holder what it may
        have made in the other system (`Lock.writes_noted`). One conditional update, none when all are noted
        already; the notes stay until a commit that says they are settled. Raises LostLock when the lock is no
        longer this holder's."""
        noted = lock.writes_noted | set(external_ids)
        if noted == lock.writes_noted:
            return
        try:
            self._table.update_item(
                Key={PK: _pk(lock.kind, lock.source_id), SK: "MAP"},
                UpdateExpression=f"SET {WRITES_NOTED} = :noted",
                ConditionExpression=Attr("lock_owner").eq(lock.owner),
                ExpressionAttributeValues={":noted": sorted(noted)},
            )
        except ClientError as error:
            if _is_conflict(error):
                raise LostLock(f"the lock on {lock.kind} {lock.source_id} expired before its writes began") from error
            raise
        lock.writes_noted = lock.noted_on_item = frozenset(noted)

    def recorded(self, lock: Lock, external_ids: Iterable[str]) -> None:
        """These noted targets' mappings are recorded: no longer in doubt. Kept in the lock alone; the item follows at
        the next commit or release (no call of its own: one that dies first leaves them noted, written once more by
        the next holder)."""
        lock.writes_noted = lock.writes_noted - set(external_ids)

    def commit(self, lock: Lock, mapping: Mapping, *, keep_lock: bool = False, settled: bool = False) -> None:
        """Write the mapping and release the lock in one put, only while the lock is still this worker's.

        `keep_lock` records the mapping and keeps holding the lock (a created target, before its follow-up).
        The writes noted on the item (`note_writes`) stay noted unless `settled`: the holder has recorded or
        removed everything they name.
        """
        item = _to_item(mapping)
        if keep_lock:
            item.update({"lock_owner": lock.owner, "lock_until": int(self._clock()) + LOCK_SECONDS})
        if lock.writes_noted and not settled:
            item[WRITES_NOTED] = sorted(lock.writes_noted)
        noted = frozenset() if settled else lock.writes_noted
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("lock_owner").eq(lock.owner))
        except ClientError as error:
            if _is_conflict(error):
                raise LostLock(
                    f"the lock on {lock.kind} {lock.source_id} expired before its mapping was recorded"
                ) from error
            raise
        lock.mapping = mapping
        lock.writes_noted = lock.noted_on_item = noted
        lock.released = not keep_lock

    def release(self, lock: Lock, *, settled: bool = False) -> None:
        """Give the lock up without writing a mapping (nothing to do, or a failure).

        The create mark stays while a create may have happened and was not recorded (`Lock.keep_create_mark`);
        the writes noted (`note_writes`) stay unless `settled` (the holder found none of them made), less those
        `recorded` since.
        """
        expression = (
            "REMOVE lock_owner, lock_until"
            if lock.keep_create_mark
            else "REMOVE lock_owner, lock_until, create_started"
        )
        noted = frozenset() if settled else lock.writes_noted
        values: dict[str, Any] = {}
        if noted != lock.noted_on_item:
            if noted:
                expression = f"SET {WRITES_NOTED} = :noted " + expression
                values[":noted"] = sorted(noted)
            else:
                expression += f", {WRITES_NOTED}"
        try:
            self._table.update_item(
                Key={PK: _pk(lock.kind, lock.source_id), SK: "MAP"},
                UpdateExpression=expression,
                ConditionExpression=Attr("lock_owner").eq(lock.owner),
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if not _is_conflict(error):
                raise  # expired and taken over: theirs now
        else:
            lock.noted_on_item = noted
        lock.released = True


_SKIP_CONDITION = Attr("target_id").not_exists() & Attr("lock_owner").not_exists()


def _skip_item(kind: str, source_id: str, fingerprint: str) -> dict[str, Any]:
    return {
        PK: _pk(kind, source_id),
        SK: "MAP",
        "kind": kind,
        "source_id": source_id,
        "skipped_fingerprint": fingerprint,
        "updated_at": format_instant(utc_now()),
    }


def _skip_marker(item: dict[str, Any]) -> Mapping | None:
    if not item.get("skipped_fingerprint"):
        return None
    return Mapping(
        kind=item["kind"],
        source_id=item["source_id"],
        target_id="",
        fingerprint=item["skipped_fingerprint"],
        details={"skipped": "true"},
        updated_at=parse_instant(item["updated_at"]),
    )


def _noted(item: dict[str, Any] | None) -> frozenset[str]:
    """The writes an item notes (`MappingStore.note_writes`)."""
    return frozenset((item or {}).get(WRITES_NOTED) or ())


def _is_conflict(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _to_item(mapping: Mapping) -> dict[str, Any]:
    mapping.updated_at = utc_now()
    item: dict[str, Any] = {
        PK: _pk(mapping.kind, mapping.source_id),
        SK: "MAP",
        "gsi1pk": f"TGT#{mapping.kind}#{mapping.target_id}",
        "gsi1sk": "MAP",
        "gsi2pk": f"KIND#{mapping.kind}",
        "gsi2sk": mapping.source_id,
        "kind": mapping.kind,
        "source_id": mapping.source_id,
        "target_id": mapping.target_id,
        "content_hash": mapping.content_hash,
        "fingerprint": mapping.fingerprint,
        "details": mapping.details,
        "deleted": mapping.deleted,
        "updated_at": format_instant(mapping.updated_at),
    }
    if mapping.parent:
        item["parent"] = mapping.parent
        item["gsi3pk"] = f"PARENT#{mapping.parent}"
        item["gsi3sk"] = f"{mapping.kind}#{mapping.source_id}"
    if mapping.source_version:
        item["source_version"] = format_instant(mapping.source_version)
    return item


def _to_mapping(item: dict[str, Any] | None) -> Mapping | None:
    """The mapping an item holds; None for a lock placeholder of a record that has no target yet."""
    if not item or not item.get("target_id"):
        return None
    version = item.get("source_version")
    return Mapping(
        kind=item["kind"],
        source_id=item["source_id"],
        target_id=item["target_id"],
        source_version=parse_instant(version) if version else None,
        content_hash=item.get("content_hash", ""),
        fingerprint=item.get("fingerprint", ""),
        details=dict(item.get("details") or {}),
        parent=item.get("parent"),
        deleted=bool(item.get("deleted", False)),
        updated_at=parse_instant(item["updated_at"]),
    )


__all__ = ["LOCK_SECONDS", "CreationContended", "Lock", "LostLock", "Mapping", "MappingStore", "RecordBusy"]
