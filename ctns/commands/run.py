"""`ctns run [SYNC …]`: run syncs now.

Where it runs, said on every run:
- `--stack NAME`: the deployed stack's pollers are invoked (with their schedules' input) and each run is followed
  until its queue is empty; it writes to the customer's real systems, so it asks first (`--yes` for scripts);
- `--config F --secrets F`: the template's wiring on this machine against the real NetSuite and ClickTime those
  files name (AWS on moto in memory, or on AWS_ENDPOINT_URL); it asks first too;
- neither, with `ctns serve` running: on the local stack, whose state the other commands then show;
- neither, without it: a simulated run on moto in memory with a generated company; nothing is kept.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ctns import local
from ctns.commands.common import (
    FunctionLog,
    add_json_option,
    add_target_options,
    confirm,
    function_output,
    interval,
    log_path,
    log_problems,
    output_file,
    positive,
    target_of,
)
from ctns.connections import clicktime_client, explain, netsuite_client
from ctns.follow import follow, invoke_poller
from ctns.inputs import load_config, load_secrets
from ctns.outcome import Outcome, poll_problem
from ctns.output import CliError, Output, table
from ctns.target import check_sync
from ctsync.sync.registry import SYNC_NAMES

SHOWN_FAILURES = 10
SIMULATED = (
    "Simulated run: NetSuite and ClickTime are simulators on this machine with a generated company (seed {seed}), "
    "and AWS is {aws}. No real system was touched, and the simulators are gone when this command ends "
    "(`ctns serve` keeps a local stack to look at with ctns status / errors / trace)."
)


def _simulated_banner(seed: int) -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return SIMULATED.format(seed=seed, aws=f"the endpoint {endpoint}" if endpoint else "moto in memory")


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run syncs now (simulated, on the local stack, against real systems, or on a deployed stack)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("syncs", nargs="*", metavar="SYNC", help=f"{', '.join(SYNC_NAMES)} (default: every sync)")
    run.add_argument("--config", help="config document (JSON): with --secrets, runs against the real systems it names")
    run.add_argument("--secrets", help='{"netsuite": {…TBA…}, "clicktime": {"api_token": …}} (keep it out of git)')
    run.add_argument("--yes", action="store_true", help="confirm a run that writes to real systems without asking")
    run.add_argument("--passes", type=positive, default=1, help="local runs: how many times to run (default 1)")
    run.add_argument("--seed", type=int, default=7, help="simulated runs: the generated company")
    run.add_argument("--size", type=positive, default=1, help="simulated runs: company size multiplier")
    run.add_argument(
        "--logs", type=output_file, help="function log file to append to (default: a new file under build/logs/)"
    )
    run.add_argument("--timeout", type=positive, default=3600, help="--stack: seconds to follow a run (default 3600)")
    run.add_argument("--interval", type=interval, default=5.0, help=argparse.SUPPRESS)
    add_target_options(run)
    add_json_option(run)
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace, out: Output) -> int:
    syncs = [check_sync(name) for name in args.syncs]
    # Refused, not run once without a word: on a deployed stack each name given invokes its poller (two runs).
    if twice := next((name for index, name in enumerate(syncs) if name in syncs[:index]), None):
        raise CliError(f"{twice} is named twice: name each sync once")
    if bool(args.config) != bool(args.secrets):
        raise CliError("--config and --secrets go together (a run against real systems needs both)")
    if args.stack and args.config:
        raise CliError("--stack runs the deployed stack with its own config and secrets: leave out --config/--secrets")
    if args.stack:
        if args.passes != 1:
            raise CliError("--passes is for local runs; a deployed stack runs once per `ctns run`")
        return _run_deployed(args, syncs, out)
    if args.config:
        return _run_configured(args, syncs, out)
    state = local.running()
    if state is not None:
        return _run_local_stack(args, syncs, out)
    return _run_simulated(args, syncs, out)


# -- on this machine ---------------------------------------------------------------------------------------


def _chosen(syncs: list[str]) -> list[str] | None:
    return syncs or None


def _report(
    out: Output, passes: list[dict[str, Any]], *, kept_in: str | None, log: FunctionLog, extra: dict[str, Any]
) -> int:
    """The results of runs on this machine, judged as every command judges a run (`ctns.outcome`). Called once the
    functions' log is closed, whether or not it could be written (`function_output`): what the run did is printed
    either way."""
    from ctns.report import render_table

    outcome = Outcome.of_pass(passes[-1] if passes else None)
    out.line()
    out.line(render_table(passes))
    out.line()
    more = "`ctns errors` groups them by cause" if kept_in else "the report (--json) lists them all"
    out.lines(outcome.render(kept_in=kept_in, shown=SHOWN_FAILURES, more=more))
    out.line(f"Function logs (as CloudWatch would show them): {log.said()}")
    out.document(
        {**extra, "passes": passes, "function_logs": str(log.path), "function_logs_error": log.problem or None}
    )
    return outcome.exit_code


def _run_simulated(args: argparse.Namespace, syncs: list[str], out: Output) -> int:
    from ctns.demo import run_passes
    from ctns.session import Session

    logs = log_path("run", args.logs)
    banner = _simulated_banner(args.seed)
    out.announce(banner)
    with function_output(logs) as log:
        with Session.simulated(seed=args.seed, size=args.size, progress=out.progress) as session:
            passes = run_passes(session, passes=args.passes, syncs=_chosen(syncs))
    return _report(
        out,
        passes,
        kept_in=f"the dead-letter queues on {os.environ['AWS_ENDPOINT_URL']}"
        if os.environ.get("AWS_ENDPOINT_URL")
        else None,
        log=log,
        extra={"where": "simulated", "seed": args.seed},
    )


def _run_local_stack(args: argparse.Namespace, syncs: list[str], out: Output) -> int:
    from ctns.demo import run_passes

    logs = log_path("run", args.logs)
    with target_of(args, out) as target:
        target.config()  # an invalid stored config document refused as `plan` and `redrive` refuse it
        banner = (
            f"Run on {target.describe()}: no real system was touched. Look at it with ctns status, ctns errors, "
            "ctns trace ID; after a fix, ctns redrive SYNC."
        )
        out.announce(banner)
        with function_output(logs) as log:
            passes = run_passes(target.session, passes=args.passes, syncs=_chosen(syncs))
    return _report(
        out,
        passes,
        kept_in="the local stack's dead-letter queues (`ctns errors` lists them)",
        log=log,
        extra={"where": "local", "aws_endpoint": target.local_state.aws_endpoint},
    )


def _run_configured(args: argparse.Namespace, syncs: list[str], out: Output) -> int:
    from ctns.demo import run_passes
    from ctns.session import Session

    config = load_config(args.config)
    secrets = load_secrets(args.secrets)
    netsuite_base = config.netsuite.rest_base_url or f"account {config.netsuite.account_id}"
    confirm(
        f"This run reads and WRITES the real NetSuite ({netsuite_base}) and ClickTime ({config.clicktime.base_url}) "
        "named by the config and secrets files.",
        yes=args.yes,
        out=out,
    )
    logs = log_path("run", args.logs)
    with function_output(logs) as checked:
        _connection_check(config, secrets, out)
    if checked.failure is not None:  # nothing was written yet: refused before the run, rather than run without a log
        log_problems()
        raise CliError(f"{checked.problem}: nothing was run; free space there, or give --logs a file on another disk")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    kept_in = f"the dead-letter queues on {endpoint}" if endpoint else None
    banner = (
        f"Run against the real NetSuite ({netsuite_base}) and ClickTime ({config.clicktime.base_url}), through the "
        "template's wiring on this machine; AWS is "
        + (
            f"the endpoint {endpoint}."
            if endpoint
            else "moto in memory: this run's state and queues are gone when it ends."
        )
    )
    out.announce(banner)
    with function_output(logs) as log:
        with Session.configured(Path(args.config), Path(args.secrets), progress=out.progress) as session:
            passes = run_passes(session, passes=args.passes, syncs=_chosen(syncs))
    return _report(out, passes, kept_in=kept_in, log=log, extra={"where": "configured"})


def _connection_check(config: Any, secrets: Any, out: Output) -> None:
    """Both systems answer and take the credentials, before anything runs: a wrong token is one line, not a
    failed run per sync."""
    out.progress("checking the connections to NetSuite and ClickTime")
    try:
        netsuite_client(config, secrets.netsuite).server_time()
    except Exception as error:  # noqa: BLE001 - every failure here is told as one line
        raise CliError(explain(error, "netsuite", config)) from None
    try:
        clicktime_client(config, secrets.clicktime).company()
    except Exception as error:  # noqa: BLE001
        raise CliError(explain(error, "clicktime", config)) from None


# -- a deployed stack --------------------------------------------------------------------------------------


def _run_deployed(args: argparse.Namespace, syncs: list[str], out: Output) -> int:
    chosen = syncs or list(SYNC_NAMES)
    with target_of(args, out) as target:
        # The stored config document as the functions read it: every poller and worker would fail on an invalid one.
        target.config()
        confirm(
            f"This starts {', '.join(chosen)} on {target.describe()} now: it reads and WRITES the customer's NetSuite "
            "and ClickTime, as the nightly schedule does.",
            yes=args.yes,
            out=out,
        )
        results = []
        for sync in chosen:
            poll = invoke_poller(target, sync, out)
            results.append(
                follow(target, sync, poll, out, timeout_seconds=args.timeout, interval_seconds=args.interval)
            )
        outcome = Outcome.of_followed(results)
        rows, document = [], []
        for followed in results:
            summary = followed.summary
            counts = summary.counts if summary else {}
            status = followed.poll.get("status", "?")
            rows.append(
                [
                    followed.sync,
                    status if followed.finished or status in ("failed", "skipped") else f"{status}, still running",
                    summary.enqueued if summary else followed.poll.get("enqueued", 0),
                    *(counts.get(name, 0) for name in ("created", "updated", "unchanged", "skipped", "failed")),
                    followed.poll.get("run_id") or "-",
                ]
            )
            document.append(
                {
                    "sync": followed.sync,
                    "poll": followed.poll,
                    "finished": followed.finished,
                    "summary": summary.model_dump(mode="json") if summary else None,
                    "notes": followed.notes,
                }
            )
        out.line(f"Run on {target.describe()} (real systems).")
        out.lines(
            table(
                ["sync", "status", "enqueued", "created", "updated", "unchanged", "skipped", "failed", "run"],
                rows,
                right=range(2, 8),
            )
        )
        for followed in results:
            said = poll_problem(followed.sync, followed.poll.get("status"), followed.poll.get("reason"))
            if said:
                out.line(said)
            elif followed.poll.get("reason"):
                out.line(f"{followed.sync}: {followed.poll['reason']}")
            for note in followed.notes:
                out.line(f"{followed.sync}: {note}")
        if outcome.records_failed or outcome.pollers:
            out.line(
                "Failures: `ctns errors --stack NAME` groups them by cause with what to fix.".replace(
                    "NAME", target.name
                )
            )
        out.line("Logs: " + ", ".join(group for sync in chosen for group in target.log_groups(sync)))
        out.document({"where": "stack", "stack": target.name, "runs": document})
        return outcome.exit_code
