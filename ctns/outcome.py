"""How the outcome of a run is judged: one rule for every command that runs a sync and reports it (`ctns run` in
every mode, `ctns backfill` on the local and a deployed stack, the demo's nights), so two commands never tell the
same state two ways. Before (review-cli, 2026-12-04), `ctns run` counted a poller that failed and `ctns backfill`
did not: a backfill whose poller refused the run ended "No failures.", exit 0, and a skipped poll (another run held
the sync) failed a run on a deployed stack and passed one on the local stack.

A run failed when a record or a phase of it failed, when its poller failed or did not run (a skipped poll: another
run holds the sync; a sync "not implemented in this version" is no failure), or when it had not finished when the
command stopped following it (a deployed stack). A `ctns redrive` runs no poller: its outcome is the dead letters
left after it (`ctns/commands/redrive.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctns.output import FAILURES, OK

NOT_IMPLEMENTED = "not implemented in this version"  # a poller's skip of a planned sync (`ctsync.entrypoints`)


def poll_problem(sync: str, status: str | None, reason: str | None) -> str | None:
    """The line for a poll that read nothing, or None for one that ran: a failed poller (the scheduler would retry
    it, then alarm), or a skipped one (another run of the sync holds it: this one read nothing)."""
    why = reason or "no reason given"
    if status == "failed":
        return f"The {sync} poller failed: {why}"
    if status == "skipped" and reason != NOT_IMPLEMENTED:
        return f"The {sync} poller did not run: {why}"
    return None


@dataclass
class Outcome:
    """What a run came to, as every command judges and tells it."""

    failures: list[dict[str, Any]] = field(default_factory=list)  # records and phases (`ctns.report.pass_report`)
    records_failed: int = 0  # a deployed run's count (its records are in `ctns errors`, not listed here)
    pollers: list[str] = field(default_factory=list)  # a line per poller that read nothing (`poll_problem`)
    unfinished: list[str] = field(default_factory=list)  # the syncs whose run was still going when following stopped

    @classmethod
    def of_pass(cls, report: dict[str, Any] | None) -> Outcome:
        """A pass run on this machine (`ctns.report.pass_report`): the local stack, simulated, or from files."""
        if not report:
            return cls()
        pollers = [
            line
            for sync, row in report.get("syncs", {}).items()
            if (line := poll_problem(sync, row.get("status"), row.get("note")))
        ]
        return cls(failures=list(report.get("failures", [])), pollers=pollers)

    @classmethod
    def of_followed(cls, runs: list[Any]) -> Outcome:
        """Runs invoked on a deployed stack and followed (`ctns.follow.Followed`)."""
        outcome = cls()
        for run in runs:
            status = run.poll.get("status")
            if line := poll_problem(run.sync, status, run.poll.get("reason")):
                outcome.pollers.append(line)
            counts = run.summary.counts if run.summary else {}
            outcome.records_failed += int(counts.get("failed", 0) or 0)
            if not run.finished and status not in ("failed", "skipped"):
                outcome.unfinished.append(run.sync)
        return outcome

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.records_failed or self.pollers or self.unfinished)

    @property
    def exit_code(self) -> int:
        return FAILURES if self.failed else OK

    def render(self, *, kept_in: str | None, shown: int | None = None, more: str = "") -> list[str]:
        """The failures, then a line per poller that read nothing. "No failures." only when nothing failed: beside a
        failed poller it told a person the window had been read."""
        from ctns.report import render_failures

        lines = []
        if self.failures or not self.pollers:
            lines.append(render_failures(self.failures, kept_in=kept_in, shown=shown, more=more))
        return lines + self.pollers
