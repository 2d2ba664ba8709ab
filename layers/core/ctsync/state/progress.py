"""Per-sync progress: the watermark, the cursor of an unfinished run, and the lease that keeps runs apart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ctsync.state.table import PK, SK, TTL_ATTRIBUTE, epoch
from ctsync.timeutil import format_instant, parse_instant, utc_now


class Cursor(BaseModel):
    """Where an unfinished run stands, so a fresh invocation continues instead of starting over."""

    run_id: str
    window_start: datetime  # read changes at or after this instant
    window_end: datetime  # source server time when the run started: the next watermark
    phase: str  # which query of the sync is being paged ("changes", "deletions", …)
    after: str | None = None  # last key enqueued in that phase
    enqueued: int = 0


def _is_conflict(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class ProgressStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(sync: str, what: str) -> dict[str, str]:
        return {PK: f"SYNC#{sync}", SK: what}

    # -- watermark --------------------------------------------------------------------------------
    def watermark(self, sync: str) -> datetime | None:
        item = self._table.get_item(Key=self._key(sync, "WATERMARK"), ConsistentRead=True).get("Item")
        return parse_instant(item["value"]) if item else None

    def advance_watermark(self, sync: str, value: datetime, run_id: str) -> bool:
        """Move the watermark forward only; False when it already stands at or past `value`."""
        text = format_instant(value)
        try:
            self._table.put_item(
                Item={
                    **self._key(sync, "WATERMARK"),
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
        item = self._table.get_item(Key=self._key(sync, "LEASE"), ConsistentRead=True).get("Item")
        if not item or int(item[TTL_ATTRIBUTE]) < epoch(utc_now()):
            return None
        return str(item["owner"])

    def release_lease(self, sync: str, owner: str) -> None:
        try:
            self._table.delete_item(Key=self._key(sync, "LEASE"), ConditionExpression=Attr("owner").eq(owner))
        except ClientError as error:
            if not _is_conflict(error):
                raise
