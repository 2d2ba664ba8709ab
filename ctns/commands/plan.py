"""`ctns plan [SYNC]`: a dry run. Reads both systems and the stack's state and prints what a run now would
create, update, inactivate, delete, adopt or fail, writing nothing (see ctns.plan). For the exports it is the
pre-flight of tonight's approved sheets. From files (`--config F --secrets F`, no state: as a first run) or
a stack. Exit code 1 when something would fail.
"""

from __future__ import annotations

import argparse
from typing import Any

from ctns.commands.common import (
    add_config_options,
    add_json_option,
    add_target_options,
    configured,
    function_output,
    log_path,
    output_file,
)
from ctns.connections import clicktime_client, explain, netsuite_client, system_of
from ctns.output import FAILURES, OK, CliError, Output, table
from ctns.plan import ACTIONS, EmptyTable, ReadOnlyTable, SyncPlan, plan_sync, runtime_for
from ctns.target import check_sync
from ctsync.errors import SyncError
from ctsync.retry import RetryPolicy
from ctsync.state.runlog import failed_phase
from ctsync.sync.registry import SYNC_NAMES

SHOWN = 10
LISTED = ("create", "update", "inactivate", "delete", "adopt", "fail")
READ_RETRIES = RetryPolicy(max_attempts=5, base_seconds=0.5, cap_seconds=5.0)


def register(sub: Any) -> None:
    plan = sub.add_parser("plan", help="dry run: what a run now would do, writing nothing")
    plan.add_argument("sync", nargs="?", metavar="SYNC", help=f"one of {', '.join(SYNC_NAMES)} (default: all)")
    plan.add_argument("--all", action="store_true", help="list every record, not the first ten of each action")
    add_config_options(plan)
    add_target_options(plan)
    add_json_option(plan)
    plan.add_argument("--logs", type=output_file, help="function log file to append to (the clients' retry lines)")
    plan.set_defaults(func=cmd_plan)


def cmd_plan(args: argparse.Namespace, out: Output) -> int:
    syncs = [check_sync(args.sync)] if args.sync else list(SYNC_NAMES)
    with configured(args, out) as source:
        netsuite = netsuite_client(source.config, source.netsuite, read_only=True, retry=READ_RETRIES)
        clicktime = clicktime_client(source.config, source.clicktime, read_only=True, retry=READ_RETRIES)
        table_ = ReadOnlyTable(source.target.table) if source.target else EmptyTable()
        plans: list[SyncPlan] = []
        # the clients' retry lines, as the functions log them
        with function_output(log_path("plan", args.logs)) as log:
            for sync in syncs:
                runtime = runtime_for(sync, source.config, netsuite, clicktime, table_)
                try:
                    plans.append(plan_sync(sync, runtime, source.config, progress=out.progress))
                except SyncError as error:
                    raise CliError(f"plan of {sync}: {explain(error, system_of(error), source.config)}") from None
        out.line(f"Plan for {source.source}: what a run now would do (nothing was written)")
        if source.target is None:
            out.line("No stack state was read: every record is judged as on a first run.")
        out.line()
        rows = []
        for plan in plans:
            counts = plan.counts()
            start = min(plan.window_start.values())[:16].replace("T", " ") if plan.window_start else "-"
            rows.append([plan.sync, start, *(counts[action] for action in ACTIONS)])
        out.lines(table(["sync", "reads from (UTC)", *ACTIONS], rows, right=range(2, 2 + len(ACTIONS))))
        for plan in plans:
            if plan.skipped_reason:
                out.line(f"  {plan.sync}: {plan.skipped_reason}")
            for note in plan.notes:
                out.line(f"  {plan.sync}: {note}")
        for plan in plans:
            unreadable = plan.unreadable()
            if unreadable:
                out.line()
                for step in unreadable:
                    out.line(f"{step.label} {step.detail}")
            for action in LISTED:
                steps = [s for s in plan.steps if s.action == action and not failed_phase(s.source_id)]
                if not steps:
                    continue
                out.line()
                out.line(f"{plan.sync}: {action} ({len(steps)})")
                for step in steps if args.all else steps[:SHOWN]:
                    out.line(f"  {step.label}" + (f": {step.detail}" if step.detail else ""))
                if not args.all and len(steps) > SHOWN:
                    out.line(f"  … and {len(steps) - SHOWN} more (--all lists them)")
        failing = sum(plan.counts()["fail"] for plan in plans)
        phases = [step.label for plan in plans for step in plan.unreadable()]
        out.line()
        if phases:
            out.line(f"{len(phases)} phase(s) cannot be read ({', '.join(phases)}): fix them before the run.")
        if failing:
            out.line(f"{failing} record(s) would fail: fix them before the run.")
        if not phases and not failing:
            out.line("Nothing would fail.")
        if log.failure is not None:  # `main` ends on its line and exit 1; the results say why here
            out.line(f"Function logs: {log.said()}")
        out.document(
            {
                "source": source.source,
                "plans": [plan.as_dict() for plan in plans],
                "function_logs_error": log.problem or None,
            }
        )
        return FAILURES if failing or phases else OK
