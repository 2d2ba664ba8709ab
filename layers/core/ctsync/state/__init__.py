"""State in DynamoDB: ID mappings (and record locks), sync progress (watermarks, cursor, lease, breaker) and
the run log with its causes, in one table.

Keys (single-table): `MAP#<kind>#<source id>` mappings (indexes: by target id, by kind, by parent record),
`SYNC#<sync>` progress and run pointers, `RUN#<run id>` a run's counts, failures and notes,
`CAUSE#<sync>` failures grouped by cause key.
"""

from ctsync.state.mappings import Lock, LostLock, Mapping, MappingStore, RecordBusy
from ctsync.state.progress import Breaker, Cursor, PollFailure, ProgressStore
from ctsync.state.runlog import Cause, Failure, RunEnd, RunLog, RunSummary, note_key

__all__ = [
    "Breaker",
    "Cause",
    "Cursor",
    "Failure",
    "Lock",
    "LostLock",
    "Mapping",
    "MappingStore",
    "PollFailure",
    "ProgressStore",
    "RecordBusy",
    "RunEnd",
    "RunLog",
    "RunSummary",
    "note_key",
]
