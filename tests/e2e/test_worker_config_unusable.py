"""A worker whose config document cannot be used (edited badly in the console between the poll and the drain).

Before, building the worker raised in every invocation: the whole batch went back to the queue, again and again,
until SQS's own redrive moved each message to the dead-letter queue with no reason, no cause in `ctns errors` and
no `SystemicFailure` metric (left item of stop 40). Now each record is dead-lettered at once with the reason naming
the setting, the cause is recorded once, and one redrive after the fix writes everything once.

End to end through the local runner on the seeded simulators (`World` of the time review).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from ctns.runner import LocalRunner
from ctsync import runtime as runtime_module
from ctsync.state import ProgressStore
from tests.e2e.test_time_export_review import WEEK, World, reconcile  # noqa: F401 - `world` builds World

pytestmark = pytest.mark.e2e


def _stored_config(world: Any) -> tuple[str, dict[str, Any]]:
    name = world.session.stack.parameters["ConfigParameterName"]
    value = boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    return name, json.loads(value)


def _put(name: str, document: dict[str, Any]) -> None:
    boto3.client("ssm").put_parameter(Name=name, Value=json.dumps(document), Type="String", Overwrite=True)


def test_a_config_broken_before_the_drain_dead_letters_each_record_with_the_setting_and_loses_nothing(
    world, monkeypatch
):
    sheets = [world.sheet(user=world.user), world.sheet(user=world.other_user)]
    entries = [world.entry(sheet, WEEK, "1.25") for sheet in sheets]
    for sheet in sheets:
        world.approve(sheet)
    name, good = _stored_config(world)
    bad = copy.deepcopy(good)
    bad.setdefault("time", {})["write_concurrency"] = "two"  # a console edit after the poll read its config
    drain = LocalRunner.drain

    def breaking_first(runner: LocalRunner, mapping: Any, result: Any) -> None:
        _put(name, bad)
        runtime_module._cache.clear()  # a fresh execution environment: it reads the config document now
        parameters.clear_caches()
        drain(runner, mapping, result)

    monkeypatch.setattr(LocalRunner, "drain", breaking_first)
    world.run()

    letters = world.session.runner.dead_letters("time")
    assert sorted(letter.source_id for letter in letters) == sorted(sheets)
    for letter in letters:
        # the first record met it; the rest were not tried while the sync was paused on it
        assert f"config document {name} is invalid: time.write_concurrency: " in letter.reason, letter
        assert letter.kind == "SYSTEMIC" and letter.receive_count == "1"
    met = [letter for letter in letters if letter.reason.startswith("config document")]
    assert len(met) == 1 and met[0].fix.endswith("then ctns redrive time")
    causes = world.causes()
    assert len(causes) == 1 and "time.write_concurrency" in causes[0].reason
    assert all(world.bill(entry) is None for entry in entries)
    assert "two" not in " ".join(letter.reason for letter in letters)  # the setting's rule, never the value

    monkeypatch.setattr(LocalRunner, "drain", drain)
    _put(name, good)  # the fix: `ctns config push`
    ProgressStore(world.session.state_table).close_breaker("time")  # as `ctns redrive` lifts the pause
    assert world.session.runner.redrive("time") == len(sheets)
    world.run()

    assert [world.bill(entry)["hours"] for entry in entries] == ["1:15"] * 2
    assert world.session.runner.dead_letters("time") == []
