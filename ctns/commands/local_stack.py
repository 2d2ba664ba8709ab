"""`ctns demo` (the whole product in memory, three nights, with a report) and `ctns serve` (the local stack that
outlives one command, for `ctns run`, `status`, `errors`, `trace`, `redrive`, `plan` and `check`)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from ctns import local
from ctns.commands.common import function_output, log_path, output_file, port, positive
from ctns.outcome import Outcome
from ctns.output import FAILURES, OK, CliError, Output

DEFAULT_REPORT = "build/demo-report.json"


def register(sub: Any) -> None:
    demo = sub.add_parser(
        "demo", help="the whole product on simulators and moto in memory, three nights, with a report"
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--size", type=positive, default=1, help="company size multiplier")
    demo.add_argument(
        "--report",
        type=output_file,
        help=f"the report's file, in a folder that exists (default: {DEFAULT_REPORT}, its folder made if missing)",
    )
    demo.add_argument(
        "--logs", type=output_file, help="function log file to append to (default: a new file under build/logs/)"
    )
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser(
        "serve",
        help="keep a local stack running (moto + simulators) for the other commands; Ctrl-C stops it",
        description=local.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--port", type=port, default=0, help="moto server port (default: a free one)")
    serve.add_argument("--seed", type=int, default=7, help="the generated company")
    serve.add_argument("--size", type=positive, default=1, help="company size multiplier")
    serve.add_argument(
        "--with-failures",
        action="store_true",
        help="seed two failures a person must fix (a project without a customer, a task field NetSuite drops)",
    )
    serve.set_defaults(func=cmd_serve)


def report_file(args: argparse.Namespace) -> Path:
    """Where the demo's report goes: the file given (its folder exists: `output_file`), else the default, whose
    folder ctns makes, before the demo runs."""
    if args.report:
        return Path(args.report)
    path = Path(DEFAULT_REPORT)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(
            f"{path.parent}: {error.strerror or error} (where the demo's report goes: pass --report)"
        ) from None
    return path


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    from ctns import demo

    report_path = report_file(args)
    logs = log_path("demo", args.logs)
    out.note("Demo: NetSuite and ClickTime are simulators with a generated company, AWS is moto in memory.")
    with function_output(logs) as log:
        report = demo.demo(seed=args.seed, size=args.size, report_path=None, progress=out.progress)
    # The results first: a report that cannot be written after all (its folder removed meanwhile, a full disk), or a
    # function log that could not be (`function_output`), must not lose the minute's table, causes and reconciliation.
    out.line(demo.render(report))
    # A night's records failing is what the demo shows (its seeded failures); a poller that read nothing is not
    # (`ctns.outcome`, as `ctns run` judges it).
    pollers = [
        f"Night {night}: {line}"
        for night, night_pass in enumerate(report["passes"], start=1)
        for line in Outcome.of_pass(night_pass).pollers
    ]
    out.lines(pollers)
    out.line(f"Function logs (as CloudWatch would show them): {log.said()}")
    demo.write_report(report_path, report)
    out.line(f"Report written to {report_path}")
    out.line(
        "This ran in memory: nothing is kept. To look around with ctns status / errors / trace / plan, start "
        "`ctns serve` in another terminal, then `ctns run`."
    )
    second = report["passes"][-1]["writes"]
    clean = all(w["netsuite"] == 0 and w["clicktime"] == 0 for w in second.values())
    return OK if clean and not pollers and all(r["ok"] for r in report["reconciliation"].values()) else FAILURES


def cmd_serve(args: argparse.Namespace, out: Output) -> int:
    stack = local.LocalStack(port=args.port, seed=args.seed, size=args.size, with_failures=args.with_failures)
    out.progress("starting moto, the NetSuite and ClickTime simulators, and the stack's resources")
    state = stack.start()
    stopping = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        out.lines(
            [
                f"Local stack running (pid {state.pid}); state in {stack.path}",
                f"  AWS (moto server)    {state.aws_endpoint}",
                f"  NetSuite simulator   {state.netsuite_url}",
                f"  ClickTime simulator  {state.clicktime_url}",
                f"  company              generated with seed {state.seed}, size {state.size}",
                *(f"  seeded failure       {failure}" for failure in state.seeded_failures),
                "In another terminal: ctns run · ctns status · ctns errors · ctns trace ID · ctns plan · ctns check · "
                "ctns redrive SYNC",
                "Ctrl-C stops it (everything is in memory and goes with it).",
            ]
        )
        while not stopping.is_set():
            try:
                stopping.wait(0.5)
            except KeyboardInterrupt:
                break
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        out.line("Local stack stopped.")
    return OK
