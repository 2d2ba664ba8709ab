"""Per-sync progress: watermarks (one per phase), the cursor of an unfinished run, the lease that keeps runs
apart, and the breaker that pauses a sync's workers while a systemic cause (bad credentials, an outage) lasts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from ctsync.state.table import PK, SK, TTL_ATTRIBUTE, epoch, write_together
from ctsync.timeutil import format_instant, parse_instant, utc_now

WATERMARK = "WATERMARK"
# The `run_id` of a watermark a person set (`ctns backfill`, `ctns reset-watermark --to`) rather than a run: the run
# that reads from it is a deliberate re-read (`Cursor.reread`).
RESET = "reset"


class Cursor(BaseModel):
    """Where an unfinished run stands, so a fresh invocation continues instead of starting over."""

    run_id: str
    window_end: datetime  # the source's "now" when the run started: the next watermark of every phase
    starts: dict[str, datetime] = Field(default_factory=dict)  # per phase: read changes at or after this
    first_run: dict[str, bool] = Field(default_factory=dict)  # per phase: no watermark existed
    phase: str  # which phase is being read
    after: str | None = None  # last resume key enqueued in that phase (opaque to the engine)
    enqueued: int = 0
    unchanged: int = 0  # changes left out because the target already holds them
    skipped: int = 0  # changes left out because they need no target and never had one (marked skipped)
    adopted: int = 0
    failed_phases: dict[str, str] = Field(default_factory=dict)  # phase -> cause key
    # Phases read from a watermark a person set back (`RESET`: a backfill): what the source shows unchanged is
    # queued for its sync to judge again where the sync asks for that (`SyncDefinition.replans_on_reread`).
    reread: list[str] = Field(default_factory=list)
    opened_at: datetime | None = None  # our clock when the window opened (the run log's start)
    # Whether the run log holds the run yet: a quiet run is logged only at its end, in the same write as its
    # watermarks. A cursor written by an earlier version was logged when its window opened.
    logged: bool = True


class Breaker(BaseModel):
    """A systemic cause that pauses the sync's workers until `until` (then one record tries for real)."""

    cause_key: str
    kind: Literal["needs_attention", "outage"]
    reason: str
    until: datetime
    opened_at: datetime
    fix: str = ""  # the opening failure's: each record dead-lettered "not tried" under the pause carries it too


class PollFailure(BaseModel):
    """The last poll that failed (before or during its run), kept until a run of the sync ends: what `ctns status`
    shows beside a last run that may be days old. `reason` is the text of the poller's ERROR line."""

    at: datetime
    reason: str
    kind: str = ""
    run_id: str | None = None


POLL_FAILURE = "POLL_FAILURE"
POLL_FAILURE_DAYS = 30


_RUN_OPENED = re.compile(r"-(\d{8}T\d{6}Z)-[0-9a-f]+$")


def run_opened(run_id: str) -> datetime | None:
    """When a run opened, from its ID (`<sync>-<YYYYmmddTHHMMSSZ>-<hex>`, as the poller makes it); None for another."""
    found = _RUN_OPENED.search(run_id)
    return datetime.strptime(found.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if found else None


def _is_conflict(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class ProgressStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(sync: str, what: str) -> dict[str, str]:
        return {PK: f"SYNC#{sync}", SK: what}

    # -- watermarks -------------------------------------------------------------------------------
    def watermarks(self, sync: str) -> dict[str, datetime]:
        """Every phase's watermark. A watermark written without a phase (earlier versions) serves every phase."""
        response = self._table.query(
            KeyConditionExpression=Key(PK).eq(f"SYNC#{sync}") & Key(SK).begins_with(WATERMARK), ConsistentRead=True
        )
        found: dict[str, datetime] = {}
        for item in response.get("Items", []):
            phase = item[SK].partition("#")[2] or "*"
            found[phase] = parse_instant(item["value"])
        return found

    def phase_watermarks(self, sync: str) -> dict[str, datetime]:
        """The watermarks as an operator reads them: each phase's own, and a phase-less one (set by `ctns` before the
        sync's first run) only while no phase has its own (a run gives every phase its own, so the phase-less one is
        then left over; it still serves a phase that has none, which only a phase added by a later version lacks)."""
        marks = self.watermarks(sync)
        own = {phase: mark for phase, mark in marks.items() if phase != "*"}
        return own or marks

    def watermark(self, sync: str, phase: str) -> datetime | None:
        marks = self.watermarks(sync)
        return marks.get(phase) or marks.get("*")

    def advance_watermark(self, sync: str, phase: str, value: datetime, run_id: str) -> bool:
        """Move a phase's watermark forward only; False when it already stands at or past `value`."""
        text = format_instant(value)
        try:
            self._table.put_item(
                Item={
                    **self._key(sync, f"{WATERMARK}#{phase}"),
                    "value": text,
                    "run_id": run_id,
                    "set_at": format_instant(utc_now()),
                },
                ConditionExpression=Attr(PK).not_exists() | Attr("value").lt(text),
            )
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    def reset_watermarks(self, sync: str, value: datetime | None) -> None:
        """Set every phase's watermark back to `value`, or forget them (the next run is a first run)."""
        for phase in self.watermarks(sync):
            key = self._key(sync, WATERMARK if phase == "*" else f"{WATERMARK}#{phase}")
            if value is None:
                self._table.delete_item(Key=key)
            else:
                self._table.put_item(Item={**key, "value": format_instant(value), "run_id": RESET})

    def run_state(
        self, sync: str, phases: Sequence[str], also: Sequence[dict[str, str]] = ()
    ) -> tuple[Cursor | None, dict[str, datetime], list[dict[str, Any]], set[str]]:
        """The unfinished run's cursor and every phase's watermark (as `cursor` and `watermarks`) in one
        consistent BatchGetItem: what a run needs before it reads the source; with the items of the other
        stores' keys `also` (the records listed for a second look), as they are, so a quiet run reads once; and
        the phases (or "*") whose watermark a person set (`RESET`)."""
        own = [self._key(sync, what) for what in ("CURSOR", WATERMARK, *(f"{WATERMARK}#{p}" for p in phases))]
        keys = [*own, *also]
        items = self._read_consistently(keys)
        cursor: Cursor | None = None
        marks: dict[str, datetime] = {}
        others: list[dict[str, Any]] = []
        reset: set[str] = set()
        for item in items:
            if item[PK] != own[0][PK]:
                others.append(item)
            elif item[SK] == "CURSOR":
                cursor = Cursor.model_validate_json(item["cursor"])
            else:
                phase = item[SK].partition("#")[2] or "*"
                marks[phase] = parse_instant(item["value"])
                if item.get("run_id") == RESET:
                    reset.add(phase)
        return cursor, marks, others, reset

    def _read_consistently(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The items of `keys` that exist, in one consistent BatchGetItem (again for what DynamoDB left unprocessed)."""
        client = self._table.meta.client
        items: list[dict[str, Any]] = []
        while keys:
            response = client.batch_get_item(RequestItems={self._table.name: {"Keys": keys, "ConsistentRead": True}})
            items += response.get("Responses", {}).get(self._table.name, [])
            keys = response.get("UnprocessedKeys", {}).get(self._table.name, {}).get("Keys", [])
        return items

    def read_since(self, sync: str, phases: Sequence[str], run_id: str) -> bool:
        """Whether a run of `sync` opened after run `run_id` may have read the source since (one BatchGetItem of
        the watermarks and the lease): a watermark moved by another run opened no earlier, or `run_id` finished (a
        watermark names it) and the lease is held now (runs of a sync hold it one at a time, so by a later run).
        False when `run_id` does not say when it opened (not a run ID the poller makes)."""
        opened = run_opened(run_id)
        if opened is None:
            return False
        keys = [self._key(sync, what) for what in (WATERMARK, *(f"{WATERMARK}#{p}" for p in phases), "LEASE")]
        items = self._read_consistently(keys)
        finished, leased = False, False
        for item in items:
            if item[SK] == "LEASE":
                leased = int(item.get(TTL_ATTRIBUTE, 0)) >= epoch(utc_now())
                continue
            other = str(item.get("run_id") or "")
            if other == run_id:
                finished = True
            elif (stamp := run_opened(other)) is not None and stamp >= opened:
                return True
        return finished and leased

    def end_run(
        self,
        sync: str,
        owner: str,
        *,
        phases: Sequence[str],
        window_end: datetime,
        run_id: str,
        also: list[dict[str, Any]],
    ) -> bool:
        """A run's end in one TransactWriteItems: `phases`' watermarks moved to `window_end` (as
        `advance_watermark`), the cursor cleared, `owner`'s lease released, and `also` (the run log's writes).
        False, with nothing written, when DynamoDB refused it as a whole: a watermark already at or past
        `window_end`, the lease no longer `owner`'s, or another write to one of the items in flight."""
        writes = [self._watermark_write(sync, phase, window_end, run_id) for phase in phases]
        return write_together(self._table, writes + self._end_writes(sync, owner) + also)

    def _watermark_write(self, sync: str, phase: str, value: datetime, run_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {
                    **self._key(sync, f"{WATERMARK}#{phase}"),
                    "value": format_instant(value),
                    "run_id": run_id,
                    "set_at": format_instant(utc_now()),
                },
                "ConditionExpression": "attribute_not_exists(#pk) OR #value < :value",
                "ExpressionAttributeNames": {"#pk": PK, "#value": "value"},
                "ExpressionAttributeValues": {":value": format_instant(value)},
            }
        }

    def _end_writes(self, sync: str, owner: str) -> list[dict[str, Any]]:
        return [
            {"Delete": {"TableName": self._table.name, "Key": self._key(sync, "CURSOR")}},
            {"Delete": {"TableName": self._table.name, "Key": self._key(sync, POLL_FAILURE)}},
            {
                "Delete": {
                    "TableName": self._table.name,
                    "Key": self._key(sync, "LEASE"),
                    "ConditionExpression": "#owner = :owner",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {":owner": owner},
                }
            },
        ]

    # -- a failed poll ------------------------------------------------------------------------------
    def note_poll_failure(self, sync: str, failure: PollFailure) -> None:
        """Keep the latest failed poll until a run ends (`end_run` deletes it in its transaction)."""
        self._table.put_item(
            Item={
                **self._key(sync, POLL_FAILURE),
                "failure": failure.model_dump_json(),
                TTL_ATTRIBUTE: epoch(failure.at + timedelta(days=POLL_FAILURE_DAYS)),
            }
        )

    def poll_failure(self, sync: str) -> PollFailure | None:
        item = self._table.get_item(Key=self._key(sync, POLL_FAILURE), ConsistentRead=True).get("Item")
        return PollFailure.model_validate_json(item["failure"]) if item else None

    def clear_poll_failure(self, sync: str) -> None:
        self._table.delete_item(Key=self._key(sync, POLL_FAILURE))

    # -- cursor -----------------------------------------------------------------------------------
    def cursor(self, sync: str) -> Cursor | None:
        item = self._table.get_item(Key=self._key(sync, "CURSOR"), ConsistentRead=True).get("Item")
        return Cursor.model_validate_json(item["cursor"]) if item else None

    def save_cursor(self, sync: str, cursor: Cursor) -> None:
        self._table.put_item(Item={**self._key(sync, "CURSOR"), "cursor": cursor.model_dump_json()})

    def clear_cursor(self, sync: str) -> None:
        self._table.delete_item(Key=self._key(sync, "CURSOR"))

    # -- lease ------------------------------------------------------------------------------------
    def acquire_lease(self, sync: str, owner: str, seconds: int, *, handed_over_by: str | None = None) -> bool:
        """Take the sync's lease for one invocation; False while another live invocation holds it.

        Owners are invocations, not runs: a run that continues in a fresh invocation hands its lease over
        explicitly (`handed_over_by`), so a scheduled run arriving meanwhile cannot join in.
        """
        now = utc_now()
        condition = Attr(PK).not_exists() | Attr(TTL_ATTRIBUTE).lt(epoch(now)) | Attr("owner").eq(owner)
        if handed_over_by:
            condition = condition | Attr("owner").eq(handed_over_by)
        try:
            self._table.put_item(
                Item={
                    **self._key(sync, "LEASE"),
                    "owner": owner,
                    TTL_ATTRIBUTE: epoch(now + timedelta(seconds=seconds)),
                },
                ConditionExpression=condition,
            )
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    def lease_holder(self, sync: str) -> str | None:
        held = self.lease(sync)
        return held[0] if held else None

    def lease(self, sync: str) -> tuple[str, datetime] | None:
        """Who holds the sync's lease and until when (UTC), while it is held."""
        item = self._table.get_item(Key=self._key(sync, "LEASE"), ConsistentRead=True).get("Item")
        if not item or int(item[TTL_ATTRIBUTE]) < epoch(utc_now()):
            return None
        return str(item["owner"]), datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]), tz=UTC)

    def release_lease(self, sync: str, owner: str) -> None:
        try:
            self._table.delete_item(Key=self._key(sync, "LEASE"), ConditionExpression=Attr("owner").eq(owner))
        except ClientError as error:
            if not _is_conflict(error):
                raise

    # -- breaker ----------------------------------------------------------------------------------
    def breaker(self, sync: str) -> Breaker | None:
        item = self._table.get_item(Key=self._key(sync, "BREAKER"), ConsistentRead=True).get("Item")
        return Breaker.model_validate_json(item["breaker"]) if item else None

    def open_breaker(self, sync: str, breaker: Breaker) -> bool:
        """Open (or extend) the breaker; True when it was not already open for this cause (first to see it)."""
        response = self._table.put_item(
            Item={
                **self._key(sync, "BREAKER"),
                "breaker": breaker.model_dump_json(),
                TTL_ATTRIBUTE: epoch(breaker.until + timedelta(days=1)),
            },
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes")
        if not old:
            return True
        before = Breaker.model_validate_json(old["breaker"])
        return before.cause_key != breaker.cause_key or before.until < breaker.opened_at

    def close_breaker(self, sync: str) -> None:
        self._table.delete_item(Key=self._key(sync, "BREAKER"))
