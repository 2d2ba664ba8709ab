"""`ctns check`'s NetSuite concurrency check (`ctns.checks._concurrency`): what the workers may send at once against
the account's limit. The syncs run on their own schedules (the template's are at least 30 minutes apart), and AWS
lets no event source mapping go below a MaximumConcurrency of 2: summing all four syncs as if they always ran
together made the check fail on every account with NetSuite's default limit of 5, whatever the operator did (a
fresh user's try found it). One sync over the limit fails; all of them together over it is a warning."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ctns.checks import FAIL, OK, WARN, Check, _concurrency
from ctsync.config import SyncConfig

TEMPLATE_DEFAULTS = {"projects": 2, "tasks": 2, "time": 2, "expenses": 2}


def check(limit: int | None, concurrency: dict[str, int] = TEMPLATE_DEFAULTS, write_concurrency: int = 2) -> Check:
    config = SyncConfig.model_validate(
        {"netsuite": {"account_id": "1234567"}, "time": {"write_concurrency": write_concurrency}}
    )
    inputs = SimpleNamespace(
        config=config, concurrency=concurrency, concurrency_source="template.yaml defaults", limit=limit
    )
    checks: list[Check] = []
    _concurrency(inputs, checks)  # type: ignore[arg-type]
    assert len(checks) == 1 and checks[0].name == "NetSuite concurrency"
    return checks[0]


def test_the_template_defaults_on_the_default_limit_warn_about_overlapping_runs_and_do_not_fail():
    result = check(5)
    assert result.status == WARN
    assert "time 2 x 2 (time.write_concurrency)" in result.detail and "10 if every sync ran at once" in result.detail
    assert "each sync alone stays within the account's limit of 5" in result.detail
    assert "keep the syncs' schedules apart" in result.fix


def test_one_sync_over_the_limit_fails_naming_its_parameter():
    result = check(5, {**TEMPLATE_DEFAULTS, "time": 3})
    assert result.status == FAIL
    assert "the time sync alone may send 6 NetSuite requests at once, over the account's limit of 5" in result.detail
    assert "TimeWorkerMaxConcurrency" in result.fix and "time.write_concurrency" in result.fix


def test_one_sync_taking_the_whole_limit_leaves_nothing_to_other_integrations():
    result = check(4)
    assert result.status == WARN
    assert "the time sync alone may send 4, the account's whole limit of 4" in result.detail


@pytest.mark.parametrize("limit", [10, 15])
def test_every_sync_at_once_within_the_limit_is_ok(limit: int):
    result = check(limit)
    assert result.status == OK and f"within the account's limit of {limit}" in result.detail


def test_without_the_limit_it_says_how_to_give_it():
    result = check(None)
    assert result.status == WARN and "--netsuite-concurrency-limit" in result.fix
