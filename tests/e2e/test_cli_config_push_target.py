"""`ctns config push`: where the document goes, and the SSM tier that can hold it.

Without --region (or --profile) the README sends the document to the local stack while `ctns serve` runs; with
AWS_REGION exported (CloudShell, most CI and SSO set-ups) it went to /ctns/config of the real account instead, while
every other command without --stack stays on the local stack. And `put_parameter` without Tier creates a Standard
parameter, which AWS refuses over 4,096 characters (~80 people.overrides): a valid document could not be pushed.
moto does not enforce the limit, so the request itself is looked at.

Found by a fresh review (2026-12-02, review 9); failed before the fix (`config push` ignores AWS_REGION while
`ctns serve` runs; Tier="Advanced" over 4,096 characters)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from ctns.local import aws_endpoint
from ctns.target import open_target
from tests.e2e.cli_support import ctns, start_local_stack

pytestmark = pytest.mark.e2e
ACCOUNT = {"netsuite": {"account_id": "1234567_SB1"}}


@pytest.fixture
def served(tmp_path: Any, monkeypatch: Any) -> Any:
    stack = start_local_stack(tmp_path, monkeypatch, with_failures=False)
    yield stack
    stack.stop()


class FakeAws:
    """Stands for the operator's real AWS account: records what `config push` would have put there."""

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []

    def session(self, **kwargs: Any) -> Any:
        puts = self.puts

        class Ssm:
            def put_parameter(self, **put: Any) -> dict[str, Any]:
                puts.append(put)
                return {"Version": 1}

        return SimpleNamespace(region_name=kwargs.get("region_name") or "eu-west-1", client=lambda *_, **__: Ssm())


@pytest.fixture
def real_account(monkeypatch: Any) -> FakeAws:
    fake = FakeAws()
    monkeypatch.setattr("ctns.commands.config.boto3", SimpleNamespace(Session=fake.session))
    return fake


def stored_config(stack: Any) -> dict[str, Any]:
    with aws_endpoint(stack.state.aws_endpoint), open_target(None) as target:
        name = target.parameters["ConfigParameterName"]
        return json.loads(target.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def with_overrides(count: int) -> dict[str, Any]:
    overrides = {f"employee.number{i:03d}@bluestone-partners.example.com": str(1000 + i) for i in range(count)}
    return {**ACCOUNT, "people": {"overrides": overrides}}


def written(tmp_path: Any, document: dict[str, Any]) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_config_push_without_a_region_goes_to_the_local_stack_whatever_aws_region_says(
    served, real_account, capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    document = stored_config(served)
    document.setdefault("time", {})["write_concurrency"] = 1

    pushed = ctns(capsys, "config", "push", written(tmp_path, document))

    assert real_account.puts == [], f"pushed to the real account's {real_account.puts[0]['Name']}: {pushed.out}"
    assert pushed.code == 0 and "the local stack (ctns serve)" in pushed.out
    assert stored_config(served)["time"]["write_concurrency"] == 1


def test_config_push_of_a_document_over_4_kb_asks_for_the_advanced_tier(real_account, capsys, tmp_path):
    path = written(tmp_path, with_overrides(80))
    assert ctns(capsys, "config", "validate", path).code == 0

    pushed = ctns(capsys, "config", "push", path, "--region", "eu-west-1")

    assert pushed.code == 0 and len(real_account.puts) == 1, pushed.err
    (put,) = real_account.puts
    assert len(put["Value"]) > 4096 and put.get("Tier") == "Advanced", (len(put["Value"]), put.get("Tier"))
    assert "Advanced tier" in pushed.out


def test_config_push_of_a_document_that_fits_asks_for_no_paid_tier(real_account, capsys, tmp_path):
    pushed = ctns(capsys, "config", "push", written(tmp_path, with_overrides(40)), "--region", "eu-west-1")

    (put,) = real_account.puts
    assert pushed.code == 0 and len(put["Value"]) <= 4096 and "Tier" not in put


def test_config_push_of_a_document_no_tier_holds_is_refused_before_any_put(real_account, capsys, tmp_path):
    pushed = ctns(capsys, "config", "push", written(tmp_path, with_overrides(160)), "--region", "eu-west-1")

    assert pushed.code == 2 and real_account.puts == []
    assert len(pushed.problems) == 1 and "8,192" in pushed.problems[0], pushed.problems


def test_config_push_to_the_local_stack_of_a_document_naming_real_hosts_is_refused_saying_what_to_set(
    served, real_account, capsys, tmp_path
):
    """Found by a new user (2026-12-03): the deploy guide's example (no URLs) was pushed to the local stack, whose
    next run sent the simulators' credentials to NetSuite's and ClickTime's real hosts while it printed "no real
    system was touched"."""
    before = stored_config(served)

    pushed = ctns(capsys, "config", "push", written(tmp_path, ACCOUNT))

    assert pushed.code == 2 and len(pushed.problems) == 1, pushed.out
    problem = pushed.problems[0]
    assert "suitetalk.api.netsuite.com" in problem and "https://api.clicktime.com" in problem
    assert f"clicktime.base_url to {served.state.clicktime_url}/v2" in problem
    assert f"netsuite.rest_base_url to {served.state.netsuite_url}/services/rest" in problem
    assert stored_config(served) == before and real_account.puts == []


def test_config_push_to_the_local_stack_under_a_name_it_does_not_read_is_refused(served, capsys, tmp_path):
    before = stored_config(served)

    pushed = ctns(capsys, "config", "push", written(tmp_path, before), "--name", "/somewhere/else")

    assert pushed.code == 2 and "leave --name out" in pushed.problems[0], pushed.out
    assert stored_config(served) == before
