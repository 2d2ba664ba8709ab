"""Cold start: the import time of each handler against a bare Powertools handler, side by side.

Each import runs in a fresh interpreter laid out as Lambda lays out python3.13: the function's code folder,
then the layers as `sam build` makes them (each layer's Makefile, run here for this machine's platform, so
the same files and the same bytecode, or lack of it), then the runtime's own packages (boto3, botocore, ...,
taken from this virtualenv; nothing else of it is on the path, so a package the layer forgot fails the
import). Nothing is written back (`-B`; /opt is read-only in Lambda), site-packages is off (`-S`), and the
Lambda variables are set, so Powertools' Tracer patches boto/requests at import as it does there.

The bare handler of each function is the same file with the core taken out: the poller's Logger, Metrics
and Tracer decorators; the worker's, plus its BatchProcessor. The figures are the median of interleaved
repetitions; the ratio is taken on CPU time (on a shared machine wall time also counts waiting for a core).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = {"poller": ROOT / "functions" / "poller" / "app.py", "worker": ROOT / "functions" / "worker" / "app.py"}

BARE = {
    "poller": '''"""A bare Powertools handler: the poller's decorators, no core."""
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="bare")
metrics = Metrics(namespace="Bare", service="bare")
tracer = Tracer(service="bare")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"status": "ok"}
''',
    "worker": '''"""A bare Powertools handler: the worker's decorators and batch processor, no core."""
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="bare")
metrics = Metrics(namespace="Bare", service="bare")
tracer = Tracer(service="bare")
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=lambda record: None, processor=processor, context=context)
''',
}

# Runs in the fresh interpreter: argv = handler file, then the sys.path entries after its folder.
PROBE = r"""
import importlib.util, json, os, sys, time
wall, cpu = time.perf_counter(), time.process_time()
path = sys.argv[1]
sys.path[:0] = [os.path.dirname(path)] + sys.argv[2:]
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
result = {"wall_ms": (time.perf_counter() - wall) * 1000, "cpu_ms": (time.process_time() - cpu) * 1000}
layers = tuple(sys.argv[2:-1])
loaded = [m for name, m in sys.modules.items() if name not in before]
result["modules"] = len(loaded)
from_layers = [m for m in loaded if str(getattr(m, "__file__", "") or "").startswith(layers)]
result["layer_modules"] = len(from_layers)
result["layer_modules_without_pyc"] = sorted(
    m.__name__ for m in from_layers if not (getattr(m, "__cached__", None) and os.path.exists(m.__cached__))
)
print(json.dumps(result))
"""


def _host_platform() -> str:
    machine = platform.machine().lower()
    return f"manylinux2014_{'aarch64' if machine in ('arm64', 'aarch64') else machine}"


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
            if "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def build_layers(out: Path) -> dict[str, Path]:
    """Both layers as their Makefiles build them, for this machine's platform (kept while their inputs hold)."""
    built = {}
    for layer, folder in (("DepsLayer", ROOT / "layers" / "deps"), ("CoreLayer", ROOT / "layers" / "core")):
        target = out / layer
        stamp = target / ".inputs"
        inputs = _digest(folder)
        if not (stamp.exists() and stamp.read_text() == inputs):
            subprocess.run(
                [
                    "make",
                    "-s",
                    "-f",
                    str(folder / "Makefile"),
                    f"build-{layer}",
                    f"ARTIFACTS_DIR={target}",
                    f"PYTHON={sys.executable}",
                    f"PLATFORM={_host_platform()}",
                    f"PY_VERSION={sys.version_info.major}.{sys.version_info.minor}",
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            stamp.write_text(inputs)
        built[layer] = target / "python"
    return built


def runtime_dir(out: Path) -> Path:
    """The runtime's own packages (layers/deps/runtime-provided.txt), linked from this virtualenv, and only they."""
    target = out / "runtime"
    target.mkdir(parents=True, exist_ok=True)
    site = Path(sysconfig.get_paths()["purelib"])
    names = [
        line.split("#", 1)[0].strip()
        for line in (ROOT / "layers" / "deps" / "runtime-provided.txt").read_text().splitlines()
        if line.split("#", 1)[0].strip()
    ]
    for name in names:
        files = metadata.distribution(name).files or []
        tops = {
            f.parts[0]
            for f in files
            if f.parts and not f.parts[0].endswith((".dist-info", ".data")) and f.parts[0] != ".."
        }
        for top in tops:
            link = target / top
            if not link.exists() and (site / top).exists():
                link.symlink_to(site / top)
    return target


def _environment(handler: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(handler.parent),
            "AWS_LAMBDA_FUNCTION_NAME": "ctns-bench-cold",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "_HANDLER": "app.lambda_handler",
            "POWERTOOLS_SERVICE_NAME": "ctns",
            "POWERTOOLS_METRICS_NAMESPACE": "ClickTimeNetSuiteSync",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "SYNC_NAME": "projects",
        }
    )
    return env


def _probe(handler: Path, path: list[Path]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", PROBE, str(handler), *map(str, path)],
        env=_environment(handler),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"importing {handler} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(out: Path, repeats: int = 15, path: list[Path] | None = None) -> dict[str, Any]:
    """`path`: the layer folders then the runtime's (default: the layers as their Makefiles build them)."""
    if path is None:
        layers = build_layers(out / "layers")
        path = [layers["DepsLayer"], layers["CoreLayer"], runtime_dir(out)]
    bare = {}
    for role, source in BARE.items():
        folder = out / "bare" / role
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "app.py").write_text(source)
        bare[role] = folder / "app.py"
    samples: dict[str, list[dict[str, Any]]] = {}
    for _ in range(repeats):  # interleaved: a slow moment of the machine hits every variant alike
        for role in HANDLERS:
            samples.setdefault(f"bare_{role}", []).append(_probe(bare[role], path))
            samples.setdefault(role, []).append(_probe(HANDLERS[role], path))
    figures: dict[str, Any] = {}
    for name, runs in samples.items():
        figures[name] = {
            "cpu_ms": round(statistics.median(r["cpu_ms"] for r in runs), 1),
            "wall_ms": round(statistics.median(r["wall_ms"] for r in runs), 1),
            "modules": runs[-1]["modules"],
            "layer_modules_without_pyc": runs[-1]["layer_modules_without_pyc"],
        }
    ratios = {
        role: {
            "cpu": round(figures[role]["cpu_ms"] / figures[f"bare_{role}"]["cpu_ms"], 2),
            "wall": round(figures[role]["wall_ms"] / figures[f"bare_{role}"]["wall_ms"], 2),
        }
        for role in HANDLERS
    }
    return {
        "value": max(r["cpu"] for r in ratios.values()),
        "measure": "median CPU time to import the handler / the bare Powertools handler's, worst of poller and worker",
        "repeats": repeats,
        "ratios": ratios,
        "figures": figures,
        "layers": "built by layers/*/Makefile for this machine; runtime packages from this virtualenv",
    }


def whole(server: Any, log_path: str, repeats: int) -> dict[str, Any]:
    """The whole cold start of the projects sync's poller and worker: a fresh process imports the handler and
    builds what the first invocation needs (config and secrets read, clients and stores made), against the
    simulators and the moto server. Import-time laziness moves work from the import into the build; this
    total shows what it saves for real. Median of `repeats`, in CPU ms."""
    from ctns.bench.fleet import open_session

    session = open_session(server, log_path, size=1)
    try:
        runs = {role: session.runner.cold_starts("projects", role, repeats) for role in ("poller", "worker")}
    finally:
        session.close()
    out: dict[str, Any] = {"repeats": repeats}
    for role, figures in runs.items():
        out[role] = {
            "import_cpu_ms": round(1000 * statistics.median(f["init_cpu_seconds"] for f in figures), 1),
            "build_cpu_ms": round(1000 * statistics.median(f["warm_up_cpu_seconds"] for f in figures), 1),
            "total_cpu_ms": round(
                1000 * statistics.median(f["init_cpu_seconds"] + f["warm_up_cpu_seconds"] for f in figures), 1
            ),
        }
    return out
