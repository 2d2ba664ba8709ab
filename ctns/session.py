"""One local session: the AWS side of the stack, its configuration and secrets, and (by default) the simulators.

`Session.simulated()` starts both simulators on loopback with a seeded company and points the config at
them; `Session.configured()` takes a config document and secrets from files, so an implementation engineer
can run the real thing against a customer's NetSuite sandbox and ClickTime account before deploying.
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters as powertools_parameters

from ctns.local_aws import LocalAws
from ctns.runner import LocalRunner, Progress
from ctns.stack import Stack, load
from ctsync import runtime as runtime_module
from ctsync.config import SyncConfig
from ctsync.state import MappingStore, RunLog


@dataclass
class Simulators:
    company: Any
    netsuite: Any
    clicktime: Any
    netsuite_url: str
    clicktime_url: str


@dataclass
class Session:
    stack: Stack
    aws: LocalAws
    runner: LocalRunner
    simulators: Simulators | None = None
    _exit: ExitStack = field(default_factory=ExitStack)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def simulated(
        cls,
        *,
        seed: int = 7,
        size: int = 1,
        progress: Progress | None = None,
        config_overrides: dict[str, Any] | None = None,
        parameters: dict[str, str] | None = None,  # template parameter overrides
        company: Any = None,
        clicktime_settings: Any = None,
    ) -> Session:
        from simulators.clicktime import ClickTimeSimulator
        from simulators.common.clock import AnchoredClock
        from simulators.common.server import SimulatorServer
        from simulators.generator import generate_company, reference_date
        from simulators.netsuite import NetSuiteSimulator
        from simulators.netsuite.app import DEFAULT_CREDENTIALS

        exit_stack = ExitStack()
        company = company or generate_company(seed=seed, size=size)
        if clicktime_settings is not None:
            company.clicktime_settings = clicktime_settings
        netsuite = NetSuiteSimulator()
        netsuite.load(company)
        # ClickTime's clock starts two weeks after the company's activity (the night of the first export), so
        # the exports' windows and look-backs meet the seeded approvals whatever day this runs on. (NetSuite
        # keeps real time: TBA signatures are checked against it.)
        clicktime_clock = AnchoredClock(
            datetime.combine(reference_date(company.seed) + timedelta(days=14), time(2), UTC)
        )
        clicktime = ClickTimeSimulator(settings=company.clicktime_settings, seed=seed, clock=clicktime_clock)
        clicktime.load(company)
        ns_server = exit_stack.enter_context(SimulatorServer(netsuite))
        ct_server = exit_stack.enter_context(SimulatorServer(clicktime))
        sims = Simulators(company, netsuite, clicktime, ns_server.url, ct_server.url)
        config: dict[str, Any] = {
            "netsuite": {
                "account_id": netsuite.account_id,
                "rest_base_url": f"{ns_server.url}/services/rest",
                "restlets_base_url": ns_server.url,
                "timezone": str(netsuite.user_timezone),
            },
            "clicktime": {"base_url": f"{ct_server.url}/v2"},
            # The item time goes to when its project task names none (the seeded company leaves a few without).
            "time": {"service_item_id": company.service_items[0].id},
            # A receipt that fails to download is retried at once here: the simulators heal when told to, or never
            # (a real ClickTime blip wants the default minutes).
            "expenses": {"receipts": {"retry_delay_seconds": 0}},
        }
        _merge(config, config_overrides or {})
        tba = DEFAULT_CREDENTIALS  # the simulator was built with these
        secrets = {
            "NetSuiteSecretName": {
                "consumer_key": tba.consumer_key,
                "consumer_secret": tba.consumer_secret,
                "token_id": tba.token_id,
                "token_secret": tba.token_secret,
            },
            "ClickTimeSecretName": {"api_token": clicktime.token},
        }
        session = cls._open(exit_stack, config, secrets, progress, parameters)
        session.simulators = sims
        return session

    @classmethod
    def configured(
        cls,
        config_file: Path,
        secrets_file: Path,
        *,
        progress: Progress | None = None,
        parameters: dict[str, str] | None = None,
    ) -> Session:
        """secrets_file: {"netsuite": {consumer_key, consumer_secret, token_id, token_secret}, "clicktime": {api_token}}."""
        config = json.loads(config_file.read_text())
        SyncConfig.model_validate(config)  # fail here, before anything runs, on a bad document
        secrets = json.loads(secrets_file.read_text())
        return cls._open(
            ExitStack(),
            config,
            {"NetSuiteSecretName": secrets["netsuite"], "ClickTimeSecretName": secrets["clicktime"]},
            progress,
            parameters,
        )

    @classmethod
    def _open(
        cls,
        exit_stack: ExitStack,
        config: dict[str, Any],
        secrets: dict[str, dict[str, Any]],
        progress: Progress | None,
        parameters: dict[str, str] | None,
    ) -> Session:
        runtime_module._cache.clear()
        powertools_parameters.clear_caches()
        if not os.environ.get("AWS_ENDPOINT_URL"):
            # moto in memory (`ctns demo`, a simulated `ctns run`): the shell's AWS profile and config files are for
            # the person's AWS account, not for it; set aside from here (the template's transform reads them) until
            # the session closes.
            from ctns.local import hold_ambient_aws, release_ambient_aws

            hold_ambient_aws()
            exit_stack.callback(release_ambient_aws)
        stack = load(overrides=parameters)
        aws = exit_stack.enter_context(LocalAws(stack))
        aws.put_config(config)
        for parameter, value in secrets.items():
            aws.put_secret(parameter, value)
        runner = LocalRunner(aws, progress=progress)
        return cls(stack=stack, aws=aws, runner=runner, _exit=exit_stack)

    def close(self) -> None:
        # A later session must not reuse clients, config or secrets that point at this one's endpoints.
        runtime_module._cache.clear()
        powertools_parameters.clear_caches()
        self.runner.host.close()
        self._exit.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the functions see ---------------------------------------------------------------------
    def runtime(self, function: str = "ProjectsWorker") -> runtime_module.Runtime:
        """The core's runtime as that function builds it (same env, config, secrets, clients)."""
        with self.runner.host.activated(function):
            runtime = runtime_module.current()
            runtime.config, runtime.netsuite, runtime.clicktime  # noqa: B018 - built while the env is set
            return runtime

    def log_activity(self) -> dict[str, int]:
        """People log time and expenses in ClickTime on the jobs and tasks the syncs created (the seeded plan)."""
        sims = self.simulators
        if sims is None:
            raise RuntimeError("only a simulated session has a seeded company")
        mappings = self.mappings

        def target(kind: str) -> Any:
            def lookup(source_id: str) -> str | None:
                mapping = mappings.get(kind, source_id)
                return mapping.target_id if mapping and not mapping.deleted else None

            return lookup

        return sims.clicktime.load_activity(sims.company, target("project"), target("task"))

    @property
    def state_table(self) -> Any:
        return boto3.resource("dynamodb").Table(self.stack.physical["StateTable"]["Ref"])

    @property
    def mappings(self) -> MappingStore:
        return MappingStore(self.state_table)

    @property
    def runlog(self) -> RunLog:
        return RunLog(self.state_table)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
