"""The one Logger, Metrics and Tracer of the core; every module imports these rather than making its own.

Each function serves one sync, so the `sync` dimension is added at the start of every invocation
(`bind_sync`; a flush clears it) and every count below lands under it in CloudWatch.
"""

from __future__ import annotations

import threading

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="ctns")
metrics = Metrics(namespace="ClickTimeNetSuiteSync", service="ctns")
tracer = Tracer(service="ctns")
# Powertools' add_metric reads, appends and flushes (every 100 values) without a lock: two threads (a time
# worker's concurrent bill writes) could lose a value or flush one twice.
_metrics_lock = threading.Lock()


def bind_sync(sync: str) -> None:
    # A default dimension survives the flushes Powertools makes on its own (every 100 values), so no EMF blob
    # of this function goes out without its sync.
    if metrics.default_dimensions.get("sync") != sync:
        metrics.clear_default_dimensions()  # one process may serve several syncs locally: no overwrite warning
        metrics.dimension_set.pop("sync", None)
        metrics.set_default_dimensions(sync=sync)
    logger.append_keys(sync=sync)


def count(name: str, value: int = 1) -> None:
    with _metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def observe_ms(name: str, milliseconds: float) -> None:
    with _metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(milliseconds, 1))
