"""`ctns reconcile [SYNC]`: do the two systems agree? For a deployed stack (`--stack NAME`) or the local one, per
sync, the counts and totals of both sides and the stack's ID mappings (`ctsync.reconcile`): projects and tasks as
ClickTime jobs and tasks, approved time as NetSuite time bills to the minute per employee, project and day, approved
expenses per employee, project and currency (each report's date and period against the plan). Reads only. Exit
code 1 when a check finds a difference; 2 when a sync cannot be read (the others are reported first, it is named as
not compared).
"""

from __future__ import annotations

import argparse
from typing import Any

from ctns.commands.common import add_json_option, add_target_options, configured, function_output, log_path, output_file
from ctns.commands.plan import READ_RETRIES
from ctns.connections import clicktime_client, explain, netsuite_client, system_of
from ctns.output import FAILURES, OK, CliError, Output
from ctns.plan import ReadOnlyTable, runtime_for
from ctns.report import left_out, render_reconciliation
from ctns.target import check_sync
from ctsync.errors import SyncError
from ctsync.sync.registry import AVAILABLE, spec


def register(sub: Any) -> None:
    reconcile = sub.add_parser("reconcile", help="do NetSuite and ClickTime agree? counts and totals, both sides")
    reconcile.add_argument("sync", nargs="?", metavar="SYNC", help=f"one of {', '.join(AVAILABLE)} (default: all)")
    reconcile.add_argument(
        "--all", action="store_true", help="list every difference and note, not the first ten of each"
    )
    add_target_options(reconcile)
    add_json_option(reconcile)
    reconcile.add_argument("--logs", type=output_file, help="function log file to append to (the clients' retry lines)")
    reconcile.set_defaults(func=cmd_reconcile)


def cmd_reconcile(args: argparse.Namespace, out: Output) -> int:
    syncs = [check_sync(args.sync)] if args.sync else [name for name in AVAILABLE if spec(name).reconcile]
    args.config = args.secrets = None  # a stack's own config and secrets: its mappings are what is compared
    with configured(args, out) as source:
        netsuite = netsuite_client(source.config, source.netsuite, read_only=True, retry=READ_RETRIES)
        clicktime = clicktime_client(source.config, source.clicktime, read_only=True, retry=READ_RETRIES)
        assert source.target is not None  # `configured` without files is a stack
        table = ReadOnlyTable(source.target.table)
        results: dict[str, Any] = {}
        # A sync that cannot be read (a permission the role lacks, a system down) is named, not the end of the others:
        # ending on its one line hid the reconciliations already made (month-end review, 2026-12-04)
        not_read: dict[str, str] = {}
        with function_output(log_path("reconcile", args.logs)) as log:
            for sync in syncs:
                reconcile = spec(sync).reconcile
                if reconcile is None:
                    raise CliError(f"the {sync} sync has no reconciliation")
                out.progress(f"{sync}: reading both systems")
                runtime = runtime_for(sync, source.config, netsuite, clicktime, table)
                try:
                    results[sync] = reconcile(netsuite, clicktime, runtime.mappings, source.config).as_report(
                        every=args.all
                    )
                except SyncError as error:
                    not_read[sync] = explain(error, system_of(error), source.config)
        if not_read and not results:  # nothing compared: the reason alone, as before
            sync, said = next(iter(not_read.items()))
            raise CliError(f"reconcile {sync}: {said}")
        busy = {sync: said for sync in syncs if (said := _in_flight(source.target, sync))}
        out.line(f"Reconciliation of {source.source} (read only; nothing was written)")
        out.line(render_reconciliation(results))
        for sync, said in not_read.items():
            out.line(f"{sync}: NOT COMPARED, could not be read: {said}")
        differing = [sync for sync, result in results.items() if not result["ok"]]
        missing = {sync: text for sync, result in results.items() if (text := left_out(result))}
        out.line()
        for sync, said in busy.items():
            out.line(f"{sync}: {said}: what it has not written yet shows as a difference; reconcile again when it ends")
        out.line(
            (
                f"Differences in {', '.join(differing)}: each line above names the records; `ctns trace ID` follows one."
                if differing
                else "Both systems agree on what was compared."
            )
            + (" Approved work was left out of the comparison (below): it is not in NetSuite." if missing else "")
            + (f" Not read, so not compared: {', '.join(not_read)} (above)." if not_read else "")
        )
        for sync, text in missing.items():
            out.line(
                f"Not compared in {sync}: {text}, blocked by open causes (`ctns errors {sync}` says what to fix; "
                "the notes above name each sheet): approved, not in NetSuite."
            )
        if log.failure is not None:  # `main` ends on its line and exit 1; the results say why here
            out.line(f"Function logs: {log.said()}")
        out.document(
            {
                "source": source.source,
                "reconciliation": results,
                "in_flight": busy,
                "left_out": missing,
                "not_read": not_read,
                "function_logs_error": log.problem or None,
            }
        )
        if not_read:  # exit 2 as before (what to fix is a setting or a permission), now after the results
            raise CliError("; ".join(f"reconcile {sync}: {said}" for sync, said in not_read.items()))
        return FAILURES if differing or missing else OK


def _in_flight(target: Any, sync: str) -> str:
    """What of `sync` is under way now ("" when nothing): a run reading, or work waiting in its queue."""
    cursor = target.progress.cursor(sync)
    if cursor is not None or target.progress.lease_holder(sync):
        return f"a run is in progress{f' ({cursor.run_id})' if cursor else ''}"
    waiting = target.depth(target.queue_url(sync))["total"]
    return f"{waiting} record(s) wait in its queue" if waiting else ""
