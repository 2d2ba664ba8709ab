"""`ctns`: the operator's command line.

On this machine
  ctns demo                    the whole product on simulators + moto in memory, three nights, with a report
  ctns serve                   keep a local stack (moto + simulators) running for the commands below
  ctns run [SYNC ...]          run syncs: on the local stack if `ctns serve` runs, else simulated in memory;
                               --config F --secrets F against a customer's real NetSuite and ClickTime
Configuration
  ctns config validate FILE    check a config document setting by setting
  ctns config push FILE        put it into SSM Parameter Store (the name the stack reads)
  ctns check                   config, secrets, both connections, fields, permissions, concurrency
  ctns plan [SYNC]             dry run: what a run now would create, update, inactivate, delete or fail
Operating a stack (--stack NAME for a deployed one; default: the local stack)
  ctns run SYNC --stack NAME   start a run now and follow it to the end
  ctns status                  per sync: last run, watermark, queue and dead-letter depth, open causes
  ctns errors [SYNC]           open failures grouped by cause, with the records they block and the fix
  ctns redrive SYNC            after a fix: dead letters back to the queue, causes resolved
  ctns backfill SYNC --since D re-run a window; ctns reset-watermark SYNC --to D | --forget
  ctns trace ID                a NetSuite or ClickTime ID: both IDs, versions, runs, failures, log query
  ctns reconcile [SYNC]        do both systems agree? counts and totals per sync, both sides (reads only)

Exit codes: 0 ok, 1 failures found (or not confirmed, or the functions' log lost to a full disk), 2 usage or
configuration to fix, 3 a bug in ctns (run again with --debug for the traceback), 130 interrupted, 141 the reader
of the output went away first.
`--json` prints one JSON document for scripts (on a problem: {"error": its line, "exit_code": n}).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
import traceback
from typing import Any

from ctns.output import FAILURES, INTERNAL, USAGE, CliError, Output, redact

SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a program whose reader went away


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the command, exit code 2 (not a usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("ctns").strip()
        raise CliError(f"{command + ': ' if command else ''}{message} (see `{self.prog} --help`)")

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        """As argparse's, but an argument left over is the fault of the (sub)command given, whose `--help` lists
        what it takes (argparse finds the leftovers at the top and named `ctns --help`)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._given_command(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _given_command(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The innermost (sub)command parser the command line chose (`ctns config push`: push's)."""
        chosen: argparse.ArgumentParser = self
        while True:
            subcommands = next(
                (a for a in chosen._actions if isinstance(a, argparse._SubParsersAction)),  # noqa: SLF001
                None,
            )
            name = getattr(parsed, subcommands.dest, None) if subcommands else None
            if subcommands is None or name not in subcommands.choices:
                return chosen
            chosen = subcommands.choices[name]


def parser() -> argparse.ArgumentParser:
    from ctns.commands import (
        check,
        config,
        failures,
        local_stack,
        plan,
        reconcile,
        redrive,
        run,
        status,
        trace,
        watermark,
    )

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    top = _Parser(
        prog="ctns",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    original = sub.add_parser

    def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return original(name, parents=[common], **kwargs)

    sub.add_parser = add_parser  # type: ignore[method-assign]
    for module in (local_stack, run, config, check, plan, status, failures, redrive, watermark, trace, reconcile):
        module.register(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # samtranslator (reading template.yaml) warns about its own unpublished metrics: not the operator's concern.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    debug = "--debug" in arguments
    out = Output(json_mode="--json" in arguments)
    try:
        # Importing the commands imports the functions' core, whose X-Ray SDK makes an AWS client: the shell's AWS
        # profile must not decide whether ctns starts at all (a deployed stack reads it when it is used; the local
        # stack never does).
        from ctns.local import ambient_aws_set_aside

        with ambient_aws_set_aside():
            top = parser()
        args = top.parse_args(arguments)
        out = Output(json_mode=bool(getattr(args, "json", False)))
        from ctns.commands.common import log_problems, stack_options_alone

        log_problems()  # none of an earlier command in this process (tests call `main` many times)
        if alone := stack_options_alone(args):
            raise CliError(alone)
        code = int(args.func(args, out) or 0)
        # A function log that could not be written (a full disk): said last, once the command has printed what it
        # did; the command ran, so never 2 ("refused before it started"): its own code, or 1 for a lost log.
        for problem in log_problems():
            code = code or FAILURES
            out.failed(problem, code)
        return code
    except CliError as problem:
        out.failed(problem.message, problem.exit_code)
        _traceback(debug)
        return problem.exit_code
    except SystemExit as leaving:  # --help, or argparse's own exit
        return int(leaving.code or 0) if isinstance(leaving.code, int) else USAGE
    except KeyboardInterrupt:
        out.failed("interrupted", 130)
        return 130
    except BrokenPipeError:
        # `ctns … | head`: the reader has gone before the command finished, so its outcome was never known. As a
        # shell reports a program SIGPIPE stopped (128 + 13): 0 told `set -o pipefail` scripts that all was well,
        # failures found or not (review, 2026-12-03).
        _quiet_stdout()
        return SIGPIPE_EXIT
    except Exception as error:  # noqa: BLE001 - a bug: one line, the traceback with --debug
        from ctsync.errors import SyncError

        if isinstance(error, SyncError):
            out.failed(error.message, USAGE)
            _traceback(debug)
            return USAGE
        if isinstance(error, OSError) and (error.filename or error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)):
            # A file the operator named or owns (a full disk, a folder made read-only): theirs to fix, not a bug.
            where = f"{error.filename}: " if error.filename else "writing ctns's output or logs: "
            out.failed(f"{where}{error.strerror or error}", USAGE)
            _traceback(debug)
            return USAGE
        if (said := _aws_setup_problem(error) or _stopped_answering(error)) is not None:
            out.failed(said, USAGE)
            _traceback(debug)
            return USAGE
        out.failed(f"unexpected error: {type(error).__name__}: {str(error)[:500]}", INTERNAL)
        if not _traceback(debug):
            out.note("This is a bug in ctns: run the command again with --debug and report the traceback.")
        return INTERNAL
    finally:
        from ctns.commands.common import drop_unwritten_logs, log_problems

        for problem in log_problems():  # a command that ended on another problem: its log's, after that one
            with contextlib.suppress(OSError):
                out.problem(problem)
        drop_unwritten_logs()


def _aws_setup_problem(error: Exception) -> str | None:
    """One line for a broken AWS set-up on this machine (read when a deployed stack is used)."""
    from ctns.target import setup_problem

    return setup_problem(error) or _aws_access_problem(error)


def _stopped_answering(error: BaseException) -> str | None:
    """A stack's endpoint that stopped answering mid-command: the local stack (`ctns serve` stopped: its moto server
    or a simulator), or an AWS endpoint of a deployed stack (the network). Only failures to connect or of a
    connection: whatever an endpoint answered is not this."""
    import requests
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    from ctns import local

    url = ""
    if isinstance(error, (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)):
        url = str(getattr(error, "kwargs", {}).get("endpoint_url") or "")
        if said := local.stopped_answering(url):
            return said
        if url:  # the AWS SDK's: an endpoint of the deployed stack (the local one is matched above)
            return (
                f"{url} stopped answering (a network problem: the connection, a VPN or a proxy): check the network "
                "and run the command again"
            )
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        request = getattr(error, "request", None)
        return local.stopped_answering(str(getattr(request, "url", "") or ""))
    return None


ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "KMS.AccessDeniedException",
        "KMSAccessDeniedException",
    }
)


def _aws_access_problem(error: Exception) -> str | None:
    """A call the operator's AWS identity may not make (a read-only role without DynamoDB Query, SQS
    GetQueueAttributes, …), or credentials that expired, wherever in a command it happens: one line naming the
    call, not a bug. The calls ctns wraps itself say more (`ctns.target.aws_problem`); this catches the rest."""
    from botocore.exceptions import ClientError

    from ctns.target import aws_problem

    if not isinstance(error, ClientError) or error.response.get("Error", {}).get("Code") not in ACCESS_CODES:
        return None
    operation = getattr(error, "operation_name", "") or "an AWS call"
    return aws_problem(error, f"calling {operation}").message


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _traceback(debug: bool) -> bool:
    """With --debug, the traceback of the error being handled (secrets masked, as everywhere)."""
    if debug:
        sys.stderr.write(redact(traceback.format_exc()))
    return debug


if __name__ == "__main__":
    raise SystemExit(main())
