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
    assert (
        "time 2 x 2 (time.write_concurrency)" in result.detail and "12 if every sync ran at once" in result.detail
    )  # 2 + 1, 2 + 1, 2 x 2, 2
    assert "each sync alone stays within the account's limit of 5" in result.detail
    assert "keep the syncs' schedules apart" in result.fix


def test_one_sync_over_the_limit_fails_naming_its_parameter():
    result = check(5, {**TEMPLATE_DEFAULTS, "time": 3})
    assert result.status == FAIL
    assert "the time sync alone may send 6 NetSuite requests at once, over the account's limit of 5" in result.detail
    assert result.fix == "set TimeWorkerMaxConcurrency to 2"  # 2 workers x 2 bills at once <= 5


@pytest.mark.parametrize(
    "limit, fix",
    [
        (4, "set ProjectsWorkerMaxConcurrency to 3"),  # 3 workers and the poller
        (1, "no setting gets below 2 (an SQS event source mapping runs at least 2 workers)"),
    ],
)
def test_what_to_set_is_a_setting_that_can_be_made(limit, fix):
    """Found by a new user's trial (2026-12-02): at a limit of 1 or 2 it said to lower TimeWorkerMaxConcurrency "so
    the time sync stays below 1", and at 4 "by one" from the template's minimum of 2."""
    result = check(limit, {**TEMPLATE_DEFAULTS, "projects": 5, "time": 1}, write_concurrency=1)
    assert result.status == FAIL and result.fix.startswith(fix), result.fix


def test_every_sync_taking_the_whole_limit_is_named():
    result = check(3, write_concurrency=1)  # projects and tasks: 2 workers and the poller
    assert result.status == WARN and "the projects and tasks syncs alone may send 3" in result.detail, result.detail
    assert result.fix.startswith("no setting gets below 2 (an SQS event source mapping runs at least 2 workers)")


def test_one_sync_taking_the_whole_limit_leaves_nothing_to_other_integrations():
    result = check(4)
    assert result.status == WARN
    assert "the time sync alone may send 4, the account's whole limit of 4" in result.detail


@pytest.mark.parametrize("limit", [12, 15])
def test_every_sync_at_once_within_the_limit_is_ok(limit: int):
    result = check(limit)
    assert result.status == OK and f"within the account's limit of {limit}" in result.detail


def test_without_the_limit_it_says_how_to_give_it():
    result = check(None)
    assert result.status == WARN and "--netsuite-concurrency-limit" in result.fix


def test_a_time_worker_writing_more_bills_at_once_than_the_limit_allows_is_told_to_write_fewer():
    result = check(3, {**TEMPLATE_DEFAULTS, "time": 2}, write_concurrency=2)
    assert result.status == FAIL and result.fix == "set time.write_concurrency to 1 and TimeWorkerMaxConcurrency to 2"


def test_two_syncs_over_the_limit_are_each_given_their_own_count():
    result = check(5, {**TEMPLATE_DEFAULTS, "projects": 6, "time": 4})  # projects 6 + 1, time 4 x 2 = 8
    assert result.status == FAIL
    assert "the projects sync alone may send 7 and the time sync alone may send 8" in result.detail, result.detail


def test_a_poller_reading_netsuite_while_its_workers_write_counts_as_one_more_request():
    """The projects and tasks pollers page NetSuite while the messages they already enqueued are worked: five
    workers and the poller send six at once, over a limit of 5, which the check called a warning (template/IAM
    review, 2026-12-03)."""
    result = check(5, {"projects": 5, "tasks": 2, "time": 2, "expenses": 2})
    assert result.status == FAIL
    assert "the projects sync alone may send 6" in result.detail and "projects 5 + 1 poller" in result.detail
    assert "set ProjectsWorkerMaxConcurrency to 4" in result.fix  # 4 workers and the poller: 5
    # the exports' pollers read ClickTime: their workers alone count
    assert "time 2 x 2 (time.write_concurrency)," in check(5).detail
