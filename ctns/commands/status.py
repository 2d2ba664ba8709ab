"""`ctns status`: per sync, the last run (when, how long its poll took, counts), the watermark, the queue and
dead-letter queue depth, and the open causes; a paused sync and a run in progress are said too.

Exit code 1 when something waits for a person (dead letters, open causes, a paused sync), else 0.
"""

from __future__ import annotations

import argparse
from typing import Any

from ctns.commands.common import add_json_option, add_target_options, target_of
from ctns.output import FAILURES, OK, Output, ago, duration, table
from ctns.target import Target
from ctsync.sync.registry import PLANNED, SYNC_NAMES
from ctsync.timeutil import utc_now

COUNTS = ("created", "updated", "unchanged", "skipped", "failed")


def register(sub: Any) -> None:
    status = sub.add_parser("status", help="per sync: last run, watermark, queue depths, open causes")
    add_target_options(status)
    add_json_option(status)
    status.set_defaults(func=cmd_status)


def sync_status(target: Target, sync: str) -> dict[str, Any]:
    now = utc_now()
    runs = target.runlog.runs(sync, limit=1)
    summary = target.runlog.summary(runs[0]) if runs else None
    marks = target.progress.phase_watermarks(sync)
    causes = target.runlog.causes(sync)
    breaker = target.progress.breaker(sync)
    cursor = target.progress.cursor(sync)
    failed_poll = target.progress.poll_failure(sync)
    queue = target.depth(target.queue_url(sync))
    dead = target.depth(target.dead_letter_url(sync))
    last: dict[str, Any] | None = None
    if summary:
        took = (summary.finished_at - summary.started_at).total_seconds() if summary.finished_at else None
        last = {
            "run_id": summary.run_id,
            "started_at": summary.started_at.isoformat(),
            "ago_seconds": (now - summary.started_at).total_seconds(),
            "poll_seconds": took,
            "status": summary.status,
            "enqueued": summary.enqueued,
            "counts": summary.counts,
            "notes": summary.notes,
        }
    return {
        "sync": sync,
        "implemented": sync not in PLANNED,
        "last_run": last,
        "watermarks": {phase: mark.isoformat() for phase, mark in sorted(marks.items())},
        "watermark": min(marks.values()).isoformat() if marks else None,
        "queue": queue,
        "dead_letters": dead["total"],
        "open_causes": [{"key": c.key, "kind": c.kind, "count": c.count} for c in causes],
        "paused": (
            {"until": breaker.until.isoformat(), "cause_key": breaker.cause_key, "reason": breaker.reason}
            if breaker and breaker.until > now
            else None
        ),
        "run_in_progress": (
            {"run_id": cursor.run_id, "phase": cursor.phase, "enqueued": cursor.enqueued} if cursor else None
        ),
        "lease_holder": lease[0] if (lease := target.progress.lease(sync)) else None,
        "lease_until": lease[1].isoformat() if lease else None,
        # kept until a run ends: the last run above is older than this failure
        "poll_failure": (
            {
                "at": failed_poll.at.isoformat(),
                "ago_seconds": (now - failed_poll.at).total_seconds(),
                "kind": failed_poll.kind,
                "reason": failed_poll.reason,
            }
            if failed_poll
            else None
        ),
    }


def needs_attention(row: dict[str, Any]) -> bool:
    return bool(row["dead_letters"] or row["open_causes"] or row["paused"] or row["poll_failure"])


def cmd_status(args: argparse.Namespace, out: Output) -> int:
    with target_of(args, out) as target:
        rows = [sync_status(target, sync) for sync in SYNC_NAMES]
        out.line(f"Status of {target.describe()}")
        out.line()
        lines = []
        for row in rows:
            last = row["last_run"]
            when = f"{last['started_at'][:16].replace('T', ' ')}Z ({ago(last['ago_seconds'])})" if last else "never"
            counts = last["counts"] if last else {}
            open_causes = row["open_causes"]
            causes = f"{len(open_causes)} ({sum(c['count'] for c in open_causes)} failure(s))" if open_causes else "0"
            lines.append(
                [
                    row["sync"],
                    when,
                    last["status"] if last else "-",
                    duration(last["poll_seconds"]) if last else "-",
                    last["enqueued"] if last else "-",
                    *((counts.get(name, 0) for name in COUNTS) if last else ("-",) * len(COUNTS)),
                    (row["watermark"] or "none")[:16].replace("T", " "),
                    row["queue"]["total"],
                    row["dead_letters"],
                    causes,
                ]
            )
        out.lines(
            table(
                [
                    "sync",
                    "last run",
                    "status",
                    "poll took",
                    "enqueued",
                    *COUNTS,
                    "watermark (UTC)",
                    "queue",
                    "DLQ",
                    "open causes",
                ],
                lines,
                right=range(4, 12),
            )
        )
        for row in rows:
            if not row["implemented"]:
                out.line(
                    f"  {row['sync']}: wired in the stack, not implemented in this version (its poller does nothing)"
                )
            if row["poll_failure"]:
                failed = row["poll_failure"]
                out.line(
                    f"  {row['sync']}: poller FAILED {failed['at'][:16].replace('T', ' ')}Z ({ago(failed['ago_seconds'])}),"
                    f"{' after the last run shown' if row['last_run'] else ''}: {failed['reason']}"
                )
            if row["paused"]:
                paused = row["paused"]
                out.line(f"  {row['sync']}: PAUSED until {paused['until']} ({paused['cause_key']}): {paused['reason']}")
            if row["run_in_progress"]:
                running = row["run_in_progress"]
                out.line(
                    f"  {row['sync']}: run {running['run_id']} in progress (phase {running['phase']}, "
                    f"{running['enqueued']} enqueued so far)"
                )
            elif row["lease_holder"]:
                # A run that ended without letting go (a timeout, a killed process) holds it until it expires:
                # backfill, reset-watermark and the next run wait for it, and said only "a run is in progress".
                out.line(
                    f"  {row['sync']}: held by {row['lease_holder']} until {row['lease_until'][:19].replace('T', ' ')}Z "
                    "(a run that ended without letting go; the next run, backfill and reset-watermark wait until then)"
                )
            for key, text in ((row["last_run"] or {}).get("notes") or {}).items():
                out.line(f"  {row['sync']}: note ({key}): {text}")
        failures = poller_failures(target)
        if failures:
            out.line()
            out.line(
                f"Poller failure queue: {failures['depth']} message(s): a schedule that could not start its poller, or a "
                "poller invocation that failed (PollerFailureAlarm stays in alarm until the queue is empty)"
            )
            for reason in failures["sample"]:
                out.line(f"  {reason}")
            out.line(
                f"  Read them: aws sqs receive-message --queue-url {failures['url']} --max-number-of-messages 10 "
                "--message-attribute-names All; once the cause is fixed (docs/runbook.md, PollerFailureAlarm), "
                f"clear them: aws sqs purge-queue --queue-url {failures['url']}"
            )
        attention = [row["sync"] for row in rows if needs_attention(row)] + (
            ["poller failure queue"] if failures else []
        )
        if attention:
            out.line()
            out.line(f"Waiting for a person: {', '.join(attention)}. `ctns errors` says what to fix.")
        out.document({"target": target.describe(), "syncs": rows, "poller_failures": failures})
        return FAILURES if attention else OK


ERROR_ATTRIBUTES = ("ERROR_CODE", "ERROR_MESSAGE", "ErrorCode", "ErrorMessage")  # Scheduler's, Lambda's async DLQ


def poller_failures(target: Target, shown: int = 3) -> dict[str, Any] | None:
    """What waits in the poller failure queue (EventBridge Scheduler's dead letters, and the pollers' failed
    asynchronous invocations): its depth and up to `shown` reasons, read without hiding them from other readers
    (visibility timeout 0). None when the queue is empty, or the stack has no such output."""
    url = target.outputs.get("PollerFailureQueueUrl")
    if not url:
        return None
    depth = target.depth(url)["total"]
    if not depth:
        return None
    received = target.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=min(shown, 10), VisibilityTimeout=0, MessageAttributeNames=["All"]
    )
    sample = []
    for message in received.get("Messages", [])[:shown]:
        attributes = {k: v.get("StringValue", "") for k, v in (message.get("MessageAttributes") or {}).items()}
        said = [f"{k}: {attributes[k]}" for k in ERROR_ATTRIBUTES if attributes.get(k)]
        sample.append("; ".join(said)[:300] if said else f"{message.get('Body', '')[:200]}")
    return {"url": url, "depth": depth, "sample": sample}
