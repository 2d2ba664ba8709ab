"""What ctns says of a stack found by name whose deployment failed (ctns.target.deployed), with CloudFormation's
describe_stacks stubbed: the states a failed deployment leaves never finish on their own, so "wait for its
deployment to finish" and "not a ClickTime-NetSuite sync stack" sent the operator the wrong way (operate review,
2026-12-03)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import boto3
import pytest

from ctns import target
from ctns.cli import main
from ctns.output import USAGE, CliError

NAME = "acme-sync"
OURS = [{"OutputKey": "StateTableName", "OutputValue": "acme-sync-state"}]


def stack_in(status: str, outputs: list[dict[str, str]]) -> Any:
    session = mock.MagicMock(region_name="eu-west-1")
    session.client.return_value.describe_stacks.return_value = {"Stacks": [{"StackStatus": status, "Outputs": outputs}]}
    return mock.patch.object(boto3, "Session", return_value=session)


def problem_of(status: str, outputs: list[dict[str, str]]) -> CliError:
    with stack_in(status, outputs), pytest.raises(CliError) as raised:
        target.deployed(NAME, region="eu-west-1")
    return raised.value


def test_a_first_deployment_rolled_back_says_so_and_to_delete_the_stack_and_deploy_again():
    problem = problem_of("ROLLBACK_COMPLETE", [])
    assert problem.exit_code == USAGE
    assert "first deployment failed and was rolled back" in problem.message
    assert f"aws cloudformation describe-stack-events --stack-name {NAME}" in problem.message
    assert f"aws cloudformation delete-stack --stack-name {NAME}" in problem.message
    assert "deploy again" in problem.message
    assert "not a ClickTime-NetSuite sync stack" not in problem.message and "wait" not in problem.message


def test_an_update_whose_rollback_failed_says_to_continue_the_rollback_or_delete_the_stack():
    problem = problem_of("UPDATE_ROLLBACK_FAILED", OURS)
    assert problem.exit_code == USAGE
    assert "rollback failed" in problem.message and "wait" not in problem.message
    assert f"aws cloudformation continue-update-rollback --stack-name {NAME}" in problem.message
    assert f"aws cloudformation describe-stack-events --stack-name {NAME}" in problem.message
    assert "delete" in problem.message


def test_a_first_deployment_whose_rollback_failed_says_to_delete_the_stack():
    """continue-update-rollback takes only UPDATE_ROLLBACK_FAILED: a failed create's rollback can only be deleted."""
    problem = problem_of("ROLLBACK_FAILED", [])
    assert problem.exit_code == USAGE
    assert "rollback failed" in problem.message and "wait" not in problem.message
    assert f"aws cloudformation delete-stack --stack-name {NAME}" in problem.message
    assert "continue-update-rollback" not in problem.message


@pytest.mark.parametrize("status", ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"])
def test_a_deployment_in_progress_is_waited_for(status: str):
    problem = problem_of(status, OURS)
    assert problem.exit_code == USAGE and "wait for its deployment to finish" in problem.message


@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"])
def test_a_stack_in_a_stable_state_is_used(status: str):
    """An update rolled back leaves the previous deployment working: it is operated as it stands."""
    with stack_in(status, OURS):
        assert target.deployed(NAME, region="eu-west-1").outputs == {"StateTableName": "acme-sync-state"}


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED"])
def test_a_command_on_a_stack_whose_deployment_failed_is_one_line_exit_2(status: str, capsys):
    with stack_in(status, OURS if status.startswith("UPDATE") else []):
        code = main(["status", "--stack", NAME, "--region", "eu-west-1"])
    err = capsys.readouterr().err
    assert code == USAGE
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith(f"ctns: stack {NAME}'s ") and "Traceback" not in err
