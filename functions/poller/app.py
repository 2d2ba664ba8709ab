"""Scheduled poller of one sync (which one: the SYNC_NAME environment variable and the schedule's input).

The core (`ctsync.entrypoints`: models, config, clients, stores) is imported at the first invocation, not
when Lambda loads this file, so the import is a bare Powertools handler's plus the core's observability.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ctsync.observability import logger, metrics, tracer


# No capture_cold_start_metric: Powertools writes ColdStart as a blob of its own with only function_name and
# service, and every metric of this stack carries its sync (Lambda's REPORT lines say Init Duration anyway).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from ctsync import entrypoints

    return entrypoints.poll(event, context)
