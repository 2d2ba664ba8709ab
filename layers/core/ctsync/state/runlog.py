"""The run log: per run, what the poller enqueued, what the workers did, and every failure with its reason.

Workers only ever add to a run (atomic counters, one item per failure), so concurrent workers never
overwrite each other. Failures are also grouped by cause per sync, so one unmapped employee shows up once
with every record it blocks rather than as a hundred separate alarms.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from pydantic import BaseModel, Field

from ctsync.state.table import PK, SK, TTL_ATTRIBUTE, epoch
from ctsync.timeutil import format_instant, parse_instant, utc_now

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed", "retried")


class Failure(BaseModel):
    sync: str
    source_id: str
    target_id: str | None = None
    kind: str  # NEEDS_ATTENTION, BAD_INPUT, GAVE_UP, …
    reason: str
    at: datetime = Field(default_factory=utc_now)


class RunSummary(BaseModel):
    run_id: str
    sync: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # running | enqueued | continued | skipped | failed
    enqueued: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)


class RunLog:
    def __init__(self, table: Any, retention_days: int = 30) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)

    def _expiry(self) -> int:
        return epoch(utc_now() + self._retention)

    def start(self, sync: str, run_id: str, started_at: datetime) -> None:
        self._table.put_item(
            Item={
                PK: f"RUN#{run_id}",
                SK: "SUMMARY",
                "sync": sync,
                "started_at": format_instant(started_at),
                "status": "running",
                TTL_ATTRIBUTE: self._expiry(),
            }
        )
        self._table.put_item(
            Item={
                PK: f"SYNC#{sync}",
                SK: f"RUN#{format_instant(started_at)}#{run_id}",
                "run_id": run_id,
                TTL_ATTRIBUTE: self._expiry(),
            }
        )

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
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self._table.update_item(
            Key={PK: f"RUN#{run_id}", SK: "SUMMARY"},
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": f"n_{outcome}"},
            ExpressionAttributeValues={":one": amount},
        )

    def note(self, run_id: str, key: str, text: str) -> None:
        """A fact about the run an operator should read (e.g. a step skipped because of a company setting)."""
        self._table.put_item(Item={PK: f"RUN#{run_id}", SK: f"NOTE#{key}", "text": text, TTL_ATTRIBUTE: self._expiry()})

    def record_failure(self, run_id: str, failure: Failure) -> None:
        at = format_instant(failure.at)
        self._table.put_item(
            Item={
                PK: f"RUN#{run_id}",
                SK: f"FAIL#{failure.source_id}",
                **failure.model_dump(mode="json", exclude_none=True),
                TTL_ATTRIBUTE: self._expiry(),
            }
        )
        self._table.update_item(
            Key={PK: f"CAUSE#{failure.sync}", SK: failure.reason[:500]},
            UpdateExpression="SET #seen = :at, #kind = :k ADD #blocked :ids",
            ExpressionAttributeNames={"#seen": "last_seen", "#kind": "kind", "#blocked": "blocked"},
            ExpressionAttributeValues={":at": at, ":k": failure.kind, ":ids": {failure.source_id}},
        )

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

    def runs(self, sync: str, limit: int = 20) -> list[str]:
        """The most recent run IDs of a sync, newest first."""
        response = self._table.query(
            KeyConditionExpression=Key(PK).eq(f"SYNC#{sync}") & Key(SK).begins_with("RUN#"),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [item["run_id"] for item in response.get("Items", [])]

    def _items(self, run_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key(PK).eq(f"RUN#{run_id}"), "ConsistentRead": True}
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
