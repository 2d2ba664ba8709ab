"""Writing the ClickTime ID back into a NetSuite custom field: once, verified, and never in a loop.

- **Once**: a snapshot read before our own write-back still shows the field empty; applying it again must not
  write the ID a second time. So the mapping remembers at which source version the ID was written back, and
  only a snapshot newer than that (someone cleared or changed the field since) gets it written again.
- **Verified**: NetSuite answers 204 to a write of a field it does not keep (the field is not on the form, has
  the wrong type, a workflow clears it). So the field is read back; a value that did not stick is one
  needs-a-person cause naming the field (`field-not-kept:<record type>.<field>`), and the record is not
  written again while that cause is open, since every write bumps `lastmodifieddate` and would bring the
  record back into the next run, and the next, for ever. Resolving the cause (`ctns redrive`) lets it try again.
  A record that reaches the worker while its cause is open (redriven before the fix: the first record of the
  redrive to fail opens the cause again) fails with that cause again (`waits`): judged unchanged, it would leave
  the dead-letter queue and the cause, and the redrive after the fix would never bring it back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ctsync.errors import NeedsAttention
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.records.targets import Settled
from ctsync.state import Mapping
from ctsync.sync.definition import same_fingerprint
from ctsync.sync.messages import Change
from ctsync.timeutil import earliest_reading, format_instant, parse_instant

WRITTEN_BACK_ID = "written_back_id"
WRITTEN_BACK_AT = "written_back_at"
NOT_KEPT = "write_back_not_kept"
SOURCE_GONE = "source_deleted"


class FieldNotKept(NeedsAttention):
    code = "FIELD_NOT_KEPT"


class WriteBack:
    """The write-back of target IDs into one custom field of one NetSuite record type."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        *,
        record_type: str,
        field: str,
        cause_open: Callable[[str], bool],
        timezone: str,
    ) -> None:
        self._netsuite = netsuite
        self._zone = timezone  # of the versions' clock text (`timeutil.from_local_text`)
        self.record_type = record_type
        self.field = field
        self._cause_open = cause_open

    @property
    def cause_key(self) -> str:
        return f"field-not-kept:{self.record_type.lower()}.{self.field}"

    def due(self, mapping: Mapping | None, target_id: str, current: str | None, version: datetime | None) -> bool:
        """Whether the source record should be written: it does not hold the ID, and no rule says wait."""
        if current == target_id:
            return False
        details = mapping.details if mapping else {}
        if details.get(NOT_KEPT) == self.field and self._cause_open(self.cause_key):
            return False  # reported once; written again only after the cause is resolved
        done_at = details.get(WRITTEN_BACK_AT)
        if not (done_at and version and details.get(WRITTEN_BACK_ID) == target_id):
            return True
        # The version at its latest reading against the stamp at its earliest (`write`): a later edit of the hour
        # repeated when clocks go back (someone cleared the field) is never taken for the snapshot written back.
        # The same clock text is that snapshot. (An older one of that hour may be written again: once, as the write
        # brings the record back holding the ID.)
        stamp = parse_instant(done_at)
        return not (version <= stamp or earliest_reading(version, self._zone) == stamp)

    def waits(self, mapping: Mapping | None) -> FieldNotKept | None:
        """The failure of a record whose write-back waits on its open field-not-kept cause, or None."""
        details = mapping.details if mapping else {}
        if mapping is None or details.get(NOT_KEPT) != self.field or not self._cause_open(self.cause_key):
            return None
        return FieldNotKept(
            f"{self.record_type} {mapping.source_id}: ClickTime ID {mapping.target_id} is not written back while "
            f"NetSuite does not keep {self.record_type}.{self.field} (cause {self.cause_key} is open)",
            cause=self.cause_key,
            fix=f"make custom field {self.field} store values on {self.record_type} records, then run `ctns redrive`",
        )

    def pending(self, mapping: Mapping, current: str | None, version: datetime | None) -> bool:
        """For a target's `due`: the ID is still to be written back, or its write-back waits on an open cause
        (the record is reported with that cause again)."""
        return self.due(mapping, mapping.target_id, current, version) or self.waits(mapping) is not None

    def settle(
        self,
        source_id: str,
        target_id: str,
        current: str | None,
        version: datetime | None,
        before: Mapping | None,
        *,
        gone: Callable[[], None],
    ) -> Settled:
        """After the target's write: the failure of a write-back waiting on its open cause, nothing when the
        source already holds the ID, else `write`."""
        waiting = self.waits(before)
        if waiting is not None:
            return Settled(failure=waiting)
        if not self.due(before, target_id, current, version):
            return Settled()
        return self.write(source_id, target_id, version, gone=gone)

    def unchanged(self, change: Change, mapping: Mapping) -> bool:
        """For the poller: the target holds this snapshot and the source record holds the target's ID (or
        waits on a field-not-kept cause), so the change need not be queued."""
        if not same_fingerprint(change, mapping):
            return False
        return not self.due(mapping, mapping.target_id, change.snapshot.get("clicktime_id"), change.version)

    def write(
        self, source_id: str, target_id: str, version: datetime | None, *, gone: Callable[[], None] | None = None
    ) -> Settled:
        """Write the ID, read it back, and say what to remember (or what failed).

        A record deleted in NetSuite after the poller read it (a 404 here) is not a failure: `gone` retires the
        target just written (made inactive; the deletion, read by this run or the next, marks the mapping
        deleted), so a deleted record never leaves an active target behind, whichever message comes first."""
        try:
            self._netsuite.update_record(self.record_type, source_id, {self.field: target_id})
            kept = self._netsuite.get_record(self.record_type, source_id, fields=[self.field]).get(self.field)
        except NetSuiteNotFound:
            if gone is None:
                raise
            gone()
            return Settled(
                details={SOURCE_GONE: "true"},
                wrote=True,
                note=f"{self.record_type} {source_id} was deleted in NetSuite meanwhile: its target made inactive",
            )
        at = format_instant(earliest_reading(version, self._zone)) if version else ""
        stamp = {WRITTEN_BACK_ID: target_id, WRITTEN_BACK_AT: at}
        if kept == target_id:
            return Settled(
                details={**stamp, NOT_KEPT: ""}, wrote=True, note=f"wrote the ID into {self.record_type}.{self.field}"
            )
        failure = FieldNotKept(
            f"NetSuite accepted {self.record_type}.{self.field} = {target_id!r} on {self.record_type} {source_id} but "
            f"kept {kept!r}: the field is not stored (is it on the form the integration role uses, of type free-form "
            f"text, and left alone by workflows?)",
            cause=self.cause_key,
            fix=f"make custom field {self.field} store values on {self.record_type} records, then run `ctns redrive`",
        )
        # Not stamped as written back: once the field is fixed and the cause resolved, it is written again.
        return Settled(details={NOT_KEPT: self.field}, wrote=True, failure=failure)
