"""`ctns backfill SYNC --since DATE` and `ctns reset-watermark SYNC (--to DATE | --forget)`.

A sync reads what changed since its watermark (minus the overlap). Setting the watermark back re-reads a
window; it is safe by construction: a record whose target already holds it is not queued again, and a record
applied twice comes out the same (find-or-create, the version fence, upserts by external ID). `backfill`
sets it and runs the sync; `reset-watermark` only sets it (or forgets it: the next run is a first run, with
adoption and the sync's first-run window). Neither touches a run in progress: its end would move the
watermark on again. Neither moves a watermark forward by mistake: a backfill's DATE after it is refused, and
`reset-watermark` asks for `--forward` (the changes between are never read).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ctns.commands.common import (
    add_json_option,
    add_target_options,
    confirm,
    function_output,
    interval,
    log_path,
    output_file,
    parse_instant,
    positive,
    run_command,
    target_of,
)
from ctns.follow import follow, invoke_poller
from ctns.outcome import Outcome
from ctns.output import OK, CliError, Output
from ctns.target import Target, check_sync
from ctsync.state.progress import RESET, WATERMARK
from ctsync.state.table import PK, SK
from ctsync.sync.registry import PLANNED, SYNC_NAMES
from ctsync.timeutil import format_instant, utc_now

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # a watermark before this is a typo in a date


def register(sub: Any) -> None:
    backfill = sub.add_parser("backfill", help="re-run a window: watermark back to DATE, then run the sync")
    backfill.add_argument("sync", metavar="SYNC", help=", ".join(SYNC_NAMES))
    backfill.add_argument(
        "--since",
        required=True,
        metavar="DATE",
        help="a UTC date, read as its midnight UTC (2025-03-01 is 2025-03-01T00:00:00Z: an approval at 01:00 in "
        "Sydney on 2 March is 1 March in UTC), or an ISO time (with no offset: UTC)",
    )
    backfill.add_argument("--yes", action="store_true", help="--stack: do it without asking")
    backfill.add_argument("--timeout", type=positive, default=3600, help="--stack: seconds to follow the run")
    backfill.add_argument("--interval", type=interval, default=5.0, help=argparse.SUPPRESS)
    backfill.add_argument("--logs", type=output_file, help="local stack: function log file to append to")
    add_target_options(backfill)
    add_json_option(backfill)
    backfill.set_defaults(func=cmd_backfill)

    reset = sub.add_parser("reset-watermark", help="set a sync's watermark back (or forget it); runs nothing")
    reset.add_argument("sync", metavar="SYNC", help=", ".join(SYNC_NAMES))
    when = reset.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--to", metavar="DATE", help="a UTC date, read as its midnight UTC, or an ISO time (with no offset: UTC)"
    )
    when.add_argument("--forget", action="store_true", help="no watermark: the next run is a first run")
    reset.add_argument(
        "--forward",
        action="store_true",
        help="allow a DATE after the current watermark: the changes between are never read (skipped on purpose)",
    )
    reset.add_argument("--yes", action="store_true", help="--stack: do it without asking")
    add_target_options(reset)
    add_json_option(reset)
    reset.set_defaults(func=cmd_reset)


def _not_running(target: Target, sync: str) -> None:
    cursor = target.progress.cursor(sync)
    holder = target.progress.lease_holder(sync)
    if cursor or holder:
        run = f" (run {cursor.run_id})" if cursor else ""
        raise CliError(
            f"a run of {sync} is in progress{run}: wait until it ends (`ctns status`); a watermark set now would be "
            "moved on again when it finishes"
        )


def set_watermark(target: Target, sync: str, value: datetime | None) -> dict[str, str]:
    """Every phase's watermark to `value` (None: forgotten). A sync that has never run gets one watermark that
    serves every phase (the form ProgressStore reads as '*')."""
    marks = target.progress.phase_watermarks(sync)
    if marks:
        target.progress.reset_watermarks(sync, value)
    elif value is not None:
        target.table.put_item(Item={PK: f"SYNC#{sync}", SK: WATERMARK, "value": format_instant(value), "run_id": RESET})
    return {phase: mark.isoformat() for phase, mark in target.progress.phase_watermarks(sync).items()}


def _apply(
    target: Target,
    sync: str,
    value: datetime | None,
    yes: bool,
    out: Output,
    doing: str,
    *,
    ahead: Callable[[datetime], str] | None = None,
) -> dict[str, Any]:
    """Set `sync`'s watermark to `value` (None: forget it), after the checks. `ahead`: the refusal of a `value` later
    than a watermark the sync has (the changes between would never be read), given that watermark; None allows it."""
    if value is not None and value > utc_now():
        raise CliError(f"{value.isoformat()} is in the future: a watermark there would skip every change until then")
    if value is not None and value < EARLIEST:
        raise CliError(
            f"{value.date().isoformat()} is before 1970: no record is that old (to read everything: "
            f"`ctns reset-watermark {sync} --forget`, then `ctns run {sync}`)"
        )
    _not_running(target, sync)
    marks = target.progress.phase_watermarks(sync)
    if value is not None and ahead is not None and marks and value > min(marks.values()):
        raise CliError(ahead(min(marks.values())))
    if not target.is_local:
        confirm(f"This {doing} of {sync} on {target.describe()}.", yes=yes, out=out)
    before = {phase: mark.isoformat() for phase, mark in marks.items()}
    after = set_watermark(target, sync, value)
    return {"sync": sync, "before": before, "after": after}


def _overlap(target: Target, sync: str, out: Output) -> int | None:
    try:
        return target.config().windows.for_sync(sync).overlap_minutes
    except CliError as problem:
        out.note(f"(the overlap is not known: {problem.message})")
        return None


def cmd_reset(args: argparse.Namespace, out: Output) -> int:
    sync = check_sync(args.sync)
    value = None if args.forget else parse_instant(args.to, "--to")
    with target_of(args, out) as target:
        doing = "forgets the watermark" if value is None else f"sets the watermark to {value.isoformat()}"

        def ahead(mark: datetime) -> str:
            return (
                f"--to {format_instant(value)} is after the {sync} sync's watermark {format_instant(mark)}: the "
                "changes between would never be read. Pass --forward to skip them on purpose"
            )

        result = _apply(target, sync, value, args.yes, out, doing, ahead=None if args.forward else ahead)
        if value is None:
            out.line(f"{sync}: watermark forgotten; its next run is a first run (adoption, then its first-run window)")
        else:
            overlap = _overlap(target, sync, out)
            reread = f" (minus the overlap of {overlap} min)" if overlap is not None else ""
            out.line(f"{sync}: watermark set to {value.isoformat()}; its next run reads changes since then{reread}")
        out.document(result)
        return OK


def cmd_backfill(args: argparse.Namespace, out: Output) -> int:
    from ctns.demo import run_passes
    from ctns.report import render_table

    sync = check_sync(args.sync)
    since = parse_instant(args.since, "--since")
    if sync in PLANNED:
        raise CliError(f"the {sync} sync is not implemented in this version: there is nothing to backfill")
    with target_of(args, out) as target:
        target.config()  # an invalid stored config document is refused as `plan` and `check` refuse it, before anything
        logs = log_path("backfill", args.logs) if target.is_local else None  # writable, before the watermark moves

        def ahead(mark: datetime) -> str:
            return (
                f"--since {format_instant(since)} is after the {sync} sync's watermark {format_instant(mark)}: a "
                f"backfill re-reads from an earlier time, and this would skip the changes between. Give --since "
                f"{format_instant(mark)} or earlier (`ctns run {sync}` reads what is new)"
            )

        doing = f"re-reads every change since {since.isoformat()}"
        result = _apply(target, sync, since, args.yes, out, doing, ahead=ahead)
        overlap = _overlap(target, sync, out)
        reread = f" (minus the overlap of {overlap} min)" if overlap is not None else ""
        out.line(
            f"{sync}: watermark set to {since.isoformat()}; running it now to re-read every change since then{reread}. "
            "Records whose target already holds them are not sent again."
        )
        if logs is not None:
            with function_output(logs) as log:
                passes = run_passes(target.session, passes=1, syncs=[sync])
            # The same judgement as `ctns run` (`ctns.outcome`): a poller that failed is a failed backfill.
            outcome = Outcome.of_pass(passes[-1])
            out.line(render_table(passes))
            out.lines(outcome.render(kept_in="the local stack's dead-letter queues"))
            if outcome.pollers:
                out.line(_watermark_after(target, sync, since, result["before"]))
            out.line(f"Function logs: {log.said()}")
            out.document({**result, "passes": passes, "function_logs_error": log.problem or None})
            return outcome.exit_code
        poll = invoke_poller(target, sync, out)
        followed = follow(target, sync, poll, out, timeout_seconds=args.timeout, interval_seconds=args.interval)
        outcome = Outcome.of_followed([followed])
        summary = followed.summary
        counts = summary.counts if summary else {}
        out.line(
            f"{sync}: poll {poll.get('status')}, {summary.enqueued if summary else 0} enqueued; "
            + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("created", "updated", "unchanged", "skipped", "failed"))
        )
        if outcome.pollers:
            out.lines(outcome.pollers)
            out.line(_watermark_after(target, sync, since, result["before"]))
        elif poll.get("reason"):
            out.line(f"{sync}: {poll['reason']}")
        out.document({**result, "poll": poll, "summary": summary.model_dump(mode="json") if summary else None})
        return outcome.exit_code


def _watermark_after(target: Target, sync: str, since: datetime, before: dict[str, str]) -> str:
    """Where a backfill whose poller read nothing (failed, or did not run) left the watermark, read back: whether the
    window is still to be read (the next run reads it once the cause is fixed: no backfill again), or whether the
    watermark moved on (a run meanwhile, or the poller before it failed), when only a backfill again is sure to."""
    marks = target.progress.phase_watermarks(sync)
    values = sorted(set(before.values()))
    was = values[0] if len(values) == 1 else ", ".join(f"{p} {m}" for p, m in sorted(before.items())) or "none"
    moved = {phase: mark for phase, mark in marks.items() if mark > since}
    if not moved:
        return (
            f"{sync}: nothing was read; the watermark stays at {since.isoformat()}, where this backfill set it (it "
            f"was {was}): once the cause above is fixed, the next run (`{run_command(target, sync)}`, or its "
            "schedule) reads every change since then; no need to backfill again"
        )
    stayed = sorted(set(marks) - set(moved))
    stack = "" if target.is_local else f" --stack {target.name}"
    return (
        f"{sync}: the watermark is no longer where this backfill set it, {since.isoformat()} ("
        + ", ".join(f"{phase} moved on to {mark.isoformat()}" for phase, mark in sorted(moved.items()))
        + (f"; {', '.join(stayed)} still there" if stayed else "")
        + "): the window may not have been read; once the cause above is fixed, "
        f"`ctns backfill {sync} --since {since.isoformat()}{stack}` again (what the target holds is not written again)"
    )
