"""The benchmark's bookkeeping, on made-up figures: who made an AWS call, what an API request did, the bounds,
the headline keys of build/bench.json and their verdicts. (The benchmark itself is `make bench`, not a test.)"""

from __future__ import annotations

import json

import pytest

from ctns.bench import cli, layer, throughput
from ctns.bench.awsserver import CountingApp, Counts, operation, who
from ctns.bench.fleet import kind

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"


def test_calls_are_the_functions_unless_the_benchmark_tagged_its_client():
    assert who("Boto3/1.40 md/Botocore#1.40 ua/2.1 os/linux") == "function"
    assert who("Boto3/1.40 md/Botocore#1.40 ctns-bench/esm") == "esm"
    assert who("Botocore/1.40 ctns-bench/runner extra") == "runner"


@pytest.mark.parametrize(
    ("service", "target", "expected"),
    [
        ("dynamodb", "DynamoDB_20120810.PutItem", ("dynamodb", "PutItem")),
        ("sqs", "AmazonSQS.SendMessageBatch", ("sqs", "SendMessageBatch")),
        ("ssm", "AmazonSSM.GetParameter", ("ssm", "GetParameter")),
    ],
)
def test_an_aws_call_is_named_by_its_signature_scope_and_target(service, target, expected):
    environ = {"HTTP_AUTHORIZATION": SIGNED.format(service=service), "HTTP_X_AMZ_TARGET": target}
    assert operation(environ) == expected


def test_the_server_counts_every_call_and_answers_the_counts():
    def backend(environ, start_response):
        start_response("200 OK", [])
        return [b"{}"]

    app = CountingApp(backend)
    call = {"HTTP_AUTHORIZATION": SIGNED.format(service="dynamodb"), "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}
    for user_agent in ("Boto3/1", "Boto3/1", "Boto3/1 ctns-bench/esm"):
        app({**call, "HTTP_USER_AGENT": user_agent, "PATH_INFO": "/"}, lambda *a: None)
    answer = app({"PATH_INFO": "/__bench__/counts"}, lambda *a: None)
    rows = json.loads(b"".join(answer))
    assert sorted(rows) == [["esm", "dynamodb", "GetItem", 1], ["function", "dynamodb", "GetItem", 2]]


def test_counts_subtract_and_total_by_who_and_service():
    before = Counts({("function", "dynamodb", "GetItem"): 2, ("esm", "sqs", "ReceiveMessage"): 5})
    after = Counts(
        {
            ("function", "dynamodb", "GetItem"): 7,
            ("function", "dynamodb", "PutItem"): 3,
            ("function", "sqs", "SendMessageBatch"): 1,
            ("esm", "sqs", "ReceiveMessage"): 9,
        }
    )
    delta = after - before
    assert delta.total(service="dynamodb") == 8
    assert delta.total() == 9  # the event source mapping's own calls are not the function's
    assert delta.total(who="esm") == 4
    assert delta.by_operation(service="dynamodb") == {"dynamodb:GetItem": 5, "dynamodb:PutItem": 3}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("PUT", "/services/rest/record/v1/timeBill/eid:ct-te-AlXgzPdVXWYDyGVsAsLiHi", "PUT record/timeBill"),
        ("PATCH", "/services/rest/record/v1/job/123", "PATCH record/job"),
        ("POST", "/services/rest/query/v1/suiteql", "POST suiteql"),
        ("GET", "/v2/Tasks/NdbuVvuKovQKMhVAoefJyp/Jobs", "GET Tasks/Jobs"),
        ("POST", "/v2/Jobs/3WjQuL4S0gzqBvkAOI0Spa/Tasks", "POST Jobs/Tasks"),
        ("GET", "/v2/Reports/Time", "GET Reports/Time"),
    ],
)
def test_a_request_is_named_without_its_ids(method, path, expected):
    assert kind(method, path) == expected


def test_the_bound_is_the_lower_of_the_workers_and_netsuites():
    # 4 workers, 3 calls a record at 50 ms: 26.7 records/s; NetSuite C=5, 1 call a record: 100/s
    assert throughput._bound(4, 0.05, 5, 3.0, 1.0) == pytest.approx(4 / 0.15)
    # 8 workers, 1 NetSuite call a record and nothing else: NetSuite's 5 in flight bind first
    assert throughput._bound(8, 0.05, 5, 1.0, 1.0) == pytest.approx(100.0)


def test_a_drain_is_compared_with_its_bound():
    row = {
        "sync": "tasks",
        "drain": {
            "delivered": 100,
            "seconds": 10.0,
            "netsuite_requests": 100,
            "clicktime_requests": 200,
            "netsuite_throttled": 0,
            "environments": {},
        },
    }
    settings = throughput.Settings(latency=0.05, limit=5)
    figures = throughput.drain_row(row, 2, settings)
    assert figures["api_calls_per_record"] == 3.0
    assert figures["bound_records_per_second"] == pytest.approx(13.33, abs=0.01)
    assert figures["fraction_of_bound"] == pytest.approx(10 / 13.333, abs=0.01)
    assert figures["seconds_per_record_per_environment"] == 0.2


def _row(sync, created=0, updated=0, unchanged=0, skipped=0, delivered=0, seconds=1.0, ns=0, ct=0, ddb=0, writes=0):
    return {
        "sync": sync,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": skipped,
        "failed": 0,
        "delivered": delivered,
        "seconds": seconds,
        "netsuite": {"requests": ns, "writes": writes, "by_kind": {}},
        "clicktime": {"requests": ct, "writes": 0, "by_kind": {"POST Jobs": created}},
        "aws": {"dynamodb": ddb},
    }


def test_the_headline_keys_come_from_the_passes_and_are_judged_against_their_targets():
    passes = {
        "workers": {"projects": 2, "tasks": 2},
        "first": [
            _row("projects", created=10, delivered=14, seconds=4.0, ns=24, ct=10, ddb=40, writes=10),
            _row("tasks", created=30, delivered=56, seconds=6.0, ns=70, ct=60, ddb=120, writes=30),
        ],
        "second": [
            _row("projects", unchanged=14, seconds=0.2, ns=3, ddb=1),
            _row("tasks", unchanged=56, seconds=0.3, ns=6, ddb=2),
        ],
        "updated": _row("tasks", updated=5, unchanged=51, delivered=5, seconds=1.0, ct=5, ddb=5),
        "renamed_tasks": 5,
    }
    result = {
        "settings": {"L_seconds": 0.05, "C": 5, "company_size": 3},
        "machine": {"cpus": 2, "load_average_at_start": [1, 1, 1], "load_average_at_end": [1, 1, 1]},
        "seconds": 1.0,
        "passes": cli.summarise_passes(passes, throughput.Settings()),
    }
    cli._headline(result, throughput.Settings())
    assert result["noop_pass_messages"]["value"] == 0
    assert result["second_over_first_seconds"]["value"] == 0.05
    assert result["dynamodb_calls_per_created_record"]["value"] == 4.0
    assert result["dynamodb_calls_per_created_record"]["per_unchanged_record"] == pytest.approx(3 / 70, abs=0.001)
    assert result["clicktime_calls_per_created_job"]["value"] == 1.0
    assert result["clicktime_calls_per_created_task"]["per_updated_task"] == 1.0
    assert result["rerun_writes"]["value"] == 0
    table = cli.render(result)
    for key in cli.TARGETS:
        assert key in table
    assert "dynamodb_calls_per_created_record" in table and "meets" in table and "not measured" in table


def test_the_deps_layer_report_names_what_the_runtime_already_has(tmp_path, monkeypatch):
    python = tmp_path / "DepsLayer" / "python"
    for name in ("pydantic-2.13.5.dist-info", "botocore-1.44.8.dist-info", "six-1.17.0.dist-info"):
        (python / name).mkdir(parents=True)
    (python / "pydantic").mkdir()
    (python / "pydantic" / "main.py").write_bytes(b"x" * 2_000_000)
    monkeypatch.setattr(layer, "BUILT", tmp_path)
    report = layer.measure()
    assert report["value"] == 2.0
    assert report["ships_what_the_runtime_has"] == ["botocore", "six"]
