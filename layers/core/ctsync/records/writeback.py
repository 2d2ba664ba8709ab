"""Writing the ClickTime ID back into a NetSuite custom field, once.

A snapshot read before our own write-back still shows the field empty; applying it again must not write the
ID a second time. So the mapping remembers at which source version the ID was written back, and only a
snapshot newer than that (someone cleared or changed the field since) gets it written again.
"""

from __future__ import annotations

from datetime import datetime

from ctsync.netsuite.client import NetSuiteClient
from ctsync.records.targets import Applied
from ctsync.state import MappingStore
from ctsync.sync.messages import Outcome
from ctsync.timeutil import format_instant, parse_instant


def write_back_id(
    netsuite: NetSuiteClient,
    mappings: MappingStore,
    *,
    record_type: str,
    field: str,
    current_value: str | None,
    applied: Applied,
    version: datetime | None,
) -> bool:
    """Put the target ID into the source record's custom field if it is not there; True when written."""
    mapping = applied.mapping
    if mapping is None or not applied.target_id or applied.action == "skipped" or current_value == applied.target_id:
        return False
    done_at = mapping.details.get("written_back_at")
    if (
        done_at
        and version
        and version <= parse_instant(done_at)
        and mapping.details.get("written_back_id") == applied.target_id
    ):
        return False  # this snapshot was read before our own write-back
    netsuite.update_record(record_type, mapping.source_id, {field: applied.target_id})
    mapping.details["written_back_id"] = applied.target_id
    mapping.details["written_back_at"] = format_instant(version) if version else format_instant(mapping.updated_at)
    mappings.put(mapping)
    return True


def outcome_after_write_back(
    netsuite: NetSuiteClient,
    mappings: MappingStore,
    *,
    record_type: str,
    field: str,
    current_value: str | None,
    applied: Applied,
    version: datetime | None,
) -> Outcome:
    """Write the ID back where needed and say what the message did overall."""
    written = write_back_id(
        netsuite,
        mappings,
        record_type=record_type,
        field=field,
        current_value=current_value,
        applied=applied,
        version=version,
    )
    if written and applied.action == "unchanged":
        return Outcome("updated", applied.target_id, f"restored the ClickTime ID in {record_type}.{field}")
    return Outcome(applied.action, applied.target_id, applied.detail)  # type: ignore[arg-type]
