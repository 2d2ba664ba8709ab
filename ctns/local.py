"""The local default: a stack on this machine that outlives one command, so `ctns status`, `errors`, `trace`,
`redrive`, `plan` and `check` have something to look at.

`ctns serve` starts it and keeps it running until Ctrl-C: a moto server holding the stack's AWS side (the
tables, queues, config parameter and secrets, created from template.yaml with the names `ctns.local_aws`
gives them) and both simulators with a generated company. It records where they listen in a small state
file (`build/local/serve.json`; `CTNS_LOCAL` names another). Every other command run without `--stack`
finds that file and works against the endpoint in it; `ctns run` runs the functions in its own process with
`AWS_ENDPOINT_URL` pointing there, as the local runner always could, so what one command writes the next one
reads. Without a running `ctns serve`, `ctns run` and `ctns demo` run on moto in memory and keep nothing.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from ctns.motoserver import MotoServer
from ctns.output import CliError, write_whole
from ctns.stack import REGION, ROOT

STATE_FILE = ROOT / "build" / "local" / "serve.json"
LOCAL_CREDENTIAL = "ctns-local"  # moto takes any key; this one says where it came from


def state_path() -> Path:
    return Path(os.environ.get("CTNS_LOCAL") or STATE_FILE)


@dataclass(frozen=True)
class LocalState:
    """Where the local stack listens (the content of the state file)."""

    aws_endpoint: str
    netsuite_url: str
    clicktime_url: str
    seed: int
    size: int
    pid: int
    started_at: str
    seeded_failures: list[str]

    def save(self, path: Path) -> None:
        write_whole(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> LocalState | None:
        try:
            document = json.loads(path.read_text())
            return cls(**document)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise CliError(
                f"{path} is not a ctns serve state file ({error}); delete it and start `ctns serve`"
            ) from None


def answers(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def running() -> LocalState | None:
    """The local stack `ctns serve` keeps, if one is running; a state file left by a stopped one is an error."""
    path = state_path()
    state = LocalState.load(path)
    if state is None:
        return None
    global _found
    _found = state
    if not answers(state.aws_endpoint):
        raise CliError(
            f"the local stack recorded in {path} does not answer at {state.aws_endpoint} (was `ctns serve` "
            f"stopped?): start it again with `ctns serve`, or delete {path}"
        )
    return state


_found: LocalState | None = None  # the local stack this process found (`stopped_answering`)


def stopped_answering(url: str) -> str | None:
    """The line for a connection to `url` that failed mid-command, when `url` is the local stack this process found
    (its moto server or a simulator): `ctns serve` was stopped, or its process died. None for any other URL."""
    if _found is None or not url:
        return None
    ours = {_origin(endpoint) for endpoint in (_found.aws_endpoint, _found.netsuite_url, _found.clicktime_url)}
    if _origin(url) not in ours:
        return None
    return "the local stack stopped answering (was `ctns serve` stopped?): start it again with `ctns serve`"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}".lower()


def require_running() -> LocalState:
    state = running()
    if state is None:
        raise CliError(
            "no local stack is running: start one with `ctns serve` in another terminal (then `ctns run`), "
            "or name a deployed stack with --stack NAME"
        )
    return state


# What the person's shell says about their AWS account (a profile, their config and credentials files, endpoints
# and CA bundles for it): the local stack (a moto server, or moto in memory) uses none of it, and a profile missing
# from their config files, or a config file that does not parse, must not stop a local command (review, 2026-12-04).
# A deployed stack (`--stack`) reads all of it, as the AWS CLI does.
_AMBIENT_AWS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_CA_BUNDLE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def _ambient_names() -> list[str]:
    return [*_AMBIENT_AWS, *(name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_"))]


@contextmanager
def ambient_aws_set_aside(**local_settings: str) -> Iterator[None]:
    """Inside, the AWS SDK sees none of the shell's AWS account settings (no config or credentials file: both read
    as empty), only `local_settings`; outside, all is as it was."""
    import boto3

    names = [*_ambient_names(), *local_settings]
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, **local_settings})
    boto3.DEFAULT_SESSION = None  # a default session made before read the shell's profile
    try:
        yield
    finally:
        for name in {*names, *_ambient_names()}:
            value = saved.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.DEFAULT_SESSION = None


_held: list[dict[str, str | None]] = []  # the shell's settings while moto in memory runs (`hold_ambient_aws`)


def hold_ambient_aws() -> None:
    """While moto runs in memory (`ctns demo`, a simulated `ctns run`): the shell's AWS account settings set aside
    until as many `release_ambient_aws` as holds (sessions may close in any order)."""
    import boto3

    if not _held:
        saved = {name: os.environ.pop(name, None) for name in _ambient_names()}
        os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
        boto3.DEFAULT_SESSION = None
        _held.append(saved)
    else:
        _held.append({})


def release_ambient_aws() -> None:
    import boto3

    if not _held:
        return
    saved = _held.pop()  # the first hold's (the shell's settings) goes last
    if _held:
        return
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    os.environ.update({name: value for name, value in saved.items() if value is not None})
    boto3.DEFAULT_SESSION = None


def _forget_clients() -> None:
    """Clients and cached values made for another endpoint must not serve this one."""
    from aws_lambda_powertools.utilities import parameters

    from ctsync import runtime

    runtime._cache.clear()
    parameters.clear_caches()


@contextmanager
def aws_endpoint(url: str) -> Iterator[None]:
    """Every boto3 client made inside talks to `url` (the functions' too, as `AWS_ENDPOINT_URL` says), with the
    local stack's credentials and region, whatever the shell says about the person's AWS account."""
    with ambient_aws_set_aside(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID=LOCAL_CREDENTIAL,
        AWS_SECRET_ACCESS_KEY=LOCAL_CREDENTIAL,
        AWS_DEFAULT_REGION=REGION,
    ):
        _forget_clients()
        try:
            yield
        finally:
            _forget_clients()


def attach(progress: Any = None) -> Any:
    """A session on the local stack for this process: the template's wiring, the resources' physical names,
    and a runner that runs the functions here (call inside `aws_endpoint`)."""
    from ctns.local_aws import LocalAws
    from ctns.runner import LocalRunner
    from ctns.session import Session
    from ctns.stack import load

    _forget_clients()
    stack = load()
    exit_stack = ExitStack()
    aws = exit_stack.enter_context(LocalAws(stack))  # finds the tables and queues `ctns serve` created
    return Session(stack=stack, aws=aws, runner=LocalRunner(aws, progress=progress), _exit=exit_stack)


# -- what `ctns serve` runs -------------------------------------------------------------------------------------

FAILURE_FIELD = "custevent_ct_task_id"


def seed_failures(session: Any) -> list[str]:
    """Two failures a person has to fix, for exploring `ctns errors`, `trace` and `redrive`: a project without
    a customer (it cannot become a job) and a task form that drops the ClickTime ID field (every task's write-back
    fails: one cause, many records)."""
    sims = session.simulators
    projects = [
        p for p in sims.company.projects if p.status_id != "1" and not p.is_inactive and p.allow_time and p.customer_id
    ]
    victim = projects[0]
    sims.netsuite.records.update("job", victim.id, {"parent": None})
    sims.netsuite.unkept_fields = {**sims.netsuite.unkept_fields, "projectTask": {FAILURE_FIELD}}
    return [
        f"NetSuite project {victim.id} ({victim.entity_id}) has no customer",
        f"NetSuite does not keep {FAILURE_FIELD} on project tasks (the field is not on the task form)",
    ]


class LocalStack:
    """The moto server, the simulators and the stack's resources, for as long as `ctns serve` runs."""

    # moto keeps one state per process, whatever the server: a second stack here would reset the first one's.
    _running: ClassVar[LocalStack | None] = None

    def __init__(
        self,
        *,
        port: int = 0,
        seed: int = 7,
        size: int = 1,
        with_failures: bool = False,
        path: Path | None = None,
        config_overrides: dict[str, Any] | None = None,
        company: Any = None,
    ) -> None:
        self.port = port
        self.seed = seed
        self.size = size
        self.with_failures = with_failures
        self.path = path or state_path()
        self.config_overrides = config_overrides
        self.company = company  # a company of the caller's (tests); else one generated from seed and size
        self.session: Any = None
        self.state: LocalState | None = None
        self._server: Any = None

    def start(self) -> LocalState:
        from ctns.session import Session

        if LocalStack._running is not None:
            raise CliError(
                "a local stack already runs in this process (moto keeps one state per process): stop it first"
            )
        existing = LocalState.load(self.path)
        if existing and answers(existing.aws_endpoint):
            raise CliError(
                f"a local stack is already running (pid {existing.pid}, {existing.aws_endpoint}): stop it first"
            )
        if self.port and not _free(self.port):
            raise CliError(f"port {self.port} is in use: pick another with --port, or leave --port out for a free one")
        self._server = MotoServer(self.port).start()
        endpoint = self._server.url
        try:
            # moto keeps its state per process: a server started in a process that ran another one starts empty.
            requests.post(f"{endpoint}/moto-api/reset", timeout=10)
            with aws_endpoint(endpoint):
                self.session = Session.simulated(
                    seed=self.seed, size=self.size, config_overrides=self.config_overrides, company=self.company
                )
            failures = seed_failures(self.session) if self.with_failures else []
        except BaseException:
            self.stop()
            raise
        sims = self.session.simulators
        self.state = LocalState(
            aws_endpoint=endpoint,
            netsuite_url=sims.netsuite_url,
            clicktime_url=sims.clicktime_url,
            seed=self.seed,
            size=self.size,
            pid=os.getpid(),
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            seeded_failures=failures,
        )
        self.state.save(self.path)
        LocalStack._running = self
        return self.state

    def stop(self) -> None:
        if LocalStack._running is self:
            LocalStack._running = None
        if self.session is not None:
            self.session.close()
            self.session = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        recorded = LocalState.load(self.path) if self.path.exists() else None
        if recorded and self.state and recorded.aws_endpoint == self.state.aws_endpoint:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
