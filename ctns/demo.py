"""`ctns demo`: the whole product on the embedded default, three nights, with a report and a reconciliation.

Both simulators start on loopback with a seeded company, the stack's AWS side runs on moto, and every sync
that exists runs three nights through the template's wiring: the second after changes in ClickTime, the third on
unchanged data, which must write nothing to either system; the report counts the writes each simulator received
to show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ctns.output import write_whole
from ctns.report import pass_report, render_causes, render_reconciliation, render_table
from ctns.runner import Progress
from ctns.session import Session
from ctsync.sync.registry import AVAILABLE, SYNCS

REPORT = Path("build/demo-report.json")


def run_pass(
    session: Session, syncs: list[str] | None = None, *, before_sync: dict[str, Callable[[], Any]] | None = None
) -> dict[str, Any]:
    """Run some syncs once, in the template's order; the report includes the writes each simulator saw per sync.

    `before_sync` runs a step just before a sync (the demo's people log their time once their jobs exist).
    """
    sims = session.simulators
    chosen = syncs or [s for s in session.runner.syncs() if s in AVAILABLE]
    runs, writes = [], {}
    for sync in chosen:
        if before_sync and sync in before_sync:
            before_sync[sync]()
        before = (len(sims.netsuite.writes()), len(sims.clicktime.writes())) if sims else (0, 0)
        runs.extend(session.runner.run([sync]))
        if sims:
            writes[sync] = {
                "netsuite": len(sims.netsuite.writes()) - before[0],
                "clicktime": len(sims.clicktime.writes()) - before[1],
            }
    report = pass_report(session, runs)
    report["writes"] = writes
    return report


def run_passes(session: Session, passes: int = 2, syncs: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the syncs `passes` times."""
    return [run_pass(session, syncs) for _ in range(passes)]


def reconciliation(session: Session) -> dict[str, Any]:
    runtime = session.runtime()
    args = (runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)
    return {spec.name: spec.reconcile(*args).as_report() for spec in SYNCS if spec.reconcile and spec.name in AVAILABLE}


def demo(
    *, seed: int = 7, size: int = 1, report_path: Path | None = REPORT, progress: Progress | None = None
) -> dict[str, Any]:
    """Three nights on a seeded company:

    1. the first night: projects and tasks become jobs and tasks; then people log time and expenses on them
       and approvers approve (the seeded activity), and the exports send the approved time and expenses;
    2. the next night, after people changed things in ClickTime (a timesheet corrected and approved again,
       one un-approved, an expense sheet corrected and approved again): every sync applies the changes;
    3. a quiet night: nothing changed, nothing is written.
    """
    from simulators.scenarios import after_first_export

    say = progress or (lambda _text: None)
    with Session.simulated(seed=seed, size=size, progress=progress) as session:
        company = session.simulators.company
        clock = session.simulators.clicktime.clock
        activity: dict[str, Any] = {}

        def people_log_time() -> None:
            say("ClickTime: people log time and expenses on the new jobs; approvers approve")
            activity.update(session.log_activity())

        passes = [run_pass(session, before_sync={"time": people_log_time})]
        clock.advance(timedelta(days=1))
        say("ClickTime: a timesheet is corrected and approved again, one un-approved, an expense sheet corrected")
        changes = after_first_export(session.simulators.clicktime, company)
        passes.append(run_pass(session))
        clock.advance(timedelta(days=1))
        passes.append(run_pass(session))
        report = {
            "seed": seed,
            "size": size,
            "company": {
                "name": company.name,
                "projects": len(company.projects),
                "tasks": len(company.tasks),
                "customers": len(company.customers),
                "activity": activity,
            },
            "between_nights": {"1-2": changes},
            "passes": passes,
            "failures": [failure | {"pass": n} for n, p in enumerate(passes, start=1) for failure in p["failures"]],
            "causes": {
                name: [c.model_dump(mode="json") for c in session.runlog.causes(name)]
                for name in session.runner.syncs()
            },
            "reconciliation": reconciliation(session),
        }
        expenses = report["reconciliation"].get("expenses")
        if expenses:
            report["receipts"] = expenses["totals"].get("receipts", "")
    if report_path is not None:  # `ctns demo` writes it itself, after printing the results
        write_report(report_path, report)
    return report


def write_report(path: Path, report: dict[str, Any]) -> None:
    write_whole(path, json.dumps(report, indent=2, default=str))


def render(report: dict[str, Any]) -> str:
    company = report["company"]
    passes = report["passes"]
    quiet = passes[-1].get("writes", {})
    total = sum(w["netsuite"] + w["clicktime"] for w in quiet.values())
    activity = company.get("activity") or {}
    return "\n\n".join(
        [
            f"Seeded company '{company['name']}' (seed {report['seed']}, size {report['size']}): "
            f"{company['projects']} projects, {company['tasks']} tasks, {company['customers']} customers; in ClickTime "
            f"{activity.get('timesheets', 0)} timesheets ({activity.get('time_entries', 0)} entries) and "
            f"{activity.get('expense_sheets', 0)} expense sheets ({activity.get('expense_items', 0)} items)",
            "Night 1: the first sync and export; night 2: after changes in ClickTime; night 3: nothing changed.",
            render_table(passes),
            render_causes(report.get("causes", {})),
            render_reconciliation(report["reconciliation"]),
            *_receipts_line(report),
            f"Night 3 (nothing changed) writes to NetSuite and ClickTime: {total} (expected 0)",
        ]
    )


def _receipts_line(report: dict[str, Any]) -> list[str]:
    """Receipts in NetSuite's File Cabinet after the three nights (stored, linked to their lines, failed)."""
    return [f"Receipts (expenses): {report['receipts']}"] if report.get("receipts") else []
