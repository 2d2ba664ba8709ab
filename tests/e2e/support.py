"""Helpers of the end-to-end tests: run syncs and look at both systems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctns.report import pass_report
from ctns.session import Session

FAST_RETRIES = {"retry": {"base_seconds": 0.01, "cap_seconds": 0.05, "max_attempts": 6, "systemic_pause_seconds": 1}}


@dataclass
class Pass:
    """What one run of some syncs did: counts per sync, failures, and the writes each system received."""

    syncs: dict[str, dict[str, Any]]
    failures: list[dict[str, Any]]
    netsuite_writes: list[Any]
    clicktime_writes: list[Any]

    def counts(self, sync: str) -> dict[str, int]:
        row = self.syncs[sync]
        return {k: row[k] for k in ("created", "updated", "unchanged", "skipped", "failed")}


def run(session: Session, *syncs: str) -> Pass:
    sims = session.simulators
    ns_before, ct_before = len(sims.netsuite.writes()), len(sims.clicktime.writes())
    runs = session.runner.run(list(syncs))
    report = pass_report(session, runs)
    return Pass(
        syncs=report["syncs"],
        failures=report["failures"],
        netsuite_writes=sims.netsuite.writes()[ns_before:],
        clicktime_writes=sims.clicktime.writes()[ct_before:],
    )


def jobs_by_project(session: Session) -> dict[str, list[dict[str, Any]]]:
    jobs: dict[str, list[dict[str, Any]]] = {}
    for job in session.simulators.clicktime.jobs():
        jobs.setdefault(job.get("AccountingPackageID"), []).append(job)
    return jobs


def tasks_by_source(session: Session) -> dict[str, list[dict[str, Any]]]:
    tasks: dict[str, list[dict[str, Any]]] = {}
    for task in session.simulators.clicktime.tasks():
        tasks.setdefault(task.get("AccountingPackageID"), []).append(task)
    return tasks


def open_projects(session: Session) -> list[Any]:
    return [p for p in session.simulators.company.projects if p.status_id != "1" and not p.is_inactive and p.allow_time]
