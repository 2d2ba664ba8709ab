"""Invariants of template.yaml that cfn-lint does not check, read the way it deploys (language extensions
expanded and translated by samtranslator, through ctns.stack.load)."""

from __future__ import annotations

import inspect
import json
import re
from functools import cache
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from samtranslator.yaml_helper import yaml_parse

from ctns import stack as stack_module
from ctns.stack import Stack
from ctsync.observability import metrics
from ctsync.runtime import Environment
from ctsync.state.table import BY_KIND, BY_TARGET, PK, SK, TTL_ATTRIBUTE
from ctsync.sync import registry

SYNCS = sorted(set(registry.AVAILABLE) | registry.PLANNED)  # the registry's sync names

OUTCOMES = ["Created", "Updated", "Unchanged", "Skipped", "Failed", "Retried", "Deferred"]
ENVIRONMENT = {
    "SYNC_NAME",
    "STATE_TABLE",
    "IDEMPOTENCY_TABLE",
    "WORK_QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
    "CONFIG_PARAMETER",
    "NETSUITE_SECRET_ID",
    "CLICKTIME_SECRET_ID",
    "MAX_RECEIVE_COUNT",
    "RUN_LOG_RETENTION_DAYS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}


@cache
def loaded() -> Stack:
    return stack_module.load()


@cache
def template_text() -> str:
    return stack_module.TEMPLATE.read_text()


@cache
def raw_template() -> dict[str, Any]:
    return yaml_parse(template_text())


def parameter_specs() -> dict[str, dict[str, Any]]:
    return raw_template()["Parameters"]


@cache
def expanded() -> dict[str, Any]:
    """The template after the language extensions, before the SAM transform (outputs live here)."""
    return stack_module.expand(raw_template(), loaded().parameters)


@pytest.fixture(scope="module")
def stack() -> Stack:
    return loaded()


def props(stack: Stack, logical_id: str) -> dict[str, Any]:
    return stack.resources[logical_id].get("Properties", {})


def getatt(value: Any, attribute: str) -> str:
    """The logical id in {"Fn::GetAtt": [id, attribute]}."""
    assert isinstance(value, dict) and "Fn::GetAtt" in value, value
    logical, attr = value["Fn::GetAtt"] if isinstance(value["Fn::GetAtt"], list) else value["Fn::GetAtt"].split(".", 1)
    assert attr == attribute, value
    return logical


def ref(value: Any) -> str:
    assert isinstance(value, dict) and set(value) == {"Ref"}, value
    return value["Ref"]


def consumer_of(stack: Stack) -> dict[str, str]:
    return {m.queue: m.function for m in stack.queue_mappings}


def redrive_target(stack: Stack, queue: str) -> str:
    return getatt(props(stack, queue)["RedrivePolicy"]["deadLetterTargetArn"], "Arn")


def alarmed_queues(stack: Stack) -> dict[str, dict[str, Any]]:
    """Queues with an alarm on visible messages (any message waiting triggers it), by logical id."""
    found: dict[str, dict[str, Any]] = {}
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        if p.get("Namespace") != "AWS/SQS" or p.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        for dimension in p.get("Dimensions", []):
            if dimension["Name"] == "QueueName":
                found[getatt(dimension["Value"], "QueueName")] = p
    return found


def poller_and_worker(stack: Stack) -> tuple[dict[str, str], dict[str, str]]:
    """sync name -> poller logical id, sync name -> worker logical id."""
    scheduled = {s.function for s in stack.schedules}
    consuming = set(consumer_of(stack).values())
    pollers = {stack.functions[f].environment["SYNC_NAME"]: f for f in scheduled}
    workers = {stack.functions[f].environment["SYNC_NAME"]: f for f in consuming}
    return pollers, workers


def role_of(stack: Stack, function: str) -> str:
    return getatt(props(stack, function)["Role"], "Arn")


def role_statements(stack: Stack, function: str) -> list[dict[str, Any]]:
    """Every statement the function's role grants: its inline policies and the template's managed policies."""
    role = props(stack, role_of(stack, function))
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    for arn in role.get("ManagedPolicyArns", []):
        assert isinstance(arn, dict), f"{function}: managed policy {arn} is not one of the template's"
        documents.append(props(stack, ref(arn))["PolicyDocument"])
    statements = []
    for document in documents:
        statements.extend(as_list(document["Statement"]))
    return statements


def with_placeholder_names(stack: Stack) -> Stack:
    """The stack with made-up physical names, so intrinsics resolve without creating anything."""
    return Stack(
        resources=stack.resources,
        parameters=dict(stack.parameters),
        functions=stack.functions,
        schedules=stack.schedules,
        queue_mappings=stack.queue_mappings,
        physical={
            logical: {"Ref": f"{logical}-ref", "Arn": f"arn:{logical}", "QueueName": f"{logical}-name"}
            for logical in stack.resources
            if logical not in stack.functions  # a function's Ref is its FunctionName
        },
        mappings=stack.mappings,
        conditions=stack.conditions,
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def prefix(sync: str) -> str:
    """The logical-ID prefix of a sync (ProjectsQueue, ProjectsWorker, ...), from the template's mapping."""
    return next(key for key, entry in raw_template()["Mappings"]["Syncs"].items() if entry["Name"] == sync)


# -- one definition for every sync ------------------------------------------------------------------------------


def test_the_template_syncs_are_the_registrys_syncs(stack: Stack) -> None:
    raw = raw_template()
    names = sorted(entry["Name"] for entry in raw["Mappings"]["Syncs"].values())
    assert names == SYNCS
    assert sorted(s.input["sync"] for s in stack.schedules) == SYNCS
    # the Resources and Outputs loops iterate over the same syncs as the mapping
    collections = [
        raw[section][key][1]
        for section in ("Resources", "Outputs")
        for key in raw[section]
        if key.startswith("Fn::ForEach::")
    ]
    assert len(collections) == 2
    for collection in collections:
        assert collection == list(raw["Mappings"]["Syncs"])


def test_every_sync_has_its_own_parameters() -> None:
    specs = parameter_specs()
    groups = [
        name
        for group in raw_template()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for name in group["Parameters"]
    ]
    assert sorted(groups) == sorted(specs), "every parameter is in one console group"
    for sync in SYNCS:
        for suffix in ("Schedule", "WorkerMaxConcurrency", "RunIntervalHours"):
            assert prefix(sync) + suffix in specs
    for name in (
        "ConfigParameterName",
        "NetSuiteSecretName",
        "ClickTimeSecretName",
        "ScheduleTimezone",
        "ScheduleState",
        "MaxReceiveCount",
        "LogRetentionDays",
        "RunLogRetentionDays",
        "AlarmEmail",
        "LogLevel",
        "NetSuiteThrottleAlarmThreshold",
    ):
        assert name in specs


def test_a_fifth_sync_is_one_mapping_entry_its_name_in_the_two_loops_and_its_parameters(tmp_path: Any) -> None:
    raw = json.loads(json.dumps(raw_template()))
    raw["Mappings"]["Syncs"]["Widgets"] = {"Name": "widgets", "Summary": "NetSuite widgets to ClickTime widgets"}
    for section in ("Resources", "Outputs"):
        (loop,) = [key for key in raw[section] if key.startswith("Fn::ForEach::")]
        raw[section][loop][1].append("Widgets")
    for suffix in ("Schedule", "ScheduleState", "WorkerMaxConcurrency", "RunIntervalHours"):
        raw["Parameters"][f"Widgets{suffix}"] = raw["Parameters"][f"Projects{suffix}"]
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(raw))  # JSON is YAML
    stack = stack_module.load(path)
    (schedule,) = [s for s in stack.schedules if s.input == {"sync": "widgets"}]
    assert schedule.function == "WidgetsPoller"
    assert consumer_of(stack)["WidgetsQueue"] == "WidgetsWorker"
    assert redrive_target(stack, "WidgetsQueue") == "WidgetsDeadLetterQueue"
    assert "WidgetsDeadLetterQueue" in alarmed_queues(stack)
    for metric in ("NetSuiteThrottled", "SystemicFailure", "RunCompleted"):
        assert "widgets" in custom_alarms(stack, metric)
    assert sqs_grants(stack, "WidgetsWorker")["sqs:ReceiveMessage"] == {"WidgetsQueue"}
    assert stack.functions["WidgetsWorker"].environment["SYNC_NAME"] == "widgets"
    outputs = stack_module.expand(raw, stack.parameters)["Outputs"]
    assert {
        f"Widgets{name}" for name in ("QueueUrl", "DeadLetterQueueUrl", "PollerName", "PollerArn", "ScheduleName")
    } <= set(outputs)


# -- queues ---------------------------------------------------------------------------------------------------


def test_there_is_one_worker_queue_per_sync(stack: Stack) -> None:
    pollers, workers = poller_and_worker(stack)
    assert sorted(pollers) == SYNCS
    assert sorted(workers) == SYNCS
    assert len(stack.queue_mappings) == len(SYNCS)


def test_consumed_queues_redrive_to_a_dead_letter_queue(stack: Stack) -> None:
    for queue in consumer_of(stack):
        p = props(stack, queue)
        assert "RedrivePolicy" in p, f"{queue} has no dead-letter queue"
        target = redrive_target(stack, queue)
        assert stack.resources[target]["Type"] == "AWS::SQS::Queue"
        assert target != queue
        assert ref(p["RedrivePolicy"]["maxReceiveCount"]) == "MaxReceiveCount"
        # a dead-letter queue keeps messages longer than its source, or they expire there before anyone looks
        assert int(props(stack, target)["MessageRetentionPeriod"]) > int(p.get("MessageRetentionPeriod", 345600))


def test_pollers_and_workers_allow_their_own_loops_which_they_bound_themselves(stack: Stack) -> None:
    """A worker puts a record it must wait for back on its own queue, and a poller continues a long run in an
    invocation of itself: with Lambda's default loop detection (Terminate) the 17th round trip is dropped, and a
    NetSuite outage of about 80 minutes would dead-letter every waiting record without its reason (reviewer,
    2026-12-03; botocore carries the trace header's Lineage on every send, moto has no loop detection)."""
    pollers, workers = poller_and_worker(stack)
    assert len(pollers) == len(workers) == 4
    for function in [*pollers.values(), *workers.values()]:
        assert props(stack, function).get("RecursiveLoop") == "Allow", function


def test_visibility_timeout_is_at_least_six_times_the_consumers_timeout(stack: Stack) -> None:
    for queue, function in consumer_of(stack).items():
        visibility = int(props(stack, queue).get("VisibilityTimeout", 30))
        timeout = stack.functions[function].timeout
        assert visibility >= 6 * timeout, f"{queue}: VisibilityTimeout {visibility} < 6 x {function} Timeout {timeout}"


def test_every_work_queue_alarms_when_work_waits_and_nothing_receives_it(stack: Stack) -> None:
    """A work queue nobody consumes (its event source mapping disabled, the worker's role without
    sqs:ReceiveMessage, its concurrency 0) fails nothing and dead-letters nothing, and the run that filled it counts
    RunCompleted: SQS deleted its messages after their retention without any alarm (review of observability,
    2026-12-04). Each work queue alarms when messages stay visible for an hour while none is received."""
    stalled: dict[str, dict[str, Any]] = {}
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        queries = {q["Id"]: q for q in alarm["Properties"].get("Metrics", [])}
        stats = {
            q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"] for q in queries.values() if "MetricStat" in q
        }
        if set(stats) != {"ApproximateNumberOfMessagesVisible", "NumberOfMessagesReceived"}:
            continue
        (queue,) = {getatt(d["Value"], "QueueName") for s in stats.values() for d in s["Metric"]["Dimensions"]}
        stalled[queue] = {"alarm": alarm["Properties"], "queries": queries, "stats": stats}
    assert set(stalled) == set(consumer_of(stack))
    for queue, found in stalled.items():
        alarm, stats = found["alarm"], found["stats"]
        assert stats["ApproximateNumberOfMessagesVisible"]["Stat"] == "Minimum", queue  # visible all the hour
        assert stats["NumberOfMessagesReceived"]["Stat"] == "Sum", queue
        assert {s["Period"] for s in stats.values()} == {3600}, queue
        (returned,) = [q for q in found["queries"].values() if q.get("ReturnData", True)]
        by_id = {q["MetricStat"]["Metric"]["MetricName"]: i for i, q in found["queries"].items() if "MetricStat" in q}
        visible, received = by_id["ApproximateNumberOfMessagesVisible"], by_id["NumberOfMessagesReceived"]
        # no datapoint of received (none at all) is none received
        assert returned["Expression"] == f"IF({visible} > 0 AND FILL({received}, 0) == 0, 1, 0)", queue
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and float(alarm["Threshold"]) == 1
        assert [ref(a) for a in alarm["AlarmActions"]] == ["AlarmTopic"]


def test_every_redrive_dead_letter_queue_has_an_alarm(stack: Stack) -> None:
    alarmed = alarmed_queues(stack)
    for queue in consumer_of(stack):
        dlq = redrive_target(stack, queue)
        assert dlq in alarmed, f"{dlq} has no alarm on ApproximateNumberOfMessagesVisible"
        alarm = alarmed[dlq]
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and float(alarm["Threshold"]) == 0
        assert alarm.get("AlarmActions"), f"the alarm of {dlq} notifies no one"


def test_every_dead_letter_destination_of_any_kind_has_an_alarm(stack: Stack) -> None:
    """Not only SQS redrive targets: a Lambda's DeadLetterConfig and a schedule's DeadLetterConfig too.

    A schedule whose invocation of its poller fails lands its event in the schedule's dead-letter queue; if
    nothing watches that queue, the missed run is silent.
    """
    destinations: dict[str, str] = {}
    for queue in consumer_of(stack):
        destinations[redrive_target(stack, queue)] = f"redrive of {queue}"
    for logical, resource in stack.of_type("AWS::Lambda::Function").items():
        target = resource["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
        if target:
            destinations[getatt(target, "Arn")] = f"DeadLetterConfig of {logical}"
    for logical, resource in stack.of_type("AWS::Scheduler::Schedule").items():
        target = resource["Properties"]["Target"].get("DeadLetterConfig", {}).get("Arn")
        if target:
            destinations[getatt(target, "Arn")] = f"DeadLetterConfig of schedule {logical}"
    alarmed = alarmed_queues(stack)
    unwatched = {queue: why for queue, why in destinations.items() if queue not in alarmed}
    assert not unwatched, f"dead-letter queues without an alarm: {unwatched}"


def test_event_source_mappings_report_item_failures_and_cap_concurrency_by_parameter(stack: Stack) -> None:
    specs = parameter_specs()
    for mapping in stack.queue_mappings:
        assert mapping.report_batch_item_failures, f"{mapping.function} would retry whole batches"
        parameter = ref(mapping.max_concurrency)
        spec = specs[parameter]
        assert spec["Type"] == "Number"
        assert int(spec["MinValue"]) >= 2, f"{parameter}: SQS MaximumConcurrency must be at least 2"
        assert int(spec["Default"]) >= int(spec["MinValue"])
        assert int(spec["MaxValue"]) <= 1000


def test_event_source_mapping_batch_fits_the_worker(stack: Stack) -> None:
    for mapping in stack.queue_mappings:
        resource = next(
            r
            for r in stack.of_type("AWS::Lambda::EventSourceMapping").values()
            if r["Properties"]["FunctionName"] == {"Ref": mapping.function}
        )
        window = int(resource["Properties"].get("MaximumBatchingWindowInSeconds", 0))
        assert 1 <= mapping.batch_size <= 10 or window > 0


# -- schedules --------------------------------------------------------------------------------------------------


def test_four_schedules_one_per_sync_each_expression_a_parameter(stack: Stack) -> None:
    assert len(stack.schedules) == 4
    assert sorted(s.input["sync"] for s in stack.schedules) == sorted(["projects", "tasks", "time", "expenses"])
    specs = parameter_specs()
    expressions = []
    for schedule in stack.schedules:
        assert set(schedule.input) == {"sync"}, schedule.input
        parameter = ref(schedule.expression)
        assert parameter in specs, f"{schedule.logical_id}: expression is not a template parameter"
        assert re.fullmatch(r"(cron|rate)\(.+\)", str(specs[parameter]["Default"]))
        expressions.append(parameter)
        p = props(stack, schedule.logical_id)
        assert stack.resolve(p["State"]) == "ENABLED"
        assert ref(p["ScheduleExpressionTimezone"]) == "ScheduleTimezone"
    assert len(set(expressions)) == 4  # each sync has its own


@pytest.mark.parametrize("state", ["ENABLED", "DISABLED"])
def test_a_sync_paused_alone_has_its_schedule_disabled_and_its_overdue_alarm_notifies_no_one(state: str) -> None:
    """A customer that does not use ClickTime expenses pauses that sync and keeps the others (left item of stop
    39: ScheduleState turned every schedule off or none)."""
    stack = stack_module.load(overrides={"ScheduleState": state, "ExpensesScheduleState": "DISABLED"})
    on = state == "ENABLED"
    states = {s.input["sync"]: stack.resolve(props(stack, s.logical_id)["State"]) for s in stack.schedules}
    assert states == {"projects": state, "tasks": state, "time": state, "expenses": "DISABLED"}
    alarms = custom_alarms(stack, "RunCompleted")
    enabled = {sync: stack.resolve(p["ActionsEnabled"]) for sync, p in alarms.items()}
    assert enabled == {"projects": on, "tasks": on, "time": on, "expenses": False}


def test_every_sync_has_its_own_schedule_state_enabled_by_default() -> None:
    for sync in SYNCS:
        spec = parameter_specs()[f"{prefix(sync)}ScheduleState"]
        assert (spec["Default"], spec["AllowedValues"]) == ("ENABLED", ["ENABLED", "DISABLED"]), sync


def test_pollers_and_workers_get_the_sync_name_of_their_schedule(stack: Stack) -> None:
    consumers = consumer_of(stack)
    for schedule in stack.schedules:
        sync = schedule.input["sync"]
        poller = stack.functions[schedule.function]
        assert poller.environment["SYNC_NAME"] == sync
        queue = ref(poller.environment["WORK_QUEUE_URL"])
        worker = stack.functions[consumers[queue]]
        assert worker.environment["SYNC_NAME"] == sync
        assert poller.logical_id != worker.logical_id


# -- functions ----------------------------------------------------------------------------------------------------


def test_every_function_runs_python_313_with_both_layers(stack: Stack) -> None:
    layers = stack.of_type("AWS::Lambda::LayerVersion")
    assert len(layers) == 2
    for logical, resource in stack.of_type("AWS::Lambda::Function").items():
        p = resource["Properties"]
        assert p["Runtime"] == "python3.13", logical
        refs = [ref(layer) for layer in p.get("Layers", [])]
        assert sorted(refs) == sorted(layers), f"{logical} layers {refs}"
        dirs = [d.as_posix() for d in stack.functions[logical].layer_dirs]
        assert any(d.endswith("layers/deps") for d in dirs) and any(d.endswith("layers/core") for d in dirs)
    for resource in layers.values():
        assert "python3.13" in resource["Properties"]["CompatibleRuntimes"]


def test_every_function_environment_has_what_the_runtime_requires(stack: Stack) -> None:
    required = {name for name, field in Environment.model_fields.items() if field.is_required()}
    assert "SYNC_NAME" in required and "WORK_QUEUE_URL" in required  # the model is what is compared
    for logical, function in stack.functions.items():
        missing = required - set(function.environment)
        assert not missing, f"{logical} lacks {sorted(missing)}"


def test_every_function_environment_validates_as_the_runtime_reads_it(stack: Stack) -> None:
    fake = with_placeholder_names(stack)
    for logical, function in stack.functions.items():
        env = Environment.read({k: str(v) for k, v in fake.resolve(function.environment).items()})
        assert env.SYNC_NAME in SYNCS, logical
        assert env.MAX_RECEIVE_COUNT == int(stack.parameters["MaxReceiveCount"])


def test_worker_environment_points_at_its_own_queue_and_dead_letter_queue(stack: Stack) -> None:
    for queue, function in consumer_of(stack).items():
        env = stack.functions[function].environment
        assert ref(env["WORK_QUEUE_URL"]) == queue
        assert ref(env["DEAD_LETTER_QUEUE_URL"]) == redrive_target(stack, queue)
        # the worker gives up at the same receive count SQS redrives at
        assert env["MAX_RECEIVE_COUNT"] == props(stack, queue)["RedrivePolicy"]["maxReceiveCount"]


def test_every_function_has_a_log_group_with_retention_from_a_parameter(stack: Stack) -> None:
    specs = parameter_specs()
    groups = {
        stack.resolve(p["Properties"]["LogGroupName"]): p["Properties"]
        for p in stack.of_type("AWS::Logs::LogGroup").values()
    }
    for logical, function in stack.functions.items():
        assert "FunctionName" in props(stack, logical), f"{logical}: a generated name cannot have a pre-made log group"
        group = groups.get(f"/aws/lambda/{function.name}")
        assert group is not None, f"{logical} has no log group /aws/lambda/{function.name}"
        parameter = ref(group["RetentionInDays"])
        assert parameter in specs


def test_state_table_shape_matches_the_stores(stack: Stack) -> None:
    p = props(stack, "StateTable")
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert p["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert TTL_ATTRIBUTE == "expires_at"
    assert {k["AttributeName"]: k["KeyType"] for k in p["KeySchema"]} == {PK: "HASH", SK: "RANGE"}
    indexes = {i["IndexName"]: i for i in p["GlobalSecondaryIndexes"]}
    # by_parent (gsi3) lists a parent record's child mappings, e.g. a timesheet's time bills
    assert set(indexes) == {BY_TARGET, BY_KIND, "by_parent"} == {"by_target", "by_kind", "by_parent"}
    keys = {name: {k["AttributeName"]: k["KeyType"] for k in index["KeySchema"]} for name, index in indexes.items()}
    # MappingStore.put writes gsi1pk/gsi1sk for the reverse lookup and gsi2pk/gsi2sk for the listing by kind
    assert keys[BY_TARGET] == {"gsi1pk": "HASH", "gsi1sk": "RANGE"}
    assert keys[BY_KIND] == {"gsi2pk": "HASH", "gsi2sk": "RANGE"}
    assert keys["by_parent"] == {"gsi3pk": "HASH", "gsi3sk": "RANGE"}
    for index in indexes.values():
        assert index["Projection"]["ProjectionType"] == "ALL"  # mappings are read whole from the indexes
    declared = {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]}
    assert declared == {name: "S" for name in (PK, SK, "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")}
    assert stack.resources["StateTable"].get("DeletionPolicy") == "Retain"


def test_idempotency_table_matches_the_powertools_defaults(stack: Stack) -> None:
    defaults = inspect.signature(DynamoDBPersistenceLayer.__init__).parameters
    p = props(stack, "IdempotencyTable")
    assert [k["AttributeName"] for k in p["KeySchema"] if k["KeyType"] == "HASH"] == [defaults["key_attr"].default]
    assert p["TimeToLiveSpecification"] == {"AttributeName": defaults["expiry_attr"].default, "Enabled": True}


# -- secrets ------------------------------------------------------------------------------------------------------


def test_no_secret_value_in_the_template(stack: Stack) -> None:
    text = template_text()
    assert "SecretString" not in text
    assert not re.search(r"\b(token_secret|api_token|consumer_secret|consumer_key|token_id)\b[\"']?\s*[:=]", text)
    assert not stack.of_type("AWS::SecretsManager::Secret")  # secrets are created outside the stack
    for name, spec in parameter_specs().items():
        assert not spec.get("NoEcho"), f"{name}: a secret passed as a parameter ends up in stack history"


def test_secrets_are_referenced_by_name_parameters(stack: Stack) -> None:
    specs = parameter_specs()
    assert specs["NetSuiteSecretName"]["Type"] == "String"
    assert specs["ClickTimeSecretName"]["Type"] == "String"
    for logical, function in stack.functions.items():
        assert function.environment["NETSUITE_SECRET_ID"] == {"Ref": "NetSuiteSecretName"}, logical
        assert function.environment["CLICKTIME_SECRET_ID"] == {"Ref": "ClickTimeSecretName"}, logical
        assert function.environment["CONFIG_PARAMETER"] == {"Ref": "ConfigParameterName"}, logical


SECRET_ARNS = {
    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${NetSuiteSecretName}-??????",
    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${ClickTimeSecretName}-??????",
}


def test_get_secret_value_is_granted_only_on_the_two_secrets(stack: Stack) -> None:
    for logical, role in stack.of_type("AWS::IAM::Role").items():
        assert not any("SecretsManager" in str(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])), logical
        for policy in role["Properties"].get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                actions = as_list(statement.get("Action", []))
                assert "*" not in actions, f"{logical}: Action *"
                secret_actions = [a for a in actions if a.lower().startswith("secretsmanager:")]
                if not secret_actions:
                    continue
                assert secret_actions == actions == ["secretsmanager:GetSecretValue"], f"{logical}: {actions}"
                resources = as_list(statement["Resource"])
                assert {r.get("Fn::Sub") for r in resources if isinstance(r, dict)} <= SECRET_ARNS, (
                    f"{logical}: {resources}"
                )
                assert all(isinstance(r, dict) for r in resources), f"{logical}: literal secret resource {resources}"


def test_every_function_can_read_both_secrets_and_the_config(stack: Stack) -> None:
    for logical in stack.functions:
        statements = role_statements(stack, logical)
        granted = {
            r.get("Fn::Sub") if isinstance(r, dict) else r
            for s in statements
            if s.get("Effect") == "Allow" and "secretsmanager:GetSecretValue" in as_list(s["Action"])
            for r in as_list(s["Resource"])
        }
        assert granted == SECRET_ARNS, logical
        config = {
            r.get("Fn::Sub") if isinstance(r, dict) else r
            for s in statements
            if "ssm:GetParameter" in as_list(s.get("Action", []))
            for r in as_list(s["Resource"])
        }
        assert config == {
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ConfigParameterName}"
        }, logical


# -- other grants the code relies on ------------------------------------------------------------------------------


def _sqs_send_targets(stack: Stack, function: str) -> set[str]:
    targets = set()
    for s in role_statements(stack, function):
        if any(a.startswith("sqs:SendMessage") for a in as_list(s.get("Action", []))):
            for r in as_list(s["Resource"]):
                if isinstance(r, dict) and "Fn::Sub" in r and isinstance(r["Fn::Sub"], list):
                    targets.add(getatt(r["Fn::Sub"][1]["queueName"], "QueueName"))
                elif isinstance(r, dict) and "Fn::GetAtt" in r:
                    targets.add(getatt(r, "Arn"))
    return targets


def test_pollers_can_send_to_their_work_queue_and_workers_to_their_dead_letter_queue(stack: Stack) -> None:
    for logical, function in stack.functions.items():
        env = function.environment
        is_worker = logical in consumer_of(stack).values()
        needed = ref(env["DEAD_LETTER_QUEUE_URL"]) if is_worker else ref(env["WORK_QUEUE_URL"])
        assert needed in _sqs_send_targets(stack, logical), f"{logical} cannot send to {needed}"


def test_pollers_may_invoke_themselves_to_continue_a_run(stack: Stack) -> None:
    pollers = {s.function for s in stack.schedules}
    for logical in pollers:
        name = stack.functions[logical].name
        invokable = {
            stack.resolve(r)
            for s in role_statements(stack, logical)
            if "lambda:InvokeFunction" in as_list(s.get("Action", []))
            for r in as_list(s["Resource"])
        }
        assert f"arn:aws:lambda:{stack_module.REGION}:{stack_module.ACCOUNT}:function:{name}" in invokable, logical


def test_function_environments_are_exactly_what_the_core_reads_and_name_their_own_sync(stack: Stack) -> None:
    pollers, workers = poller_and_worker(stack)
    for sync in SYNCS:
        for logical in (pollers[sync], workers[sync]):
            env = stack.functions[logical].environment
            assert set(env) == ENVIRONMENT, logical
            assert env["SYNC_NAME"] == sync
            assert ref(env["WORK_QUEUE_URL"]) == f"{prefix(sync)}Queue"
            assert ref(env["DEAD_LETTER_QUEUE_URL"]) == f"{prefix(sync)}DeadLetterQueue"
            assert env["POWERTOOLS_METRICS_NAMESPACE"] == metrics.namespace
            assert env["POWERTOOLS_SERVICE_NAME"] == metrics.service


def test_schedule_names_are_unique_per_stack(stack: Stack) -> None:
    """Scheduler names are unique per account and region: a second stack (a sandbox next to production) must not
    collide with the first."""
    fake = with_placeholder_names(stack)
    names = {fake.resolve(props(stack, s.logical_id)["Name"]) for s in stack.schedules}
    assert names == {f"{stack_module.STACK_NAME}-{sync}" for sync in SYNCS}


# -- alarms: they reach someone ------------------------------------------------------------------------------------


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(stack: Stack) -> None:
    """CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key alias/aws/sns."""
    key_id = ref(props(stack, "AlarmTopic")["KmsMasterKeyId"])
    key = stack.resources[key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = statements_of(key["Properties"]["KeyPolicy"])
    fake = with_placeholder_names(stack)
    admin = [s for s in statements if s.get("Principal", {}).get("AWS")]
    assert [fake.resolve(s["Principal"]["AWS"]) for s in admin] == [f"arn:aws:iam::{stack_module.ACCOUNT}:root"]
    assert admin[0]["Effect"] == "Allow" and admin[0]["Action"] == "kms:*"
    cloudwatch = [s for s in statements if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]
    assert len(cloudwatch) == 1 and cloudwatch[0]["Effect"] == "Allow"
    assert sorted(as_list(cloudwatch[0]["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert not any(s.get("Principal") == "*" or s.get("Principal", {}).get("AWS") == "*" for s in statements)


def test_cloudwatch_alarms_of_this_account_may_publish_to_the_topic(stack: Stack) -> None:
    policies = [p["Properties"] for p in stack.of_type("AWS::SNS::TopicPolicy").values()]
    assert [[ref(t) for t in p["Topics"]] for p in policies] == [["AlarmTopic"]]
    statements = statements_of(policies[0]["PolicyDocument"])
    publish = [s for s in statements if s["Effect"] == "Allow"]
    assert len(publish) == 1
    assert publish[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert as_list(publish[0]["Action"]) == ["sns:Publish"]
    assert ref(publish[0]["Resource"]) == "AlarmTopic"
    assert publish[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_every_alarm_notifies_the_topic_and_the_email_subscription_is_optional(stack: Stack) -> None:
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    for logical, alarm in alarms.items():
        assert [ref(a) for a in alarm["Properties"]["AlarmActions"]] == ["AlarmTopic"], logical
    subscription = stack.resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert ref(subscription["Properties"]["Endpoint"]) == "AlarmEmail"
    assert parameter_specs()["AlarmEmail"]["Default"] == ""


def custom_alarms(stack: Stack, metric: str) -> dict[str, dict[str, Any]]:
    """sync name -> properties of the alarm on a custom metric of the core."""
    found = {}
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        if p.get("Namespace") == metrics.namespace and p.get("MetricName") == metric:
            dimensions = {d["Name"]: d["Value"] for d in p["Dimensions"]}
            # the dimensions Powertools EMF writes: service (Metrics(service=...)) and sync (bind_sync)
            assert set(dimensions) == {"service", "sync"} and dimensions["service"] == metrics.service
            assert dimensions["sync"] not in found
            found[dimensions["sync"]] = p
    return found


def test_every_sync_alarms_on_worker_errors(stack: Stack) -> None:
    _, workers = poller_and_worker(stack)
    alarmed = set()
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        if p.get("Namespace") == "AWS/Lambda" and p.get("MetricName") == "Errors":
            assert p["ComparisonOperator"] == "GreaterThanThreshold" and float(p["Threshold"]) == 0
            alarmed.add(ref(p["Dimensions"][0]["Value"]))
    assert alarmed == set(workers.values())


def test_every_sync_alarms_on_sustained_netsuite_throttling(stack: Stack) -> None:
    alarms = custom_alarms(stack, "NetSuiteThrottled")
    assert sorted(alarms) == SYNCS
    for p in alarms.values():
        assert (p["Statistic"], int(p["Period"])) == ("Sum", 300)
        assert int(p["EvaluationPeriods"]) == int(p["DatapointsToAlarm"]) == 3  # 15 minutes in a row
        assert p["ComparisonOperator"] == "GreaterThanThreshold"
        assert ref(p["Threshold"]) == "NetSuiteThrottleAlarmThreshold"
        assert p["TreatMissingData"] == "notBreaching"


def test_every_sync_alarms_on_a_systemic_failure(stack: Stack) -> None:
    alarms = custom_alarms(stack, "SystemicFailure")
    assert sorted(alarms) == SYNCS
    for p in alarms.values():
        assert (p["Statistic"], int(p["Period"]), int(p["EvaluationPeriods"])) == ("Sum", 300, 1)
        assert p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and float(p["Threshold"]) == 1
        assert p["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("state", ["ENABLED", "DISABLED"])
def test_every_sync_alarms_when_no_run_completed_in_its_interval_plus_two_hours(state: str) -> None:
    stack = stack_module.load(overrides={"ScheduleState": state})
    alarms = custom_alarms(stack, "RunCompleted")
    assert sorted(alarms) == SYNCS
    specs = parameter_specs()
    for sync, p in alarms.items():
        interval = specs[f"{prefix(sync)}RunIntervalHours"]
        assert int(interval["Default"]) == 24  # the default schedules are daily
        assert (p["Statistic"], int(p["Period"])) == ("Sum", 3600)
        assert int(p["EvaluationPeriods"]) == int(p["DatapointsToAlarm"]) == 24 + 2
        assert p["ComparisonOperator"] == "LessThanThreshold" and float(p["Threshold"]) == 1
        assert p["TreatMissingData"] == "breaching"  # no datapoint at all is what it is there to catch
        # a stack deployed with its schedules disabled (to configure first) does not page anyone
        assert stack.resolve(p["ActionsEnabled"]) is (state == "ENABLED")


def test_every_allowed_run_interval_gives_an_alarm_window_cloudwatch_accepts() -> None:
    """Each allowed interval maps to interval + 2 hourly periods, within CloudWatch's 7-day evaluation range."""
    window = raw_template()["Mappings"]["RunOverdueAfter"]
    for sync in SYNCS:
        spec = parameter_specs()[f"{prefix(sync)}RunIntervalHours"]
        assert sorted(spec["AllowedValues"], key=int) == sorted(window, key=int)
    for interval, entry in window.items():
        assert entry["Hours"] == int(interval) + 2
        assert entry["Hours"] * 3600 <= 7 * 24 * 3600
    stack = stack_module.load(overrides={"ExpensesRunIntervalHours": "144"})
    assert custom_alarms(stack, "RunCompleted")["expenses"]["EvaluationPeriods"] == 146


# -- least privilege ------------------------------------------------------------------------------------------------


def own_queues(stack: Stack, function: str) -> set[str]:
    """The queues a function has business with: its event source, the queues its environment names, its
    function-level dead-letter queue."""
    env = stack.functions[function].environment
    queues = {ref(env["WORK_QUEUE_URL"]), ref(env["DEAD_LETTER_QUEUE_URL"])}
    target = props(stack, function).get("DeadLetterConfig", {}).get("TargetArn")
    if target:
        queues.add(getatt(target, "Arn"))
    return queues


def sqs_grants(stack: Stack, function: str) -> dict[str, set[str]]:
    """SQS action -> logical ids of the queues it is granted on."""
    grants: dict[str, set[str]] = {}
    for s in role_statements(stack, function):
        actions = [a for a in as_list(s.get("Action", [])) if a.lower().startswith("sqs:")]
        if not actions:
            continue
        assert s["Effect"] == "Allow"
        for resource in as_list(s["Resource"]):
            queue = getatt(resource, "Arn")  # a queue of the template, never a wildcard or a literal ARN
            assert stack.resources[queue]["Type"] == "AWS::SQS::Queue"
            for action in actions:
                grants.setdefault(action, set()).add(queue)
    return grants


def test_every_function_has_its_own_role_without_aws_managed_policies(stack: Stack) -> None:
    """SAM's SQS event source would attach AWSLambdaSQSQueueExecutionRole: every queue of the account."""
    roles = [role_of(stack, logical) for logical in stack.functions]
    assert len(set(roles)) == len(roles)
    for logical in stack.functions:
        role = props(stack, role_of(stack, logical))
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
        for arn in role.get("ManagedPolicyArns", []):
            assert stack.resources[ref(arn)]["Type"] == "AWS::IAM::ManagedPolicy", f"{logical}: {arn}"
    for logical, role in stack.of_type("AWS::IAM::Role").items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert not (isinstance(arn, str) and ":iam::aws:policy/" in arn), f"{logical} has AWS managed {arn}"


def test_no_wildcard_actions_and_no_wildcard_resources_but_x_ray(stack: Stack) -> None:
    for logical in stack.functions:
        for s in role_statements(stack, logical):
            assert s["Effect"] == "Allow"
            for action in as_list(s["Action"]):
                assert "*" not in action, f"{logical}: {action}"
            if "*" in as_list(s["Resource"]):
                assert set(as_list(s["Action"])) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, logical
            assert not [a for a in as_list(s["Action"]) if a.startswith("kms:")], f"{logical} needs no KMS key"


def test_each_function_reaches_only_its_own_queues(stack: Stack) -> None:
    pollers, workers = poller_and_worker(stack)
    for sync in SYNCS:
        queue, dead_letters = f"{prefix(sync)}Queue", f"{prefix(sync)}DeadLetterQueue"
        assert sqs_grants(stack, workers[sync]) == {
            "sqs:ReceiveMessage": {queue},
            "sqs:DeleteMessage": {queue},
            "sqs:GetQueueAttributes": {queue},
            "sqs:ChangeMessageVisibility": {queue},
            "sqs:SendMessage": {queue, dead_letters},  # deferred messages go back; failures to the DLQ
        }
        # the poller fills its queue; Lambda puts its failed asynchronous invocations in PollerFailureQueue
        assert sqs_grants(stack, pollers[sync]) == {"sqs:SendMessage": {queue, "PollerFailureQueue"}}
        for function in (pollers[sync], workers[sync]):
            granted = {q for queues in sqs_grants(stack, function).values() for q in queues}
            assert granted <= own_queues(stack, function), function


def test_each_function_writes_only_its_own_log_group_and_the_tables_it_uses(stack: Stack) -> None:
    fake = with_placeholder_names(stack)
    pollers, workers = poller_and_worker(stack)
    for logical in stack.functions:
        statements = role_statements(stack, logical)
        logs = [
            r
            for s in statements
            if any(a.startswith("logs:") for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])
        ]
        (group,) = [getatt(r, "Arn") for r in logs]
        assert fake.resolve(props(stack, group)["LogGroupName"]) == f"/aws/lambda/{stack.functions[logical].name}"
        tables = {
            r["Fn::GetAtt"][0] if "Fn::GetAtt" in r else r["Fn::Sub"].split(".", 1)[0].lstrip("${")
            for s in statements
            if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])
        }
        expected = {"StateTable", "IdempotencyTable"} if logical in workers.values() else {"StateTable"}
        assert tables == expected, logical
    assert set(pollers.values()) | set(workers.values()) == set(stack.functions)


# What the code calls: the state store (`ctsync.state`: items, Query on the table and its indexes, batch reads and
# writes; TransactWriteItems is authorised by the per-item actions it carries, puts and updates, no condition
# checks) and Powertools' idempotency persistence layer (get, put, update, delete of one item; the table has no
# index). Scan, DescribeTable and ConditionCheckItem were granted and never used (reviewer, 2026-12-03).
STATE_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
}
IDEMPOTENCY_TABLE_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}


def test_each_function_may_make_only_the_dynamodb_calls_the_code_makes(stack: Stack) -> None:
    pollers, workers = poller_and_worker(stack)
    for logical in stack.functions:
        granted: dict[str, set[str]] = {}
        for statement in role_statements(stack, logical):
            actions = {a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")}
            for resource in as_list(statement["Resource"]) if actions else []:
                table = resource["Fn::GetAtt"][0] if "Fn::GetAtt" in resource else resource["Fn::Sub"]
                granted.setdefault(str(table), set()).update(actions)
        expected = {"StateTable": STATE_TABLE_ACTIONS, "${StateTable.Arn}/index/*": STATE_TABLE_ACTIONS}
        if logical in workers.values():
            expected["IdempotencyTable"] = IDEMPOTENCY_TABLE_ACTIONS
        assert granted == expected, logical
    assert STATE_TABLE_ACTIONS.isdisjoint({"dynamodb:Scan", "dynamodb:DescribeTable"})
    assert pollers


def test_idempotency_layer_calls_only_what_its_table_grants() -> None:
    """Powertools' DynamoDB persistence layer, read from the installed package: the calls its table must allow."""
    source = inspect.getsource(DynamoDBPersistenceLayer)
    calls = {
        f"dynamodb:{''.join(w.capitalize() for w in m.split('_'))}" for m in re.findall(r"\.client\.(\w+)\(", source)
    }
    assert calls and calls <= IDEMPOTENCY_TABLE_ACTIONS, calls


def test_every_function_traces_with_x_ray(stack: Stack) -> None:
    for logical, resource in stack.of_type("AWS::Lambda::Function").items():
        assert resource["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical
        actions = {a for s in role_statements(stack, logical) for a in as_list(s["Action"])}
        assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= actions


# -- encryption and TLS ------------------------------------------------------------------------------------------


def test_queues_tables_and_topic_are_encrypted_at_rest(stack: Stack) -> None:
    for logical, queue in stack.of_type("AWS::SQS::Queue").items():
        p = queue.get("Properties", {})
        assert p.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in p, logical
    for logical, table in stack.of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, logical
    for logical, topic in stack.of_type("AWS::SNS::Topic").items():
        assert stack.resources[ref(topic["Properties"]["KmsMasterKeyId"])]["Type"] == "AWS::KMS::Key", logical


def tls_denied(document: dict[str, Any], action: str) -> set[str]:
    """Resources on which the policy denies `action` (every request, with sqs:*) when it does not come over TLS."""
    denied = set()
    for s in statements_of(document):
        insecure = s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        if s["Effect"] == "Deny" and s["Principal"] == "*" and insecure and as_list(s["Action"]) == [action]:
            for resource in as_list(s["Resource"]):
                denied.add(getatt(resource, "Arn") if "Fn::GetAtt" in resource else ref(resource))
    return denied


def test_queues_and_topic_refuse_requests_without_tls(stack: Stack) -> None:
    covered = set()
    for policy in stack.of_type("AWS::SQS::QueuePolicy").values():
        p = policy["Properties"]
        denied = tls_denied(p["PolicyDocument"], "sqs:*")
        assert {ref(q) for q in p["Queues"]} == denied
        covered |= denied
    assert covered == set(stack.of_type("AWS::SQS::Queue"))
    (topic_policy,) = stack.of_type("AWS::SNS::TopicPolicy").values()
    assert tls_denied(topic_policy["Properties"]["PolicyDocument"], "sns:Publish") == {"AlarmTopic"}


def checkov_skips(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "checkov" and isinstance(value, dict):
                found.extend((path, skip) for skip in value.get("skip", []))
            else:
                found.extend(checkov_skips(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(checkov_skips(item, f"{path}/{index}"))
    return found


def test_every_skipped_checkov_check_says_why() -> None:
    skips = checkov_skips(raw_template()["Resources"])
    assert skips, "the template's skips were not found"
    for path, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), path
        assert len(skip.get("comment", "").split()) >= 8, f"{path}: {skip['id']} needs a reason"


# -- what the operators see -------------------------------------------------------------------------------------------


def dashboard_body(stack: Stack) -> dict[str, Any]:
    (logical,) = stack.of_type("AWS::CloudWatch::Dashboard")
    return json.loads(with_placeholder_names(stack).resolve(props(stack, logical)["DashboardBody"]))


def searches(body: dict[str, Any]) -> list[str]:
    return [
        m["expression"]
        for w in body["widgets"]
        for line in w["properties"].get("metrics", [])
        for m in line
        if isinstance(m, dict) and "expression" in m
    ]


def test_the_dashboard_is_written_as_yaml_not_one_json_line() -> None:
    (dashboard,) = [
        r
        for r in raw_template()["Resources"].values()
        if isinstance(r, dict) and r.get("Type") == "AWS::CloudWatch::Dashboard"
    ]
    assert isinstance(dashboard["Properties"]["DashboardBody"]["Fn::ToJsonString"]["widgets"], list)
    assert max(len(line) for line in template_text().splitlines()) < 300


def test_the_dashboard_shows_runs_outcomes_throttling_and_latency_of_every_sync(stack: Stack) -> None:
    """Custom metrics are found by SEARCH over the namespace and its service/sync dimensions, so every sync, a
    new one too, gets its own line."""
    expressions = searches(dashboard_body(stack))
    schema = "{" + metrics.namespace + ',service,sync} service="' + metrics.service + '"'
    for expression in expressions:
        assert re.match(rf"SEARCH\('{re.escape(schema)} \(?MetricName=", expression), expression
    named = {name for expression in expressions for name in re.findall(r'MetricName="(\w+)"', expression)}
    assert named == {"RunCompleted", "NetSuiteThrottled", "NetSuiteLatency", "SystemicFailure", *OUTCOMES}
    latency = [e for e in expressions if '"NetSuiteLatency"' in e]
    assert sorted(e.rsplit(",", 2)[1].strip(" '") for e in latency) == ["Average", "p90"]


def test_the_dashboard_shows_every_queue_dead_letter_queue_and_worker(stack: Stack) -> None:
    body = dashboard_body(stack)
    lines = [line for w in body["widgets"] for line in w["properties"].get("metrics", []) if isinstance(line[0], str)]
    queues = {line[3] for line in lines if line[:2] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible"]}
    assert queues == {f"{logical}-name" for logical in stack.of_type("AWS::SQS::Queue")}
    errors = {line[3] for line in lines if line[:2] == ["AWS/Lambda", "Errors"]}
    _, workers = poller_and_worker(stack)
    assert errors == {stack.functions[w].name for w in workers.values()}


def test_the_dashboard_counts_failures_by_cause_from_every_worker_log_group(stack: Stack) -> None:
    (widget,) = [w for w in dashboard_body(stack)["widgets"] if w["type"] == "log"]
    query = widget["properties"]["query"]
    sources = re.findall(r"SOURCE '([^']+)'", query)
    _, workers = poller_and_worker(stack)
    assert sorted(sources) == sorted(f"{prefix(sync)}WorkerLogGroup-ref" for sync in workers)
    assert 'filter level = "ERROR"' in query
    assert re.search(r"stats count\(\*\).* by sync, failure_kind, cause_key", query)


def saved_queries(stack: Stack) -> dict[str, dict[str, Any]]:
    fake = with_placeholder_names(stack)
    return {
        fake.resolve(q["Properties"]["Name"]): q["Properties"]
        for q in stack.of_type("AWS::Logs::QueryDefinition").values()
    }


def test_saved_queries_cover_every_log_group_of_the_stack(stack: Stack) -> None:
    queries = saved_queries(stack)
    assert len(queries) == 2
    groups = set(stack.of_type("AWS::Logs::LogGroup"))
    for name, query in queries.items():
        assert name.startswith(f"{stack_module.STACK_NAME}/")  # a folder per stack in the console
        assert {ref(g) for g in query["LogGroupNames"]} == groups, name


def test_the_saved_query_finds_a_record_by_either_systems_id(stack: Stack) -> None:
    (text,) = [q["QueryString"] for name, q in saved_queries(stack).items() if "ID" in name]
    (condition,) = [line for line in text.splitlines() if line.startswith("| filter")]
    compared = re.findall(r"(\w+) = \"([^\"]+)\"", condition)
    assert sorted(field for field, _ in compared) == ["clicktime_id", "netsuite_id", "source_id", "target_id"]
    assert {placeholder for _, placeholder in compared} == {"REPLACE_WITH_ID"}
    assert "REPLACE_WITH_ID" in text.splitlines()[0]  # the first line tells the operator what to edit


def test_the_saved_query_lists_the_failures_of_the_last_run(stack: Stack) -> None:
    (text,) = [q["QueryString"] for name, q in saved_queries(stack).items() if "last run" in name]
    assert '| filter level = "ERROR"' in text
    assert "| sort @timestamp desc" in text
    (fields,) = [line for line in text.splitlines() if line.startswith("fields")]
    for field in ("sync", "run_id", "failure_kind", "cause_key", "failure_reason"):
        assert re.search(rf"\b{field}\b", fields), field


def test_outputs_let_an_operator_find_every_syncs_resources() -> None:
    outputs = expanded()["Outputs"]
    assert ref(outputs["StateTableName"]["Value"]) == "StateTable"
    assert ref(outputs["AlarmTopicArn"]["Value"]) == "AlarmTopic"
    assert "dashboards:name=${AWS::StackName}-sync" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    assert ref(outputs["PollerFailureQueueUrl"]["Value"]) == "PollerFailureQueue"
    stack = loaded()
    fake = with_placeholder_names(stack)
    for sync in SYNCS:
        p = prefix(sync)
        assert ref(outputs[f"{p}QueueUrl"]["Value"]) == f"{p}Queue"
        assert ref(outputs[f"{p}DeadLetterQueueUrl"]["Value"]) == f"{p}DeadLetterQueue"
        assert ref(outputs[f"{p}PollerName"]["Value"]) == f"{p}Poller"
        assert getatt(outputs[f"{p}PollerArn"]["Value"], "Arn") == f"{p}Poller"
        schedule = next(s for s in stack.schedules if s.input["sync"] == sync)
        assert fake.resolve(outputs[f"{p}ScheduleName"]["Value"]) == fake.resolve(
            props(stack, schedule.logical_id)["Name"]
        )
    for output in outputs.values():
        assert isinstance(output.get("Description", ""), str)  # CloudFormation takes no intrinsic there


# Zones a customer is likely to set ScheduleTimezone to, with their daylight-saving changes (US: 02:00 skipped and
# 01:00-01:59 twice; EU: 01:00 UTC, i.e. 01:00-03:59 local from London to Helsinki; Australia: 02:00-02:59 skipped,
# 02:00-02:59 twice).
DST_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Australia/Sydney",
)


@pytest.mark.parametrize("zone", DST_ZONES)
def test_every_default_schedule_falls_once_on_every_day_of_a_zone_with_daylight_saving(zone: str) -> None:
    """EventBridge Scheduler skips a cron() time that does not exist on a spring-forward day (a missed night and its
    overdue alarm) and the hour repeated on a fall-back day could run twice: the defaults avoid both."""
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    for name, spec in parameter_specs().items():
        if not name.endswith("Schedule"):
            continue
        minute, hour, *_ = re.fullmatch(r"cron\((.+)\)", spec["Default"]).group(1).split()  # type: ignore[union-attr]
        for n in range(731):  # 2026 and 2027: each zone's changes of two years
            day = date(2026, 1, 1) + timedelta(days=n)
            local = datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=tz)
            there_and_back = local.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
            assert there_and_back == local.replace(tzinfo=None), f"{name} {spec['Default']}: no {local} in {zone}"
            assert local.utcoffset() == local.replace(fold=1).utcoffset(), f"{name}: {local} comes twice in {zone}"


def test_the_schedule_time_zone_and_the_run_intervals_say_what_they_must_avoid() -> None:
    specs = parameter_specs()
    assert "daylight" in specs["ScheduleTimezone"]["Description"]
    for sync in SYNCS:
        description = specs[f"{prefix(sync)}RunIntervalHours"]["Description"]
        assert "longest gap" in description and "72" in description


@pytest.mark.parametrize("name", ["NetSuiteSecretName", "ClickTimeSecretName"])
def test_a_secret_is_given_by_name_not_by_arn(name: str) -> None:
    """The roles grant `secret:<name>-??????`: an ARN given here deployed, and every read was denied (template/IAM
    review, 2026-12-03)."""
    spec = parameter_specs()[name]
    pattern = re.compile(spec["AllowedPattern"])
    assert pattern.fullmatch(spec["Default"]) and pattern.fullmatch("acme/prod/netsuite-tba_2")
    assert not pattern.fullmatch("arn:aws:secretsmanager:us-east-1:123456789012:secret:ctns/netsuite-AbCdEf")


def test_every_alarm_has_a_runbook_section(stack: Stack) -> None:
    """The alarm's name is what reaches the operator (SNS); docs/runbook.md has a section under that name, per sync
    as `<Sync>…`, saying what it means, how to find the cause and what fixes it."""
    runbook = (stack_module.TEMPLATE.parent / "docs" / "runbook.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## `([^`]+)`", runbook, flags=re.MULTILINE))
    syncs = [name.capitalize() for name in registry.SYNC_NAMES]
    missing = []
    for logical in stack.of_type("AWS::CloudWatch::Alarm"):
        sync = next((s for s in syncs if logical.startswith(s)), None)
        named = f"<Sync>{logical[len(sync) :]}" if sync else logical
        if named not in headings:
            missing.append(named)
    assert missing == []


def test_trace_searches_logs_no_further_back_than_the_longest_retention_the_template_allows():
    from ctns.commands.trace import MAX_LOG_DAYS

    assert MAX_LOG_DAYS == max(raw_template()["Parameters"]["LogRetentionDays"]["AllowedValues"])


SCHEDULES = [name for name in ("ProjectsSchedule", "TasksSchedule", "TimeSchedule", "ExpensesSchedule")]


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize(
    ("expression", "allowed"),
    [
        ("cron(0 5 * * ? *)", True),
        ("cron(30 4 ? * MON-FRI *)", True),
        ("cron(0 5,17 * * ? *)", True),
        ("rate(1 day)", True),
        ("rate(12 hours)", True),
        ("rate(30 minutes)", True),
        ("cron(0 5 * * *)", False),  # five fields, as crontab has: EventBridge Scheduler needs six
        ("0 5 * * ? *", False),
        ("rate(1 days)", False),
        ("rate(2 day)", False),
        ("rate(0 hours)", False),
        ("at(2026-12-05T05:00:00)", False),  # once only: a sync would run one night
        ("cron(0 5 * * ? *) ", False),
    ],
)
def test_a_schedule_parameter_refuses_at_deploy_what_eventbridge_scheduler_would_refuse_mid_deploy(
    name, expression, allowed
):
    """A schedule EventBridge Scheduler cannot read failed the stack's update halfway (its other resources changed
    first, then rolled back); the parameter's pattern refuses it before anything changes, naming the form it wants
    (review of the CLI, 2026-12-04)."""
    spec = parameter_specs()[name]
    assert bool(re.fullmatch(spec["AllowedPattern"], expression)) is allowed
    assert re.fullmatch(spec["AllowedPattern"], spec["Default"]) and "six fields" in spec["ConstraintDescription"]


@pytest.mark.parametrize(
    ("zone", "allowed"),
    [("UTC", True), ("America/New_York", True), ("America/Argentina/Buenos_Aires", True), ("Etc/GMT+5", True)]
    + [("America/New York", False), ("+02:00", False), ("", False)],
)
def test_the_schedule_zone_parameter_refuses_what_is_no_zone_name(zone, allowed):
    assert bool(re.fullmatch(parameter_specs()["ScheduleTimezone"]["AllowedPattern"], zone)) is allowed
