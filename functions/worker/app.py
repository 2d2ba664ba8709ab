"""SQS worker of one sync: applies each work message, reporting partial batch failures.

The core (`ctsync.entrypoints`: models, config, clients, stores) is imported at the first invocation, not
when Lambda loads this file, so the import is a bare Powertools handler's plus the core's observability.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.typing import LambdaContext

from ctsync.observability import logger, metrics, tracer

# A batch whose every record goes back for another attempt is answered with all of them in batchItemFailures, not
# raised: an invocation failed as a whole is what the WorkerErrors alarm pages for (a crash, a timeout).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from ctsync import entrypoints

    return entrypoints.work(event, context, processor)
