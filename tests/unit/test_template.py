"""Invariants of template.yaml that cfn-lint does not check, read the way it deploys (translated by
samtranslator through ctns.stack.load)."""

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
from ctsync.runtime import Environment
from ctsync.state.table import BY_KIND, BY_TARGET, PK, SK, TTL_ATTRIBUTE
from ctsync.sync.registry import AVAILABLE, PLANNED

SYNCS = set(AVAILABLE) | set(PLANNED)


@cache
def loaded() -> Stack:
    return stack_module.load()


@cache
def template_text() -> str:
    return stack_module.TEMPLATE.read_text()


@cache
def parameter_specs() -> dict[str, dict[str, Any]]:
    return yaml_parse(template_text())["Parameters"]


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


def role_statements(stack: Stack, function: str) -> list[dict[str, Any]]:
    role = getatt(props(stack, function)["Role"], "Arn")
    statements = []
    for policy in props(stack, role).get("Policies", []):
        statement = policy["PolicyDocument"]["Statement"]
        statements.extend(statement if isinstance(statement, list) else [statement])
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
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- queues ---------------------------------------------------------------------------------------------------


def test_there_is_one_worker_queue_per_sync(stack: Stack) -> None:
    pollers, workers = poller_and_worker(stack)
    assert set(pollers) == SYNCS
    assert set(workers) == SYNCS
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


def test_visibility_timeout_is_at_least_six_times_the_consumers_timeout(stack: Stack) -> None:
    for queue, function in consumer_of(stack).items():
        visibility = int(props(stack, queue).get("VisibilityTimeout", 30))
        timeout = stack.functions[function].timeout
        assert visibility >= 6 * timeout, f"{queue}: VisibilityTimeout {visibility} < 6 x {function} Timeout {timeout}"


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
        assert ref(p["State"]) == "ScheduleState"
        assert ref(p["ScheduleExpressionTimezone"]) == "ScheduleTimezone"
    assert len(set(expressions)) == 4  # each sync has its own


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
    assert set(indexes) == {BY_TARGET, BY_KIND} == {"by_target", "by_kind"}
    # MappingStore.put writes gsi1pk/gsi1sk for the reverse lookup and gsi2pk/gsi2sk for the listing by kind
    assert {k["AttributeName"]: k["KeyType"] for k in indexes[BY_TARGET]["KeySchema"]} == {
        "gsi1pk": "HASH",
        "gsi1sk": "RANGE",
    }
    assert {k["AttributeName"]: k["KeyType"] for k in indexes[BY_KIND]["KeySchema"]} == {
        "gsi2pk": "HASH",
        "gsi2sk": "RANGE",
    }
    for index in indexes.values():
        assert index["Projection"]["ProjectionType"] == "ALL"  # mappings are read whole from the indexes
    declared = {a["AttributeName"] for a in p["AttributeDefinitions"]}
    assert declared == {PK, SK, "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}
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


def test_the_dashboard_shows_every_sync_its_queues_and_its_worker(stack: Stack) -> None:
    fake = with_placeholder_names(stack)
    body = json.loads(fake.resolve(props(stack, "Dashboard")["DashboardBody"]))
    metrics = [metric for widget in body["widgets"] for metric in widget["properties"]["metrics"]]
    synced = {m[m.index("sync") + 1] for m in metrics if m[0] == "ClickTimeNetSuiteSync"}
    queues = {m[3] for m in metrics if m[0] == "AWS/SQS"}
    assert synced == SYNCS
    for name in SYNCS:
        cap = name.capitalize()
        assert {f"{cap}Queue-name", f"{cap}DeadLetterQueue-name"} <= queues
        assert ["AWS/Lambda", "Errors", "FunctionName", f"ctns-local-{name}-worker", {"stat": "Sum"}] in metrics
