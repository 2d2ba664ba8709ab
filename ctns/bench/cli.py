"""`make bench` (`python -m ctns.bench`): what the product costs and how fast it goes, in one run.

Sections (each can be run alone with --only; the default runs all but concurrency, --full all of them at the
issues' largest sizes):
  layer       the DepsLayer as `sam build` left it: size, and anything the python3.13 runtime already ships
  cold        cold import of each handler against a bare Powertools handler (`ctns.bench.coldstart`)
  passes      projects and tasks at the template's concurrency: first pass, unchanged second pass, updates;
              API calls per record from the simulators' request logs, every AWS call from the moto server
  concurrency first passes at W = 1, 2, 4, 8 execution environments (processes) against the bound
  exports     the time export of N entries at W x K = 2x1, 2x2, 5x1 (W time worker environments, each writing K
              bills at once: time.write_concurrency) against NetSuite's bound C/L (measured, and modelled from
              one environment's cost per bill); an unchanged second pass; then the expense export: a first
              night (reports, receipts), a second on unchanged data
  memory      the projects poller's peak memory and time per record as N grows

Workers run as separate processes (one per execution environment) against a moto server and the two
simulators on loopback, with latency L on every API request and NetSuite's concurrency limit C
(`ctns.bench.environments`). The functions' logs go to build/bench/functions.log, not to this output.
Ratios mean something only side by side in one run: a shared machine's load moves absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ctns.bench.environments import DrainFailed

SECTIONS = ("layer", "cold", "passes", "concurrency", "exports", "memory")
DEFAULT = ("layer", "cold", "passes", "exports", "memory")  # --full adds concurrency
OUT = Path("build/bench")

# key: (target, comparison, what it is) -- issue 11's and issue 12's targets
TARGETS: dict[str, tuple[float, str, str]] = {
    "throughput_vs_bound": (0.9, ">=", "time export: time bills/s over NetSuite's bound C/L (most in flight <= C)"),
    "netsuite_calls_per_record": (1.02, "<=", "time export: NetSuite calls per time bill written"),
    "rerun_writes": (0, "==", "writes to NetSuite and ClickTime on unchanged second passes"),
    "cold_import_ratio": (1.25, "<=", "handler import / bare Powertools handler import (CPU, worst role)"),
    "poller_memory_growth": (1.2, "<=", "projects poller peak memory, largest N over smallest"),
    "noop_pass_messages": (0, "==", "work messages on an unchanged pass (projects + tasks)"),
    "second_over_first_seconds": (0.10, "<=", "unchanged pass time / first pass time (projects + tasks)"),
    "dynamodb_calls_per_created_record": (5, "<=", "DynamoDB calls per client, job or task created (first pass)"),
    "dynamodb_calls_per_unchanged_record": (0.05, "<=", "DynamoDB calls per record of an unchanged pass (all of it)"),
    "dynamodb_calls_per_redelivered_record": (1, "<=", "DynamoDB per unchanged task delivered to a worker again"),
    "clicktime_calls_per_created_job": (1.0, "<=", "ClickTime calls per job or client created (+ run's list reads)"),
    "clicktime_calls_per_created_task": (2.0, "<=", "ClickTime calls per task created (+ run's list reads)"),
    "clicktime_calls_per_updated_task": (1.0, "<=", "ClickTime calls per task renamed in NetSuite (+ run's reads)"),
    "poller_suiteql_calls_per_1000_rows": (1.0, "<=", "projects poller: SuiteQL requests per 1,000 more projects read"),
    "deps_layer_mb": (20, "<=", "DepsLayer after sam build, MB unzipped"),
}


_progress: Any = sys.stderr


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=_progress, flush=True)


def _value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, dict) else entry


def _meets(value: Any, target: float, comparison: str) -> str:
    if value is None:
        return "not measured"
    ok = {"<=": value <= target, ">=": value >= target, "==": value == target}[comparison]
    return "meets" if ok else "MISSES"


def _per(numerator: float, denominator: float, digits: int = 2) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def _records(row: dict[str, Any]) -> int:
    return sum(row.get(name, 0) for name in ("created", "updated", "unchanged", "skipped", "failed"))


def _writes(row: dict[str, Any]) -> int:
    return row["netsuite"]["writes"] + row["clicktime"]["writes"]


def _fixed_calls(row: dict[str, Any]) -> int:
    """DynamoDB calls a poller run makes whatever its size (lease, cursor, watermarks, run log, breaker): all
    but the mapping reads, which grow with the records (one BatchGetItem per 100). A pass is one run; of its
    BatchGetItems, the run's read of its cursor and watermarks is bookkeeping."""
    ops = row["aws"]["by_operation"]
    mapping_reads = max(ops.get("dynamodb:BatchGetItem", 0) - 1, 0)
    return row["aws"]["dynamodb"] - mapping_reads


def summarise_passes(p: dict[str, Any], settings: Any) -> dict[str, Any]:
    first, second, updated = p["first"], p["second"], p["updated"]
    redelivered = p.get("redelivered")
    params = {"company_size": settings.size, "seed": settings.seed, "L_seconds": settings.latency, "C": settings.limit}
    params["workers"] = p["workers"]
    by_sync: dict[str, Any] = {}
    labelled = [("first", first), ("second", second), ("redelivered", [redelivered] if redelivered else [])]
    for label, rows in [*labelled, ("updated", [updated])]:
        for row in rows:
            records = _records(row)
            by_sync.setdefault(row["sync"], {})[label] = {
                "records": records,
                "created": row["created"],
                "updated": row["updated"],
                "unchanged": row["unchanged"],
                "skipped": row["skipped"],
                "failed": row["failed"],
                "messages": row["delivered"],
                "seconds": row["seconds"],
                "netsuite_calls_per_record": _per(row["netsuite"]["requests"], records, 3),
                "clicktime_calls_per_record": _per(row["clicktime"]["requests"], records, 3),
                "dynamodb_calls_per_record": _per(row["aws"]["dynamodb"], records, 3),
                "netsuite": row["netsuite"],
                "clicktime": row["clicktime"],
                "aws": row["aws"],
                "writes": _writes(row),
            }
    created = sum(r["created"] for r in first)
    unchanged_records = sum(_records(r) for r in second)
    jobs = next(r for r in first if r["sync"] == "projects")
    tasks = next(r for r in first if r["sync"] == "tasks")
    # A job's client is a record created with it (a ClickTime client and its mapping), counted where jobs are.
    clients = jobs["clicktime"]["writes_by_kind"].get("POST Clients", 0)
    fixed_second = [_fixed_calls(r) for r in second]
    first_seconds = sum(r["seconds"] for r in first)
    unchanged_dynamodb = sum(r["aws"]["dynamodb"] for r in second)
    measured: dict[str, Any] = {
        "dynamodb_calls_per_unchanged_record": {
            "value": _per(unchanged_dynamodb, unchanged_records, 3),
            "records": unchanged_records,
            "calls": unchanged_dynamodb,
            "per_run_bookkeeping": sum(fixed_second),
            **params,
        }
    }
    if redelivered:
        # The pass's quiet poll costs what the tasks' unchanged pass did: the rest is the workers'.
        quiet_poll = next(r for r in second if r["sync"] == redelivered["sync"])["aws"]["dynamodb"]
        measured["dynamodb_calls_per_redelivered_record"] = {
            "value": _per(redelivered["aws"]["dynamodb"] - quiet_poll, redelivered["delivered"], 3),
            "measure": "the first pass's task messages delivered again: the workers' DynamoDB calls per message",
            "delivered": redelivered["delivered"],
            "workers_calls": redelivered["aws"]["dynamodb"] - quiet_poll,
            "by_operation": redelivered["aws"]["by_operation"],
            "netsuite_and_clicktime_calls": redelivered["netsuite"]["requests"] + redelivered["clicktime"]["requests"],
            **params,
        }
    return {
        **measured,
        "by_sync": by_sync,
        "noop_pass_messages": {"value": sum(r["delivered"] for r in second), **params},
        "second_over_first_seconds": {
            "value": _per(sum(r["seconds"] for r in second), first_seconds, 3),
            "first_seconds": round(first_seconds, 2),
            "second_seconds": round(sum(r["seconds"] for r in second), 2),
            **params,
        },
        "dynamodb_calls_per_created_record": {
            "value": _per(sum(r["aws"]["dynamodb"] for r in first), created + clients),
            "records_created": {"jobs_and_tasks": created, "clients": clients},
            "per_job_or_task": _per(sum(r["aws"]["dynamodb"] for r in first), created),
            "per_sync": {
                r["sync"]: _per(r["aws"]["dynamodb"], r["created"] + (clients if r["sync"] == "projects" else 0))
                for r in first
            },
            "per_unchanged_record": _per(sum(r["aws"]["dynamodb"] for r in second), unchanged_records, 3),
            "unchanged_pass_per_run": sum(fixed_second),
            "unchanged_pass_per_record_beyond_the_runs": _per(
                sum(r["aws"]["dynamodb"] for r in second) - sum(fixed_second), unchanged_records, 3
            ),
            "per_message_on_the_unchanged_pass": _per(
                sum(r["aws"]["dynamodb"] for r in second), sum(r["delivered"] for r in second)
            ),
            "per_updated_task": _per(updated["aws"]["dynamodb"], updated["updated"]),
            "created": created,
            **params,
        },
        "clicktime_calls_per_created_job": {
            "value": _per(jobs["clicktime"]["requests"] - jobs["clicktime"]["run_reads"], jobs["created"] + clients),
            "counts": "ClickTime calls per job or client created, the run's list reads apart",
            "run_reads": jobs["clicktime"]["run_reads"],
            "all_calls_per_job": _per(jobs["clicktime"]["requests"], jobs["created"]),
            "by_kind": jobs["clicktime"]["by_kind"],
            "created": jobs["created"],
            "clients_created": clients,
            **params,
        },
        "clicktime_calls_per_created_task": {
            "value": _per(tasks["clicktime"]["requests"] - tasks["clicktime"]["run_reads"], tasks["created"]),
            "counts": "ClickTime calls per task created (its create and its link to the job), the run's list reads apart",
            "run_reads": tasks["clicktime"]["run_reads"],
            "all_calls_per_task": _per(tasks["clicktime"]["requests"], tasks["created"]),
            "by_kind": tasks["clicktime"]["by_kind"],
            "created": tasks["created"],
            "per_updated_task": _per(updated["clicktime"]["requests"], updated["updated"]),
            "updated_by_kind": updated["clicktime"]["by_kind"],
            "updated": updated["updated"],
            **params,
        },
        "clicktime_calls_per_updated_task": {
            "value": _per(updated["clicktime"]["requests"] - updated["clicktime"]["run_reads"], updated["updated"]),
            "run_reads": updated["clicktime"]["run_reads"],
            "all_calls_per_task": _per(updated["clicktime"]["requests"], updated["updated"]),
            "by_kind": updated["clicktime"]["by_kind"],
            "updated": updated["updated"],
            "renamed_in_netsuite": p.get("renamed_tasks"),
            **params,
        },
        "rerun_writes": sum(_writes(r) for r in second),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ctns-bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for development (about three minutes)")
    parser.add_argument(
        "--full", action="store_true", help="the issues' largest sizes: 20,000 time entries, 100,000 projects (~1 h)"
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated sections of {', '.join(SECTIONS)} (default: all but concurrency; --full: all)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="L: seconds per API request (>= 0.05)")
    parser.add_argument("--limit", type=int, default=5, help="C: NetSuite's concurrency limit (5 by default)")
    parser.add_argument("--size", type=int, default=None, help="seeded company size of the passes (3)")
    parser.add_argument("--concurrency-size", type=int, default=None, help="company size of the concurrency runs (6)")
    parser.add_argument("--levels", default="2,4,8", help="worker concurrency levels")
    parser.add_argument("--time-entries", default=None, help="time entries to export, e.g. 1000,5000,20000")
    parser.add_argument(
        "--time-levels",
        default="2x1,2x2,5x1",
        help="time export levels WxK: W worker environments, each writing K bills at once (time.write_concurrency;"
        " a bare W: the config's default K); WxKxS also sets time.sheets_at_once to S, WxKxSxB the time worker's"
        " batch size to B (1-10; the template's BatchSize otherwise)",
    )
    parser.add_argument("--poller-projects", default=None, help="projects for the poller memory run, e.g. 10000,100000")
    parser.add_argument("--cold-repeats", type=int, default=None)
    parser.add_argument("--out", default="build/bench.json")
    args = parser.parse_args(argv)
    chosen = args.only or ",".join(SECTIONS if args.full else DEFAULT)
    sections = [s.strip() for s in chosen.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")
    if args.latency < 0.05:
        parser.error("L must be at least 0.05 s")
    if args.limit < 1 or (args.cold_repeats is not None and args.cold_repeats < 1):
        parser.error("--limit and --cold-repeats must be at least 1")

    from ctns.bench import throughput

    try:
        quick = args.quick
        settings = throughput.Settings(
            size=args.size or (1 if quick else 3),
            concurrency_size=args.concurrency_size or (2 if quick else 6 if args.full else 4),
            latency=args.latency,
            limit=args.limit,
            levels=_whole_numbers("--levels", args.levels),
            time_entries=_whole_numbers(
                "--time-entries", args.time_entries or ("500" if quick else "1000,5000,20000" if args.full else "1000")
            ),
            time_levels=throughput.parse_levels(args.time_levels, throughput._default_write_concurrency()),
        )
        poller_projects = _whole_numbers(
            "--poller-projects",
            args.poller_projects or ("1000,10000" if quick else "10000,100000" if args.full else "2000,20000"),
        )
    except ValueError as error:  # one line for the person at the terminal, not a traceback in the functions' log
        parser.error(f"{error}")

    OUT.mkdir(parents=True, exist_ok=True)
    log_path = str((OUT / "functions.log").resolve())
    # The functions' logs (Powertools writes JSON to stdout, in this process for the poller) go to the log
    # file; this process's own output goes to the terminal through a copy of the original stdout.
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    global _progress
    _progress = os.fdopen(os.dup(2), "w", buffering=1)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)  # warnings too (Powertools' "unpublished metrics"): the functions' business

    repeats = args.cold_repeats or (5 if quick else 15)
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "settings": {
            "L_seconds": settings.latency,
            "C": settings.limit,
            "company_size": settings.size,
            "concurrency_company_size": settings.concurrency_size,
            "levels": settings.levels,
            "time_entries": settings.time_entries,
            "time_levels": settings.time_levels,
            "sections": sections,
            "poller_projects": poller_projects,
            "cold_repeats": repeats,
        },
    }
    try:
        return _run(args, sections, settings, poller_projects, repeats, result, log_path, terminal)
    except DrainFailed as error:  # the product's failure, not the benchmark's: one line that says where to look
        _progress.write(f"ctns-bench: no figures: {error}\n")
        return 1
    except BaseException:
        import traceback

        _progress.write(traceback.format_exc())
        return 1


def _run(
    args: Any,
    sections: list[str],
    settings: Any,
    poller_projects: tuple[int, ...],
    repeats: int,
    result: dict[str, Any],
    log_path: str,
    terminal: Any,
) -> int:
    from ctns.bench import coldstart, layer, memory, throughput
    from ctns.bench.awsserver import AwsServer

    started = time.perf_counter()
    server = AwsServer(str(OUT / "moto.log"))
    server.start()
    os.environ.update(server.environment())
    try:
        if "layer" in sections:
            _say("deps layer: what sam build left in .aws-sam/build/DepsLayer")
            result["deps_layer_mb"] = layer.measure()
        if "cold" in sections:
            _say(f"cold import: handlers and bare Powertools handlers, {repeats} interleaved repetitions")
            result["cold_import_ratio"] = coldstart.measure(OUT, repeats=repeats)
            _say("cold start: import and runtime build of the projects poller and worker, fresh processes")
            result["cold_import_ratio"]["whole_cold_start"] = coldstart.whole(server, log_path, max(3, repeats // 2))
        template_run = None
        if "passes" in sections:
            _say(
                f"passes: projects and tasks, company size {settings.size}, template concurrency, L={settings.latency}s"
            )
            template_run = throughput.passes(server, log_path, settings)
            result["passes"] = summarise_passes(template_run, settings)
        if "concurrency" in sections:
            _say(f"concurrency: first passes at W = 1 (model) and {settings.levels}")
            result["concurrency"] = throughput.concurrency(server, log_path, settings, template_run)
        if "exports" in sections:
            result["exports"] = []
            for entries in settings.time_entries:
                _say(
                    f"exports: about {entries} time entries at W x K = {_levels(settings.time_levels)}, then expenses"
                    " (jobs and tasks first, without latency)"
                )
                result["exports"].append(throughput.exports(server, log_path, settings, entries))
        if "memory" in sections:
            _say(f"poller memory: projects poller over {poller_projects} projects")
            result["poller_memory_growth"] = memory.measure(server, log_path, poller_projects)
    finally:
        server.stop()
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    _headline(result, settings)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    terminal.write(render(result) + f"\nwritten to {args.out}; the functions' logs in {log_path}\n")
    terminal.flush()
    return 0


def _headline(result: dict[str, Any], settings: Any) -> None:
    """The keys of bench.json the issues name, from the sections' figures. A key whose section did not run is
    left out (the table says "not measured"), never written as null."""
    passes = result.get("passes")
    if passes:
        for key in (
            "noop_pass_messages",
            "second_over_first_seconds",
            "dynamodb_calls_per_created_record",
            "dynamodb_calls_per_unchanged_record",
            "dynamodb_calls_per_redelivered_record",
            "clicktime_calls_per_created_job",
            "clicktime_calls_per_created_task",
            "clicktime_calls_per_updated_task",
        ):
            if key in passes:
                result[key] = passes[key]
    exports = result.get("exports") or []
    parts: dict[str, Any] = {}
    if passes:
        parts["projects_and_tasks"] = passes["rerun_writes"]
    for e in exports:
        parts[f"time_{e['entries']}_entries"] = e["rerun_writes"]
        x = e["expenses"]
        parts[f"expenses_{x['sheets']}_sheets"] = x["netsuite_writes_second"] + x["clicktime_writes_second"]
    if parts:
        result["rerun_writes"] = {
            "value": sum(parts.values()),
            "measure": "NetSuite and ClickTime writes on a pass over unchanged data (second pass / second night)",
            "by_pass": parts,
            "L_seconds": settings.latency,
            "C": settings.limit,
        }
    if exports or passes:
        by_sync: dict[str, Any] = {
            sync: {label: figures["netsuite_calls_per_record"] for label, figures in passes_.items()}
            for sync, passes_ in (passes or {}).get("by_sync", {}).items()
        }
        for e in exports:
            first = e["rows"][0]
            by_sync[f"time ({e['entries']} entries)"] = {
                "first": first["netsuite_calls_per_time_bill"],
                "second": e["second"]["netsuite"]["requests"],  # calls in all: nothing was exported
                "unit": "first: per time bill written; second: NetSuite calls of the whole unchanged pass",
            }
            x = e["expenses"]
            by_sync[f"expenses ({x['sheets']} sheets)"] = {
                "first": x["netsuite_calls_per_exported_record"],
                "second": x["second"]["netsuite"]["requests"],
                "unit": "first: per report or receipt written; second: NetSuite calls of the whole unchanged night",
            }
        value = exports[-1]["rows"][0]["netsuite_calls_per_time_bill"] if exports else None
        result["netsuite_calls_per_record"] = {
            "value": value,
            "record": "a time bill written by the time export (first pass), largest N",
            "by_export": {e["entries"]: [r["netsuite_calls_per_time_bill"] for r in e["rows"]] for e in exports},
            "by_sync_and_pass": by_sync,
            "L_seconds": settings.latency,
            "C": settings.limit,
        }
        if value is None:
            del result["netsuite_calls_per_record"]
    throughput_rows = (result.get("concurrency") or {}).get("rows", [])
    if exports or throughput_rows:
        rows = exports[-1]["rows"] if exports else []
        top = _headline_row(rows, settings.limit)
        result["throughput_vs_bound"] = {
            "value": top["fraction_of_netsuite_bound"] if top else None,
            "measure": (
                "time bills written per second / (C / L), measured over the drain, largest N, at the level W x K"
                " (W environments, each writing K bills at once) with the most writes in flight within C;"
                " by_level: measured and modelled (one environment's seconds per bill at the level with the fewest"
                " in flight, its write L / K and the rest one after another: W / (rest + L / K), capped at C / L)"
            ),
            "level": _level(top) if top else None,
            "L_seconds": settings.latency,
            "C": settings.limit,
            "entries": exports[-1]["entries"] if exports else None,
            "modelled_value": top["modelled_fraction_of_netsuite_bound"] if top else None,
            "by_level": {
                _level(r): {
                    "measured": r["fraction_of_netsuite_bound"],
                    "modelled": r["modelled_fraction_of_netsuite_bound"],
                    "time_bills_per_second": r["time_bills_per_second"],
                    "of_the_workers_bound": r["fraction_of_worker_bound"],
                    "environment_cpu_cores": r["environment_cpu_cores"],
                    "netsuite_throttled": r["netsuite_throttled"],
                }
                for r in rows
            },
            "by_export": [
                {"entries": e["entries"], "rows": [{k: v for k, v in r.items() if k != "first"} for r in e["rows"]]}
                for e in exports
            ],
            "projects_and_tasks": [
                {
                    k: r.get(k)
                    for k in (
                        "sync",
                        "workers",
                        "records",
                        "records_per_second",
                        "bound_records_per_second",
                        "fraction_of_bound",
                        "modelled_fraction_of_bound",
                        "api_calls_per_record",
                    )
                }
                for r in throughput_rows
            ],
        }
        if result["throughput_vs_bound"]["value"] is None:
            del result["throughput_vs_bound"]
    memory = result.get("poller_memory_growth")
    if memory and memory.get("suiteql_per_1000_rows") is not None:
        result["poller_suiteql_calls_per_1000_rows"] = {
            "value": memory["suiteql_per_1000_rows"],
            "measure": (
                "SuiteQL requests of one projects poller invocation per 1,000 more projects read (smallest to"
                " largest N: the run's fixed reads cancel out)"
            ),
            "in_all_at_largest_n": memory.get("suiteql_per_1000_rows_in_all"),
            "by_table": memory["rows"][-1].get("suiteql_by_table"),
            "projects": memory["rows"][-1]["projects"],
            "by_projects": {r["projects"]: r.get("suiteql_per_1000_rows") for r in memory["rows"]},
        }


def _whole_numbers(option: str, text: str) -> tuple[int, ...]:
    """`"1000,5000"` -> (1000, 5000); ValueError naming the option otherwise (a figure below 1 too)."""
    try:
        numbers = tuple(int(x) for x in text.split(","))
    except ValueError:
        numbers = ()
    if not numbers or min(numbers) < 1:
        raise ValueError(f"{option} takes whole numbers of at least 1 separated by commas, not {text!r}")
    return numbers


def _levels(levels: Any) -> str:
    return ", ".join("x".join(str(n) for n in level) for level in levels)


def _level(row: dict[str, Any]) -> str:
    return row.get("level") or f"{row['workers']}x{row.get('write_concurrency', 1)}"


def _headline_row(rows: list[dict[str, Any]], limit: int) -> dict[str, Any] | None:
    """The level that uses the most of NetSuite's limit without going over it (over C, NetSuite answers 429)."""
    within = [r for r in rows if r.get("in_flight", r["workers"]) <= limit]
    if within:
        return max(within, key=lambda r: (r.get("in_flight", r["workers"]), r["workers"]))
    return min(rows, key=lambda r: r.get("in_flight", r["workers"])) if rows else None


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def render(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"make bench: L = {s['L_seconds']} s per API request, NetSuite limit C = {s['C']}, company size {s['company_size']};"
        f" {result['machine']['cpus']} CPUs, load {result['machine']['load_average_at_start']} ->"
        f" {result['machine']['load_average_at_end']}; {result['seconds']} s",
        "",
        f"{'key':<36} {'value':>9}  {'target':>9}  {'':<12} what",
        "-" * 118,
    ]
    for key, (target, comparison, what) in TARGETS.items():
        value = _value(result.get(key))
        lines.append(
            f"{key:<36} {_fmt(value):>9}  {comparison + ' ' + _fmt(target):>9}  {_meets(value, target, comparison):<12} {what}"
        )
    passes = result.get("passes")
    if passes:
        lines += [
            "",
            "calls per record, per sync and pass (NetSuite / ClickTime / DynamoDB; from the request logs and the moto server)",
        ]
        lines.append(
            f"  {'sync':<9} {'pass':<8} {'records':>7} {'created':>7} {'updated':>7} {'msgs':>5} {'NS':>6} {'CT':>6} {'DDB':>6} {'writes':>6} {'seconds':>8}"
        )
        for sync, by_pass in passes["by_sync"].items():
            for label, f in by_pass.items():
                lines.append(
                    f"  {sync:<9} {label:<8} {f['records']:>7} {f['created']:>7} {f['updated']:>7} {f['messages']:>5}"
                    f" {_fmt(f['netsuite_calls_per_record']):>6} {_fmt(f['clicktime_calls_per_record']):>6}"
                    f" {_fmt(f['dynamodb_calls_per_record']):>6} {f['writes']:>6} {_fmt(f['seconds']):>8}"
                )
        d = passes["dynamodb_calls_per_created_record"]
        lines.append(
            f"  DynamoDB per created record {_fmt(d['value'])} ({d['records_created']}; per sync {d['per_sync']};"
            f" per job or task alone {_fmt(d['per_job_or_task'])}), per updated task {_fmt(d['per_updated_task'])}"
        )
        lines.append(
            f"  DynamoDB on the unchanged pass: {_fmt(d['per_unchanged_record'])} per record ="
            f" {d['unchanged_pass_per_run']} calls for the two runs' bookkeeping (lease, cursor, watermarks, run log)"
            f" + {_fmt(d['unchanged_pass_per_record_beyond_the_runs'])} per record (mapping reads, 100 a call)"
        )
        j, t = passes["clicktime_calls_per_created_job"], passes["clicktime_calls_per_created_task"]
        u = passes["clicktime_calls_per_updated_task"]
        lines.append(
            f"  ClickTime: per job or client created {_fmt(j['value'])} + {j['run_reads']} list reads per run"
            f" ({_fmt(j['all_calls_per_job'])} per job, all calls); per task created {_fmt(t['value'])}"
            f" + {t['run_reads']} ({_fmt(t['all_calls_per_task'])}); per task updated {_fmt(u['value'])}"
            f" + {u['run_reads']} ({_fmt(u['all_calls_per_task'])}; {u['updated']} updated)"
        )
    rows = (result.get("concurrency") or {}).get("rows", [])
    if rows:
        lines += [
            "",
            "concurrency: first passes, W execution environments as processes; bound = min(W / (L x API calls per record), C / (L x NetSuite calls per record))",
        ]
        lines.append(
            f"  {'sync':<9} {'W':>3} {'records':>7} {'rec/s':>7} {'bound':>7} {'measured':>9} {'modelled':>9} {'calls/rec':>9} {'429s':>5} {'env CPUs':>8} {'init s':>7} {'warm-up s':>9} {'1st inv s':>9}"
        )
        for r in rows:
            env = r["environments"]
            lines.append(
                f"  {r['sync']:<9} {r['workers']:>3} {r['records']:>7} {_fmt(r['records_per_second']):>7}"
                f" {_fmt(r['bound_records_per_second']):>7} {_fmt(r['fraction_of_bound']):>9}"
                f" {_fmt(r.get('modelled_fraction_of_bound')):>9} {_fmt(r['api_calls_per_record']):>9}"
                f" {r['netsuite_throttled']:>5} {_fmt(r.get('environment_cpu_cores')):>8} {_fmt(env['init_seconds_median']):>7} {_fmt(env.get('warm_up_seconds_median')):>9}"
                f" {_fmt(env['first_invocation_seconds_median']):>9}"
            )
        lines.append(
            "  measured: records/s over the drain / bound; modelled: W / (seconds per record of one environment at W = 1), capped at C/L, over the bound"
        )
        lines.append(
            "  each environment imports its handler (init s) and builds its runtime (warm-up s: config, secrets, clients)"
            " before the drain's clock starts; env CPUs: the environments' CPU seconds over the drain's seconds"
            f" (this machine has {result['machine']['cpus']}, shared with the simulators and moto)"
        )
    for e in result.get("exports") or []:
        lines += [
            "",
            f"time export: {e['entries']} entries ({e['timesheets']} timesheets, company size {e['company_size']});"
            f" bound C / L = {_fmt(e['C'] / e['L_seconds'])} time bills a second (one NetSuite write per bill);"
            f" W execution environments as processes",
        ]
        lines.append(
            f"  {'W x K':>5} {'bills':>6} {'drain s':>8} {'bills/s':>8} {'of C/L':>7} {'modelled':>8} {'of W/(L cpr)':>12}"
            f" {'NS/bill':>8} {'CT/bill':>8} {'DDB/bill':>8} {'429s':>5} {'env CPUs':>8} {'AWS busy':>8}"
            f" {'in flight':>9} {'NS ms':>6} {'envs busy':>9}"
        )
        for r in e["rows"]:
            lines.append(
                f"  {_level(r):>5} {r['time_bills_written']:>6} {_fmt(r['drain_seconds']):>8}"
                f" {_fmt(r['time_bills_per_second']):>8} {_fmt(r['fraction_of_netsuite_bound']):>7}"
                f" {_fmt(r.get('modelled_fraction_of_netsuite_bound')):>8} {_fmt(r['fraction_of_worker_bound']):>12}"
                f" {_fmt(r['netsuite_calls_per_time_bill']):>8} {_fmt(r['clicktime_calls_per_time_bill']):>8}"
                f" {_fmt(r['dynamodb_calls_per_time_bill']):>8} {r['netsuite_throttled']:>5}"
                f" {_fmt(r['environment_cpu_cores']):>8} {_fmt(r.get('aws_server_busy_share')):>8}"
                f" {_fmt(r.get('netsuite_mean_in_flight')):>9} {_ms(r.get('netsuite_seconds_per_request')):>6}"
                f" {_fmt(r.get('environments_busy_share')):>9}"
            )
        for r in e["rows"]:
            shares = r.get("invoked_time_shares") or {}
            if shares:
                lines.append(
                    f"  {_level(r)}: of the invocations' time, NetSuite in flight {_fmt(shares.get('netsuite'))};"
                    f" none in flight, waiting on AWS {_fmt(shares.get('aws'))}, on ClickTime"
                    f" {_fmt(shares.get('clicktime'))}, on neither {_fmt(shares.get('neither'))}"
                    f" (before the first NetSuite request {_fmt(shares.get('head'))}, between"
                    f" {_fmt(shares.get('between'))}, after the last {_fmt(shares.get('tail'))});"
                    f" NetSuite in flight in each environment's first invocation"
                    f" {_fmt(shares.get('netsuite_first_invocations'))}"
                    f" ({_fmt(shares.get('first_invocations_of_invoked'))} of the time), in the later ones"
                    f" {_fmt(shares.get('netsuite_later_invocations'))}"
                )
        second = e["second"]
        lines.append(
            f"  unchanged second pass: {second['delivered']} messages, {_writes(second)} writes,"
            f" {second['netsuite']['requests']} NetSuite and {second['clicktime']['requests']} ClickTime calls,"
            f" {_fmt(second['seconds'])} s"
        )
        lines.append(
            "  AWS busy: the share of the drain the moto server (one request at a time) spent answering; near 1 it,"
            " not NetSuite's bound, set the pace (real DynamoDB and SQS serve concurrently)"
        )
        lines.append(
            f"  in flight: NetSuite requests in flight on average over the drain (C = {e['C']} at the bound; each"
            " request's whole time in the simulator); NS ms: a NetSuite request's mean time in the simulator (L"
            " when the simulator's own work fits inside it); envs busy: the share of the W environments' drain time spent"
            " in an invocation (the rest is waiting for a batch, mostly the last round's)"
        )
        base = e["rows"][0]
        lines.append(
            f"  modelled: a bill cost one environment's invocations {_fmt(base.get('model_seconds_per_bill'))} s at"
            f" {base.get('model_base_workers')}x{base.get('model_base_write_concurrency', 1)}: its write L / K and"
            f" {_fmt(base.get('model_seconds_besides_the_write'))} s besides, one after another;"
            " W / (that + L / K), capped at C / L (W x K in flight when nothing else took time)"
            + (
                "; at the base's 1 sheet at once, S sheets at once (time.sheets_at_once) cost max(L / K, (that + L / K) / S)"
                if base.get("model_base_sheets_at_once", 1) == 1
                and any(r.get("sheets_at_once", 1) > 1 for r in e["rows"])
                else f"; the base had {base.get('model_base_sheets_at_once')} sheets at once: 'besides' is what"
                " overlapping left over, and every level is modelled one after another (a lower figure)"
                if base.get("model_base_sheets_at_once", 1) > 1
                else ""
            )
        )
        lines.append(
            "  W x K: W environments, each writing a timesheet's bills K at once (time.write_concurrency);"
            " each level after the time export was forgotten (bills PUT again by external ID);"
            " of W/(L cpr): of the workers' bound, every call but the K-at-once writes taking L in turn"
        )
        x = e["expenses"]
        lines += [
            "",
            f"expense export (W = {x['workers']}): {x['sheets']} expense sheets;"
            f" first night {x['reports_written']} reports and {x['receipts_uploaded']} receipts in"
            f" {_fmt(x['seconds_first'])} s: {x['netsuite_writes_first']} NetSuite writes"
            f" ({_fmt(x['report_writes_per_report'])} per report, {x['attach_writes']} attachments),"
            f" {_fmt(x['netsuite_calls_per_exported_record'])} NetSuite calls per report or receipt",
            f"  second night on unchanged data: {x['second_messages']} messages, {x['netsuite_writes_second']} NetSuite"
            f" and {x['clicktime_writes_second']} ClickTime writes, {_fmt(x['seconds_second'])} s"
            f" ({_fmt(x['second_over_first_seconds'])} of the first)",
        ]
    cold = result.get("cold_import_ratio")
    if cold:
        f = cold["figures"]
        lines += [
            "",
            f"cold import (CPU ms, median of {cold['repeats']}; layers as their Makefiles build them, Lambda's sys.path, tracer on)",
        ]
        for role in ("poller", "worker"):
            lines.append(
                f"  {role:<7} {f[role]['cpu_ms']:>7} ms ({f[role]['modules']} modules) vs bare {f['bare_' + role]['cpu_ms']:>7} ms"
                f" ({f['bare_' + role]['modules']} modules): {cold['ratios'][role]['cpu']}x CPU, {cold['ratios'][role]['wall']}x wall"
            )
        whole = cold.get("whole_cold_start")
        if whole:
            for role in ("poller", "worker"):
                w = whole[role]
                lines.append(
                    f"  projects {role}, whole cold start (import + runtime build: config, secrets, clients; median of"
                    f" {whole['repeats']}): {w['total_cpu_ms']} ms CPU = {w['import_cpu_ms']} import + {w['build_cpu_ms']} build"
                )
        missing = sorted({m for v in f.values() for m in v["layer_modules_without_pyc"]})
        lines.append(
            f"  layer modules imported without bytecode: {len(missing)}"
            + (f" ({', '.join(missing[:5])} ...)" if missing else "")
        )
    deps = result.get("deps_layer_mb")
    if deps and deps.get("value") is not None:
        lines += [
            "",
            f"deps layer: {deps['value']} MB unzipped, {deps['zipped_mb']} MB zipped; ships of the runtime's packages:"
            f" {deps['ships_what_the_runtime_has'] or 'none'}{' (STALE: rebuild)' if deps.get('stale') else ''}",
            f"  largest: {deps['largest']}",
        ]
    memory = result.get("poller_memory_growth")
    if memory:
        lines += ["", "projects poller, one warm invocation over N projects"]
        for r in memory["rows"]:
            lines.append(
                f"  N={r['projects']:>7}: {r['seconds']:>7} s, {r['seconds_per_record_ms']} ms per record"
                f" ({r.get('cpu_per_record_ms')} ms CPU in the poller), peak traced"
                f" {r['peak_traced_mb']} MB, process peak RSS {r['max_rss_mb']} MB, {r['invocations']} invocation(s),"
                f" {r.get('suiteql_requests')} SuiteQL requests ({r.get('suiteql_per_1000_rows')} per 1,000 rows:"
                f" {r.get('suiteql_by_table')})"
            )
        lines.append(
            f"  growth: memory {memory['value']}x, RSS {memory['rss_growth']}x, time per record {memory['time_per_record_growth']}x,"
            f" poller CPU per record {memory.get('cpu_per_record_growth')}x"
        )
    return "\n".join(lines)
