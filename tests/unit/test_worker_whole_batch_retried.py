"""A batch whose every record is handed back for another attempt (a transient error: `Worker.handle` raises) is
answered with every record in batchItemFailures, not a failed invocation (review of observability, 2026-12-04).

Before, the worker's processor kept Powertools' default `raise_on_entire_batch_failure=True`: the handler raised
`BatchProcessingError`, Lambda counted an `Errors` datapoint and `<Sync>WorkerErrorsAlarm` paged someone for one
record that only met a ClickTime 503, where docs/runbook.md says single failed records never count there. The
processor used is the one `functions/worker/app.py` builds, through `entrypoints.process_batch` one record at a time
and several at once (the time export's `sheets_at_once`)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ctsync.entrypoints import process_batch
from ctsync.errors import TransientError

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "worker" / "app.py"


def _worker_processor():
    spec = importlib.util.spec_from_file_location("worker_app_under_test", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.processor


def _record(n: int) -> dict:
    return {
        "messageId": f"m{n}",
        "receiptHandle": f"r{n}",
        "body": json.dumps({"n": n}),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


def _try_again(_record: object) -> None:
    raise TransientError("ClickTime 503: try again later", code="UNAVAILABLE", cause="clicktime-unavailable")


@pytest.mark.parametrize(("records", "at_once"), [(1, 1), (5, 1), (5, 3)])
def test_a_batch_whose_records_are_all_retried_is_answered_not_raised(records: int, at_once: int) -> None:
    event = {"Records": [_record(n) for n in range(records)]}
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 300_000)

    response = process_batch(event, context, _worker_processor(), _try_again, at_once=at_once)

    assert sorted(item["itemIdentifier"] for item in response["batchItemFailures"]) == [f"m{n}" for n in range(records)]


def test_an_invocation_failed_as_a_whole_is_one_error_line_naming_the_sync_and_reason(monkeypatch, caplog) -> None:
    """Before, only Lambda's plain-text traceback said why (review of observability, 2026-12-04): the runbook's
    `"level":"ERROR"` search and the saved failures query found nothing."""
    from ctsync import entrypoints

    monkeypatch.setenv("SYNC_NAME", "time")
    monkeypatch.delenv("STATE_TABLE", raising=False)  # the function's environment incomplete
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 300_000)

    with caplog.at_level("ERROR"), pytest.raises(Exception, match="function environment is incomplete"):
        entrypoints.work({"Records": [_record(1)]}, context, _worker_processor())  # type: ignore[arg-type]

    (line,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert line.message.startswith("time worker invocation failed: function environment is incomplete: ")
    assert line.sync == "time" and line.failure_kind == "CONFIGURATION" and "STATE_TABLE" in line.failure_reason
