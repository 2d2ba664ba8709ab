"""Keeping one target record in step with one source record, the same way for every kind.

The rules, in order:
1. a message older than the version already applied is skipped (version fence);
2. when the mapping exists and the target payload's hash is unchanged, nothing is written;
3. when the mapping exists, the target is updated and the mapping's hash and version move on;
4. otherwise, under a creation claim, the target is looked up by its business key (a previous attempt may
   have created it and died before recording the mapping) and updated, or created; then the mapping is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ctsync.state import Mapping, MappingStore
from ctsync.state.mappings import CreationContended

# How long a worker waits for another one that is creating the same target, before handing the message back
# to the queue (whose visibility timeout is minutes, not seconds).
CONTENTION_WAIT_SECONDS = 10.0

Payload = dict[str, Any]


def content_hash(payload: Payload) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TargetOps:
    """How to find, create and update one kind of target record."""

    kind: str
    find: Callable[[], str | None]  # the existing target for this source, by business key; None if none
    create: Callable[[Payload], str]
    update: Callable[[str, Payload, Mapping | None], None]  # target id, payload, the mapping before (if any)


@dataclass(frozen=True)
class Applied:
    action: str  # created | updated | unchanged | skipped
    target_id: str | None
    mapping: Mapping | None
    detail: str = ""


def upsert_target(
    mappings: MappingStore,
    ops: TargetOps,
    *,
    source_id: str,
    version: datetime | None,
    payload: Payload,
    claim_owner: str,
    details: dict[str, str] | None = None,
    mapping: Mapping | None = None,
) -> Applied:
    mapping = mapping or mappings.get(ops.kind, source_id)
    if mapping and version and mapping.source_version and version < mapping.source_version:
        return Applied("skipped", mapping.target_id, mapping, f"stale: {version.isoformat()} is older than applied")
    digest = content_hash(payload)
    if mapping and not mapping.deleted and mapping.content_hash == digest:
        if version and (mapping.source_version is None or version > mapping.source_version):
            # Nothing to write to the target, but the fence moves on: an older snapshot arriving late must
            # not be applied over content this version confirmed.
            mapping.source_version = version
            mappings.put(mapping)
        return Applied("unchanged", mapping.target_id, mapping)
    if mapping:
        ops.update(mapping.target_id, payload, mapping)
        kept_version = version or mapping.source_version
        kept_details = {**mapping.details, **(details or {})}
        return _record(mappings, ops.kind, source_id, mapping.target_id, kept_version, digest, kept_details, "updated")
    try:
        return _create(mappings, ops, source_id, version, payload, digest, claim_owner, details)
    except CreationContended:
        created_meanwhile = mappings.wait_for(ops.kind, source_id, CONTENTION_WAIT_SECONDS)
        if created_meanwhile is None:
            raise
        return upsert_target(
            mappings,
            ops,
            source_id=source_id,
            version=version,
            payload=payload,
            claim_owner=claim_owner,
            details=details,
            mapping=created_meanwhile,
        )


def _create(
    mappings: MappingStore,
    ops: TargetOps,
    source_id: str,
    version: datetime | None,
    payload: Payload,
    digest: str,
    claim_owner: str,
    details: dict[str, str] | None,
) -> Applied:
    """Find (a previous attempt may have created it) or create, under the claim, then record the mapping."""
    with mappings.creation_claim(ops.kind, source_id, claim_owner):
        existing = ops.find()
        if existing:
            ops.update(existing, payload, None)
            return _record(
                mappings,
                ops.kind,
                source_id,
                existing,
                version,
                digest,
                details,
                "updated",
                "adopted the existing target",
            )
        created = ops.create(payload)
        return _record(mappings, ops.kind, source_id, created, version, digest, details, "created")


def _record(
    mappings: MappingStore,
    kind: str,
    source_id: str,
    target_id: str,
    version: datetime | None,
    digest: str,
    details: dict[str, str] | None,
    action: str,
    detail: str = "",
) -> Applied:
    mapping = Mapping(
        kind=kind,
        source_id=source_id,
        target_id=target_id,
        source_version=version,
        content_hash=digest,
        details=details or {},
    )
    mappings.put(mapping)
    return Applied(action, target_id, mapping, detail)


def retire(
    mappings: MappingStore, kind: str, source_id: str, version: datetime, deactivate: Callable[[Mapping], None]
) -> Applied:
    """A source record was deleted: deactivate its target once (never delete it: history hangs off it)."""
    mapping = mappings.get(kind, source_id)
    if mapping is None:
        return Applied("skipped", None, None, "deleted before it was ever synced")
    if mapping.deleted:
        return Applied("unchanged", mapping.target_id, mapping, "already deactivated")
    deactivate(mapping)
    mapping.deleted = True
    mapping.source_version = version
    mappings.put(mapping)
    return Applied("updated", mapping.target_id, mapping, f"deleted in the source: {kind} made inactive")
