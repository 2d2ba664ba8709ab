"""What several commands share: target options, confirmation, the function log, dates."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ctns.output import CliError, Output, RedactingStream
from ctns.stack import ROOT
from ctns.target import Target, open_target
from ctsync.state import Mapping
from ctsync.state.runlog import failed_phase


def target_named(target_record: str, mapping: Mapping | None) -> tuple[str | None, str]:
    """What the target system holds of a record, as (its ID, a phrase): nothing for a mapping whose target is a
    placeholder (`Mapping.of_no_target`: a sheet blocked before anything of it reached NetSuite), and, for a target
    that names whose records they are (a timesheet's `employee:<id>`: its time bills are its children), "… of
    employee <id>" rather than an ID NetSuite does not have (review, 2026-12-03)."""
    if mapping is None or not mapping.names_a_target:
        return None, f"no {target_record} yet"
    owner, colon, owner_id = mapping.target_id.partition(":")
    if colon and owner.isalpha() and owner_id:
        return mapping.target_id, f"{target_record} of {owner} {owner_id}"
    return mapping.target_id, f"{target_record} {mapping.target_id}"


def phases_failed(causes: list[Any]) -> list[str]:
    """The phases of a sync a run could not read because of these causes (the poller records such a failure under
    the source ID `phase:<phase>`): what a redrive cannot send again, since only a run reads a phase."""
    found: list[str] = []
    for cause in causes:
        for source_id in cause.blocked:
            phase = failed_phase(source_id)
            if phase and phase not in found:
                found.append(phase)
    return found


def run_command(target: Target, sync: str) -> str:
    """The command that starts a run of the sync on this target now."""
    return f"ctns run {sync}" + ("" if target.is_local else f" --stack {target.name}")


def log_dir() -> Path:
    """Where each command's function log goes (`CTNS_LOG_DIR` names another folder)."""
    return Path(os.environ.get("CTNS_LOG_DIR") or ROOT / "build" / "logs")


def positive(text: str) -> int:
    """The argparse type of a count that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def interval(text: str) -> float:
    """The argparse type of a pause between two polls: seconds, more than 0 (a fraction allowed), finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds (got {text})")
    return value


def port(text: str) -> int:
    """The argparse type of a TCP port to listen on (0: a free one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (got {value}; 0 picks a free one)")
    return value


def output_file(text: str) -> str:
    """The argparse type of every option naming a file ctns writes (`--logs`, `--report`): checked when the command
    line is read, so a mistake in where to write costs nothing (a redrive told to log to a folder had moved every
    dead letter back before it failed; a demo told to write its report into a folder that does not exist ran a
    minute first). The file's folder must exist: none is made for a path given (a typo in it most likely), and the
    file itself is created if missing."""
    if not text.strip():
        raise argparse.ArgumentTypeError("no file named (an empty value): give the path of a file (created if missing)")
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory: give the path of a file (created if missing)")
    folder = path.parent
    if not folder.exists():
        above = folder
        while not above.exists() and above != above.parent:
            above = above.parent
        if above.exists() and not above.is_dir():
            raise argparse.ArgumentTypeError(f"{text} cannot be created: {above} is a file, not a directory")
        raise argparse.ArgumentTypeError(f"{text} cannot be written: its folder {folder} does not exist")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text} cannot be created: {folder} is a file, not a directory")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be written: permission denied")
    try:  # opened to append, nothing written: what os.access cannot tell (root, /proc, a read-only mount)
        if path.exists():
            with path.open("a"):
                pass
        else:
            with tempfile.TemporaryFile(dir=folder):
                pass
    except OSError as error:
        raise argparse.ArgumentTypeError(f"{text} cannot be written: {error.strerror or error}") from None
    return text


def stack_name(text: str) -> str:
    """The argparse type of --stack: an empty name (an unset shell variable) would run on the local stack, or on a
    simulated one, and say all went well."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty (an unset shell variable?): give the stack's CloudFormation name")
    return text.strip()


def stack_options_alone(args: argparse.Namespace) -> str | None:
    """What is wrong when --region or --profile come without --stack: they name where a deployed stack is, and
    without one the command would run locally as if they were not there."""
    if "stack" not in args or args.stack:
        return None
    given = [f"--{name}" for name in ("region", "profile") if getattr(args, name, None)]
    if not given:
        return None
    return f"{' and '.join(given)} without --stack: give --stack NAME for a deployed stack (or drop them to use the local one)"


def add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("which stack (default: the local stack `ctns serve` keeps)")
    group.add_argument(
        "--stack", metavar="NAME", type=stack_name, help="a deployed stack, found by its CloudFormation name"
    )
    group.add_argument(
        "--region", help="AWS region of the stack (default: AWS_REGION, else AWS_DEFAULT_REGION or the profile's)"
    )
    group.add_argument("--profile", help="AWS profile to use (default: AWS_PROFILE)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout, for scripts")


def target_of(args: argparse.Namespace, out: Output):  # noqa: ANN201 - a context manager
    return open_target(args.stack, region=args.region, profile=args.profile, progress=out.progress)


def confirm(question: str, *, yes: bool, out: Output) -> None:
    """Ask before doing something to real systems; `--yes` answers for scripts. No terminal and no `--yes`: stop."""
    if yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise CliError(f"{question} Not asked (no terminal): add --yes to confirm")
    out.note(question)
    sys.stderr.write("Continue? [y/N] ")  # stderr: stdout may be a --json document
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("stopped: not confirmed", exit_code=1)


def parse_instant(text: str, what: str) -> datetime:
    """A date (2025-03-01, midnight UTC) or an ISO instant (2025-03-01T06:00:00Z), in UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{what} {text!r} is not a date (2025-03-01) or an ISO time (2025-03-01T06:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_MADE_LOGS: list[Path] = []  # the function logs this process made (`drop_unwritten_logs`)


def log_path(command: str, given: str | None) -> Path:
    """The function log of this command: the file given (appended to), else a new file per command run (removed
    at the command's end if nothing was written to it: `drop_unwritten_logs`)."""
    if given:
        return Path(given)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = log_dir() / f"{command}-{stamp}-{uuid.uuid4().hex[:6]}.log"
    # Made now, before the command changes anything: a redrive or backfill that found the log folder read-only
    # only after moving the dead letters (or the watermark) failed with the work half done.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise CliError(
            f"{path.parent}: {error.strerror or error} (where the functions' log goes: set CTNS_LOG_DIR or pass --logs)"
        ) from None
    _MADE_LOGS.append(path)
    return path


def drop_unwritten_logs() -> None:
    """Remove the function logs this process made that are still empty: a command that ended on a mistake, or whose
    functions had nothing to say (a plan or check that retried nothing), leaves no empty file in build/logs."""
    while _MADE_LOGS:
        path = _MADE_LOGS.pop()
        with suppress(OSError):
            if path.stat().st_size == 0:
                path.unlink()


def _swap_stream(handler: logging.StreamHandler, stream: Any) -> Any:
    """The handler's stream set to `stream`; returns the one to put back. A stream closed under the handler (the
    logger was made while a test session captured stdout, and that session ended: mutmut runs pytest twice in one
    process) cannot be flushed, as `setStream` would; it is replaced, and stdout is what goes back."""
    if getattr(handler.stream, "closed", False):
        handler.stream = stream
        return sys.stdout
    return handler.setStream(stream)


@dataclass
class FunctionLog:
    """The functions' log of a command (`function_output`): where it goes, and the first write to it that failed (a
    full disk), if one did."""

    path: Path
    failure: OSError | None = None

    @property
    def problem(self) -> str:
        """The line a command ends on when its log could not be written ("" when it could)."""
        if self.failure is None:
            return ""
        return f"{self.path}: {self.failure.strerror or self.failure} (the functions' log)"

    def said(self) -> str:
        """What a command's results say of its log: the file, or that it is incomplete and what to do."""
        if self.failure is None:
            return str(self.path)
        return (
            f"{self.path} is incomplete ({self.failure.strerror or self.failure}): the functions' lines from then on "
            "are lost; what is printed here was read from the stack, not from the log. Before the next command, free "
            "space there, or give --logs a file on another disk"
        )


_FAILED_LOGS: list[FunctionLog] = []  # the function logs of this command that could not be written (`log_problems`)


def log_problems() -> list[str]:
    """The lines for the function logs this command could not write, each once, forgotten as they are taken. `ctns`'s
    `main` ends a command with them, after everything the command printed (a run's results are never lost to its
    log): exit code 1 when the command's own was 0 (it ran; its log is lost), else the command's own."""
    lines: list[str] = []
    while _FAILED_LOGS:
        problem = _FAILED_LOGS.pop(0).problem
        if problem not in lines:
            lines.append(problem)
    return lines


@contextmanager
def function_output(path: Path) -> Iterator[FunctionLog]:
    """What the functions print (Powertools JSON logs, EMF metrics, Python warnings: what CloudWatch would get)
    goes to a file for the duration, appended, with secrets masked; the summary is printed after.

    A write to the file that fails (a full disk) does not end the command: the functions run on (what they did to
    both systems is done either way), the `FunctionLog` given says it (`said`, for the command's results), and the
    command ends with its line (`log_problems`) after printing what it did. Raising here lost a run's results and
    ended it as a usage mistake (exit 2) that had written records (review-cli, 2026-12-04)."""
    from ctsync.observability import logger

    path.parent.mkdir(parents=True, exist_ok=True)
    file = path.open("a", encoding="utf-8")
    stream = RedactingStream(file)
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    previous = [_swap_stream(h, stream) for h in handlers]
    shown = warnings.showwarning
    log = FunctionLog(path)

    def to_the_log(message: Any, category: Any, filename: str, lineno: int, *_: Any, **__: Any) -> None:
        stream.write(warnings.formatwarning(message, category, filename, lineno))

    warnings.showwarning = to_the_log
    try:
        with redirect_stdout(stream):  # type: ignore[type-var]
            yield log
    finally:
        warnings.showwarning = shown
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)
        try:
            file.close()
        except OSError as error:  # the last lines, flushed on close
            stream.failure = stream.failure or error
        if stream.failure is not None:
            log.failure = stream.failure
            _FAILED_LOGS.append(log)


@dataclass
class Configured:
    """A configuration and its secrets, from files (before a deployment) or from a stack (what its functions read)."""

    config: Any
    netsuite: Any
    clicktime: Any
    source: str
    target: Target | None
    concurrency: dict[str, int]
    concurrency_source: str


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("or from files, before a deployment (instead of a stack)")
    group.add_argument("--config", help="config document (JSON)")
    group.add_argument("--secrets", help='{"netsuite": {…TBA…}, "clicktime": {"api_token": …}}')


def template_concurrency() -> dict[str, int]:
    from samtranslator.yaml_helper import yaml_parse

    from ctns.stack import TEMPLATE
    from ctns.target import prefix
    from ctsync.sync.registry import SYNC_NAMES

    parameters = yaml_parse(TEMPLATE.read_text()).get("Parameters", {})
    return {
        sync: int(parameters.get(f"{prefix(sync)}WorkerMaxConcurrency", {}).get("Default", 0)) for sync in SYNC_NAMES
    }


@contextmanager
def configured(args: argparse.Namespace, out: Output) -> Iterator[Configured]:
    from ctns.inputs import load_config, load_secrets

    if args.config or args.secrets:
        if not (args.config and args.secrets):
            raise CliError("--config and --secrets go together")
        if args.stack:
            raise CliError("give either --stack (its config and secrets) or --config and --secrets, not both")
        config = load_config(args.config)
        secrets = load_secrets(args.secrets)
        yield Configured(
            config=config,
            netsuite=secrets.netsuite,
            clicktime=secrets.clicktime,
            source=f"config file {args.config} and secrets file {args.secrets}",
            target=None,
            concurrency=template_concurrency(),
            concurrency_source="template.yaml defaults; --stack NAME reads a deployment's parameters",
        )
        return
    with target_of(args, out) as target:
        yield Configured(
            config=target.config(),
            netsuite=target.netsuite_secret(),
            clicktime=target.clicktime_secret(),
            source=target.describe(),
            target=target,
            concurrency=target.worker_concurrency(),
            concurrency_source="the stack's parameters" if not target.is_local else "template.yaml defaults",
        )
