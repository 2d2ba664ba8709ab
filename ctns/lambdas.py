"""Running the template's functions in-process, as the Lambda service would run them.

Each function's handler module is loaded from its code folder under a name of its own (two functions that
share a folder get separate module state, as two Lambda functions would), with the function's resolved
environment set while it runs. Asynchronous self-invocations (a poller continuing a long run) are caught at
the boto3 layer and queued here, since moto cannot run Lambda code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import boto3

from ctns.stack import FunctionSpec, Stack

_env_lock = threading.RLock()


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a real context."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class FunctionHost:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._modules: dict[tuple[str, int], ModuleType] = {}
        self.async_invocations: deque[tuple[str, dict[str, Any]]] = deque()
        self._by_name = {spec.name: spec.logical_id for spec in stack.functions.values()}
        self._by_name.update({spec.arn: spec.logical_id for spec in stack.functions.values()})
        self._intercept_lambda_invoke()
        self.timeout_override: dict[str, int] = {}

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        return {name: str(self.stack.resolve(value)) for name, value in spec.environment.items()}

    @contextmanager
    def activated(self, logical_id: str):  # noqa: ANN201 - a context manager
        """The function's environment, for as long as its invocations run (one function at a time)."""
        spec = self.stack.functions[logical_id]
        env = self.environment(spec)
        with _env_lock:
            saved = {name: os.environ.get(name) for name in env}
            os.environ.update(env)
            try:
                yield spec
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value

    def invoke(self, logical_id: str, event: dict[str, Any], *, environment: int = 0) -> Any:
        """Invoke a function whose environment variables are active (see `activated`).

        `environment` picks the execution environment: concurrent invocations must each have their own, as
        in Lambda, where module-level state (a BatchProcessor, say) is never shared by two invocations.
        """
        spec = self.stack.functions[logical_id]
        module = self._module(spec, environment)
        handler = getattr(module, spec.handler.rsplit(".", 1)[1])
        context = LambdaContext(
            function_name=spec.name,
            invoked_function_arn=spec.arn,
            timeout_seconds=self.timeout_override.get(logical_id, spec.timeout),
            log_group_name=f"/aws/lambda/{spec.name}",
        )
        return handler(event, context)

    def _module(self, spec: FunctionSpec, environment: int) -> ModuleType:
        key = (spec.logical_id, environment)
        if key not in self._modules:
            for layer in spec.layer_dirs:
                if str(layer) not in sys.path:
                    sys.path.append(str(layer))
            module_file, _ = spec.handler.rsplit(".", 1)
            path = spec.code_dir / f"{module_file.replace('.', '/')}.py"
            module_spec = importlib.util.spec_from_file_location(f"ctns_function_{spec.logical_id}_{environment}", path)
            if module_spec is None or module_spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            self._modules[key] = module
        return self._modules[key]

    def _intercept_lambda_invoke(self) -> None:
        """Turn boto3 `lambda.invoke(InvocationType="Event")` into a queued local invocation."""
        session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION

        def capture(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
            url_path = params.get("url_path", "")
            name = url_path.split("/functions/", 1)[1].split("/", 1)[0] if "/functions/" in url_path else ""
            logical_id = self._by_name.get(unquote(name))
            if logical_id is None:
                return None
            body = params.get("body") or b"{}"
            self.async_invocations.append((logical_id, json.loads(body)))
            return (_Accepted(), {"StatusCode": 202, "Payload": b""})

        session.events.register("before-call.lambda.Invoke", capture)
        self._unregister = lambda: session.events.unregister("before-call.lambda.Invoke", capture)

    def close(self) -> None:
        self._unregister()


class _Accepted:
    status_code = 202
    headers: dict[str, str] = {}
