"""The run log: per run, what the poller enqueued, what the workers did, and every failure with its reason;
and, per sync, the open **causes**: failures grouped by what a person must fix.

Workers only ever add to a run (atomic counters, one item per failure), so concurrent workers never overwrite
each other; a worker adds its whole batch's counts in one update. A cause item (`CAUSE#<sync>`, keyed by the
error's cause key) holds a count, when it was first and last seen, a bounded sample of the records it blocks
and an expiry, so one unmapped employee shows up once with the records it blocks, not as a hundred alarms,
and no cause outgrows DynamoDB's item size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping as Counts
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from ctsync.errors import cause_part
from ctsync.state.table import PK, SK, TTL_ATTRIBUTE, epoch
from ctsync.timeutil import format_instant, parse_instant, utc_now

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed", "retried", "deferred")
BLOCKED_SAMPLE = 50  # records listed per cause; the count is always complete
REASON_LIMIT = 1000  # characters of a failure's text a cause keeps
PHASE_PREFIX = "phase:"  # the source ID a failure of a whole phase is recorded under (no record has a colon in it)


def phase_source_id(phase: str) -> str:
    """The source ID a phase that cannot be read is recorded under (the poller), in place of a record's."""
    return f"{PHASE_PREFIX}{phase}"


def failed_phase(source_id: str | None) -> str | None:
    """The phase a failure is of, when it is of a phase that could not be read rather than of a record; else None.
    The one test of the two kinds: a phase failure waits in no dead-letter queue and blocks no record."""
    if source_id and source_id.startswith(PHASE_PREFIX):
        return source_id[len(PHASE_PREFIX) :] or None
    return None


class Failure(BaseModel):
    sync: str
    source_id: str
    target_id: str | None = None
    kind: str  # NEEDS_ATTENTION, BAD_INPUT, GAVE_UP, …
    reason: str
    cause_key: str = ""
    fix: str = ""
    at: datetime = Field(default_factory=utc_now)
    # The record did not go through (a worker dead-lettered it), rather than going through with a flag: a later
    # success of the record takes it out of the cause.
    dead_lettered: bool = False
    # Dead-lettered without being tried, under a pause another failure opened: counted and listed under the cause,
    # it leaves the cause's reason and fix those of the failure that opened the pause (it set them to "not tried:
    # the sync is paused until …", review 2026-12-04). Not stored.
    not_tried: bool = Field(default=False, exclude=True)


class Cause(BaseModel):
    sync: str
    key: str
    kind: str
    reason: str  # the latest failure's text
    fix: str = ""
    count: int
    blocked: list[str]  # a sample of the records it blocks (source IDs)
    held: list[str] = Field(default_factory=list)  # those of `blocked` it kept from going through (dead-lettered)
    first_seen: datetime
    last_seen: datetime
    open: bool = True


class RunSummary(BaseModel):
    run_id: str
    sync: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # running | enqueued | partial | continued | skipped | failed
    enqueued: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)


class RunEnd(BaseModel):
    """How a poller's run ended, for the run log."""

    sync: str
    run_id: str
    started_at: datetime
    status: str
    enqueued: int
    counts: dict[str, int] = Field(default_factory=dict)  # outcomes the poller judged (unchanged, skipped)
    logged: bool  # whether `start` was written already


# Where the failures recorded in this context go as (source ID, cause key): a worker's batch, while it handles a
# message (the records that went through keep the causes the batch reported them under).
RECORDED: ContextVar[set[tuple[str, str]] | None] = ContextVar("ctsync_recorded_failures", default=None)


class RunLog:
    def __init__(self, table: Any, retention_days: int = 30) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)

    def _expiry(self, after: datetime | None = None) -> int:
        return epoch((after or utc_now()) + self._retention)

    def start(self, sync: str, run_id: str, started_at: datetime) -> None:
        for item in self._start_items(sync, run_id, started_at):
            self._table.put_item(Item=item)

    def _start_items(self, sync: str, run_id: str, started_at: datetime) -> list[dict[str, Any]]:
        """The run's summary and its entry in the sync's list of runs."""
        summary = {
            PK: f"RUN#{run_id}",
            SK: "SUMMARY",
            "sync": sync,
            "started_at": format_instant(started_at),
            "status": "running",
            TTL_ATTRIBUTE: self._expiry(),
        }
        entry = {PK: f"SYNC#{sync}", SK: f"RUN#{format_instant(started_at)}#{run_id}", "run_id": run_id}
        return [summary, {**entry, TTL_ATTRIBUTE: self._expiry()}]

    def finish_writes(self, end: RunEnd) -> list[dict[str, Any]]:
        """A poller's run end (`set_status(..., finished=True)` and `add_counts` of what it judged; for a run not
        logged yet, `start` too) as items of one TransactWriteItems."""
        counts = {f"n_{k}": v for k, v in end.counts.items() if v}
        if not end.logged:
            summary, entry = self._start_items(end.sync, end.run_id, end.started_at)
            summary |= {"status": end.status, "enqueued": end.enqueued, "finished_at": format_instant(utc_now())}
            return [{"Put": {"TableName": self._table.name, "Item": item}} for item in (summary | counts, entry)]
        names = {"#s": "status", **{f"#n{i}": name for i, name in enumerate(counts)}}
        values: dict[str, Any] = {":s": end.status, ":e": end.enqueued, ":f": format_instant(utc_now())}
        values |= {f":v{i}": amount for i, amount in enumerate(counts.values())}
        expression = "SET #s = :s, enqueued = :e, finished_at = :f"
        if counts:
            expression += " ADD " + ", ".join(f"#n{i} :v{i}" for i in range(len(counts)))
        return [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {PK: f"RUN#{end.run_id}", SK: "SUMMARY"},
                    "UpdateExpression": expression,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]

    def finish(self, end: RunEnd) -> None:
        """`finish_writes` one call at a time (when the run's end could not be written as one transaction)."""
        if not end.logged:
            self.start(end.sync, end.run_id, end.started_at)
        self.set_status(end.run_id, end.status, enqueued=end.enqueued, finished=True)
        self.add_counts(end.run_id, end.counts)

    def set_status(self, run_id: str, status: str, *, enqueued: int | None = None, finished: bool = False) -> None:
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status}
        sets = ["#s = :s"]
        if enqueued is not None:
            sets.append("enqueued = :e")
            values[":e"] = enqueued
        if finished:
            sets.append("finished_at = :f")
            values[":f"] = format_instant(utc_now())
        self._table.update_item(
            Key={PK: f"RUN#{run_id}", SK: "SUMMARY"},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def count(self, run_id: str, outcome: str, amount: int = 1) -> None:
        self.add_counts(run_id, {outcome: amount})

    def add_counts(self, run_id: str, counts: Counts[str, int]) -> None:
        """Add several outcome counts to a run in one update (a worker's whole batch)."""
        counts = {k: v for k, v in counts.items() if v}
        if not counts:
            return
        unknown = set(counts) - set(OUTCOMES)
        if unknown:
            raise ValueError(f"unknown outcome {sorted(unknown)}")
        names = {f"#n{i}": f"n_{outcome}" for i, outcome in enumerate(counts)}
        values = {f":v{i}": amount for i, amount in enumerate(counts.values())}
        self._table.update_item(
            Key={PK: f"RUN#{run_id}", SK: "SUMMARY"},
            UpdateExpression="ADD " + ", ".join(f"#n{i} :v{i}" for i in range(len(counts))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def note(self, run_id: str, key: str, text: str) -> None:
        """A fact about the run an operator should read (e.g. a step skipped because of a company setting)."""
        self._table.put_item(Item={PK: f"RUN#{run_id}", SK: f"NOTE#{key}", "text": text, TTL_ATTRIBUTE: self._expiry()})

    # -- failures and their causes --------------------------------------------------------------------
    def record_failure(self, run_id: str | None, failure: Failure, *, count: int = 1) -> bool:
        """Keep the failure with its run (when known) and add it to its cause, as `count` failures (one failure
        naming several flags of a record counts each); True when the cause is new or had been resolved (the first
        failure of a cause is the one worth an ERROR line).

        A run keeps one item per record it dead-lettered (`FAIL#<source>`: dead-lettered again, by a redrive, it
        is the same failure) and one per other failure of the record, by cause and text: keyed by the record alone,
        a record's second flag of a run (another cause, or the same cause again) overwrote its first, and a dead
        letter its flags (review, 2026-12-03 evening)."""
        into = RECORDED.get()
        if into is not None:
            into.add((failure.source_id, _cause_key(failure)))
        if run_id:
            self._table.put_item(
                Item={
                    PK: f"RUN#{run_id}",
                    SK: failure_key(failure),
                    **failure.model_dump(mode="json", exclude_none=True),
                    TTL_ATTRIBUTE: self._expiry(),
                }
            )
        return self._add_to_cause(failure, count)

    def dead_lettered_in(self, run_id: str, source_id: str) -> bool:
        """Whether the run dead-lettered this record already (a redrive that fails it again is not a new failure of
        the run: counted again, a run of 5 records showed 10, then 15 failed)."""
        item = self._table.get_item(Key={PK: f"RUN#{run_id}", SK: f"FAIL#{source_id}"}).get("Item")
        return bool(item and item.get("dead_lettered"))

    def _add_to_cause(self, failure: Failure, count: int = 1) -> bool:
        at = format_instant(failure.at)
        key = {PK: f"CAUSE#{failure.sync}", SK: _cause_key(failure)}
        names = {
            "#first": "first_seen",
            "#last": "last_seen",
            "#kind": "kind",
            "#reason": "reason",
            "#fix": "fix",
            "#count": "count",
            "#open": "open",
            "#ttl": TTL_ATTRIBUTE,
        }
        values: dict[str, Any] = {
            ":at": at,
            ":k": failure.kind,
            ":r": failure.reason[:REASON_LIMIT],
            ":fix": failure.fix,
            ":one": count,
            ":true": True,
        }
        if failure.not_tried:  # the cause keeps the reason and fix of the failure that opened the pause
            texts = "#reason = if_not_exists(#reason, :r), #fix = if_not_exists(#fix, :fix)"
        else:
            texts = "#reason = :r, #fix = :fix"
        # An open cause never expires: a flag is raised once, and its cause may be the only record of work NetSuite
        # does not hold. It expires `retention_days` after it is closed (`resolve_cause`, `unblock`).
        sets = f"SET #first = if_not_exists(#first, :at), #last = :at, #kind = :k, {texts}, #open = :true"
        held = ", #held :ids" if failure.dead_lettered else ""
        try:
            response = self._table.update_item(
                Key=key,
                UpdateExpression=f"{sets} ADD #count :one, #blocked :ids{held} REMOVE #ttl",
                ConditionExpression="attribute_not_exists(#blocked) OR size(#blocked) < :max",
                ExpressionAttributeNames={**names, "#blocked": "blocked", **({"#held": "held"} if held else {})},
                ExpressionAttributeValues={**values, ":ids": {failure.source_id}, ":max": BLOCKED_SAMPLE},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # The sample is full: count the failure, keep the sample as it is.
            response = self._table.update_item(
                Key=key,
                UpdateExpression=f"{sets} ADD #count :one REMOVE #ttl",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            )
        old = response.get("Attributes") or {}
        return not old.get("open", False)

    def causes(self, sync: str, *, open_only: bool = True) -> list[Cause]:
        items = self._query(Key(PK).eq(f"CAUSE#{sync}"))
        for item in items:
            if item.get("open") and TTL_ATTRIBUTE in item:
                self._keep_open(item)
        causes = [_to_cause(sync, item) for item in items]
        return [c for c in causes if c.open or not open_only]

    def _keep_open(self, item: dict[str, Any]) -> None:
        """An open cause written before open causes stopped expiring (2026-12-04) still carries the run log's
        expiry: removed the first time it is read (once; a failure of the cause removes it too)."""
        try:
            self._table.update_item(
                Key={PK: item[PK], SK: item[SK]},
                UpdateExpression="REMOVE #ttl",
                ConditionExpression="#open = :true",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE, "#open": "open"},
                ExpressionAttributeValues={":true": True},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def cause(self, sync: str, key: str) -> Cause | None:
        item = self._table.get_item(Key={PK: f"CAUSE#{sync}", SK: key}, ConsistentRead=True).get("Item")
        return _to_cause(sync, item) if item else None

    def unblock(self, sync: str, key: str, source_id: str) -> None:
        """A record a cause named went through after all (a retry of a passing failure): it leaves the cause's
        sample, and a cause whose sample empties is closed when the sample held every failure it counted (a
        cause that overflowed its sample may still block records nobody listed, so it stays open)."""
        try:
            response = self._table.update_item(
                Key={PK: f"CAUSE#{sync}", SK: key},
                UpdateExpression="DELETE #blocked :ids, #held :ids",
                ConditionExpression="contains(#blocked, :id)",
                ExpressionAttributeNames={"#blocked": "blocked", "#held": "held"},
                ExpressionAttributeValues={":ids": {source_id}, ":id": source_id},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return  # not named by that cause (or the cause is gone): nothing to do
        item = response.get("Attributes") or {}
        if item.get("blocked") or int(item.get("count", 0)) > BLOCKED_SAMPLE:
            return
        try:  # closed only while still empty: a failure added meanwhile keeps it open
            self._table.update_item(
                Key={PK: f"CAUSE#{sync}", SK: key},
                UpdateExpression="SET #open = :false, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#blocked) AND #count = :count",
                ExpressionAttributeNames={
                    "#open": "open",
                    "#blocked": "blocked",
                    "#count": "count",
                    "#ttl": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={":false": False, ":count": item.get("count", 0), ":ttl": self._expiry()},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def resolve_cause(self, sync: str, key: str) -> dict[str, Any]:
        """Mark a cause fixed (an operator redrove its records): the next failure opens it again; a closed cause
        expires `retention_days` from now. Returns the cause's item as it was (for `restore_cause`)."""
        response = self._table.update_item(
            Key={PK: f"CAUSE#{sync}", SK: key},
            UpdateExpression="SET #open = :false, #ttl = :ttl REMOVE #blocked, #held",
            ConditionExpression="attribute_exists(#open)",
            ExpressionAttributeNames={"#open": "open", "#blocked": "blocked", "#held": "held", "#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={":false": False, ":ttl": self._expiry()},
            ReturnValues="ALL_OLD",
        )
        return dict(response.get("Attributes") or {})

    def restore_cause(self, item: dict[str, Any]) -> bool:
        """Put back a cause as `resolve_cause` found it (a redrive that failed before its records moved), unless a
        failure has opened it again since (what that failure recorded is newer). True when put back."""
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression="#open = :false AND attribute_not_exists(#blocked)",
                ExpressionAttributeNames={"#open": "open", "#blocked": "blocked"},
                ExpressionAttributeValues={":false": False},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # -- reading runs ---------------------------------------------------------------------------------
    def summary(self, run_id: str) -> RunSummary | None:
        items = self._items(run_id)
        head = next((i for i in items if i[SK] == "SUMMARY"), None)
        if head is None:
            return None
        return RunSummary(
            run_id=run_id,
            sync=head["sync"],
            started_at=parse_instant(head["started_at"]),
            finished_at=parse_instant(head["finished_at"]) if head.get("finished_at") else None,
            status=head.get("status", "running"),
            enqueued=int(head.get("enqueued", 0)),
            counts={o: int(head.get(f"n_{o}", 0)) for o in OUTCOMES},
            notes={i[SK].removeprefix("NOTE#"): i["text"] for i in items if i[SK].startswith("NOTE#")},
        )

    def failures(self, run_id: str) -> list[Failure]:
        return [Failure.model_validate(i) for i in self._items(run_id) if i[SK].startswith("FAIL#")]

    def failures_of(self, run_id: str, source_id: str) -> list[dict[str, Any]]:
        """The run's failure items about one record (its dead letter, and each flag it went through with)."""
        items = self._query(Key(PK).eq(f"RUN#{run_id}") & Key(SK).begins_with(f"FAIL#{source_id}"))
        return [item for item in items if of_record(item[SK], source_id)]

    def runs(self, sync: str, limit: int = 20) -> list[str]:
        """The most recent run IDs of a sync, newest first."""
        response = self._table.query(
            KeyConditionExpression=Key(PK).eq(f"SYNC#{sync}") & Key(SK).begins_with("RUN#"),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [item["run_id"] for item in response.get("Items", [])]

    def _items(self, run_id: str) -> list[dict[str, Any]]:
        return self._query(Key(PK).eq(f"RUN#{run_id}"))

    def _query(self, condition: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def note_key(kind: str, text: str) -> str:
    """The key of a note of `kind` saying `text`: one per distinct text (a fact many records tell, such as a job
    whose time stays in ClickTime, is kept once), readable by its start. Cut to a prefix alone, two notes naming
    different records past it (two time entries on one ClickTime task) overwrote each other (review, 2026-12-03)."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{kind}:{cause_part(text)[:60]}:{digest}"


def failure_key(failure: Failure) -> str:
    """The sort key of a run's item for the failure: the record's alone for a dead letter, else the record's with
    the cause and text it tells (the same flag recorded again, by a retry, is the same item)."""
    if failure.dead_lettered:
        return f"FAIL#{failure.source_id}"
    digest = hashlib.sha256(f"{_cause_key(failure)}\n{failure.reason}".encode()).hexdigest()[:12]
    return f"FAIL#{failure.source_id}#{digest}"


def of_record(sort_key: str, source_id: str) -> bool:
    """Whether a run's failure item (its sort key) is about the record `source_id`."""
    return sort_key == f"FAIL#{source_id}" or sort_key.startswith(f"FAIL#{source_id}#")


def _cause_key(failure: Failure) -> str:
    return failure.cause_key or failure.kind.lower()


def _to_cause(sync: str, item: dict[str, Any]) -> Cause:
    return Cause(
        sync=sync,
        key=item[SK],
        kind=item.get("kind", ""),
        reason=item.get("reason", ""),
        fix=item.get("fix", ""),
        count=int(item.get("count", 0)),
        blocked=sorted(item.get("blocked") or []),
        held=sorted(item.get("held") or []),
        first_seen=parse_instant(item["first_seen"]),
        last_seen=parse_instant(item["last_seen"]),
        open=bool(item.get("open", True)),
    )
