"""Helpers of the `ctns` command-line tests: run a command in this process and keep what it printed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from ctns.cli import main
from ctns.local import LocalStack, aws_endpoint
from simulators.generator import generate_company
from tests.e2e.support import FAST_RETRIES


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def problems(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("ctns: ")]


def ctns(capsys: Any, *argv: str) -> Result:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


PROJECTS = 5  # the generated company's first five projects: one to break, one out of scope, three open


def small_company() -> Any:
    """The demo company (seed 7) cut to its first projects and their tasks, for runs a few seconds long. No
    timesheets or expense sheets: the exports are not what these tests are about."""
    company = generate_company(seed=7, size=1)
    company.projects = company.projects[:PROJECTS]
    kept = {project.id for project in company.projects}
    company.tasks = [task for task in company.tasks if task.project_id in kept]
    company.timesheets, company.expense_sheets = [], []
    return company


def start_local_stack(tmp_path: Any, monkeypatch: Any, *, with_failures: bool = True, small: bool = True) -> LocalStack:
    """`ctns serve` in this process (with the small company, or `ctns serve`'s own when not `small`), its state file
    and function logs under tmp_path."""
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "serve.json"))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    stack = LocalStack(
        with_failures=with_failures,
        path=tmp_path / "serve.json",
        config_overrides=FAST_RETRIES,
        **({"company": small_company()} if small else {}),
    )
    stack.start()
    return stack


def state_items(stack: LocalStack) -> list[dict[str, Any]]:
    """Every item of the local stack's state table (to show a command wrote nothing)."""
    with aws_endpoint(stack.state.aws_endpoint):
        table = boto3.resource("dynamodb").Table(stack.session.stack.physical["StateTable"]["Ref"])
        items, kwargs = [], {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: (i["pk"], i["sk"]))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def queue_depths(stack: LocalStack) -> dict[str, int]:
    with aws_endpoint(stack.state.aws_endpoint):
        sqs = boto3.client("sqs")
        depths = {}
        for logical, physical in stack.session.stack.physical.items():
            if "QueueName" in physical:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=physical["Ref"], AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                depths[logical] = int(attributes["ApproximateNumberOfMessages"])
        return depths


def victim_of(stack: LocalStack) -> str:
    """The project seeded without a customer (`ctns serve --with-failures`)."""
    return next(p["id"] for p in stack.session.simulators.netsuite.records.all("job") if not p.get("parent"))
