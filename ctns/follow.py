"""Running a sync of a deployed stack now, and following the run to its end.

The poller is invoked as its schedule invokes it (the schedule's own input), but synchronously, so a poller
that fails says why at once. A long run continues in fresh invocations on its own; the run log says when it
has enqueued its whole window. The run is over when that is so and its work queue is empty: the workers
(started by the queue, as every night) have applied or dead-lettered every record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ctns.output import Output
from ctns.target import Target, aws_problem, prefix
from ctsync.state import RunSummary

POLL_FINISHED = ("enqueued", "partial")
WORK_OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


@dataclass
class Followed:
    sync: str
    poll: dict[str, Any]
    summary: RunSummary | None = None
    finished: bool = False
    waited_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def schedule_input(target: Target, sync: str, out: Output) -> dict[str, Any]:
    """What the sync's schedule sends its poller (read from EventBridge Scheduler; the template's default when
    the schedule cannot be read)."""
    name = target.outputs.get(f"{prefix(sync)}ScheduleName")
    default = {"sync": sync}
    if not name:
        return default
    try:
        schedule = target.client("scheduler").get_schedule(Name=name)
        return json.loads(schedule["Target"].get("Input") or "{}") or default
    except (ClientError, BotoCoreError, ValueError, KeyError) as error:
        out.note(
            f"{sync}: could not read schedule {name} ({type(error).__name__}); invoking with {json.dumps(default)}"
        )
        return default


def invoke_poller(target: Target, sync: str, out: Output) -> dict[str, Any]:
    """One synchronous poller invocation; a failed one comes back as {"status": "failed", "reason": …}."""
    event = schedule_input(target, sync, out)
    function = target.poller_name(sync)
    out.progress(f"{sync}: invoking {function} with {json.dumps(event)} (it reads the changes and fills the queue)")
    client = target.client("lambda", read_timeout=960, connect_timeout=10, retries={"max_attempts": 0})
    try:
        response = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event))
    except (ClientError, BotoCoreError) as error:
        raise aws_problem(error, f"invoking {function}") from None
    raw = response["Payload"].read() if hasattr(response.get("Payload"), "read") else response.get("Payload") or b""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = {"errorMessage": raw.decode("utf-8", "replace")[:500]}
    if response.get("FunctionError"):
        reason = (body or {}).get("errorMessage") if isinstance(body, dict) else str(body)
        return {"sync": sync, "status": "failed", "reason": reason or response["FunctionError"]}
    return (
        body if isinstance(body, dict) else {"sync": sync, "status": "failed", "reason": f"unexpected answer {raw!r}"}
    )


def follow(
    target: Target,
    sync: str,
    poll: dict[str, Any],
    out: Output,
    *,
    timeout_seconds: float = 3600,
    interval_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Followed:
    """Wait until the run has enqueued its window and its queue is empty, saying how far it is."""
    followed = Followed(sync=sync, poll=poll)
    run_id = poll.get("run_id")
    if poll.get("status") in ("failed", "skipped") or not run_id:
        return followed
    started = clock()
    queue = target.queue_url(sync)
    quiet = 0
    last_line = ""
    while True:
        summary = target.runlog.summary(run_id)
        depth = target.depth(queue)
        followed.summary = summary
        counts = summary.counts if summary else {}
        status = summary.status if summary else "starting"
        line = (
            f"{sync}: poll {status}, {summary.enqueued if summary else 0} enqueued; "
            + ", ".join(f"{name} {counts.get(name, 0)}" for name in WORK_OUTCOMES)
            + f"; {depth['total']} in the queue"
        )
        if line != last_line:
            out.progress(line)
            last_line = line
        if status in POLL_FINISHED and depth["total"] == 0:
            quiet += 1
            if quiet >= 2:  # twice in a row: a record put back for later shows up between two looks
                followed.finished = True
                break
        else:
            quiet = 0
        if clock() - started >= timeout_seconds:
            followed.notes.append(
                f"stopped following after {int(timeout_seconds)} s; the run goes on (`ctns status` shows it)"
            )
            break
        sleep(interval_seconds)
    followed.waited_seconds = clock() - started
    return followed
