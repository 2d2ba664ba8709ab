"""Deploy/operate review (2026-12-04; failed before the alarm was named by its state): docs/deploy.md deploys with `ScheduleState=DISABLED` (step 6), runs projects and
tasks by hand (step 7), then enables the schedules with a second `sam deploy` (step 8); a sync paused alone
(`<Sync>ScheduleState=DISABLED`) is enabled the same way. While disabled, each `<Sync>RunOverdueAlarm` goes into ALARM
(no RunCompleted datapoint, TreatMissingData breaching) with its actions off. CloudWatch runs an alarm's actions only
on a state change, and updating an alarm (PutMetricAlarm, what CloudFormation does for ActionsEnabled) leaves its state
as it is: a sync enabled while its alarm is in ALARM, whose runs then never complete (the runbook's "schedule disabled
or wrong", a lease held), stays in ALARM and never notifies, though "a missed night is an alarm, not silence".

The alarm is read from template.yaml as it deploys under each parameter set; CloudWatch's documented behaviour is the
small model below (per hour: the last EvaluationPeriods hourly periods, missing ones breaching; actions on transitions
into ALARM while ActionsEnabled; a replacement, i.e. a new AlarmName, starts in INSUFFICIENT_DATA)."""

from __future__ import annotations

from typing import Any

import pytest

from ctns import stack as stack_module


def overdue_alarm(overrides: dict[str, str], sync: str) -> dict[str, Any]:
    stack = stack_module.load(overrides=overrides)
    resource = stack.resources[f"{sync}RunOverdueAlarm"]["Properties"]
    wanted = ("AlarmName", "EvaluationPeriods", "DatapointsToAlarm", "ActionsEnabled", "TreatMissingData")
    return {key: stack.resolve(resource[key]) for key in wanted if key in resource}


def notifications(phases: list[tuple[dict[str, Any], int]], completed_at: set[int]) -> list[int]:
    """Hours at which the alarm notifies, through `phases` of (its properties as deployed, hours they last)."""
    state, name, hour, sent, history = "INSUFFICIENT_DATA", None, 0, [], []
    for props, hours in phases:
        if props.get("AlarmName", "(generated)") != name and name is not None:
            state = "INSUFFICIENT_DATA"  # replaced: a new alarm
        name = props.get("AlarmName", "(generated)")
        for _ in range(hours):
            history.append(hour in completed_at)
            periods = int(props["EvaluationPeriods"])
            window = history[-periods:]
            breaching = sum(1 for ran in window if not ran) + (periods - len(window))  # missing data: breaching
            new = "ALARM" if breaching >= int(props["DatapointsToAlarm"]) else "OK"
            if new != state and new == "ALARM" and props["ActionsEnabled"] in (True, "true"):
                sent.append(hour)
            state = new
            hour += 1
    return sent


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"ScheduleState": "DISABLED"}, {"ScheduleState": "ENABLED"}),  # docs/deploy.md steps 6 and 8
        ({"TimeScheduleState": "DISABLED"}, {"TimeScheduleState": "ENABLED"}),  # a sync paused alone, then resumed
    ],
)
def test_a_sync_enabled_whose_runs_never_complete_is_notified(first: dict[str, str], then: dict[str, str]) -> None:
    disabled, enabled = overdue_alarm(first, "Time"), overdue_alarm(then, "Time")
    assert disabled["ActionsEnabled"] in (False, "false") and enabled["ActionsEnabled"] in (True, "true")
    assert disabled["TreatMissingData"] == enabled["TreatMissingData"] == "breaching"
    # the model: a stack deployed enabled whose runs never complete is notified at once (missing data is breaching)
    assert notifications([(enabled, 48)], completed_at=set()) == [0]
    # two days disabled (configuring; the time sync is not among step 7's runs), then three days enabled in which no
    # time run completes (a schedule that never fires, a lease that is never let go)
    sent = notifications([(disabled, 48), (enabled, 72)], completed_at=set())
    assert sent, (
        f"{first} -> {then}: TimeRunOverdueAlarm was in ALARM (actions off) when enabled, and never notified in the "
        "72 hours without a completed run that followed"
    )
