"""The soak: many nights of every sync while both simulators misbehave more often than in `make test`.

    make soak                                  # a random seed, printed first
    python -m tests.e2e.soak --seed 1234 --nights 8

Randomized but replayable: one seed (printed) decides the fault plans of every night, which nights NetSuite is
over its concurrency limit (401s under load), the people's changes between nights, and where the NetSuite
records change while a poller pages. The first night also brings 1,003 closed projects stamped in one second
(read through NetSuite's own 1,000-row page, the client's default) and thirteen open ones (pages of equal stamps). After the last
night, the shared invariants (`tests/e2e/invariants.py`) for every sync; the figures (records per sync, faults
by kind, lost, duplicated, records read more than once per run) are printed and written to
`build/soak-report.json`. Exits 1 when an invariant is broken.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from contextlib import redirect_stderr
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ctns.commands.common import function_output, log_path
from ctns.session import Session
from ctsync.records.expense_doubts import LOOKED as REPORT_LOOKED
from ctsync.records.time_export import LOOKED
from tests.e2e import faultplay, invariants, racing
from tests.e2e.support import FAST_RETRIES, run

REPORT = Path("build/soak-report.json")
# The clients wait 2 s (60 s in production) and a `timeout` fault holds its answer 2.5 s: a 1,000-row page on a
# loaded machine is slow, not lost.
CLIENT_TIMEOUT_SECONDS, SIMULATED_TIMEOUT_SECONDS = 2.0, 2.5
# How long after a write of unknown outcome the syncs wait before they look (production: 900 s). The soak's nights
# are seconds apart, so the production wait would never end within it; a late write lands at most
# SIMULATED_TIMEOUT_SECONDS after its request, so a wait four times that still covers every one, and the later
# nights' looks write the records in doubt again while the faults go on.
LATE_WRITE_SECONDS = 4 * SIMULATED_TIMEOUT_SECONDS
# What the functions' log says when a write's outcome was unknown and when a later run looked (lines counted).
_LOOKED = re.escape(LOOKED)
LATE_WRITE_LINES = {
    "time: timesheets listed": re.compile(r"time bill write\(s\) had an unknown outcome"),
    "time: looks that waited": re.compile(r"a bill write of unknown outcome may still land until"),
    "time: looks that wrote the bills in doubt": re.compile(rf"{_LOOKED}: (\d+ time bill\(s\) written|timesheet is)"),
    "time: looks blocked (stay listed)": re.compile(rf"{_LOOKED}: .*the bills in doubt are written once it goes"),
    "expenses: sheets listed": re.compile(r"a write of its report had an unknown outcome; a later run looks again"),
    "expenses: looks that waited": re.compile(r"a report write of unknown outcome may still land until"),
    "expenses: looks that went through": re.compile(rf"{re.escape(REPORT_LOOKED)}: expense (report|sheet is)"),
    "expenses: reports a late write brought back, removed": re.compile(r"is back in NetSuite \(a late write\)"),
    "clicktime: records listed": re.compile(r"had an unknown outcome; later runs look at it again"),
    "clicktime: looks that found the target in step": re.compile(r"looked at again: the target holds what was"),
    "clicktime: looks that repaired a late write": re.compile(r"a late write had changed"),
}
HARSH = faultplay.Rates(
    status={429: 0.06, 500: 0.04, 503: 0.04},
    timeout=0.008,
    reset=0.02,
    reset_after=0.02,
    cut=0.01,
    slow_page_seconds=0.02,
)


def soak(
    seed: int,
    nights: int,
    bulk: int = 1003,
    size: int = 2,
    late_write_seconds: float = LATE_WRITE_SECONDS,
    scale: float = 1.0,
) -> tuple[dict[str, Any], bool]:
    rates = faultplay.Rates(
        status={k: min(0.5, v * scale) for k, v in HARSH.status.items()},
        timeout=HARSH.timeout * scale,
        reset=HARSH.reset * scale,
        reset_after=HARSH.reset_after * scale,
        cut=HARSH.cut * scale,
        slow_page_seconds=HARSH.slow_page_seconds,
    )
    rng = random.Random(seed)
    monkeypatch = pytest.MonkeyPatch()
    reads = racing.ReadCounter()
    reads.install(monkeypatch)
    wait = {"late_write_seconds": int(late_write_seconds)}
    overrides = {**FAST_RETRIES, "netsuite": wait, "clicktime": wait}
    session = Session.simulated(seed=rng.randrange(1, 10_000), size=size, config_overrides=overrides)
    read_twice: dict[str, dict[str, list[str]]] = {}
    paging: list[dict[str, Any]] = []
    nights_done: dict[str, Any] = {}
    bulk_read: set[str] = set()
    try:
        with faultplay.short_client_timeouts(CLIENT_TIMEOUT_SECONDS):
            with racing.same_stamp(session):  # open projects on both sides of the block: page 2 starts inside it
                ours = racing.add_projects(session, 6, label="Stamp")
                closed = racing.add_projects(session, bulk, label="Bulk", open_=False)
                ours += racing.add_projects(session, 7, label="Stamp late")
            for night in range(nights):
                reads.reset()
                faultplay.arm(
                    session,
                    rates,
                    seed=rng.randrange(1_000_000),
                    timeout_seconds=SIMULATED_TIMEOUT_SECONDS,
                    timeouts_process_late=True,
                )
                race = None
                if night == 0:  # records change while the projects poller pages through them
                    race = racing.NetSuitePaging(
                        session,
                        "job",
                        lambda: [p for p in ours if session.simulators.netsuite.records.get("job", p)],
                        lambda: racing.add_projects(session, 1, label="Mid-run")[0],
                    )
                    race.install()
                under_load = night % 2 == 1 or rng.random() < 0.3
                nights_done[str(night + 1)] = faultplay.night(session, first=night == 0, under_load=under_load)
                if race is not None:
                    race.uninstall()
                    paging += [vars(change) for change in race.done]
                bulk_read |= reads.ids("job") & set(closed)  # a night whose poller gave up leaves them to the next
                if reads.read_twice():
                    read_twice[f"night {night + 1}"] = reads.read_twice()
                try:
                    faultplay.people_change_things(session, seed=rng.randrange(1_000))
                except ValueError:
                    session.simulators.clicktime.clock.advance(timedelta(days=1))  # nothing left to change
            faultplay.disarm(session)
            # Every wait after a write of unknown outcome over before the settling night: its looks write what is
            # still in doubt, so the quiet pass after it must write nothing (seed 777001: a look of the quiet pass
            # found its wait just over and wrote a bill).
            time.sleep(late_write_seconds)
            unread = sorted(set(closed) - bulk_read, key=int)
            if unread:
                read_twice["bulk_never_read"] = {"job": unread[:20]}
            session.simulators.clicktime.clock.advance(timedelta(hours=1))
            settle = faultplay.night(session)
            quiet = {sync: run(session, sync) for sync in faultplay.SYNCS}
        checked, summary = faultplay.figures(session)
        summary.update(
            seed=seed,
            nights=nights_done,
            settle=settle,
            paging_changes=paging,
            same_stamp_records={"closed_page_of_1000": len(closed), "open": len(ours)},
            late_write_seconds=int(late_write_seconds),
            company_size=size,
            read_more_than_once=read_twice,
            quiet_writes={s: len(p.netsuite_writes) + len(p.clicktime_writes) for s, p in quiet.items()},
        )
        exported = {
            "time bills": len(session.simulators.netsuite.records.all("timeBill")),
            "expense reports": len(session.simulators.netsuite.records.all("expenseReport")),
        }
        summary["exported"] = exported
        hollow = [what for what, count in exported.items() if not count]
        if hollow:  # a run that exported nothing has tested nothing of the exports: not OK, whatever else held
            summary["broken"] = f"hollow run: no {' and no '.join(hollow)} written in {nights} nights"
        ok = (
            not hollow
            and all(f.ok for f in checked.values())
            and summary["lost"] == 0
            and summary["duplicated"] == 0
            and "bulk_never_read" not in read_twice
            and set(summary["quiet_writes"].values()) == {0}
        )
        if not ok and not hollow:
            try:
                invariants.assert_holds(checked)
            except AssertionError as broken:
                summary["broken"] = str(broken)
        return summary, ok
    finally:
        monkeypatch.undo()
        session.close()


def late_write_counts(log: str) -> dict[str, int]:
    """Lines of the functions' log per LATE_WRITE_LINES entry."""
    lines = log.splitlines()
    return {what: sum(1 for line in lines if pattern.search(line)) for what, pattern in LATE_WRITE_LINES.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="replay a soak (default: a random seed, printed)")
    parser.add_argument("--nights", type=int, default=5)
    parser.add_argument("--bulk", type=int, default=1003, help="closed projects of one timestamp on night 1")
    parser.add_argument("--size", type=int, default=2, help="the seeded company's size (1: the tests' company)")
    parser.add_argument(
        "--late-write-seconds",
        type=int,
        default=int(LATE_WRITE_SECONDS),
        help="the syncs' wait before they look at a write of unknown outcome (production: 900)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="review: multiply HARSH fault rates")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    replay = (
        f"python -m tests.e2e.soak --seed {seed} --nights {args.nights} --bulk {args.bulk} --size {args.size}"
        f" --late-write-seconds {args.late_write_seconds} --scale {args.scale:g}"
    )
    print(f"soak: seed {seed}, {args.nights} nights (replay: {replay})", flush=True)
    logs = log_path("soak", None)
    print(f"function logs (secrets masked): {logs}", flush=True)
    # The simulators' servers print a traceback when a client drops a connection it gave up on: to the log too.
    with function_output(logs), logs.open("a", encoding="utf-8") as errors, redirect_stderr(errors):
        summary, ok = soak(seed, args.nights, args.bulk, args.size, args.late_write_seconds, args.scale)
    summary["late_writes"] = late_write_counts(logs.read_text(encoding="utf-8", errors="replace"))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(summary, indent=2, default=str))
    print(f"soak seed {seed}: {'OK' if ok else 'BROKEN'}")
    for sync, figures in summary["syncs"].items():
        print(
            f"  {sync:9} records {figures['records']:5}  present {figures['present']:5}  "
            f"failed as expected {figures['n_failed']:3}  lost {figures['n_lost']}  duplicated {figures['n_duplicated']}"
            + (f"  outside the windows read {figures['n_outside_windows']}" if figures["n_outside_windows"] else "")
        )
    print(f"  faults injected by kind: {summary['faults_by_kind']}")
    print(f"  requests: {summary['requests']}")
    print(
        f"  records {summary['records']}, lost {summary['lost']}, duplicated {summary['duplicated']}, "
        f"wrong {summary['wrong']}, outside the windows read {summary['outside_windows_read']}; "
        f"read more than once in a run: {summary['read_more_than_once'] or 'none'}"
    )
    stamps = summary["same_stamp_records"]
    print(
        f"  {stamps['closed_page_of_1000']} closed projects and {stamps['open']} open ones of one timestamp through "
        f"NetSuite's 1,000-row page; changed while the poller paged: {summary['paging_changes'] or 'none'}"
    )
    print(f"  writes of unknown outcome (wait {summary['late_write_seconds']} s): {summary['late_writes']}")
    print(f"  exported over the run: {summary['exported']}")
    print(f"  quiet pass writes: {summary['quiet_writes']}; report: {REPORT}")
    if not ok:
        print(summary.get("broken", "an invariant is broken (see the report)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
