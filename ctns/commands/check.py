"""`ctns check`: configuration, secrets and both connections, ready for the first night? (see ctns.checks)

From files before a deployment (`--config F --secrets F`), or what a stack's functions read (`--stack NAME`,
or the local stack). Exit code 0 when every check passes (warnings included), 2 when one fails: the
configuration, the credentials or an account setting needs fixing.
"""

from __future__ import annotations

import argparse
from typing import Any

from ctns.checks import FAIL, Inputs, run_checks
from ctns.commands.common import (
    add_config_options,
    add_json_option,
    add_target_options,
    configured,
    function_output,
    log_path,
    output_file,
    positive,
)
from ctns.output import OK, USAGE, Output, table


def register(sub: Any) -> None:
    check = sub.add_parser("check", help="configuration, credentials and both connections, before the first night")
    add_config_options(check)
    check.add_argument(
        "--netsuite-concurrency-limit",
        type=positive,
        metavar="N",
        help="the account's NetSuite concurrency limit, to compare the workers' total concurrency with",
    )
    add_target_options(check)
    add_json_option(check)
    check.add_argument("--logs", type=output_file, help="function log file to append to (the clients' retry lines)")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace, out: Output) -> int:
    with configured(args, out) as source:
        inputs = Inputs(
            config=source.config,
            netsuite=source.netsuite,
            clicktime=source.clicktime,
            concurrency=source.concurrency,
            concurrency_source=source.concurrency_source,
            limit=args.netsuite_concurrency_limit,
        )
        # the clients' retry lines, as the functions log them
        with function_output(log_path("check", args.logs)) as log:
            checks = run_checks(inputs, progress=out.progress)
        failed = [c for c in checks if c.status == FAIL]
        out.line(f"Checked {source.source}: config valid, secrets well-formed")
        out.line()
        out.lines(table(["", "check", "result"], [[c.status, c.name, c.detail] for c in checks]))
        fixes = [c for c in checks if c.fix and c.status != "ok"]
        if fixes:
            out.line()
            for c in fixes:
                out.line(f"{c.name}: {c.fix}")
        out.line()
        out.line(f"{len(failed)} check(s) failed." if failed else "Every check passed.")
        if log.failure is not None:  # `main` ends on its line and exit 1; the results say why here
            out.line(f"Function logs: {log.said()}")
        out.document(
            {
                "source": source.source,
                "ok": not failed,
                "checks": [c.as_dict() for c in checks],
                "function_logs_error": log.problem or None,
            }
        )
        return USAGE if failed else OK
