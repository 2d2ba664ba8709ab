"""Deploy/operate review (2026-12-04; failed before the fix): `RunLogRetentionDays` is "Days a run's counts and failures are kept in the
state table" (template.yaml), but the same expiry is put on a sync's open causes (`CAUSE#<sync>`), and DynamoDB's TTL
deletes them. A flag is raised once ("each thing NetSuite holds back is flagged once, not every night": a bill billed
in NetSuite, `time-bill-frozen`), nothing waits in the dead-letter queue for it (docs/runbook.md, *Flagged, not
blocked*), so the open cause is the only record that a correction has not reached NetSuite and that `ctns backfill time
--since DAY` must apply it once the invoice is voided. Once the retention passes, `ctns errors` says "No open failures".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ctsync.state.runlog import Failure, RunLog
from ctsync.state.table import PK, SK, TTL_ATTRIBUTE
from tests.integration.conftest import T0


def test_an_open_cause_outlives_the_run_log_retention_until_it_is_resolved(table, clock):
    runlog = RunLog(table, retention_days=30)  # the parameter's default
    flag = Failure(
        sync="time",
        source_id="ts-1",
        target_id="timebill 901",
        kind="NEEDS_ATTENTION",
        reason="time bill 901 is billed in NetSuite: its correction was not sent",
        cause_key="time-bill-frozen",
        fix="once the invoice is voided, ctns backfill time --since 2026-11-24",
        at=T0,
    )
    runlog.record_failure("time-run-1", flag)  # flagged once; nothing dead-lettered
    assert [c.key for c in runlog.causes("time")] == ["time-bill-frozen"]

    item = table.get_item(Key={PK: "CAUSE#time", SK: "time-bill-frozen"})["Item"]
    expires = item.get(TTL_ATTRIBUTE)
    deleted_by_ttl_on = None if expires is None else T0 + timedelta(seconds=int(expires) - int(T0.timestamp()))
    assert item["open"] is True
    assert expires is None, (
        f"the open cause time-bill-frozen carries {TTL_ATTRIBUTE}={expires}: DynamoDB deletes it on "
        f"{deleted_by_ttl_on:%Y-%m-%d} although nobody resolved it"
    )


def test_a_closed_cause_expires_after_the_retention_and_an_old_expiry_goes_when_it_fails_again(table, clock):
    runlog = RunLog(table, retention_days=30)
    flag = Failure(
        sync="time", source_id="ts-1", kind="NEEDS_ATTENTION", reason="billed", cause_key="time-bill-frozen", at=T0
    )
    runlog.record_failure("time-run-1", flag)
    key = {PK: "CAUSE#time", SK: "time-bill-frozen"}
    runlog.resolve_cause("time", "time-bill-frozen")  # an operator redrove it: kept as long as a run's failures

    assert int(table.get_item(Key=key)["Item"][TTL_ATTRIBUTE]) > int(T0.timestamp())

    runlog.record_failure("time-run-2", flag.model_copy(update={"source_id": "ts-2"}))  # it opens again

    assert TTL_ATTRIBUTE not in table.get_item(Key=key)["Item"]


def test_a_resolved_cause_that_opens_again_holds_only_its_new_records(table, clock):
    """`held` names the records a cause keeps in the dead-letter queue (`ctns redrive` reports those whose letters
    SQS deleted): a record redriven with its cause resolved is not still held when the cause opens again."""
    runlog = RunLog(table, retention_days=30)
    failure = Failure(sync="tasks", source_id="5001", kind="NEEDS_ATTENTION", reason="x", cause_key="c", at=T0)
    runlog.record_failure("run-1", failure.model_copy(update={"dead_lettered": True}))
    runlog.resolve_cause("tasks", "c")
    runlog.record_failure("run-2", failure.model_copy(update={"source_id": "5002", "dead_lettered": True}))

    (cause,) = runlog.causes("tasks")
    assert cause.held == ["5002"] and cause.blocked == ["5002"]


def test_an_open_cause_written_with_an_expiry_before_the_change_loses_it_when_read(table, clock):
    """Causes open when this change deploys carried the run log's expiry and, failing no more, would still vanish
    (the review of the day's changes, 2026-12-04): the first read of the sync's causes removes it; a closed cause
    keeps its own."""
    runlog = RunLog(table, retention_days=30)
    legacy = {"kind": "NEEDS_ATTENTION", "reason": "billed", "fix": "", "count": 1, "blocked": {"ts-1"}}
    stamps = {"first_seen": "2026-11-01T00:00:00Z", "last_seen": "2026-11-01T00:00:00Z", TTL_ATTRIBUTE: 1798218000}
    table.put_item(Item={PK: "CAUSE#time", SK: "time-bill-frozen", "open": True, **legacy, **stamps})
    table.put_item(Item={PK: "CAUSE#time", SK: "old-closed", "open": False, **legacy, **stamps})

    assert [c.key for c in runlog.causes("time")] == ["time-bill-frozen"]

    assert TTL_ATTRIBUTE not in table.get_item(Key={PK: "CAUSE#time", SK: "time-bill-frozen"})["Item"]
    assert table.get_item(Key={PK: "CAUSE#time", SK: "old-closed"})["Item"][TTL_ATTRIBUTE] == 1798218000


class ResolvedWhileRead:
    """The table, but an operator resolves the cause (`ctns redrive`, elsewhere) right after the sync's causes were
    read, before the old expiry is taken off it."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def query(self, **kwargs: Any) -> dict[str, Any]:
        answer = self._table.query(**kwargs)
        RunLog(self._table, retention_days=30).resolve_cause("time", "time-bill-frozen")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _legacy_open_cause(table: Any) -> None:
    table.put_item(
        Item={
            PK: "CAUSE#time",
            SK: "time-bill-frozen",
            "open": True,
            "kind": "NEEDS_ATTENTION",
            "reason": "billed",
            "fix": "",
            "count": 1,
            "blocked": {"ts-1"},
            "first_seen": "2026-11-01T00:00:00Z",
            "last_seen": "2026-11-01T00:00:00Z",
            TTL_ATTRIBUTE: 1798218000,
        }
    )


def test_a_cause_resolved_between_the_read_and_the_removal_of_its_old_expiry_keeps_its_new_one(table, clock):
    """The removal is refused (the cause is no longer open), quietly: the list read is answered, and the resolved
    cause expires `retention_days` after it was closed, as any closed cause does."""
    _legacy_open_cause(table)

    causes = RunLog(ResolvedWhileRead(table), retention_days=30).causes("time")

    assert [c.key for c in causes] == ["time-bill-frozen"]  # as read
    item = table.get_item(Key={PK: "CAUSE#time", SK: "time-bill-frozen"})["Item"]
    assert item["open"] is False and int(item[TTL_ATTRIBUTE]) == int((T0 + timedelta(days=30)).timestamp())


class Throttled:
    """The table, refusing every update as DynamoDB does when the table is over its throughput."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        raise ClientError(error, "UpdateItem")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def test_a_failed_removal_of_an_old_expiry_is_raised_not_taken_for_a_closed_cause(table, clock):
    _legacy_open_cause(table)

    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        RunLog(Throttled(table), retention_days=30).causes("time")

    assert table.get_item(Key={PK: "CAUSE#time", SK: "time-bill-frozen"})["Item"][TTL_ATTRIBUTE] == 1798218000


def test_a_resolved_cause_is_answered_as_it_was_so_a_redrive_that_fails_puts_it_back_open_with_no_expiry(table, clock):
    """`ctns redrive` resolves the cause, then moves its records; when the move fails it restores the cause from what
    `resolve_cause` answered: open, its sample and held records, and no expiry (an open cause never expires)."""
    runlog = RunLog(table, retention_days=30)
    failure = Failure(sync="tasks", source_id="5001", kind="NEEDS_ATTENTION", reason="x", cause_key="c", at=T0)
    runlog.record_failure("run-1", failure.model_copy(update={"dead_lettered": True}))
    key = {PK: "CAUSE#tasks", SK: "c"}
    before = table.get_item(Key=key)["Item"]

    answered = runlog.resolve_cause("tasks", "c")

    assert answered == before and answered["open"] is True and answered["held"] == {"5001"}
    assert runlog.restore_cause(answered) is True
    (cause,) = runlog.causes("tasks")
    assert cause.open and cause.blocked == ["5001"] and cause.held == ["5001"]
    assert TTL_ATTRIBUTE not in table.get_item(Key=key)["Item"]
