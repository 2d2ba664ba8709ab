"""What Lambda's import of a handler file loads (issue 12: a lean cold import).

Deterministic, not timed: a fresh interpreter with Lambda's variables imports the handler as Lambda does and
reports `sys.modules`. The handler file must load only Powertools and the core's observability; the core
(models, config, clients, boto3, pydantic, the OAuth signer) comes with the first invocation. And the core,
once imported, signs NetSuite requests without requests_oauthlib, whose import brings all of OAuth 2 along.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctns.bench import coldstart

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "pydantic", "requests_oauthlib", "oauthlib", "ctsync.runtime", "ctsync.config")

PROBE = r"""
import importlib.util, json, sys
path = sys.argv[1]
sys.path[:0] = [str(__import__("os").path.dirname(path)), sys.argv[2]]
spec = importlib.util.spec_from_file_location("app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
loaded = set(sys.modules)
then = sys.argv[3]
if then:
    importlib.import_module(then)
print(json.dumps({"at_import": sorted(loaded), "after": sorted(sys.modules)}))
"""


def _modules(role: str, then: str = "") -> dict[str, list[str]]:
    handler = ROOT / "functions" / role / "app.py"
    env = {**os.environ, **coldstart._environment(handler)}
    out = subprocess.run(
        [sys.executable, "-B", "-c", PROBE, str(handler), str(ROOT / "layers" / "core"), then],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("role", ["poller", "worker"])
def test_importing_a_handler_loads_powertools_and_observability_not_the_core(role):
    modules = _modules(role)["at_import"]
    assert "ctsync.observability" in modules and "aws_lambda_powertools" in modules
    assert _heavy(modules) == []
    assert [m for m in modules if m.startswith("ctsync.")] == ["ctsync.observability"]


def test_the_core_signs_netsuite_requests_without_requests_oauthlib():
    after = _modules("worker", then="ctsync.entrypoints")["after"]
    assert "ctsync.runtime" in after and "ctsync.netsuite.auth" in after  # the core did load
    assert not [m for m in after if m.startswith(("requests_oauthlib", "oauthlib.oauth2"))]
