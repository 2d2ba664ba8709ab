"""The stack an operator command works on: a deployed one, found by name through its CloudFormation outputs, or
the local one `ctns serve` keeps. Both expose the same outputs, so every command reads state, queues and
configuration the same way; only running a poller and draining a queue differ (Lambda there, this process here).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from ctns import local
from ctns.inputs import ClickTimeSecret, NetSuiteSecret, parse_clicktime_secret, parse_config, parse_netsuite_secret
from ctns.output import CliError
from ctns.stack import STACK_NAME
from ctsync import jsonutil
from ctsync.config import SyncConfig
from ctsync.state import MappingStore, ProgressStore, RunLog
from ctsync.sync.registry import SYNC_NAMES

SYNC_OUTPUTS = ("QueueUrl", "DeadLetterQueueUrl", "PollerName", "PollerArn", "ScheduleName")


def prefix(sync: str) -> str:
    """A sync's logical-ID prefix in the template (projects -> Projects), as its outputs are named."""
    return sync[:1].upper() + sync[1:]


def check_sync(name: str) -> str:
    if name not in SYNC_NAMES:
        raise CliError(f"unknown sync {name!r}; the syncs are {', '.join(SYNC_NAMES)}")
    return name


def setup_problem(error: Exception) -> str | None:
    """One line for a broken AWS set-up on this machine: a profile its config files lack, a config file that does
    not parse (None for anything else)."""
    from botocore.exceptions import ConfigParseError, ProfileNotFound

    if isinstance(error, ProfileNotFound):
        profile = getattr(error, "kwargs", {}).get("profile") or os.environ.get("AWS_PROFILE", "")
        return (
            f"the AWS profile {profile!r} (AWS_PROFILE or --profile) is not in your AWS config files: "
            "unset AWS_PROFILE, or add the profile (aws configure --profile NAME)"
        )
    if isinstance(error, ConfigParseError):
        path = getattr(error, "kwargs", {}).get("path") or os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
        return (
            f"your AWS config file {path} cannot be read (a syntax error?): fix it, or point AWS_CONFIG_FILE elsewhere"
        )
    return None


def aws_problem(error: Exception, doing: str) -> CliError:
    """An AWS error as one line an operator can act on."""
    if (said := setup_problem(error)) is not None:
        return CliError(said)
    if isinstance(error, NoCredentialsError):
        return CliError(f"{doing}: no AWS credentials (set AWS_PROFILE or pass --profile, or export the keys)")
    if isinstance(error, NoRegionError):
        return CliError(f"{doing}: no AWS region (pass --region or set AWS_REGION)")
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code, message = info.get("Code", "Error"), info.get("Message", "")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return CliError(f"{doing}: access denied ({message}); the operator role needs that permission")
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"):
            return CliError(f"{doing}: the AWS credentials are not valid ({code}); log in again")
        return CliError(f"{doing}: {code}: {message}")
    if isinstance(error, BotoCoreError):
        return CliError(f"{doing}: {error}")
    return CliError(f"{doing}: {type(error).__name__}: {error}")


def region_of(given: str | None) -> str | None:
    """The region to use: --region, else AWS_REGION (what Lambda, the AWS CLI v2 and most SDKs read; botocore alone
    reads only AWS_DEFAULT_REGION, which it still falls back to), else the profile's."""
    return given or os.environ.get("AWS_REGION") or None


@dataclass
class Target:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    boto: boto3.Session
    local_state: local.LocalState | None = None
    session: Any = None  # the local stack's attached session (runner), None for a deployed stack
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.local_state is not None

    def describe(self) -> str:
        if self.local_state:
            return f"the local stack (`ctns serve`, AWS on {self.local_state.aws_endpoint}, simulated NetSuite and ClickTime)"
        return f"stack {self.name} in {self.boto.region_name}"

    # -- outputs ----------------------------------------------------------------------------------------------
    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise CliError(
                f"{self.describe()} has no output {key}: was it deployed from an older template? Deploy this one"
            ) from None

    def queue_url(self, sync: str) -> str:
        return self.output(f"{prefix(sync)}QueueUrl")

    def dead_letter_url(self, sync: str) -> str:
        return self.output(f"{prefix(sync)}DeadLetterQueueUrl")

    def poller_name(self, sync: str) -> str:
        return self.output(f"{prefix(sync)}PollerName")

    def worker_name(self, sync: str) -> str:
        return self.poller_name(sync).removesuffix("-poller") + "-worker"

    def log_groups(self, sync: str) -> list[str]:
        return [f"/aws/lambda/{self.poller_name(sync)}", f"/aws/lambda/{self.worker_name(sync)}"]

    def worker_concurrency(self) -> dict[str, int]:
        return {sync: int(self.parameters.get(f"{prefix(sync)}WorkerMaxConcurrency", "0") or 0) for sync in SYNC_NAMES}

    # -- clients and stores -----------------------------------------------------------------------------------
    def client(self, service: str, **config: Any) -> Any:
        key = f"{service}:{sorted(config.items())}"
        if key not in self._clients:
            self._clients[key] = self.boto.client(service, config=Config(**config) if config else None)
        return self._clients[key]

    @cached_property
    def table(self) -> Any:
        return self.boto.resource("dynamodb").Table(self.output("StateTableName"))

    @cached_property
    def runlog(self) -> RunLog:
        return RunLog(self.table)

    @cached_property
    def progress(self) -> ProgressStore:
        return ProgressStore(self.table)

    @cached_property
    def mappings(self) -> MappingStore:
        return MappingStore(self.table)

    def depth(self, url: str) -> dict[str, int]:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        visible, in_flight, delayed = (int(attributes.get(name, 0)) for name in names)
        return {"waiting": visible, "in_flight": in_flight, "delayed": delayed, "total": visible + in_flight + delayed}

    def queue_arn(self, url: str) -> str:
        return self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    # -- what the functions read: configuration and secrets ---------------------------------------------------
    def config(self) -> SyncConfig:
        name = self.parameters.get("ConfigParameterName", "/ctns/config")
        try:
            value = self.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise CliError(
                    f"the config parameter {name} of {self.describe()} does not exist: `ctns config push FILE --name {name}`"
                ) from None
            raise aws_problem(error, f"reading the config parameter {name}") from None
        try:
            document = jsonutil.load_document(value)
        except jsonutil.KeyTwice as twice:
            raise CliError(
                f"the config parameter {name} has the key {twice.key!r} twice: keep one (JSON would use the last) "
                "and push it again with `ctns config push`"
            ) from None
        except ValueError:
            raise CliError(f"the config parameter {name} is not JSON: push it again with `ctns config push`") from None
        if not isinstance(document, dict):
            raise CliError(f"the config parameter {name} is not a JSON object: push it again with `ctns config push`")
        return parse_config(document, f"the config parameter {name}")

    def _secret(self, parameter: str, default: str) -> tuple[str, Any]:
        name = self.parameters.get(parameter, default)
        try:
            secret = self.client("secretsmanager").get_secret_value(SecretId=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise CliError(f"the secret {name} does not exist: create it (docs/deploy.md, step Secrets)") from None
            raise aws_problem(error, f"reading the secret {name}") from None
        text = secret.get("SecretString")
        if text is None:  # stored with SecretBinary: the functions refuse it too (ctsync.runtime._read)
            raise CliError(
                f"the secret {name} is stored as binary, not text: store it as a JSON string (SecretString, "
                "docs/deploy.md, step Secrets)"
            )
        try:
            return name, jsonutil.load_document(text)
        except jsonutil.KeyTwice as twice:
            raise CliError(
                f"the secret {name} has the key {twice.key!r} twice: keep one (JSON would use the last)"
            ) from None
        except ValueError:
            raise CliError(f"the secret {name} is not JSON: store it as a JSON object") from None

    def netsuite_secret(self) -> NetSuiteSecret:
        name, document = self._secret("NetSuiteSecretName", "ctns/netsuite")
        return parse_netsuite_secret(document, f"the secret {name}")

    def clicktime_secret(self) -> ClickTimeSecret:
        name, document = self._secret("ClickTimeSecretName", "ctns/clicktime")
        return parse_clicktime_secret(document, f"the secret {name}")


def _local_outputs(session: Any) -> dict[str, str]:
    """The outputs a deployed stack would have, for the local one (same keys as template.yaml's Outputs)."""
    stack = session.stack
    physical = stack.physical
    outputs = {
        "StateTableName": physical["StateTable"]["Ref"],
        "PollerFailureQueueUrl": physical["PollerFailureQueue"]["Ref"],
    }
    for sync in SYNC_NAMES:
        p = prefix(sync)
        poller = stack.functions[f"{p}Poller"]
        outputs.update(
            {
                f"{p}QueueUrl": physical[f"{p}Queue"]["Ref"],
                f"{p}DeadLetterQueueUrl": physical[f"{p}DeadLetterQueue"]["Ref"],
                f"{p}PollerName": poller.name,
                f"{p}PollerArn": poller.arn,
                f"{p}ScheduleName": f"{STACK_NAME}-{sync}",
            }
        )
    return outputs


def _unusable(name: str, status: str) -> str | None:
    """Why a stack in this CloudFormation status cannot be operated, and what to do (None: it can be). A failed
    deployment's statuses never change on their own: waiting would wait for ever."""
    events = f"the reason is in its events: `aws cloudformation describe-stack-events --stack-name {name}`"
    delete = f"`aws cloudformation delete-stack --stack-name {name}`"
    if status == "ROLLBACK_COMPLETE":
        return (
            f"stack {name}'s first deployment failed and was rolled back (ROLLBACK_COMPLETE; {events}): "
            f"delete the stack ({delete}) and deploy again"
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            f"stack {name}'s update failed and its rollback failed too (UPDATE_ROLLBACK_FAILED; {events}): fix "
            f"what stopped it, then continue the rollback (`aws cloudformation continue-update-rollback "
            f"--stack-name {name}`), or delete the stack ({delete}) and deploy again"
        )
    if status.endswith("ROLLBACK_FAILED"):  # ROLLBACK_FAILED, IMPORT_ROLLBACK_FAILED: a rollback nothing continues
        return (
            f"stack {name}'s deployment failed and its rollback failed too ({status}; {events}): delete the stack "
            f"({delete}) and deploy again"
        )
    if status == "DELETE_FAILED":
        return f"stack {name}'s deletion failed (DELETE_FAILED; {events}): delete it again ({delete})"
    if status.startswith("DELETE"):
        return f"stack {name} is being deleted ({status})"
    if status.endswith("_FAILED"):  # CREATE_FAILED, UPDATE_FAILED: deployed with rollback disabled
        return (
            f"stack {name}'s deployment failed ({status}; {events}): roll it back (`aws cloudformation "
            f"rollback-stack --stack-name {name}`) or fix the cause and deploy again"
        )
    if not status.endswith("_COMPLETE"):
        return f"stack {name} is {status}: wait for its deployment to finish"
    return None


def deployed(name: str, *, region: str | None = None, profile: str | None = None) -> Target:
    try:
        boto = boto3.Session(profile_name=profile, region_name=region_of(region))
    except BotoCoreError as error:  # an unknown profile, a config file that does not parse
        raise CliError(setup_problem(error) or f"AWS profile {profile!r}: {error}") from None
    doing = f"looking up stack {name}"
    try:
        found = boto.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            where = boto.region_name or "the default region"
            raise CliError(f"no stack named {name} in {where} (check --region and --profile)") from None
        raise aws_problem(error, doing) from None
    except (BotoCoreError, ValueError) as error:
        raise aws_problem(error, doing) from None
    stack = found[0]
    if problem := _unusable(name, stack.get("StackStatus", "")):
        raise CliError(problem)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    if "StateTableName" not in outputs:
        raise CliError(f"stack {name} is not a ClickTime-NetSuite sync stack (it has no StateTableName output)")
    return Target(name=name, outputs=outputs, parameters=parameters, boto=boto)


@contextmanager
def open_target(
    stack: str | None, *, region: str | None = None, profile: str | None = None, progress: Any = None
) -> Iterator[Target]:
    """The stack named, or the local stack `ctns serve` keeps (an error when neither is there)."""
    if stack:
        yield deployed(stack, region=region, profile=profile)
        return
    state = local.require_running()
    with ExitStack() as exits:
        exits.enter_context(local.aws_endpoint(state.aws_endpoint))
        session = local.attach(progress)
        exits.callback(session.close)
        yield Target(
            name=STACK_NAME,
            outputs=_local_outputs(session),
            parameters=dict(session.stack.parameters),
            boto=boto3.Session(region_name=session.stack.resolve({"Ref": "AWS::Region"})),
            local_state=state,
            session=session,
        )
