"""Everything a function needs, built from its environment: config, secrets, clients, stores, the sync.

The environment variables are the contract with `template.yaml` (and with the local runner, which reads the
same template). Secrets and the config document are read through Powertools Parameters, which caches them
for `max_age` seconds; a runtime is rebuilt after the same age, so a rotated secret or an edited config is
picked up without a redeploy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from collections.abc import Mapping as EnvMapping
from dataclasses import asdict
from functools import cached_property
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pydantic import BaseModel, ConfigDict, ValidationError

from ctsync import jsonutil
from ctsync.clicktime.client import ClickTimeClient
from ctsync.config import SyncConfig
from ctsync.errors import ConfigurationError
from ctsync.netsuite.auth import TbaCredentials, Token
from ctsync.netsuite.client import NetSuiteClient
from ctsync.references import References
from ctsync.retry import RetryPolicy
from ctsync.state import MappingStore, ProgressStore, RunLog
from ctsync.sync import registry
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import PollRequest, WorkMessage
from ctsync.sync.poller import Continuation, Poller
from ctsync.sync.queues import DeadLetterQueue, WorkQueue
from ctsync.sync.worker import BREAKER_SECONDS, Worker

CACHE_SECONDS = 300


class Environment(BaseModel):
    """The function's environment variables, as template.yaml sets them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    SYNC_NAME: str
    STATE_TABLE: str
    IDEMPOTENCY_TABLE: str
    WORK_QUEUE_URL: str
    DEAD_LETTER_QUEUE_URL: str
    CONFIG_PARAMETER: str
    NETSUITE_SECRET_ID: str
    CLICKTIME_SECRET_ID: str
    MAX_RECEIVE_COUNT: int = 5
    RUN_LOG_RETENTION_DAYS: int = 30

    @classmethod
    def read(cls, environ: EnvMapping[str, str] | None = None) -> Environment:
        try:
            return cls.model_validate(dict(environ if environ is not None else os.environ))
        except ValidationError as error:
            missing = ", ".join(str(e["loc"][0]) for e in error.errors())
            raise ConfigurationError(f"function environment is incomplete: {missing}") from error


class ClickTimeSecret(BaseModel):
    api_token: Token


class Runtime:
    def __init__(self, env: Environment) -> None:
        self.env = env
        self.built_at = time.monotonic()

    # -- configuration and secrets ------------------------------------------------------------------
    @cached_property
    def config(self) -> SyncConfig:
        name = self.env.CONFIG_PARAMETER
        document = _read(f"config parameter {name}", lambda: parameters.get_parameter(name, max_age=CACHE_SECONDS))
        try:
            return SyncConfig.model_validate(document)
        except ValidationError as error:
            # Settings and rules only: pydantic's own text repeats the values given (a secret pasted into the
            # document would reach the log line and the traceback).
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                for item in error.errors(include_input=False, include_url=False, include_context=False)
            )
            raise _unusable(f"config document {self.env.CONFIG_PARAMETER} is invalid: {problems}") from None

    def _secret(self, name: str) -> dict[str, Any]:
        value = _read(f"secret {name}", lambda: parameters.get_secret(name, max_age=CACHE_SECONDS))
        if not isinstance(value, dict):
            raise _unusable(f"secret {name} must be a JSON object")
        return value

    # -- clients ------------------------------------------------------------------------------------
    @cached_property
    def netsuite(self) -> NetSuiteClient:
        settings = self.config.netsuite
        try:
            credentials = TbaCredentials.model_validate(self._secret(self.env.NETSUITE_SECRET_ID))
        except ValidationError as error:
            raise _unusable(f"NetSuite secret {self.env.NETSUITE_SECRET_ID}: {_fields(error)}") from None
        return NetSuiteClient(
            account_id=settings.account_id,
            credentials=credentials,
            base_url=settings.rest_base_url,
            restlets_url=settings.restlets_base_url,
            page_size=settings.page_size,
            retry=self._retry_policy(),
            secret_name=self.env.NETSUITE_SECRET_ID,
        )

    def _retry_policy(self) -> RetryPolicy:
        settings = self.config.retry
        return RetryPolicy(
            max_attempts=settings.max_attempts, base_seconds=settings.base_seconds, cap_seconds=settings.cap_seconds
        )

    @cached_property
    def clicktime(self) -> ClickTimeClient:
        try:
            secret = ClickTimeSecret.model_validate(self._secret(self.env.CLICKTIME_SECRET_ID))
        except ValidationError as error:
            raise _unusable(f"ClickTime secret {self.env.CLICKTIME_SECRET_ID}: {_fields(error)}") from None
        return ClickTimeClient(
            token=secret.api_token, base_url=self.config.clicktime.base_url, retry=self._retry_policy()
        )

    # -- AWS ----------------------------------------------------------------------------------------
    @cached_property
    def _table(self) -> Any:
        return boto3.resource("dynamodb").Table(self.env.STATE_TABLE)

    @cached_property
    def _sqs(self) -> Any:
        return boto3.client("sqs")

    @cached_property
    def mappings(self) -> MappingStore:
        return MappingStore(self._table)

    @cached_property
    def references(self) -> References:
        return References()

    @cached_property
    def progress(self) -> ProgressStore:
        return ProgressStore(self._table)

    @cached_property
    def runlog(self) -> RunLog:
        return RunLog(self._table, self.env.RUN_LOG_RETENTION_DAYS)

    def cause_open(self, sync: str) -> Callable[[str], bool]:
        """Whether a cause of a sync is open, read at most once per key per invocation."""

        def is_open(key: str) -> bool:
            cause = self.references.get(
                f"cause:{sync}:{key}", lambda: self.runlog.cause(sync, key), per_invocation=True
            )
            return bool(cause and cause.open)

        return is_open

    # -- the sync -----------------------------------------------------------------------------------
    def project_sync(self, sync: str) -> Any:
        """The projects sync's both halves; the tasks sync uses it to sync a project on demand."""
        from ctsync.records.projects import ProjectSync

        config = self.config
        return ProjectSync(
            self.netsuite,
            self.clicktime,
            self.mappings,
            config.projects,
            config.netsuite.timezone,
            cause_open=self.cause_open(sync),
            cache=self.references,
        )

    @cached_property
    def definition(self) -> SyncDefinition:
        return registry.build(self.env.SYNC_NAME, self)

    @cached_property
    def work_queue(self) -> WorkQueue:
        return WorkQueue(self._sqs, self.env.WORK_QUEUE_URL)

    def poller(self, continuation: Continuation) -> Poller:
        return Poller(
            self.definition,
            self.progress,
            self.runlog,
            self.mappings,
            self.work_queue,
            self.config.windows.for_sync(self.env.SYNC_NAME),
            continuation,
        )

    @cached_property
    def worker(self) -> Worker:
        """Raises `ConfigurationError` when the config document or a secret cannot build the sync
        (`refusing_worker` routes that batch)."""
        return self._worker(self.definition, self.config.retry.systemic_pause_seconds)

    def refusing_worker(self, error: ConfigurationError) -> Worker:
        """A worker for one batch of a sync its configuration cannot build: each record dead-lettered with `error`
        (one cause, one ERROR line, a `SystemicFailure` metric, the sync paused), where a failed invocation would
        have sent the whole batch back until SQS dead-lettered it without a reason. Not kept: the next invocation
        reads the config again (`_unusable` dropped what Powertools cached)."""
        if not error.fix:
            error.fix = (
                f"correct what it names (ctns config push FILE for the config document, docs/deploy.md for the "
                f"secrets), then ctns redrive {self.env.SYNC_NAME}"
            )
        return self._worker(registry.refusing(self.env.SYNC_NAME, error), BREAKER_SECONDS)

    def _worker(self, definition: SyncDefinition, pause_seconds: int) -> Worker:
        return Worker(
            definition,
            self.runlog,
            self.mappings,
            self.progress,
            self.work_queue,
            DeadLetterQueue(self._sqs, self.env.DEAD_LETTER_QUEUE_URL),
            self.env.MAX_RECEIVE_COUNT,
            pause_seconds=pause_seconds,
        )

    @cached_property
    def idempotency(self) -> IdempotencyConfig:
        return IdempotencyConfig(event_key_jmespath="message_id", expires_after_seconds=24 * 3600)

    @cached_property
    def apply_once(self) -> Any:
        """The worker's apply, guarded by Powertools Idempotency on the SQS message ID.

        A message delivered twice (SQS is at-least-once) is applied once; the replay returns the stored
        outcome. A failed attempt leaves no record, so its retry runs for real.
        """
        persistence = DynamoDBPersistenceLayer(table_name=self.env.IDEMPOTENCY_TABLE)
        worker = self.worker

        @idempotent_function(data_keyword_argument="work", config=self.idempotency, persistence_store=persistence)
        def apply(work: dict[str, Any]) -> dict[str, Any]:
            return asdict(worker.apply(WorkMessage.model_validate(work["message"])))

        return apply


_cache: dict[Environment, Runtime] = {}


def current(environ: EnvMapping[str, str] | None = None) -> Runtime:
    """The runtime for this environment, rebuilt every CACHE_SECONDS so config and secret changes land."""
    env = Environment.read(environ)
    runtime = _cache.get(env)
    if runtime is None or time.monotonic() - runtime.built_at > CACHE_SECONDS:
        runtime = _cache[env] = Runtime(env)
    return runtime


def lambda_continuation(function_arn: str) -> Continuation:
    """Continue a run in a fresh asynchronous invocation of the same function."""

    def invoke(request: PollRequest) -> None:
        boto3.client("lambda").invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=request.model_dump_json().encode("utf-8")
        )

    return invoke


def _fields(error: ValidationError) -> str:
    """What is wrong with a secret's fields, never their values (pydantic's own text repeats the input)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])} {'is missing' if item['type'] == 'missing' else item['msg']}"
        for item in error.errors()
    )


# What a person must fix when SSM or Secrets Manager answers so (anything else, a throttle, is raised as it is).
_NOT_THERE = {"ResourceNotFoundException", "ParameterNotFound"}
_NOT_ALLOWED = {"AccessDeniedException", "DecryptionFailure", "KMSAccessDeniedException"}


def _read(what: str, fetch: Callable[[], Any]) -> Any:
    """A parameter or secret through Powertools (`fetch`: its text), parsed as a JSON document (each key once:
    `jsonutil.load_document`), its failures a person can fix said in one line naming it (before: "Unable to
    transform value using 'json' transform: Expecting value…", or botocore's text without the name). Never the
    value: a secret's text stays out of the message."""
    try:
        text = fetch()
    except (parameters.exceptions.GetParameterError, parameters.exceptions.GetSecretError) as error:
        # Powertools raises it inside its own `except` (the ClientError is the context, not the cause)
        code = getattr(error.__cause__ or error.__context__, "response", {}).get("Error", {}).get("Code", "")
        if code in _NOT_THERE:
            raise ConfigurationError(f"{what} does not exist (the stack's parameters name it)") from None
        if code in _NOT_ALLOWED:
            raise ConfigurationError(f"{what} cannot be read by this function ({code}): check its role") from None
        raise
    try:
        return jsonutil.load_document(text)
    except jsonutil.KeyTwice as twice:
        raise _unusable(f"{what} has the key {twice.key!r} twice: keep one (JSON would use the last)") from None
    except (ValueError, TypeError):  # not JSON text; a binary secret
        raise _unusable(f"{what} is not JSON (see docs/deploy.md for its shape)") from None


def _unusable(reason: str) -> ConfigurationError:
    """The error for a config parameter or secret read but not usable (not JSON, a key twice, not valid). What
    Powertools cached is dropped, so a warm function reads the operator's fix at its next invocation rather than
    after the cache's age."""
    parameters.clear_caches()
    return ConfigurationError(reason)
