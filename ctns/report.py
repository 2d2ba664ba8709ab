"""What a pass did, read back from where the functions wrote it: the run log and the dead-letter queues."""

from __future__ import annotations

from typing import Any

from ctns.runner import SyncRun
from ctns.session import Session
from ctsync.state.runlog import failed_phase
from ctsync.sync.registry import SYNCS

COLUMNS = ("created", "updated", "unchanged", "skipped", "failed")
# What a sync's source and target IDs are, for failure lines an operator can look up in either system.
RECORDS = {spec.name: (spec.source_record, spec.target_record) for spec in SYNCS}


def pass_report(session: Session, runs: list[SyncRun]) -> dict[str, Any]:
    syncs: dict[str, Any] = {}
    failures: list[dict[str, Any]] = []
    for run in runs:
        final = run.poll_results[-1] if run.poll_results else {}
        row: dict[str, Any] = {name: 0 for name in COLUMNS}
        row.update(
            {"status": final.get("status", "?"), "enqueued": sum(r.get("enqueued", 0) for r in run.poll_results[-1:])}
        )
        if final.get("reason"):
            row["note"] = final["reason"]
        if run.run_id:
            summary = session.runlog.summary(run.run_id)
            if summary:
                row.update({name: summary.counts.get(name, 0) for name in COLUMNS})
                row["retried"] = summary.counts.get("retried", 0)
                row["enqueued"] = summary.enqueued
                if summary.notes:
                    row["notes"] = summary.notes
            for failure in session.runlog.failures(run.run_id):
                failures.append(
                    {
                        "sync": run.sync,
                        "source_id": failure.source_id,
                        "target_id": failure.target_id,
                        "kind": failure.kind,
                        "reason": failure.reason,
                    }
                )
        row["run_id"] = run.run_id
        row["invocations"] = run.invocations
        syncs[run.sync] = row
    # A record listed once however many dead letters it has (earlier runs, a backfill): its run failures, or else
    # its first dead letter. `waiting`: the records (distinct) that are in the dead-letter queues now.
    recorded = {(f["sync"], f["source_id"]) for f in failures}
    waiting: set[tuple[str, str]] = set()
    for run in runs:
        for letter in session.runner.dead_letters(run.sync):
            key = (letter.sync, letter.source_id)
            waiting.add(key)
            if key not in recorded:
                recorded.add(key)
                failures.append(
                    {
                        "sync": letter.sync,
                        "source_id": letter.source_id,
                        "target_id": letter.target_id,
                        "kind": letter.kind,
                        "reason": letter.reason,
                    }
                )
    for failure in failures:
        failure["phase"] = failed_phase(failure["source_id"])
        failure["in_dead_letters"] = (failure["sync"], failure["source_id"]) in waiting
    return {"syncs": syncs, "failures": failures}


def render_table(passes: list[dict[str, Any]]) -> str:
    header = (
        f"{'pass':<5} {'sync':<10} {'enqueued':>8} " + " ".join(f"{c:>9}" for c in COLUMNS) + f" {'writes NS/CT':>13}"
    )
    lines = [header, "-" * len(header)]
    for number, report in enumerate(passes, start=1):
        writes = report.get("writes", {})
        for sync, row in report["syncs"].items():
            counts = " ".join(f"{row.get(c, 0):>9}" for c in COLUMNS)
            w = f"{writes.get(sync, {}).get('netsuite', '-')}/{writes.get(sync, {}).get('clicktime', '-')}"
            lines.append(f"{number:<5} {sync:<10} {row.get('enqueued', 0):>8} {counts} {w:>13}")
            for key, text in (row.get("notes") or {}).items():
                lines.append(f"{'':<16} note ({key}): {text}")
            if row.get("note"):
                lines.append(f"{'':<16} note: {row['note']}")
    return "\n".join(lines)


def records_in(failures: list[dict[str, Any]]) -> int:
    """How many records the failures are about: a record the run flagged twice (two causes) is one record, and a
    phase that could not be read is no record."""
    return len({(f["sync"], f["source_id"]) for f in failures if not failed_phase(f["source_id"])})


def render_failures(
    failures: list[dict[str, Any]], *, kept_in: str | None = None, shown: int | None = None, more: str = ""
) -> str:
    """`kept_in` says where the failed records wait (a dead-letter queue that outlives the run); without it the
    run's queues were in memory, and the text does not send anyone looking for them. A phase that could not be
    read is told as a phase: it is no record, and nothing of it waits in a dead-letter queue. `shown`: at most
    this many record lines (`more` says where the rest are)."""
    if not failures:
        return "No failures."
    phases = [f for f in failures if failed_phase(f["source_id"])]
    records = [f for f in failures if not failed_phase(f["source_id"])]
    lines: list[str] = []
    if phases:
        lines.append(
            f"{len(phases)} phase(s) could not be read (no record of them was read, and none waits in a "
            "dead-letter queue):"
        )
        lines += [f"  - {f['sync']}: {f['reason']} [{f['kind']}]" for f in phases]
    if records:
        if kept_in:
            # The queues outlive the run: what waits there may have failed in an earlier run (the table counts this
            # one). Counted as records in the queues, not dead letters: a record failed in three runs is one.
            waiting = [f for f in records if f.get("in_dead_letters", True)]
            flagged = [f for f in records if not f.get("in_dead_letters", True)]
            if waiting:
                lines.append(
                    f"{records_in(waiting)} record(s) wait in {kept_in} (failed in this run or an earlier one):"
                )
                lines += _record_lines(waiting[:shown] if shown is not None else waiting)
                if shown is not None and len(waiting) > shown:
                    lines.append(f"  … and {len(waiting) - shown} more" + (f" ({more})" if more else ""))
                    shown = 0
                elif shown is not None:
                    shown -= len(waiting)
            if flagged:
                lines.append(f"{records_in(flagged)} record(s) failed in this run and are not in a dead-letter queue:")
                lines += _record_lines(flagged[:shown] if shown is not None else flagged)
                if shown is not None and len(flagged) > shown:
                    lines.append(f"  … and {len(flagged) - shown} more" + (f" ({more})" if more else ""))
        else:
            lines.append(
                f"{records_in(records)} record(s) failed (this run's dead-letter queues were in memory and are gone "
                "with it; the reasons are below):"
            )
            lines += _record_lines(records[:shown] if shown is not None else records)
            if shown is not None and len(records) > shown:
                lines.append(f"  … and {len(records) - shown} more" + (f" ({more})" if more else ""))
    return "\n".join(lines)


def _record_lines(failures: list[dict[str, Any]]) -> list[str]:
    lines = []
    for f in failures:
        source_name, target_name = RECORDS.get(f["sync"], ("source", "target"))
        target = f", {target_name} {f['target_id']}" if f.get("target_id") else f", no {target_name} yet"
        lines.append(f"  - {f['sync']}: {source_name} {f['source_id']}{target} [{f['kind']}]: {f['reason']}")
    return lines


def render_causes(causes: dict[str, list[dict[str, Any]]]) -> str:
    """Open causes per sync: what a person must fix, how many records each blocks, and a sample of them."""
    open_causes = [(sync, cause) for sync, items in causes.items() for cause in items]
    if not open_causes:
        return "Nothing waits for a person."
    lines = [f"{len(open_causes)} cause(s) wait for a person (each record it blocks is in its dead-letter queue):"]
    for sync, cause in open_causes:
        lines.append(f"  - {sync} [{cause['key']}] {_held_records(sync, cause)}")
        lines.append(f"      {cause['reason']}")
        if cause.get("fix"):
            lines.append(f"      fix: {cause['fix']}")
    return "\n".join(lines)


def _held_records(sync: str, cause: dict[str, Any], shown: int = 5) -> str:
    """How many records a cause holds and how often it failed, apart: a record retried counts one failure per
    attempt. The cause lists at most `BLOCKED_SAMPLE` records; a full list says "or more"."""
    from ctsync.state.runlog import BLOCKED_SAMPLE

    source_name, _ = RECORDS.get(sync, ("record", "target"))
    records, failures = cause["blocked"], cause["count"]
    # a sample that filled up and then lost a record that went through (`RunLog.unblock`) may hold fewer
    full = len(records) >= BLOCKED_SAMPLE or failures > BLOCKED_SAMPLE
    held = f"{len(records)}{' or more' if full else ''} {source_name}{'' if len(records) == 1 else 's'}"
    if failures != len(records):
        held += f" ({failures} failure{'' if failures == 1 else 's'})"
    listed = ", ".join(records[:shown])
    if len(records) > shown:
        listed += f" and {len(records) - shown} more{' listed' if full else ''}"
    return f"{held}: {listed}" if records else held


def left_out(result: dict[str, Any]) -> str:
    """The approved time or amounts a reconciliation left out because their sheets are blocked, unreadable or read
    short ("" when none): approved in ClickTime and not in NetSuite, which a person must see before a period is
    closed. Their hours or amounts are in the `blocked` total; a sheet whose figure nothing read tells is named in
    `blocked_unknown` (each sheet is named in the notes)."""
    totals = result.get("totals") or {}
    blocked, unknown = totals.get("blocked", ""), totals.get("blocked_unknown", "")
    said = [] if blocked in ("", "none", "0 h", "0") else [f"{blocked} approved"]
    said += [] if unknown in ("", "none") else [unknown]
    return " and ".join(said)


def render_reconciliation(reconciliation: dict[str, Any]) -> str:
    lines = []
    for record, result in reconciliation.items():
        shown = {k: v for k, v in (result.get("totals") or {}).items() if k != "as_of"}
        if shown.get("blocked_unknown") == "none":
            del shown["blocked_unknown"]
        totals = ", ".join(f"{k} {v}" for k, v in shown.items())
        verdict = "OK" if result["ok"] else "DIFFERENCES"
        if result["ok"] and (missing := left_out(result)):
            verdict = f"OK on what was compared, NOT COMPARED: {missing}"
        lines.append(f"{record}: {verdict}" + (f" ({totals})" if totals else ""))
        for check in result["checks"]:
            mark = "ok " if check["ok"] else "!! "
            lines.append(f"  {mark}{check['name']}: expected {check['expected']}, found {check['found']}")
            for difference in check["differences"]:
                lines.append(f"       {difference}")
        for note in result.get("notes") or []:
            lines.append(f"     note: {note}")
    return "\n".join(lines)
