"""The one Logger, Metrics and Tracer of the core; every module imports these rather than making its own.

Each function serves one sync, so the `sync` dimension is added at the start of every invocation
(`bind_sync`; a flush clears it) and every count below lands under it in CloudWatch.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="ctns")
metrics = Metrics(namespace="ClickTimeNetSuiteSync", service="ctns")
tracer = Tracer(service="ctns")


def bind_sync(sync: str) -> None:
    if metrics.dimension_set.get("sync") != sync:
        metrics.add_dimension(name="sync", value=sync)
    logger.append_keys(sync=sync)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
