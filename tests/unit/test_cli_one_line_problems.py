"""Problems a person at the CLI can fix are one line naming the fix, exit 2, never "a bug in ctns" (review,
2026-12-04): an output file whose folder does not exist (found before anything runs, and the demo's results are
printed before its report is written), an endpoint of a deployed stack that stops answering (a network problem),
and a command line with an argument its subcommand does not take (its own `--help` named)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from ctns import cli
from ctns.output import CliError


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--report", "{missing}/report.json"],
        ["demo", "--logs", "{missing}/demo.log"],
        ["run", "projects", "--logs", "{missing}/run.log"],
        ["check", "--logs", "{missing}/check.log"],
        ["plan", "--logs", "{missing}/plan.log"],
        ["reconcile", "--logs", "{missing}/reconcile.log"],
        ["redrive", "projects", "--logs", "{missing}/redrive.log"],
        ["backfill", "projects", "--since", "2026-11-30", "--logs", "{missing}/backfill.log"],
    ],
)
def test_an_output_file_in_a_folder_that_does_not_exist_is_refused_before_anything_runs(tmp_path, argv):
    """Before: `ctns demo --report /proc/nope/x.json` ran the whole demo, then failed writing the report; `ctns run
    --logs /nonexistent/dir/x.log` made /nonexistent/dir/ without a word. A folder is not made for a path given: a
    typo in it is what it most likely is (and every option naming a file behaves the same)."""
    missing = tmp_path / "no-such-folder" / "deeper"
    given = [a.format(missing=missing) for a in argv]
    with pytest.raises(CliError) as refused:
        cli.parser().parse_args(given)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{argv[0]}: argument --")
    assert f"cannot be written: its folder {missing} does not exist" in message
    assert not (tmp_path / "no-such-folder").exists()


def test_the_demo_prints_its_results_before_it_writes_its_report(tmp_path, monkeypatch, capsys):
    """Before: the report was written first; a failure writing it (a disk that filled during the minute the demo
    runs) lost the table, the causes and the reconciliation, of which nothing had been printed."""
    from ctns import demo

    report_path = tmp_path / "report.json"
    runs: list[Any] = []

    def three_nights(**kwargs: Any) -> dict[str, Any]:
        runs.append(kwargs)
        return {"passes": [{"writes": {}}], "reconciliation": {}}

    def full_disk(path: Any, text: str) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(demo, "demo", three_nights)
    monkeypatch.setattr(demo, "render", lambda report: "THE RESULTS OF THREE NIGHTS")
    monkeypatch.setattr(demo, "write_whole", full_disk)
    code = cli.main(["demo", "--report", str(report_path), "--logs", str(tmp_path / "demo.log")])

    printed = capsys.readouterr()
    assert len(runs) == 1 and code == 2
    assert "THE RESULTS OF THREE NIGHTS" in printed.out
    assert printed.err.strip().splitlines()[-1] == f"ctns: {report_path}: No space left on device"
    assert "bug" not in printed.out + printed.err


def _deployed_stack_that(monkeypatch: Any, error: Exception) -> None:
    from ctns import target

    def unreachable(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(target, "deployed", unreachable)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://sqs.eu-west-1.amazonaws.com/"),
        ConnectionClosedError(endpoint_url="https://sqs.eu-west-1.amazonaws.com/"),
    ],
)
def test_an_endpoint_of_a_deployed_stack_that_stops_answering_is_a_network_problem_not_a_bug(
    monkeypatch, capsys, error
):
    _deployed_stack_that(monkeypatch, error)

    code = cli.main(["status", "--stack", "ctns", "--region", "eu-west-1"])

    printed = capsys.readouterr()
    assert code == 2
    assert printed.err.strip().splitlines() == [
        "ctns: https://sqs.eu-west-1.amazonaws.com/ stopped answering (a network problem: the connection, a VPN "
        "or a proxy): check the network and run the command again"
    ]


def test_a_connection_to_something_that_is_not_the_stack_is_still_a_bug(monkeypatch, capsys):
    """Only connection failures to the stack's endpoints are the operator's: anything else stays a bug to report."""
    failed = requests.ConnectionError("refused", request=requests.Request("GET", "http://10.9.9.9:1/x").prepare())
    _deployed_stack_that(monkeypatch, failed)

    code = cli.main(["status", "--stack", "ctns", "--region", "eu-west-1"])

    assert code == 3 and "This is a bug in ctns" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "help_of"),
    [
        (["reconcile", "--bogus"], "ctns reconcile --help"),
        (["config", "push", "f.json", "--bogus"], "ctns config push --help"),
        (["--bogus", "status"], "ctns status --help"),
    ],
)
def test_an_argument_a_subcommand_does_not_take_names_that_subcommands_help(capsys, argv, help_of):
    code = cli.main(argv)

    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1
    assert "unrecognized arguments: --bogus" in lines[0] and lines[0].endswith(f"(see `{help_of}`)")


def test_an_argument_without_a_subcommand_names_the_top_help(capsys):
    assert cli.main(["--bogus"]) == 2
    assert capsys.readouterr().err.strip().endswith("(see `ctns --help`)")


def test_the_default_demo_report_folder_is_made_for_it(tmp_path, monkeypatch):
    """The default (build/demo-report.json, under the current folder) is ctns's own: its folder is made."""
    monkeypatch.chdir(tmp_path)
    args = cli.parser().parse_args(["demo"])
    from ctns.commands.local_stack import report_file

    assert report_file(args) == Path("build/demo-report.json") and (tmp_path / "build").is_dir()
