"""The stack's AWS resources, created from the template on an AWS endpoint.

By default the endpoint is moto, in-process; with `AWS_ENDPOINT_URL` set (a moto server, say) that endpoint
is used instead. Queues, tables, the config parameter and the secrets are created the way the template
declares them, so the functions find exactly what they would find deployed.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from ctns.stack import REGION, STACK_NAME, Stack

_moto_lock = threading.RLock()


@contextmanager
def atomic_moto() -> Iterator[None]:
    """Make in-process moto handle one request at a time.

    Each real DynamoDB or SQS request is atomic (an UpdateItem ADD never loses a concurrent increment); moto's
    in-memory backends are not thread-safe, and the runner's concurrent workers share them. Serialising the
    requests restores the guarantee the code relies on; requests are about a millisecond each.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def one_at_a_time(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with _moto_lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = one_at_a_time  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]


class LocalAws:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._mock: Any = None

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        if not os.environ.get("AWS_ENDPOINT_URL"):
            from moto import mock_aws  # only the runner needs moto; the functions never import it

            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                os.environ[key] = "local-moto"
            self._mock = mock_aws()
            self._mock.start()
            self._atomic = atomic_moto()
            self._atomic.__enter__()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.create_resources()

    def stop(self) -> None:
        if self._mock is not None:
            self._atomic.__exit__(None, None, None)
            self._mock.stop()
            self._mock = None

    @property
    def in_process(self) -> bool:
        return self._mock is not None

    # -- resources ----------------------------------------------------------------------------------
    def create_resources(self) -> None:
        self._create_tables()
        self._create_queues()

    def _create_tables(self) -> None:
        for logical_id, resource in self.stack.of_type("AWS::DynamoDB::Table").items():
            props = resource["Properties"]
            name = f"{STACK_NAME}-{logical_id}"
            kwargs: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            if props.get("SSESpecification"):
                kwargs["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
            try:
                self.dynamodb.create_table(**kwargs)
            except self.dynamodb.exceptions.ResourceInUseException:
                pass  # a persistent endpoint keeps its tables between runs
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                self.dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
                )
            arn = self.dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
            self.stack.physical[logical_id] = {"Ref": name, "Arn": arn}

    def _create_queues(self) -> None:
        pending = dict(self.stack.of_type("AWS::SQS::Queue"))
        while pending:
            progressed = False
            for logical_id, resource in list(pending.items()):
                props = resource.get("Properties", {})
                redrive = props.get("RedrivePolicy")
                target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] if redrive else None
                if target and target not in self.stack.physical:
                    continue  # its dead-letter queue first
                self._create_queue(logical_id, props)
                del pending[logical_id]
                progressed = True
            if not progressed:
                raise RuntimeError(f"queues with unresolvable redrive targets: {sorted(pending)}")

    def _create_queue(self, logical_id: str, props: dict[str, Any]) -> None:
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if key in props:
                attributes[key] = str(self.stack.resolve(props[key]))
        if "RedrivePolicy" in props:
            policy = self.stack.resolve(props["RedrivePolicy"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": int(policy["maxReceiveCount"]),
                }
            )
        name = f"{STACK_NAME}-{logical_id}"
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.stack.physical[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name}

    # -- what the deployer provides outside the stack -------------------------------------------------
    def put_config(self, document: dict[str, Any]) -> None:
        name = self.stack.parameters["ConfigParameterName"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=name, Value=json.dumps(document), Type="String", Overwrite=True
        )

    def put_secret(self, parameter: str, value: dict[str, Any]) -> None:
        """Create or update the secret named by a template parameter (NetSuiteSecretName, ClickTimeSecretName)."""
        client = boto3.client("secretsmanager", region_name=REGION)
        name = self.stack.parameters[parameter]
        try:
            client.create_secret(Name=name, SecretString=json.dumps(value))
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=name, SecretString=json.dumps(value))

    def queue_url(self, logical_id: str) -> str:
        return self.stack.physical[logical_id]["Ref"]
