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
    busy = {"server", "server-busy-microseconds"}
    calls = [row for row in rows if row[0] not in busy]
    assert sorted(calls) == [["esm", "dynamodb", "GetItem", 1], ["function", "dynamodb", "GetItem", 2]]
    # and the time it was busy answering them: in all, and per operation
    assert sorted(row[:3] for row in rows if row[0] in busy) == [
        ["server", "busy", "microseconds"],
        ["server-busy-microseconds", "dynamodb", "GetItem"],
    ]


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


def _row(
    sync,
    created=0,
    updated=0,
    unchanged=0,
    skipped=0,
    delivered=0,
    seconds=1.0,
    ns=0,
    ct=0,
    ddb=0,
    writes=0,
    clients=0,
    run_reads=0,
    batch_gets=0,
):
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
        "clicktime": {
            "requests": ct,
            "writes": 0,
            "run_reads": run_reads,
            "by_kind": {"POST Jobs": created},
            "writes_by_kind": {"POST Clients": clients} if clients else {},
        },
        "aws": {"dynamodb": ddb, "by_operation": {"dynamodb:BatchGetItem": batch_gets}},
    }


def test_the_headline_keys_come_from_the_passes_and_are_judged_against_their_targets():
    passes = {
        "workers": {"projects": 2, "tasks": 2},
        "first": [
            _row(
                "projects",
                created=10,
                delivered=14,
                seconds=4.0,
                ns=24,
                ct=16,
                ddb=40,
                writes=14,
                clients=4,
                run_reads=2,
            ),
            _row("tasks", created=30, delivered=56, seconds=6.0, ns=70, ct=63, ddb=136, writes=30, run_reads=3),
        ],
        "second": [
            _row("projects", unchanged=14, seconds=0.2, ns=3, ddb=10, batch_gets=1),
            _row("tasks", unchanged=56, seconds=0.3, ns=6, ddb=12, batch_gets=2),
        ],
        "redelivered": _row("tasks", unchanged=56, delivered=56, seconds=0.5, ddb=12 + 14, batch_gets=8),
        "updated": _row("tasks", updated=5, unchanged=51, delivered=5, seconds=1.0, ct=7, ddb=5, run_reads=2),
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
    ddb = result["dynamodb_calls_per_created_record"]
    assert ddb["value"] == 4.0  # (40 + 136) calls / (10 jobs + 4 clients + 30 tasks)
    assert ddb["per_job_or_task"] == 4.4
    assert ddb["per_unchanged_record"] == pytest.approx(22 / 70, abs=0.001)
    # the runs' bookkeeping apart: 21 calls (each run's first BatchGetItem reads its cursor and watermarks),
    # and 1 mapping read (100 records a call) over 70 records
    assert (ddb["unchanged_pass_per_run"], ddb["unchanged_pass_per_record_beyond_the_runs"]) == (21, 0.014)
    assert result["dynamodb_calls_per_unchanged_record"]["value"] == pytest.approx(22 / 70, abs=0.001)
    # the workers' calls for the 56 task messages delivered again: the pass's, less its quiet poll's (12)
    again = result["dynamodb_calls_per_redelivered_record"]
    assert (again["value"], again["delivered"], again["workers_calls"]) == (0.25, 56, 14)
    job = result["clicktime_calls_per_created_job"]
    assert (job["value"], job["run_reads"], job["all_calls_per_job"]) == (1.0, 2, 1.6)  # (16 - 2) / (10 + 4)
    assert result["clicktime_calls_per_created_task"]["value"] == 2.0  # (63 - 3) / 30
    assert result["clicktime_calls_per_updated_task"]["value"] == 1.0  # (7 - 2) / 5
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


def _time_pass(bills=0, ns=0, ct=0, ddb=0, drain_seconds=None, delivered=0, writes=0):
    row = {
        "sync": "time",
        "seconds": (drain_seconds or 0.0) + 0.5,
        "poll_seconds": 0.5,
        "delivered": delivered,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "failed": 0,
        "netsuite": {
            "requests": ns,
            "writes": writes,
            "throttled": 0,
            "by_kind": {},
            "writes_by_kind": {"PUT record/timeBill": bills} if bills else {},
        },
        "clicktime": {"requests": ct, "writes": 0, "by_kind": {}},
        "aws": {"dynamodb": ddb},
    }
    if drain_seconds is not None:
        row["drain"] = {
            "seconds": drain_seconds,
            "delivered": delivered,
            "netsuite_requests": ns,
            "clicktime_requests": ct,
            "netsuite_throttled": 0,
            "environments": {"cpu_seconds_total": drain_seconds},
        }
    return row


def test_a_time_export_is_judged_against_netsuites_bound_and_modelled_from_its_lowest_w():
    settings = throughput.Settings(latency=0.05, limit=5)  # C / L = 100 bills a second
    rows = [
        throughput.time_row(_time_pass(bills=1000, ns=1010, ct=10, drain_seconds=25.0, delivered=100), 2, settings),
        throughput.time_row(_time_pass(bills=1000, ns=1010, ct=10, drain_seconds=20.0, delivered=100), 8, settings),
    ]
    assert rows[0]["time_bills_per_second"] == 40.0
    assert rows[0]["fraction_of_netsuite_bound"] == 0.4
    assert rows[0]["netsuite_calls_per_time_bill"] == 1.01
    assert rows[0]["seconds_per_bill_per_environment"] == 0.05
    throughput.model_time_rows(rows, settings)
    # one environment does a bill in 50 ms: 2 do 40/s, 8 would do 160/s but NetSuite caps them at 100/s
    assert rows[0]["modelled_fraction_of_netsuite_bound"] == 0.4
    assert rows[1]["modelled_fraction_of_netsuite_bound"] == 1.0
    assert rows[1]["fraction_of_netsuite_bound"] == 0.5


def _exports(second_writes=0, expense_second_writes=0):
    settings = throughput.Settings(latency=0.05, limit=5)
    rows = [
        throughput.time_row(_time_pass(bills=100, ns=102, drain_seconds=2.5, delivered=10), w, settings)
        for w in (2, 4, 8)
    ]
    throughput.model_time_rows(rows, settings)
    expenses = {
        "sheets": 12,
        "netsuite_writes_second": expense_second_writes,
        "clicktime_writes_second": 0,
        "netsuite_calls_per_exported_record": 1.0,
        "second": _time_pass(ns=2),
    }
    return {
        "entries": 1000,
        "rows": rows,
        "second": _time_pass(ns=1, writes=second_writes),
        "rerun_writes": second_writes,
        "expenses": expenses,
    }


def test_the_exports_give_throughput_calls_per_record_and_rerun_writes():
    result = {"exports": [_exports()]}
    cli._headline(result, throughput.Settings())
    assert result["throughput_vs_bound"]["value"] == 0.4  # measured at the most in flight within C = 5
    assert result["throughput_vs_bound"]["level"] == "4x1"
    assert set(result["throughput_vs_bound"]["by_level"]) == {"2x1", "4x1", "8x1"}
    assert result["netsuite_calls_per_record"]["value"] == 1.02
    assert result["netsuite_calls_per_record"]["by_sync_and_pass"]["expenses (12 sheets)"]["first"] == 1.0
    assert result["rerun_writes"] == {
        "value": 0,
        "measure": result["rerun_writes"]["measure"],
        "by_pass": {"time_1000_entries": 0, "expenses_12_sheets": 0},
        "L_seconds": 0.05,
        "C": 5,
    }
    result = {"exports": [_exports(second_writes=3, expense_second_writes=2)]}
    cli._headline(result, throughput.Settings())
    assert result["rerun_writes"]["value"] == 5


def test_a_key_whose_section_did_not_run_is_left_out_not_null():
    result = {"poller_memory_growth": {"value": 1.1, "rows": [{"projects": 10}]}}
    cli._headline(result, throughput.Settings())
    assert "rerun_writes" not in result and "throughput_vs_bound" not in result
    assert "netsuite_calls_per_record" not in result


def test_a_suiteql_request_is_named_by_the_table_it_reads():
    from ctns.bench.fleet import suiteql_table

    assert suiteql_table({"q": "SELECT a.id AS id FROM projecttaskassignment a WHERE a.projecttask IN (1)"}) == (
        "projecttaskassignment"
    )
    assert suiteql_table({"q": "select e.id from Employee e"}) == "employee"
    assert suiteql_table(None) == "?"


def test_the_pollers_suiteql_per_1000_rows_comes_from_the_memory_run():
    memory = {
        "value": 1.05,
        "suiteql_per_1000_rows": 1.0,
        "suiteql_per_1000_rows_in_all": 1.05,
        "rows": [{"projects": 2000}, {"projects": 20000, "suiteql_by_table": {"job": 20, "deletedrecord": 1}}],
    }
    result = {"poller_memory_growth": memory}
    cli._headline(result, throughput.Settings())
    assert result["poller_suiteql_calls_per_1000_rows"]["value"] == 1.0
    assert result["poller_suiteql_calls_per_1000_rows"]["by_table"] == {"job": 20, "deletedrecord": 1}


def test_the_model_takes_what_a_bill_cost_an_environments_invocations_when_known():
    settings = throughput.Settings(latency=0.05, limit=5)
    low = _time_pass(bills=100, ns=100, drain_seconds=10.0, delivered=10)
    low["drain"]["environments"]["invoke_seconds_total"] = 8.0  # 2 environments busy 4 s each of the 10
    rows = [throughput.time_row(low, 2, settings)]
    throughput.model_time_rows(rows, settings)
    assert rows[0]["invoked_seconds_per_bill"] == 0.08
    assert rows[0]["modelled_time_bills_per_second"] == 25.0  # 2 / 0.08


def test_a_run_read_is_an_unfiltered_clicktime_list_or_settings_page_not_a_lookup():
    from ctns.bench.fleet import is_run_read

    assert is_run_read("GET", "/v2/Clients", {"limit": ["100"], "offset": ["0"]})
    assert is_run_read("GET", "/v2/Company", {})
    assert not is_run_read("GET", "/v2/Clients", {"ClientNumber": ["C-1"], "limit": ["100"]})  # a find
    assert not is_run_read("GET", "/v2/Tasks/a1b2c3/Jobs", {})  # one record's links
    assert not is_run_read("POST", "/v2/Jobs", {})
    assert not is_run_read("GET", "/services/rest/record/v1/job/7", {})  # NetSuite


def test_time_levels_are_workers_by_bills_written_at_once():
    assert throughput.parse_levels("2x1, 2X2,5", 2) == ((2, 1), (2, 2), (5, 2))
    assert throughput.Settings().time_levels == ((2, 1), (2, 2), (5, 1))


def test_the_model_writes_k_bills_at_once_and_does_the_rest_one_after_another():
    """At 2 x 1 a bill cost an environment 80 ms: its 50 ms write and 30 ms besides. Writing 2 at once, a bill
    costs 30 + 25 ms; 5 environments writing one at a time do 5 / 80 ms; 8 x 2 would do 145 a second: capped at
    C / L = 100."""
    settings = throughput.Settings(latency=0.05, limit=5)
    rows = []
    for workers, write in ((2, 1), (2, 2), (5, 1), (8, 2)):
        row = _time_pass(bills=100, ns=100, drain_seconds=10.0, delivered=10)
        row["drain"]["environments"]["invoke_seconds_total"] = 8.0
        rows.append(throughput.time_row(row, workers, settings, write))
    throughput.model_time_rows(rows, settings)
    assert [r["in_flight"] for r in rows] == [2, 4, 5, 16]
    assert rows[0]["model_seconds_besides_the_write"] == 0.03
    assert [r["modelled_time_bills_per_second"] for r in rows] == [25.0, 36.36, 62.5, 100.0]
    # the workers' bound counts the K-at-once writes as one call in K: 100 calls, 100 of them writes, K = 2
    assert rows[1]["fraction_of_worker_bound"] == round(10.0 / (2 / (0.05 * 0.5)), 2)


def test_the_headline_level_is_the_one_with_the_most_in_flight_within_c():
    rows = [
        {"workers": 2, "write_concurrency": 1, "in_flight": 2},
        {"workers": 2, "write_concurrency": 2, "in_flight": 4},
        {"workers": 5, "write_concurrency": 1, "in_flight": 5},
        {"workers": 8, "write_concurrency": 1, "in_flight": 8},
    ]
    assert cli._headline_row(rows, 5)["in_flight"] == 5
    assert cli._headline_row(rows, 4)["in_flight"] == 4
    assert cli._headline_row(rows[3:], 5)["in_flight"] == 8  # none within C: the least over it


def test_a_time_level_may_set_the_timesheets_in_progress_at_once():
    assert throughput.parse_levels("5x1x3, 2x2,5", 2) == ((5, 1, 3), (2, 2), (5, 2))
    assert throughput.parse_levels("5x1x3x10,5x1x3x5", 2) == ((5, 1, 3, 10), (5, 1, 3, 5))
    with pytest.raises(ValueError, match="WxKxSxB"):
        throughput.parse_levels("5x1x3x10x2", 2)
    with pytest.raises(ValueError, match="1 to 10"):
        throughput.parse_levels("5x1x3x20", 2)
    with pytest.raises(ValueError, match="whole numbers of at least 1, not '5xa'"):
        throughput.parse_levels("5xa", 2)


def test_the_model_overlaps_sheets_from_a_base_measured_one_sheet_at_a_time():
    """Base 2 x 2 x 1: a bill cost 0.055 s = its write (L / K = 0.025) and 0.03 besides. With S sheets at once a bill
    costs an environment max(L / K, (0.03 + L / K) / S); capped at C / L."""
    settings = throughput.Settings(latency=0.05, limit=5)
    rows = [
        {"workers": 2, "write_concurrency": 2, "sheets_at_once": 1, "in_flight": 4, "invoked_seconds_per_bill": 0.055},
        {"workers": 2, "write_concurrency": 2, "sheets_at_once": 2, "in_flight": 4, "invoked_seconds_per_bill": 0.03},
        {"workers": 5, "write_concurrency": 1, "sheets_at_once": 2, "in_flight": 5, "invoked_seconds_per_bill": 0.06},
    ]
    throughput.model_time_rows(rows, settings)
    assert all(r["model_base_sheets_at_once"] == 1 for r in rows)
    assert rows[0]["modelled_time_bills_per_second"] == round(2 / 0.055, 2)
    assert rows[1]["modelled_time_bills_per_second"] == round(2 / 0.0275, 2)  # (0.03 + 0.025) / 2 > L / K
    assert rows[2]["modelled_fraction_of_netsuite_bound"] == 1.0  # (0.03 + 0.05) / 2 < L / K: the writes bound it


def test_a_time_export_says_how_much_of_c_was_in_flight_and_how_busy_its_environments_were():
    settings = throughput.Settings(latency=0.05, limit=5)
    first = _time_pass(bills=1000, ns=1000, drain_seconds=20.0, delivered=100)
    first["drain"]["netsuite_in_flight_seconds"] = 70.0  # 3.5 requests in flight on average over 20 s
    first["drain"]["environments"]["invoke_seconds_total"] = 80.0  # 5 environments x 20 s, 80 of them invoked
    row = throughput.time_row(first, 5, settings)
    assert row["netsuite_mean_in_flight"] == 3.5
    assert row["environments_busy_share"] == 0.8


@pytest.mark.parametrize(
    ("arguments", "told"),
    [
        (["--time-levels", "5x1x3x20"], "a batch size B is 1 to 10 (SQS receives at most ten), not 20"),
        (["--time-levels", "5xa"], "a level is W, WxK, WxKxS or WxKxSxB in whole numbers of at least 1, not '5xa'"),
        (["--time-entries", "1k"], "--time-entries takes whole numbers of at least 1 separated by commas, not '1k'"),
        (["--levels", "2,x"], "--levels takes whole numbers of at least 1 separated by commas, not '2,x'"),
        (["--time-levels", "0x1"], "a level is W, WxK, WxKxS or WxKxSxB in whole numbers of at least 1, not '0x1'"),
        (
            ["--time-entries", "1000,0"],
            "--time-entries takes whole numbers of at least 1 separated by commas, not '1000,0'",
        ),
        (["--limit", "0"], "--limit and --cold-repeats must be at least 1"),
    ],
)
def test_a_size_or_level_that_is_not_a_whole_number_is_one_line_before_anything_runs(arguments, told, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--only", "exports", "--out", str(tmp_path / "bench.json"), *arguments])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.rstrip().splitlines()[-1] == f"ctns-bench: error: {told}"
    assert "Traceback" not in error
    assert not (tmp_path / "bench.json").exists()
