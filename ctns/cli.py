"""`ctns`: the operator's command line.

ctns demo                      the whole product on simulators + moto, twice, with a report
ctns run [SYNC ...]            run syncs through the template's wiring (simulators by default, or
                               --config/--secrets for a customer's NetSuite sandbox and ClickTime account)
ctns config validate FILE      check a config document before pushing it
ctns config push FILE          put it into SSM Parameter Store (the name the stack reads)
ctns check --config F --secrets F
                               who the credentials act as in NetSuite and ClickTime
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from pydantic import ValidationError


def _progress(start: float):  # noqa: ANN202
    def say(text: str) -> None:
        print(f"[{time.monotonic() - start:6.1f}s] {text}", file=sys.stderr, flush=True)

    return say


@contextmanager
def function_output(path: Path) -> Iterator[None]:
    """What the functions print (Powertools JSON logs and EMF metrics, as CloudWatch would get them) goes to a
    file for the duration, so it does not bury the summary; the summary is printed after."""
    from ctsync.observability import logger

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
        previous = [h.setStream(stream) for h in handlers]
        try:
            with redirect_stdout(stream):
                yield
        finally:
            for handler, old in zip(handlers, previous, strict=True):
                handler.setStream(old)


def cmd_demo(args: argparse.Namespace) -> int:
    from ctns.demo import demo, render

    with function_output(Path(args.logs)):
        report = demo(
            seed=args.seed, size=args.size, report_path=Path(args.report), progress=_progress(time.monotonic())
        )
    print(render(report))
    print(f"Report written to {args.report}")
    print(f"Function logs (as CloudWatch would show them): {args.logs}")
    second = report["passes"][-1]["writes"]
    clean = all(w["netsuite"] == 0 and w["clicktime"] == 0 for w in second.values())
    return 0 if clean and all(r["ok"] for r in report["reconciliation"].values()) else 1


def cmd_run(args: argparse.Namespace) -> int:
    from ctns.demo import run_passes
    from ctns.report import render_failures, render_table
    from ctns.session import Session

    say = _progress(time.monotonic())
    if bool(args.config) != bool(args.secrets):
        print("--config and --secrets go together", file=sys.stderr)
        return 2
    with function_output(Path(args.logs)):
        if args.config:
            session = Session.configured(Path(args.config), Path(args.secrets), progress=say)
        else:
            session = Session.simulated(seed=args.seed, size=args.size, progress=say)
        with session:
            passes = run_passes(session, passes=args.passes, syncs=args.syncs or None)
    print(render_table(passes))
    print()
    print(render_failures(passes[-1]["failures"]))
    print(f"Function logs: {args.logs}")
    return 1 if passes[-1]["failures"] else 0


def cmd_config(args: argparse.Namespace) -> int:
    from ctsync.config import SyncConfig

    try:
        config = SyncConfig.model_validate(json.loads(Path(args.file).read_text()))
    except (ValidationError, ValueError) as error:
        print(f"{args.file} is not a valid config document:\n{error}", file=sys.stderr)
        return 1
    if args.action == "validate":
        print(f"{args.file} is valid for NetSuite account {config.netsuite.account_id}")
        return 0
    import boto3

    boto3.client("ssm").put_parameter(Name=args.name, Value=config.model_dump_json(), Type="String", Overwrite=True)
    print(f"pushed to SSM parameter {args.name}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from ctsync.clicktime.client import ClickTimeClient
    from ctsync.config import SyncConfig
    from ctsync.netsuite.auth import TbaCredentials
    from ctsync.netsuite.client import NetSuiteClient

    config = SyncConfig.model_validate(json.loads(Path(args.config).read_text()))
    secrets = json.loads(Path(args.secrets).read_text())
    netsuite = NetSuiteClient(
        account_id=config.netsuite.account_id,
        credentials=TbaCredentials.model_validate(secrets["netsuite"]),
        base_url=config.netsuite.rest_base_url,
        restlets_url=config.netsuite.restlets_base_url,
    )
    clicktime = ClickTimeClient(token=SecretStr(secrets["clicktime"]["api_token"]), base_url=config.clicktime.base_url)
    print(f"NetSuite server time: {netsuite.server_time().isoformat()}")
    print(f"NetSuite token acts as: {json.dumps(netsuite.token_info())}")
    company = clicktime.company()
    print(
        f"ClickTime company: {company.Name} (currency {company.CurrencyISO}, tasks restricted by job: "
        f"{company.restricts_tasks_by_job})"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="ctns", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = top.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole product locally on simulators, twice")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--size", type=int, default=1, help="company size multiplier")
    demo.add_argument("--report", default="build/demo-report.json")
    demo.add_argument("--logs", default="build/demo-functions.log")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run syncs through the template's wiring")
    run.add_argument("syncs", nargs="*", metavar="SYNC", help="projects, tasks, … (default: every sync that exists)")
    run.add_argument("--config", help="config document (JSON); with --secrets, runs against real systems")
    run.add_argument("--secrets", help='{"netsuite": {...TBA...}, "clicktime": {"api_token": ...}}')
    run.add_argument("--passes", type=int, default=1)
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--size", type=int, default=1)
    run.add_argument("--logs", default="build/run-functions.log")
    run.set_defaults(func=cmd_run)

    config = sub.add_parser("config", help="validate or push the config document")
    config.add_argument("action", choices=["validate", "push"])
    config.add_argument("file")
    config.add_argument("--name", default="/ctns/config", help="SSM parameter name (the stack's ConfigParameterName)")
    config.set_defaults(func=cmd_config)

    check = sub.add_parser("check", help="connection check against NetSuite and ClickTime")
    check.add_argument("--config", required=True)
    check.add_argument("--secrets", required=True)
    check.set_defaults(func=cmd_check)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
