"""Deploy/operate review (2026-12-04; failed before `<Sync>NewDeadLettersAlarm`): `<Sync>DeadLetterAlarm` is
"ApproximateNumberOfMessagesVisible > 0" on the dead-letter queue. CloudWatch notifies on a change of state only, so
once one dead letter waits (finance has not fixed a customer yet; SQS keeps it 14 days) the alarm stays in ALARM and
every later failure of the sync reaches the queue unannounced. The worker's own `Failed` count, per five minutes,
notifies each new dead letter whatever already waits.

The alarms are read from template.yaml; CloudWatch's documented behaviour is the small model below (per period: the
statistic against the threshold, missing data as the alarm treats it; actions on transitions into ALARM)."""

from __future__ import annotations

from typing import Any

import pytest

from ctns import stack as stack_module

OPS = {"GreaterThanThreshold": lambda v, t: v > t, "LessThanThreshold": lambda v, t: v < t}


def alarm(logical: str) -> dict[str, Any]:
    stack = stack_module.load()
    resource = stack.resources[logical]["Properties"]
    keys = (
        "Namespace",
        "MetricName",
        "Dimensions",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
    )
    # the depth alarm's dimension is its queue's name, known once deployed
    return {
        key: stack.resolve(resource[key])
        for key in keys
        if key in resource and "DeadLetterQueue" not in str(resource[key])
    }


def notifications(props: dict[str, Any], series: list[float | None]) -> list[int]:
    """Periods at which the alarm notifies, for one value of its statistic per period (None: no data)."""
    state, sent = "INSUFFICIENT_DATA", []
    periods, threshold, breaches = (
        int(props["EvaluationPeriods"]),
        float(props["Threshold"]),
        OPS[props["ComparisonOperator"]],
    )
    missing_breaches = props.get("TreatMissingData") == "breaching"
    for index in range(len(series)):
        window = series[max(0, index - periods + 1) : index + 1]
        breaching = [missing_breaches if v is None else breaches(v, threshold) for v in window]
        new = "ALARM" if len(window) == periods and all(breaching) else "OK"
        if new != state and new == "ALARM":
            sent.append(index)
        state = new
    return sent


@pytest.mark.parametrize("sync", ["Projects", "Tasks", "Time", "Expenses"])
def test_a_new_dead_letter_is_notified_while_an_older_one_waits(sync: str) -> None:
    depth, new = alarm(f"{sync}DeadLetterAlarm"), alarm(f"{sync}NewDeadLettersAlarm")
    per_day = 86400 // int(new["Period"])
    # day 0: one record dead-lettered and left waiting; day 3: another cause dead-letters a second record
    waiting = [1.0] * (3 * per_day) + [2.0] * per_day
    failed: list[float | None] = [None] * (4 * per_day)
    failed[0] = failed[3 * per_day] = 1.0

    assert notifications(depth, waiting) == [0]  # the depth alarm: the first dead letter only
    assert notifications(new, failed) == [0, 3 * per_day]  # this one: each
    assert new["Namespace"] == "ClickTimeNetSuiteSync" and new["MetricName"] == "Failed"
    assert {d["Name"]: d["Value"] for d in new["Dimensions"]} == {"service": "ctns", "sync": sync.lower()}


def test_the_worker_counts_failed_when_it_dead_letters_a_record() -> None:
    """What the alarm watches is the worker's `Failed` metric, counted where it dead-letters (and nowhere else)."""
    from pathlib import Path

    import ctsync.sync.worker as worker

    source = Path(worker.__file__).read_text(encoding="utf-8")
    dead_letter = source[source.index("def _dead_letter") :]
    dead_letter = dead_letter[: dead_letter.index("\n    def ", 1)]
    assert 'count("Failed")' in dead_letter and source.count('count("Failed")') == 1
