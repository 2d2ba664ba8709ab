"""`ctns demo`: the whole product on the embedded default, twice, with a report and a reconciliation.

Both simulators start on loopback with a seeded company, the stack's AWS side runs on moto, and every sync
that exists runs twice through the template's wiring. The second pass runs on unchanged data and must write
nothing to either system; the report counts the writes each simulator received to show it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctns.report import pass_report, render_failures, render_reconciliation, render_table
from ctns.runner import Progress
from ctns.session import Session
from ctsync.reconcile import reconcile_projects, reconcile_tasks
from ctsync.sync.registry import AVAILABLE

REPORT = Path("build/demo-report.json")


def run_passes(session: Session, passes: int = 2, syncs: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the syncs `passes` times; each pass's report includes the writes each simulator saw per sync."""
    sims = session.simulators
    chosen = syncs or [s for s in session.runner.syncs() if s in AVAILABLE]
    reports = []
    for _ in range(passes):
        runs, writes = [], {}
        for sync in chosen:
            before = (len(sims.netsuite.writes()), len(sims.clicktime.writes())) if sims else (0, 0)
            runs.extend(session.runner.run([sync]))
            if sims:
                writes[sync] = {
                    "netsuite": len(sims.netsuite.writes()) - before[0],
                    "clicktime": len(sims.clicktime.writes()) - before[1],
                }
        report = pass_report(session, runs)
        report["writes"] = writes
        reports.append(report)
    return reports


def reconciliation(session: Session) -> dict[str, Any]:
    runtime = session.runtime()
    args = (runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)
    return {"projects": reconcile_projects(*args).as_report(), "tasks": reconcile_tasks(*args).as_report()}


def demo(
    *, seed: int = 7, size: int = 1, report_path: Path = REPORT, progress: Progress | None = None
) -> dict[str, Any]:
    with Session.simulated(seed=seed, size=size, progress=progress) as session:
        company = session.simulators.company
        passes = run_passes(session)
        report = {
            "seed": seed,
            "size": size,
            "company": {
                "name": company.name,
                "projects": len(company.projects),
                "tasks": len(company.tasks),
                "customers": len(company.customers),
            },
            "passes": passes,
            "failures": [failure | {"pass": n} for n, p in enumerate(passes, start=1) for failure in p["failures"]],
            "reconciliation": reconciliation(session),
        }
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=2, default=str))
    return report


def render(report: dict[str, Any]) -> str:
    company = report["company"]
    passes = report["passes"]
    second = passes[-1].get("writes", {})
    total = sum(w["netsuite"] + w["clicktime"] for w in second.values())
    return "\n\n".join(
        [
            f"Seeded company '{company['name']}' (seed {report['seed']}, size {report['size']}): "
            f"{company['projects']} projects, {company['tasks']} tasks, {company['customers']} customers",
            render_table(passes),
            render_failures(passes[-1]["failures"] if passes else []),
            render_reconciliation(report["reconciliation"]),
            f"Second pass writes to NetSuite and ClickTime: {total} (expected 0)",
        ]
    )
