"""State in DynamoDB: ID mappings, sync progress (watermark, cursor, lease) and the run log, in one table.

Keys (single-table): `MAP#<kind>#<source id>` mappings (reverse index on the target id, index by kind),
`SYNC#<sync>` progress and run pointers, `RUN#<run id>` a run's counts, failures and notes,
`CAUSE#<sync>` failures grouped by cause.
"""

from ctsync.state.mappings import Mapping, MappingStore
from ctsync.state.progress import Cursor, ProgressStore
from ctsync.state.runlog import Failure, RunLog, RunSummary

__all__ = ["Cursor", "Failure", "Mapping", "MappingStore", "ProgressStore", "RunLog", "RunSummary"]
