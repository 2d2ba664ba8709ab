"""Keeping one target record in step with one source record, the same way for every kind.

The rules, in order:
1. the record's lock is taken (one conditional write that returns the mapping as it stands; see
   `MappingStore.lock`) — or, for shared parents that are usually unchanged (`check_first`), the mapping is
   read first and the lock taken only when something must be written;
2. a message older than the version already applied is skipped (version fence, checked under the lock);
3. when the target payload's hash is unchanged and no follow-up is due, nothing is written to the target
   (the fence and fingerprint move on);
4. otherwise the target is updated, or created: a create looks for an existing target first only when one
   may exist (a previous holder died after starting a create, or the source holds a written-back ID); a create
   refused because another worker made the same record meanwhile adopts that record; a target the target system
   says is not found on update (`TargetNotFound` for its own path: a person deleted it there) is gone, so it is
   looked for and, not found, created anew, and followed up as a new target (rule 5 with no mapping before); an
   update refused for a unique value (a number, a task name) the target of another source record holds is tried
   again at once after that target is moved onto a placeholder when its own source no longer has the value (two
   records swapping numbers would otherwise wait for each other for ever: `_vacated`), else later, since that
   record's own message may free it (`number_held`); one held otherwise is `number_taken`;
5. a follow-up step (`settle`: linking a task to its job, writing the ID back into NetSuite) runs after the
   target exists; if it fails for a target just created, the mapping is recorded first (empty hash), so the
   target is known and the retry brings it up to date instead of creating another;
6. a write to the target whose answer was lost (`ctsync.unsettled`) leaves the record unsettled: the mapping
   keeps what the target must hold and the record is listed for later runs to look at again (`recheck`), since
   the lost request may still land after a newer write;
7. the mapping write releases the lock, and only while this worker still holds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ctsync import unsettled
from ctsync.clicktime.errors import ClickTimeAlreadyExists, ClickTimeOutcomeUnknown
from ctsync.errors import NeedsAttention, SyncError, TargetNotFound, TransientError, cause_part
from ctsync.observability import logger
from ctsync.state import Lock, Mapping, MappingStore, RecordBusy
from ctsync.timeutil import parse_instant, utc_now

# How long a worker waits for another one writing the same record (two projects of one new customer), before
# handing the message back to the queue.
CONTENTION_WAIT_SECONDS = 10.0

Payload = dict[str, Any]


def content_hash(payload: Payload) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Settled:
    """What a follow-up step did: details to keep in the mapping, whether it wrote anything, and a failure to
    report once the mapping is safely recorded (e.g. a written-back ID that NetSuite did not keep)."""

    details: dict[str, str] = field(default_factory=dict)
    wrote: bool = False
    note: str = ""
    failure: SyncError | None = None


@dataclass(frozen=True)
class TargetOps:
    """How to find, create, update and follow up one kind of target record."""

    kind: str
    find: Callable[[], str | None]  # the existing target for this source, by business key; None if none
    create: Callable[[Payload], str]
    update: Callable[[str, Payload, Mapping | None], None]  # target id, payload, the mapping before (if any)
    # target id, payload, the mapping before (if any), whether this attempt created the target
    settle: Callable[[str, Payload, Mapping | None, bool], Settled] | None = None
    due: Callable[[Mapping], bool] = lambda _mapping: False  # a follow-up is due though the target is unchanged
    may_exist: bool = False  # the source says a target may exist already (it holds a written-back ID)
    check_first: bool = False  # read before locking: a shared parent (a client) is usually unchanged
    path: Callable[[str], str] | None = None  # target id -> the API path its writes go to (rechecks compare it)
    system: str = "the target system"  # its name, for the run log
    # A create or update the target system refused because a unique value is taken by a record `find` does not
    # accept (one made by hand, or another source record's): that record (`described_holder`), for the person who
    # must link or renumber one of them (`number_taken`), or, on update, for the wait for its own change
    # (`number_held`); None when it cannot be found.
    taken_by: Callable[[Payload], Holder | None] | None = None
    # What a person sets on such a record so that `find` accepts it (the next run adopts it): named in the fix
    adopt_by: str = ""
    # (payload, the holder's mapping, read under its lock) -> whether the holder's source, read now, no longer has the
    # unique value an update was refused for and its own change is still to be applied (the mapping's fingerprint is
    # not its source's now), in which case its target has been moved onto a placeholder (`_vacated`).
    vacate: Callable[[Payload, Mapping], bool] | None = None


@dataclass(frozen=True)
class Holder:
    """The target-system record holding a unique value another record wants: described (`holder_text`), its ID and
    the source ID it carries (None: none)."""

    text: str
    target_id: str
    source_id: str | None


@dataclass(frozen=True)
class Applied:
    action: str  # created | updated | unchanged | skipped
    target_id: str | None
    mapping: Mapping | None
    detail: str = ""


def _stale(mapping: Mapping | None, version: datetime | None) -> bool:
    """`version` (an incoming message's, at its latest reading) is older than the one applied (the mapping's, at
    its earliest: `upsert_target`'s `earliest`)."""
    return bool(mapping and version and mapping.source_version and version < mapping.source_version)


def _holds(mapping: Mapping | None, digest: str) -> bool:
    return bool(mapping and not mapping.deleted and mapping.content_hash == digest)


@contextmanager
def locked(mappings: MappingStore, kind: str, source_id: str, owner: str) -> Iterator[Lock]:
    """The record's lock for the block. The block ends by committing a mapping or releasing the lock; if it
    raises, the lock is released here (a started create stays marked unless it was refused outright)."""
    lock = mappings.lock(kind, source_id, owner, wait_seconds=CONTENTION_WAIT_SECONDS)
    try:
        yield lock
    except BaseException:
        if not lock.released:  # a commit that gave it up already: a release would be refused (not the owner now)
            mappings.release(lock)
        raise


def upsert_target(
    mappings: MappingStore,
    ops: TargetOps,
    *,
    source_id: str,
    version: datetime | None,
    payload: Payload,
    owner: str,
    details: dict[str, str] | None = None,
    fingerprint: str = "",
    parent: str | None = None,
    earliest: datetime | None = None,
) -> Applied:
    """`version` is the source record's version at its latest reading; `earliest`, when the source's clock text can
    stand for an earlier instant too (a NetSuite time in the hour repeated when clocks go back:
    `timeutil.from_local_text`), that earliest reading. The mapping records the earliest and the fence compares
    the latest with it, so a newer edit in the repeated hour is never skipped as older."""
    digest = content_hash(payload)
    recorded = earliest or version
    if ops.check_first:
        known = mappings.get(ops.kind, source_id)
        if _stale(known, version):
            return Applied("skipped", known.target_id, known, f"stale: {version} is older than applied")  # type: ignore[union-attr]
        if known and _holds(known, digest) and not ops.due(known):
            mappings.confirm(known, recorded, fingerprint)
            return Applied("unchanged", known.target_id, known)
    with locked(mappings, ops.kind, source_id, owner) as lock:
        before = lock.mapping
        if _stale(before, version):
            mappings.release(lock)
            return Applied("skipped", before.target_id, before, "stale: a newer version was applied")  # type: ignore[union-attr]
        if before is not None and _holds(before, digest) and not ops.due(before):
            return _confirm_under_lock(mappings, lock, before, recorded, fingerprint)
        detail, created, renewed = "", False, False
        with unsettled.watching() as writes, _doubts_kept_on_failure(mappings, lock, writes, ops.path):
            if before is not None and _holds(before, digest):
                action, target = "unchanged", before.target_id
            elif before is not None:
                action, target = "updated", before.target_id
                if not _updated_unless_gone(mappings, ops, before, payload, lock.owner):
                    # Deleted in the target system (by a person there): found if someone made it again, else made
                    # anew; what was in doubt about the old target no longer matters.
                    target, action, _ = _find_or_create(lock, ops, payload, look=True)
                    created, renewed = action == "created", True
                    detail = f"{ops.kind} {before.target_id} was deleted in {ops.system}: " + (
                        f"made anew as {target}" if created else f"found again as {target}"
                    )
                    logger.warning(
                        f"{ops.kind} {source_id}: {detail}",
                        extra={"kind": ops.kind, "source_id": source_id, "target_id": target, "gone": before.target_id},
                    )
                    before = before.model_copy(update={"details": unsettled.settled(before.details)})
            else:
                target, action, detail = _find_or_create(lock, ops, payload)
                created = action == "created"
            mapped = _mapping(ops.kind, source_id, target, recorded, digest, fingerprint, details, parent, before)
            settled = Settled()
            # A target made anew follows up as a new one does (its link, its ID written back): the mapping before
            # described the target that is gone.
            prior = None if renewed else before
            if ops.settle:
                try:
                    settled = ops.settle(target, payload, prior, created)
                except BaseException:
                    if prior is None:
                        # Known at once: the retry updates this target instead of looking for it or making
                        # another. (Its details are not recorded: what they describe, the follow-up, did not
                        # happen.)
                        mappings.commit(
                            lock, mapped.model_copy(update={"content_hash": "", "details": {}}), keep_lock=True
                        )
                        lock.resolved = True
                    raise
        if action == "unchanged" and settled.wrote:
            action, detail = "updated", settled.note
        mapped.details.update(settled.details)
        mapped.details = _followed(mappings, ops.kind, source_id, mapped.details, writes, ops.path, target)
        mappings.commit(lock, mapped)
    if settled.failure is not None:
        raise settled.failure
    return Applied(action, target, mapped, detail or settled.note)


def _confirm_under_lock(
    mappings: MappingStore, lock: Lock, mapping: Mapping, version: datetime | None, fingerprint: str
) -> Applied:
    """The target holds this content already: one write moves the fence and fingerprint and frees the lock."""
    newer = version is not None and (mapping.source_version is None or version > mapping.source_version)
    if newer or (fingerprint and fingerprint != mapping.fingerprint):
        mappings.commit(
            lock,
            mapping.model_copy(
                update={
                    "source_version": version if newer else mapping.source_version,
                    "fingerprint": fingerprint or mapping.fingerprint,
                }
            ),
        )
    else:
        mappings.release(lock)
    return Applied("unchanged", mapping.target_id, mapping)


def _updated_unless_gone(mappings: MappingStore, ops: TargetOps, before: Mapping, payload: Payload, owner: str) -> bool:
    """Update the mapped target; False when the target system says that target is not found (deleted there). An
    update refused for a unique value another of our records' target holds is tried once more after that target is
    moved off it (`_vacated`), else it is `number_held`; one held by a record of no source is `number_taken`."""
    vacated = False
    while True:
        try:
            ops.update(before.target_id, payload, before)
        except TargetNotFound as error:
            if not _gone(error, ops.path, before.target_id):
                raise
            return False
        except ClickTimeAlreadyExists as refused:
            holder = ops.taken_by(payload) if ops.taken_by else None
            if holder is None:
                raise
            held = mappings.by_target(ops.kind, holder.target_id)
            if held is not None and not held.deleted and held.source_id != before.source_id:
                if not vacated:
                    vacated = True
                    # Moved aside, or freed meanwhile (its own message applied since the refusal): sent again
                    if _vacated(mappings, ops, payload, held, owner) or ops.taken_by(payload) is None:
                        continue
                raise number_held(refused, holder, held.source_id, ops) from refused
            raise number_taken(refused, holder, ops, updating=True) from refused
        return True


def _vacated(mappings: MappingStore, ops: TargetOps, payload: Payload, held: Mapping, owner: str) -> bool:
    """Move another of our records' target off a unique value its own source no longer has (`ops.vacate`), under
    that record's lock, so that the update refused for it can take it. Two projects that swap numbers (A P-1 -> P-2,
    B P-2 -> P-1) each want what the other's job holds: waiting for the other's own message, as `number_held` does,
    deadlocks. The holder's mapping loses its content hash, so its own message (due: its source changed) writes its
    target whole. True without a move when the holder's mapping changed since `held` was read (its own message
    applied meanwhile: the update may pass now). False, and nothing moved, when the holder is busy (its own worker
    is at it), its source still has the value, or the move fails."""
    if ops.vacate is None:
        return False
    try:
        lock = mappings.lock(ops.kind, held.source_id, f"{owner}:vacate")
    except RecordBusy:
        return False
    mapping = lock.mapping
    try:
        if mapping is None or mapping.deleted or mapping.target_id != held.target_id:
            mappings.release(lock)
            return False
        if (mapping.content_hash, mapping.source_version) != (held.content_hash, held.source_version):
            # The holder's own message was applied since the refusal (numbers shifted in a chain, its worker at it
            # meanwhile): the value may be free now. Nothing is moved (its target holds what its NetSuite record
            # says, and no later message would write it back); the update is tried again.
            mappings.release(lock)
            return True
        with unsettled.watching() as writes, _doubts_kept_on_failure(mappings, lock, writes, ops.path):
            moved = ops.vacate(payload, mapping)
    except BaseException as error:
        mappings.release(lock)  # (a no-op when the doubts were kept: that commit freed it)
        if not isinstance(error, SyncError):
            raise  # not the target system's refusal: the holder's lock freed, the error goes up as it is
        logger.warning(
            f"{ops.kind} {held.source_id}: its {ops.system} record {held.target_id} could not be moved off a value "
            f"another record wants ({type(error).__name__}: {error})",
            extra={"kind": ops.kind, "source_id": held.source_id, "target_id": held.target_id},
        )
        return False
    if not moved:
        mappings.release(lock)
        return False
    details = _followed(mappings, ops.kind, held.source_id, mapping.details, writes, ops.path, held.target_id)
    mappings.commit(lock, mapping.model_copy(update={"content_hash": "", "details": details}))
    logger.info(
        f"{ops.kind} {held.source_id}: its {ops.system} record {held.target_id} held a value its NetSuite record no "
        "longer has and another record wants: moved onto a placeholder until its own change is written",
        extra={"kind": ops.kind, "source_id": held.source_id, "target_id": held.target_id},
    )
    return True


def _gone(error: TargetNotFound, path: Callable[[str], str] | None, target_id: str) -> bool:
    """Whether a not-found is about the target itself: its own path, or one below it (its links). One about another
    record (the job a task is linked to) is not. An error that does not say its path is taken as the target's."""
    at = path(target_id) if path else None
    return not (at and error.path and error.path != at and not error.path.startswith(f"{at}/"))


def _find_or_create(lock: Lock, ops: TargetOps, payload: Payload, *, look: bool = False) -> tuple[str, str, str]:
    """`look`: find first even when nothing says a target may exist (one made again by hand is adopted)."""
    if look or lock.create_may_exist or ops.may_exist:
        existing = ops.find()
        if existing:
            ops.update(existing, payload, None)
            # Resolved only now: if the update fails, the mapping is not recorded, and the next attempt must
            # still look first (else it would create a twin of the target found here).
            lock.resolved = True
            return existing, "updated", "adopted the existing target"
        lock.resolved = True
    lock.create_attempted = True
    try:
        created = ops.create(payload)
    except ClickTimeAlreadyExists as refused:
        # Another worker (or a person) made the same record between our look and our create: adopt it.
        existing = ops.find()
        if not existing:
            lock.create_refused = True
            holder = ops.taken_by(payload) if ops.taken_by else None
            if holder is not None:
                raise number_taken(refused, holder, ops) from refused
            raise
        lock.resolved = True
        ops.update(existing, payload, None)
        return existing, "updated", "adopted the target another worker created meanwhile"
    except ClickTimeOutcomeUnknown:
        raise  # it may exist: the mark stays, so the next attempt looks first
    except NeedsAttention:
        lock.create_refused = True  # refused outright: nothing was made
        raise
    lock.resolved = True
    return created, "created", ""


def moving_aside(value: str) -> str:
    """The placeholder a target takes while a unique value it holds moves to another record (`_vacated`): unique as
    the value is, and saying what it is to a person who sees it before the holder's own change is written."""
    return f"{value} (moving)"


NUMBER_TAKEN = "clicktime-number-taken"  # the cause of a create refused for a unique value another record holds


def holder_text(record: str, target_id: str, name: str, field: str, value: object, source: str | None) -> str:
    """'ClickTime job J1 "Acme – Web" holds JobNumber 'P-1042' and names no NetSuite record' (or names which)."""
    named = f"names NetSuite record {source}" if source else "names no NetSuite record (made in ClickTime)"
    return f"ClickTime {record} {target_id} {name!r} holds {field} {str(value)!r} and {named}"


def number_taken(
    refused: ClickTimeAlreadyExists, holder: Holder, ops: TargetOps, *, updating: bool = False
) -> NeedsAttention:
    """The refusal of a create (or, `updating`, of an update) whose unique value (a JobNumber, a ClientNumber, a
    task name) `holder` has: at go-live, usually a record made by hand before the sync."""
    field = refused.field or "-"
    kind = ops.kind.replace("_", " ")
    link = f"set {ops.adopt_by} (the next run adopts it)" if ops.adopt_by else "link it to this record"
    fix = (
        f"give that ClickTime record, or this NetSuite {kind}, another {field}; then ctns redrive"
        if updating
        else f"if that ClickTime record stands for this NetSuite {kind}, {link}; else give one of them another "
        f"{field}; then ctns redrive"
    )
    return NeedsAttention(
        f"{refused.message}: {holder.text}",
        code="CLICKTIME_NUMBER_TAKEN",
        cause=f"{NUMBER_TAKEN}:{ops.kind}.{cause_part(field)}",
        fix=fix,
    )


def number_held(refused: ClickTimeAlreadyExists, holder: Holder, source_id: str, ops: TargetOps) -> TransientError:
    """The refusal of an update whose unique value the target of another source record holds (numbers shifted in a
    chain: B P-2 -> P-3, then A P-1 -> P-2, and A's message came first): that record's own message frees it, so the
    update is tried again later (a retry, not a dead letter at once). Two records that swap values are resolved by
    `_vacated` first; should the holder be busy or the move fail every time, the retries run out and the last one is
    dead-lettered naming the holder."""
    error = TransientError(
        f"{refused.message}: {holder.text}, the {ops.kind.replace('_', ' ')} of NetSuite record {source_id}; "
        "tried again once that record's own change frees it",
        code="CLICKTIME_NUMBER_HELD",
        cause=f"clicktime-number-held:{ops.kind}.{cause_part(refused.field or '-')}",
    )
    # Dead-lettered once the retries run out: what a person does then (a redrive alone meets the same refusal)
    field = refused.field or "value"
    error.fix = (  # type: ignore[attr-defined]
        f"NetSuite record {source_id}'s own change did not free the {field} (two records swapping it, or wanting the "
        f"same one): give one of them another {field} in NetSuite, then ctns redrive"
    )
    return error


def described_holder(
    record: str, field: str, value: str, source_id: str, listing: Callable[..., Iterable[Any]]
) -> Holder | None:
    """The ClickTime `record` ("job", "client", "task") holding `field` = `value` while carrying another NetSuite ID
    than `source_id` (or none), described by `holder_text`; None when there is none. Looked up by ClickTime's filter
    (`listing(**{field: value})`, exact), then over every record (`listing()`): ClickTime may refuse a value another
    record holds in other letters (UNVERIFIED)."""
    wanted = value.casefold()

    def holding(candidates: Iterable[Any]) -> Any:
        return next(
            (
                c
                for c in candidates
                if (getattr(c, field) or "").casefold() == wanted and c.AccountingPackageID != source_id
            ),
            None,
        )

    found = holding(listing(**{field: value})) or holding(listing())
    if found is None:
        return None
    text = holder_text(record, found.ID, found.Name, field, getattr(found, field), found.AccountingPackageID)
    return Holder(text, found.ID, found.AccountingPackageID or None)


def _mapping(
    kind: str,
    source_id: str,
    target_id: str,
    version: datetime | None,
    digest: str,
    fingerprint: str,
    details: dict[str, str] | None,
    parent: str | None,
    before: Mapping | None,
) -> Mapping:
    # Never back: an earliest reading may be earlier than the one recorded (both in the repeated hour).
    kept_version = max(filter(None, [version, before.source_version if before else None]), default=None)
    return Mapping(
        kind=kind,
        source_id=source_id,
        target_id=target_id,
        source_version=kept_version,
        content_hash=digest,
        fingerprint=fingerprint,
        details={**(before.details if before else {}), **(details or {})},
        parent=parent or (before.parent if before else None),
    )


def _followed(
    mappings: MappingStore,
    kind: str,
    source_id: str,
    details: dict[str, str],
    writes: list[unsettled.Write],
    path: Callable[[str], str] | None,
    target: str,
) -> dict[str, str]:
    """The mapping's details after this attempt's writes; a record with a new doubtful write is listed for the
    later runs' look (before its mapping is recorded: listed and found settled costs a read, never a miss)."""
    at = path(target) if path else None
    followed = unsettled.follow(details, writes, at, utc_now())
    if any(write.doubtful and write.path == at for write in writes):
        mappings.list_unsettled(kind, source_id)
        logger.info(
            f"{kind} {source_id}: a write to {target} had an unknown outcome; later runs look at it again",
            extra={"kind": kind, "source_id": source_id, "target_id": target},
        )
    return followed


@contextmanager
def _doubts_kept_on_failure(
    mappings: MappingStore, lock: Lock, writes: list[unsettled.Write], path: Callable[[str], str] | None
) -> Iterator[None]:
    """When the block fails after a write of unknown outcome to a target the record already had, the mapping keeps
    it (and the record is listed): the retry that then succeeds cannot tell that an earlier request is on its way."""
    try:
        yield
    except BaseException:
        before = lock.mapping
        at = path(before.target_id) if before is not None and path else None
        if before is not None and any(write.doubtful and write.path == at for write in writes):
            kept = _followed(mappings, lock.kind, lock.source_id, before.details, writes, path, before.target_id)
            mappings.commit(lock, before.model_copy(update={"details": kept}))
        raise


def retire(
    mappings: MappingStore,
    kind: str,
    source_id: str,
    version: datetime,
    deactivate: Callable[[Mapping], None],
    owner: str,
    path: Callable[[str], str] | None = None,
    system: str = "the target system",
) -> Applied:
    """A source record was deleted: deactivate its target once (never delete it: history hangs off it).

    The fence moves to the deletion's version, so a late message about the record cannot revive the target.
    `path` (target id -> API path) lets a later run look at the target again when a write to it was of unknown
    outcome (this deactivation, or an earlier write still unsettled). A target already deleted in the target
    system (a not-found of its path) is retired as it is.
    """
    mapping = mappings.get(kind, source_id)
    if mapping is None:
        return Applied("skipped", None, None, "deleted before it was ever synced")
    if mapping.deleted:
        return Applied("unchanged", mapping.target_id, mapping, "already deactivated")
    with locked(mappings, kind, source_id, owner) as lock:
        current = lock.mapping or mapping
        if current.deleted:
            mappings.release(lock)
            return Applied("unchanged", current.target_id, current, "already deactivated")
        gone = False
        with unsettled.watching() as writes, _doubts_kept_on_failure(mappings, lock, writes, path):
            try:
                deactivate(current)
            except TargetNotFound as error:
                if not _gone(error, path, current.target_id):
                    raise
                gone = True  # deleted in the target system already: nothing is left to make inactive
        kept = _followed(mappings, kind, source_id, current.details, writes, path, current.target_id)
        if gone:
            kept = unsettled.settled(kept)
        retired = current.model_copy(
            update={"deleted": True, "source_version": version, "content_hash": "", "details": kept}
        )
        mappings.commit(lock, retired)
    if gone:
        detail = f"deleted in the source: {kind} {retired.target_id} was already deleted in {system}"
        logger.info(f"{kind} {source_id}: {detail}", extra={"kind": kind, "source_id": source_id})
        return Applied("updated", retired.target_id, retired, detail)
    return Applied("updated", retired.target_id, retired, f"deleted in the source: {kind} made inactive")


def recheck(
    mappings: MappingStore,
    kind: str,
    source_id: str,
    *,
    read: Callable[[str], dict[str, Any] | None],
    write: Callable[[str, dict[str, Any]], None],
    owner: str,
    settle_after: timedelta,
) -> Applied:
    """A later look at a target a write of unknown outcome may have changed since (`ctsync.unsettled`).

    Under the record's lock: the target is read at the mapping's path (`read`: path -> its fields, None when it is
    gone), each field it must hold and does not is written back (`write`: path, fields), and the record leaves
    the list once a look finds it in step at least `settle_after` after its last doubtful write. A write made
    here that is doubtful too restarts that wait.
    """
    with locked(mappings, kind, source_id, owner) as lock:
        mapping = lock.mapping
        if mapping is None or unsettled.SINCE not in mapping.details:
            mappings.unlist_unsettled(kind, source_id)  # under the lock: a new listing cannot come meanwhile
            mappings.release(lock)
            return Applied("unchanged", mapping.target_id if mapping else None, mapping, "nothing left to look at")
        path = unsettled.desired_path(mapping.details) or ""
        current = read(path)
        if current is None:
            mappings.unlist_unsettled(kind, source_id)
            mappings.commit(lock, mapping.model_copy(update={"details": unsettled.settled(mapping.details)}))
            return Applied("skipped", mapping.target_id, mapping, f"the target is gone: {path} was not found")
        wrong = unsettled.drift(current, unsettled.desired_fields(mapping.details))
        with unsettled.watching() as writes:
            if wrong:
                write(path, wrong)
        doubtful = any(w.doubtful for w in writes if w.path == path)
        since = parse_instant(mapping.details[unsettled.SINCE])
        if not doubtful and utc_now() - since >= settle_after:
            mappings.unlist_unsettled(kind, source_id)
            mappings.commit(lock, mapping.model_copy(update={"details": unsettled.settled(mapping.details)}))
        elif doubtful:
            kept = unsettled.follow(mapping.details, writes, path, utc_now())
            mappings.commit(lock, mapping.model_copy(update={"details": kept}))
        else:
            mappings.release(lock)  # what it wrote back is what the mapping already says the target must hold
    if not wrong:
        return Applied("unchanged", mapping.target_id, mapping, "looked at again: the target holds what was written")
    return Applied(
        "updated",
        mapping.target_id,
        mapping,
        f"a late write had changed {', '.join(sorted(wrong))}: written again",
    )
