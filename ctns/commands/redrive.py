"""`ctns redrive SYNC [--cause KEY]`: after a fix, send a sync's dead letters back to its work queue.

In order: the sync's open causes (or the one named) are marked resolved, so a record that fails again opens its
cause again and is reported again; the sync's pause (a systemic cause's breaker) is lifted; then the dead
letters go back to the work queue: by SQS's own redrive task on a deployed stack (every message), by hand
where that task does not exist (the local stack's moto) or when only one cause's records are to go. A
deployed stack's workers take them from the queue as usual, and the command waits until the queue is empty;
on the local stack the worker runs here. Exit code 1 when records are back in the dead-letter queue after it.

An invalid stored config document is refused first (one line, exit 2, as `plan` and `check` refuse it): nothing is
resolved or moved. A cause that failed a phase of the sync (a run could not read it: `phase:<phase>`) has no dead
letter to send back; the redrive says so and names the command that runs the sync now, rather than starting a run
itself (a run is `ctns run`'s, with its own confirmation on a deployed stack).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ctns import deadletters
from ctns.commands.common import (
    FunctionLog,
    add_json_option,
    add_target_options,
    confirm,
    function_output,
    interval,
    log_path,
    output_file,
    phases_failed,
    positive,
    run_command,
    target_of,
)
from ctns.output import FAILURES, OK, CliError, Output
from ctns.target import Target, aws_problem, check_sync, prefix
from ctsync.sync.registry import SYNC_NAMES

FINAL_TASK_STATES = ("COMPLETED", "FAILED", "CANCELLED")


def register(sub: Any) -> None:
    redrive = sub.add_parser("redrive", help="after a fix: dead letters back to the work queue, causes resolved")
    redrive.add_argument("sync", metavar="SYNC", help=", ".join(SYNC_NAMES))
    redrive.add_argument("--cause", metavar="KEY", help="only the records of this cause (`ctns errors` names them)")
    redrive.add_argument("--timeout", type=positive, default=900, help="--stack: seconds to wait for the workers")
    redrive.add_argument("--interval", type=interval, default=5.0, help=argparse.SUPPRESS)
    redrive.add_argument("--logs", type=output_file, help="local stack: function log file to append to")
    redrive.add_argument("--yes", action="store_true", help="--stack: do it without asking")
    add_target_options(redrive)
    add_json_option(redrive)
    redrive.set_defaults(func=cmd_redrive)


def cmd_redrive(args: argparse.Namespace, out: Output) -> int:
    sync = check_sync(args.sync)
    with target_of(args, out) as target:
        # The stored config document as the functions read it: an invalid one is refused here, as `plan` and `check`
        # refuse it, before a cause is resolved or a letter moved (the worker would fail every record again).
        target.config()
        sqs = target.client("sqs")
        dead_url = target.dead_letter_url(sync)
        logs = log_path("redrive", args.logs) if target.is_local else None  # writable, before anything moves
        open_causes = {cause.key: cause for cause in target.runlog.causes(sync)}
        before = in_queue = target.depth(dead_url)["total"]
        letters: list[deadletters.Letter] | None = None
        if args.cause:
            letters = deadletters.read(sqs, dead_url, sync)
            waiting = {letter.cause_key for letter in letters}
            before = sum(1 for letter in letters if letter.cause_key == args.cause)
            if args.cause not in open_causes and args.cause not in waiting:
                known = ", ".join(sorted(set(open_causes) | (waiting - {""}))) or "none"
                raise CliError(
                    f"{sync} has no open cause {args.cause!r} (open: {known}); `ctns errors {sync}` lists them"
                )
            chosen = [args.cause] if args.cause in open_causes else []
        else:
            chosen = list(open_causes)
        # A cause's dead-lettered records whose letters SQS deleted (it keeps one 14 days, the state table the cause
        # longer): a redrive cannot bring them back. The cause is resolved all the same (a record held back by it is
        # queued again only then), and the command names them, exit 1.
        if any(open_causes[key].held for key in chosen):
            letters = deadletters.read(sqs, dead_url, sync) if letters is None else letters
        waiting = {letter.source_id for letter in letters or []}
        whole = letters is not None and len(letters) >= in_queue  # a read cut short (5,000 letters) proves nothing
        expired = {key: ids for key in chosen if whole and (ids := sorted(set(open_causes[key].held) - waiting))}
        if not target.is_local:
            confirm(
                f"This sends {before} dead letter(s) of {sync} back to the work queue of {target.describe()}: its "
                "workers write them to the customer's NetSuite and ClickTime now.",
                yes=args.yes,
                out=out,
            )
        resolved = [target.runlog.resolve_cause(sync, key) for key in chosen]
        breaker = target.progress.breaker(sync)
        lifted = bool(breaker and (not args.cause or breaker.cause_key == args.cause))
        if lifted:
            target.progress.close_breaker(sync)
        try:
            moved, how = _move(target, sync, args.cause, out, limit=before)
        except BaseException:
            # The records did not go back (the move was refused, or stopped): `ctns status` must not show their causes
            # closed and the pause lifted while they wait in the dead-letter queue.
            for item in resolved:
                target.runlog.restore_cause(item)
            if lifted and breaker is not None:
                target.progress.open_breaker(sync, breaker)
            raise
        phases = phases_failed([open_causes[key] for key in chosen])
        report: dict[str, Any] = {
            "sync": sync,
            "resolved_causes": chosen,
            "phases_to_read": phases,
            "pause_lifted": lifted,
            "dead_letters_before": before,
            "moved": moved,
            "moved_by": how,
            "no_dead_letter_left": expired,
        }
        if chosen:
            out.line(f"Resolved {len(chosen)} cause(s) of {sync}: {', '.join(chosen)}")
        for key, ids in expired.items():
            stack = "" if target.is_local else f" --stack {target.name}"
            out.line(
                f"NOT SENT BACK: {len(ids)} record(s) of {key} have no dead letter left (SQS deletes one 14 days after "
                f"the failure): {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}. A run sends each again when it "
                f"next changes in its source, or after `ctns reset-watermark {sync} --forget{stack}`, then "
                f"`{run_command(target, sync)}` (every record read again; what the target holds is not written again)"
            )
        if lifted:
            out.line(f"Lifted the pause of {sync} ({breaker.cause_key})")
        out.line(f"Moved {moved} dead letter(s) back to the {sync} work queue ({how})")
        if phases:
            # A phase is read by a run, never from a queue: the redrive lifts its cause, the next run reads it.
            out.line(
                f"The {_and(phases)} phase{'s' if len(phases) > 1 else ''} of {sync} failed on "
                f"{'this cause' if args.cause else 'the causes resolved'}: the next run reads "
                f"{'them' if len(phases) > 1 else 'it'} again (`{run_command(target, sync)}` starts one now)"
            )
        if target.is_local:
            assert logs is not None
            after, log = _drain_locally(target, sync, logs, out)
            # As `ctns run` documents it: exit 1 for a lost log must be explained in the document too
            report["function_logs_error"] = log.problem or None
        else:
            after = _wait_for_workers(target, sync, args, out)
        report["dead_letters_after"] = after
        # Records, not dead letters: one record that failed in three runs left three letters
        records = len({letter.source_id for letter in deadletters.read(sqs, dead_url, sync)}) if after else 0
        report["records_after"] = records
        if after:
            out.line(
                _left_over(sync, after, moved, in_queue - moved, records)
                + f": `ctns errors {sync}` says why"
                + ("" if target.is_local else f" (--stack {target.name})")
            )
        else:
            out.line(f"The {sync} dead-letter queue is empty.")
        out.document(report)
        return FAILURES if after or expired else OK


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _left_over(sync: str, after: int, moved: int, not_moved: int, records: int) -> str:
    """What the dead-letter queue holds once the redriven letters are done, `after` counting the whole queue's dead
    letters and `records` the distinct records they are of (a record that failed in several runs has a letter of
    each): with a cause chosen, letters of other causes were never moved (they were reported as "in the queue
    again")."""
    came_back = max(0, after - not_moved)
    of = f"{records} record(s)"
    if not not_moved:
        return f"{after} dead letter(s) of {sync} ({of}) are in the dead-letter queue again"
    if not came_back:
        return (
            f"None of the {moved} dead letter(s) moved came back; {after} of {sync} not moved by this redrive "
            f"({of}) are still in the dead-letter queue"
        )
    return (
        f"{came_back} of the {moved} dead letter(s) moved are in the {sync} dead-letter queue again ({after} in all, "
        f"of {of}: {not_moved} not moved by this redrive)"
    )


def _move(target: Target, sync: str, cause: str | None, out: Output, *, limit: int) -> tuple[int, str]:
    sqs = target.client("sqs")
    dead_url, work_url = target.dead_letter_url(sync), target.queue_url(sync)
    if not cause and not target.is_local:
        try:
            return _redrive_task(target, dead_url, work_url, out), "SQS redrive task"
        except _NoRedriveTask as missing:
            out.note(f"SQS redrive task not available here ({missing}); moving the messages one by one")
    keep = (lambda message: deadletters.cause_of(message) == cause) if cause else (lambda _message: True)
    moved = deadletters.move(
        sqs,
        dead_url,
        work_url,
        keep=keep,
        limit=limit,
        progress=lambda n: out.progress(f"{sync}: {n} dead letter(s) moved"),
    )
    return moved, "one by one" + (f", cause {cause} only" if cause else "")


class _NoRedriveTask(Exception):
    pass


def _redrive_task(target: Target, dead_url: str, work_url: str, out: Output) -> int:
    sqs = target.client("sqs")
    source, destination = target.queue_arn(dead_url), target.queue_arn(work_url)
    try:
        # Few retries: an endpoint without the action (moto) answers 500, and the messages move by hand then.
        handle = target.client("sqs", retries={"max_attempts": 2}).start_message_move_task(
            SourceArn=source, DestinationArn=destination
        )["TaskHandle"]
    except (NotImplementedError, AttributeError) as error:
        raise _NoRedriveTask(type(error).__name__) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("UnsupportedOperation", "InvalidAction", "InternalFailure", "500"):
            raise _NoRedriveTask(code) from None
        raise aws_problem(error, "starting the SQS redrive task") from None
    except BotoCoreError as error:
        raise aws_problem(error, "starting the SQS redrive task") from None
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=source, MaxResults=1).get("Results", [])
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        status = task.get("Status", "RUNNING")
        out.progress(
            f"SQS redrive task {status.lower()}: {task.get('ApproximateNumberOfMessagesMoved', 0)} of "
            f"{task.get('ApproximateNumberOfMessagesToMove', '?')} moved"
        )
        if status in FINAL_TASK_STATES:
            if status != "COMPLETED":
                raise CliError(f"the SQS redrive task ended {status}: {task.get('FailureReason', 'no reason given')}")
            return int(task.get("ApproximateNumberOfMessagesMoved", 0))
        time.sleep(2)


def _drain_locally(target: Target, sync: str, logs: Path, out: Output) -> tuple[int, FunctionLog]:
    """The local stack has no event source mapping: its worker runs here, as Lambda would run it."""
    from ctns.runner import SyncRun

    session = target.session
    mapping = next(m for m in session.stack.queue_mappings if m.queue == f"{prefix(sync)}Queue")
    out.progress(f"{sync}: the local worker takes the queue")
    with function_output(logs) as log:
        result = SyncRun(sync)
        session.runner.drain(mapping, result)
    # a worker given nothing logs nothing: its empty log is not kept (`drop_unwritten_logs`). A log that could not be
    # written (a full disk) is said here and, after the rest of the redrive's lines, as the line it ends on (`main`).
    named = f" (function log: {log.said()})" if result.delivered or log.failure else ""
    out.line(f"The local worker ran {result.delivered} message(s){named}")
    return target.depth(target.dead_letter_url(sync))["total"], log


def _wait_for_workers(target: Target, sync: str, args: argparse.Namespace, out: Output) -> int:
    """The deployed workers take the queue (its event source mapping); wait until it is empty."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < args.timeout:
        depth = target.depth(target.queue_url(sync))
        out.progress(f"{sync}: {depth['total']} message(s) in the work queue")
        quiet = quiet + 1 if depth["total"] == 0 else 0
        if quiet >= 2:
            break
        time.sleep(args.interval)
    else:
        out.line(f"Stopped waiting after {int(args.timeout)} s; the workers go on (`ctns status` shows it)")
    return target.depth(target.dead_letter_url(sync))["total"]
