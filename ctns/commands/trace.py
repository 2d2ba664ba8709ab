"""`ctns trace ID`: one record by a NetSuite or ClickTime internal ID.

It shows both systems' IDs (the mapping store knows which became which), the source version last applied,
when the mapping was written and during which run, the failures the run log holds for it and the causes they
belong to; the Logs Insights query that finds every line about it in the stack's log groups (on a deployed
stack `--search-logs DAYS` runs it; on the local stack the function logs under build/logs are searched).
An ID can name records of both systems (both count from 1): every match is shown. Exit code 1 when the record
has open failures or nothing is known about the ID.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ctns.commands.common import add_json_option, add_target_options, log_dir, target_named, target_of
from ctns.output import FAILURES, OK, CliError, Output
from ctns.target import Target, aws_problem, check_sync
from ctsync.digits import is_number
from ctsync.records.customers import KIND as CUSTOMER_KIND
from ctsync.records.expense_lines import ITEM_KIND as EXPENSE_ITEM_KIND
from ctsync.records.time_export import ENTRY_KIND as TIME_ENTRY_KIND
from ctsync.state import Mapping
from ctsync.sync.registry import SYNC_NAMES, SyncSpec, spec

RUNS_LOOKED_AT = 30
LOCAL_RUNS = 1000  # the local stack's runs whose log lines count (`ctns serve` keeps every run it made)
ID_FIELDS = ("netsuite_id", "clicktime_id", "source_id", "target_id")
# The IDs of a record's parts (a timesheet's entries and bills, an expense sheet's items): space-separated, a space
# at each end (`ctsync.sync.record_ids`), so `like " <ID> "` matches one whole ID
ID_LIST_FIELDS = ("netsuite_ids", "clicktime_ids")
# Kinds of records a sync writes beside its own: the projects sync makes ClickTime clients of customers; a
# timesheet's entries each have a time bill, an expense sheet's items each a line of its report (their target is the
# report, which the sheet's own mapping finds: looked up by source only).
EXTRA_KINDS: dict[str, list[tuple[str, str, str, bool]]] = {
    "projects": [(CUSTOMER_KIND, "NetSuite customer", "ClickTime client", True)],
    "time": [(TIME_ENTRY_KIND, "ClickTime time entry", "NetSuite time bill", True)],
    "expenses": [(EXPENSE_ITEM_KIND, "ClickTime expense item", "line of NetSuite expense report", False)],
}


def register(sub: Any) -> None:
    trace = sub.add_parser("trace", help="a NetSuite or ClickTime ID: both IDs, versions, runs, failures, logs")
    trace.add_argument("id", metavar="ID", help="a NetSuite internal ID or a ClickTime ID")
    trace.add_argument("--sync", help=f"only this sync ({', '.join(SYNC_NAMES)})")
    trace.add_argument(
        "--search-logs",
        type=log_days,
        metavar="DAYS",
        help=f"deployed stack: run the Logs Insights query over the last DAYS days (1 to {MAX_LOG_DAYS})",
    )
    add_target_options(trace)
    add_json_option(trace)
    trace.set_defaults(func=cmd_trace)


# The longest log retention template.yaml's LogRetentionDays allows: no log line of the functions is older.
MAX_LOG_DAYS = 3653


def log_days(text: str) -> int:
    """The argparse type of `--search-logs`: whole days back from now, 1 to MAX_LOG_DAYS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= MAX_LOG_DAYS:
        raise argparse.ArgumentTypeError(
            f"days back to search are 1 to {MAX_LOG_DAYS}, the longest log retention (got {value})"
        )
    return value


def insights_query(record_id: str) -> str:
    """The saved query *A record by its NetSuite or ClickTime ID* (template.yaml `RecordByIdQuery`) for one ID."""
    clean = "".join(c for c in record_id if c != '"' and not c.isspace())  # (`record_id_of` left none: a guard)
    condition = " or ".join(
        [*(f'{name} = "{clean}"' for name in ID_FIELDS), *(f'{name} like " {clean} "' for name in ID_LIST_FIELDS)]
    )
    return (
        "fields @timestamp, sync, run_id, level, message, netsuite_id, clicktime_id, source_id, target_id, "
        "netsuite_ids, clicktime_ids, ids_left_out, failure_kind, cause_key, failure_reason, @log\n"
        f"| filter {condition}\n| sort @timestamp asc\n| limit 1000"
    )


def _kinds(sync: str) -> list[tuple[str, str, str, bool]]:
    definition: SyncSpec = spec(sync)
    own = (definition.mapping_kind, definition.source_record, definition.target_record, True)
    return [own, *EXTRA_KINDS.get(sync, [])]


def _receipt_file_owner(target: Target, file_id: str) -> Mapping | None:
    """The expense item whose receipt is NetSuite file `file_id` (read from every item mapping: a person's
    question, not a run's)."""
    return next(
        (m for m in target.mappings.all_of_kind(EXPENSE_ITEM_KIND) if m.details.get("receipt_file") == file_id), None
    )


def _runs_around(target: Target, sync: str, mapping: Mapping) -> str | None:
    """The run that last wrote the mapping: the latest run of the sync started before the write."""
    for run_id in target.runlog.runs(sync, limit=RUNS_LOOKED_AT):
        summary = target.runlog.summary(run_id)
        if summary and summary.started_at <= mapping.updated_at:
            return run_id
    return None


def _failures(target: Target, sync: str, source_id: str) -> list[dict[str, Any]]:
    found = []
    for run_id in target.runlog.runs(sync, limit=RUNS_LOOKED_AT):
        for item in target.runlog.failures_of(run_id, source_id):
            cause = target.runlog.cause(sync, item.get("cause_key", "")) if item.get("cause_key") else None
            found.append(
                {
                    "run_id": run_id,
                    "kind": item.get("kind"),
                    "reason": item.get("reason"),
                    "cause_key": item.get("cause_key"),
                    "cause_open": bool(cause and cause.open),
                    "fix": item.get("fix", ""),
                    "at": item.get("at"),
                }
            )
    return found


def _named(kind: str, name: str) -> str:
    """The source's name: a receipt file is found through its item, which is the source."""
    return "ClickTime expense item" if kind == EXPENSE_ITEM_KIND else name


def find(target: Target, record_id: str, syncs: list[str]) -> list[dict[str, Any]]:
    matches = []
    for sync in syncs:
        for kind, source_name, target_name, by_target in _kinds(sync):
            as_source = target.mappings.get(kind, record_id)
            as_target = target.mappings.by_target(kind, record_id) if by_target else None
            if kind == EXPENSE_ITEM_KIND and as_source is None and is_number(record_id):
                as_source = _receipt_file_owner(target, record_id)
                source_name = "ClickTime expense item" if as_source is None else "NetSuite receipt file"
            for mapping, side in ((as_source, "source"), (as_target, "target")):
                if mapping is None:
                    continue
                children = target.mappings.children(kind, mapping.source_id)
                matches.append(
                    {
                        "sync": sync,
                        "kind": kind,
                        "matched_as": source_name if side == "source" else target_name,
                        "source": f"{_named(kind, source_name)} {mapping.source_id}",
                        "parent": mapping.parent.replace("#", " ") if mapping.parent else None,
                        "target": target_named(target_name, mapping)[1],
                        "source_id": mapping.source_id,
                        "target_id": mapping.target_id,
                        "source_version": mapping.source_version.isoformat() if mapping.source_version else None,
                        "written_at": mapping.updated_at.isoformat(),
                        "written_during_run": _runs_around(target, sync, mapping),
                        "deleted": mapping.deleted,
                        "details": mapping.details,
                        "children": [f"{c.kind} {c.source_id} → {c.target_id}" for c in children],
                        "failures": _failures(target, sync, mapping.source_id),
                    }
                )
        # A record that never got a target is only in the run log (as a source ID).
        if not any(m["sync"] == sync and m["source_id"] == record_id for m in matches):
            failures = _failures(target, sync, record_id)
            if failures:
                definition = spec(sync)
                matches.append(
                    {
                        "sync": sync,
                        "kind": definition.mapping_kind,
                        "matched_as": definition.source_record,
                        "source": f"{definition.source_record} {record_id}",
                        "target": f"no {definition.target_record} yet",
                        "parent": None,
                        "source_id": record_id,
                        "target_id": None,
                        "source_version": None,
                        "written_at": None,
                        "written_during_run": None,
                        "deleted": False,
                        "details": {},
                        "children": [],
                        "failures": failures,
                    }
                )
    return matches


def local_log_lines(
    record_id: str, directory: Path | None = None, limit: int = 200, *, runs: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Lines of the local function logs that name the ID in any ID field (what the Logs Insights query finds), of
    the given runs only when `runs` is given: the log folder also holds `make demo`'s and simulated runs' lines,
    whose in-memory stacks were seeded alike and so reuse the same IDs for other records."""
    found: list[dict[str, Any]] = []
    directory = directory or log_dir()
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if record_id not in line or not line.startswith("{"):
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if runs is not None and entry.get("run_id") not in runs:
                    continue
                if names(entry, record_id):
                    found.append(
                        {
                            "file": path.name,
                            "timestamp": entry.get("timestamp"),
                            "level": entry.get("level"),
                            "sync": entry.get("sync"),
                            "run_id": entry.get("run_id"),
                            "message": entry.get("message"),
                        }
                    )
    return found[-limit:]


def names(entry: dict[str, Any], record_id: str) -> bool:
    """Whether a log line names the ID in any ID field, as the Logs Insights query finds it."""
    if any(str(entry.get(name)) == record_id for name in ID_FIELDS):
        return True
    return any(f" {record_id} " in str(entry.get(name) or "") for name in ID_LIST_FIELDS)


def search_logs(target: Target, syncs: list[str], record_id: str, days: int, out: Output) -> list[dict[str, Any]]:
    logs = target.client("logs")
    groups = [group for sync in syncs for group in target.log_groups(sync)]
    now = int(time.time())
    try:
        query_id = logs.start_query(
            logGroupNames=groups, startTime=now - days * 86400, endTime=now, queryString=insights_query(record_id)
        )["queryId"]
        while True:
            answer = logs.get_query_results(queryId=query_id)
            if answer.get("status") in ("Complete", "Failed", "Cancelled", "Timeout"):
                break
            out.progress(f"Logs Insights query {answer.get('status', 'running').lower()}")
            time.sleep(1)
    except (ClientError, BotoCoreError) as error:
        raise aws_problem(error, "running the Logs Insights query") from None
    rows = []
    for row in answer.get("results", []):
        fields = {cell["field"]: cell.get("value") for cell in row}
        rows.append(
            {
                "timestamp": fields.get("@timestamp"),
                "level": fields.get("level"),
                "sync": fields.get("sync"),
                "run_id": fields.get("run_id"),
                "message": fields.get("message"),
            }
        )
    return rows


QUOTES = "\"'`"


def record_id_of(typed: str) -> str:
    """The ID a person typed, as copied: spaces around it and one pair of quotes (from a JSON log line or `--json`
    output: `"111"`) dropped. The lookup, the local logs' search and the Logs Insights query all use it, so they
    cannot name two IDs. An ID with a space or a quote inside is no NetSuite or ClickTime ID: refused."""
    record_id = typed.strip()
    if len(record_id) >= 2 and record_id[0] == record_id[-1] and record_id[0] in QUOTES:
        record_id = record_id[1:-1].strip()
    if not record_id:
        raise CliError("trace needs an ID (a NetSuite internal ID or a ClickTime ID)")
    if any(c.isspace() or c in QUOTES for c in record_id):
        raise CliError(
            f"{record_id!r} is not an ID: NetSuite internal IDs and ClickTime IDs have no spaces or quotes inside"
        )
    return record_id


def cmd_trace(args: argparse.Namespace, out: Output) -> int:
    record_id = record_id_of(args.id)
    syncs = [check_sync(args.sync)] if args.sync else list(SYNC_NAMES)
    with target_of(args, out) as target:
        if args.search_logs is not None and target.is_local:
            raise CliError("--search-logs is for a deployed stack; the local function logs are searched anyway")
        matches = find(target, record_id, syncs)
        found_in = [sync for sync in syncs if any(m["sync"] == sync for m in matches)] or syncs
        groups = [group for sync in found_in for group in target.log_groups(sync)]
        if target.is_local:
            runs = {run for sync in syncs for run in target.runlog.runs(sync, limit=LOCAL_RUNS)}
            log_lines = local_log_lines(record_id, runs=runs)
            log_source = f"the local function logs ({log_dir()}), this stack's runs"
        elif args.search_logs:
            log_lines, log_source = search_logs(target, found_in, record_id, args.search_logs, out), "CloudWatch Logs"
        else:
            log_lines, log_source = [], None
        runs_in_logs = sorted({line["run_id"] for line in log_lines if line.get("run_id")})
        out.document(
            {
                "id": record_id,
                "target": target.describe(),
                "matches": matches,
                "log_lines": log_lines,
                "runs_in_logs": runs_in_logs,
                "logs_insights": {"log_groups": groups, "query": insights_query(record_id)},
            }
        )
        if not matches:
            out.line(f"Nothing about ID {record_id} in the mapping store or the run log of {target.describe()}.")
        for match in matches:
            out.line(
                f"{match['source']} ⇄ {match['target']}  ({match['sync']} sync; {record_id} is the {match['matched_as']})"
            )
            if match["source_version"]:
                out.line(f"  source version    {match['source_version']} (the version last applied)")
            if match["written_at"]:
                run = f", during run {match['written_during_run']}" if match["written_during_run"] else ""
                out.line(f"  mapping written   {match['written_at']}{run}")
            if match["deleted"]:
                out.line("  deleted           yes (the source record was deleted; its target was retired)")
            details = {k: v for k, v in match["details"].items() if v}
            if details:
                out.line(f"  details           {', '.join(f'{k}={v}' for k, v in sorted(details.items()))}")
            if match["parent"]:
                out.line(f"  belongs to        {match['parent']}")
            for child in match["children"]:
                out.line(f"  child             {child}")
            for failure in match["failures"]:
                state = "open" if failure["cause_open"] else "resolved"
                out.line(
                    f"  failed in run     {failure['run_id']}: [{failure['kind']}] {failure['reason']} "
                    f"(cause {failure['cause_key']}, {state})"
                )
        if log_source:
            out.line(f"Runs that touched it ({log_source}): {', '.join(runs_in_logs) or 'none found'}")
            for line in log_lines[-10:]:
                out.line(
                    f"  {line.get('timestamp')} {line.get('level')} {line.get('run_id') or '-'}: {line.get('message')}"
                )
        out.line(f"Logs Insights, in log groups {', '.join(groups)}:")
        out.lines("  " + text for text in insights_query(record_id).splitlines())
        if not target.is_local and not args.search_logs:
            out.line("  (add --search-logs DAYS to run it from here)")
        open_failures = any(f["cause_open"] for m in matches for f in m["failures"])
        return FAILURES if open_failures or not matches else OK
