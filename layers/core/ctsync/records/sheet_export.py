"""What the two nightly exports (time, expenses) share: an approved-sheet change source, the per-invocation
references of both systems, and one way to resolve people and projects for both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ctsync import unsettled
from ctsync.clicktime.client import ClickTimeClient
from ctsync.config import SyncConfig
from ctsync.errors import NeedsAttention
from ctsync.netsuite.client import NetSuiteClient
from ctsync.observability import logger
from ctsync.records.blocking import Blocked, Problem, record_flags
from ctsync.records.clicktime_source import BLOCKED, ApprovedSheetSource, SheetKind
from ctsync.records.references import ClickTimeReferences, NetSuiteReferences, People, Projects
from ctsync.records.targets import content_hash
from ctsync.references import References
from ctsync.state import Lock, Mapping, MappingStore, RunLog
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.timeutil import format_instant, latest_instant_of, utc_now

# A sheet's mapping keeps the fingerprint of the approval it holds, so the poller does not queue that approval
# again. When NetSuite did not take all of it (a report paid or approved by accounting, a bill billed or in a closed
# period: flagged, not changed), the fingerprint is kept marked: not held as done, so a backfill over the approval
# (or the next run's overlap) brings it to the worker again, which applies what NetSuite lets it by then. Before,
# the correction was held as done and reached NetSuite only if ClickTime approved the sheet once more.
HELD_BACK = "held-back:"


def kept_fingerprint(approval: str, *, held_back: bool) -> str:
    """The fingerprint a sheet's mapping keeps for `approval` (the approval's own, "" for none): marked when NetSuite
    held part of it back."""
    return f"{HELD_BACK}{approval}" if approval and held_back else approval


def approval_of(fingerprint: str) -> str:
    """The approval's own fingerprint from one a mapping keeps (marked or not)."""
    return fingerprint.removeprefix(HELD_BACK)


def is_held_back(mapping: Mapping | None) -> bool:
    """Whether NetSuite held back part of the approval this mapping last saw (its fingerprint is marked)."""
    return mapping is not None and mapping.fingerprint.startswith(HELD_BACK)


def superseded(before: Mapping | None, approved_date: str | None, version: datetime) -> bool:
    """Whether the sheet's mapping was written by a later approval than the one ClickTime shows now (`version`, its
    ApprovedDate read as UTC). A stamp without a zone is a local time we are not told: it is compared as the latest
    instant it can stand for. A withdrawal's mapping never supersedes: its fence is the run's clock, and the sheet,
    read just now, is approved again."""
    if before is None or before.source_version is None:
        return False
    if before.details.get("withdrawn"):
        # The fence of a withdrawal is the run's clock, not an approval's stamp: the sheet, read just now, is
        # approved again (a sheet an earlier version took for withdrawn when it was locked stayed skipped for good).
        return False
    latest = latest_instant_of(approved_date) if approved_date else version
    return latest < before.source_version


# What a plan can find wrong with an approval that went through whole only because NetSuite changed since: someone
# left, a category was retired. Anything else (ClickTime reading it short, a bad entry) is about the sheet as read.
RETIRED_SINCE = ("employee-inactive:", "category-inactive:")


def exported_as_approved(mapping: Mapping | None, approval: str, problems: list[Problem]) -> bool:
    """Whether this very approval (its fingerprint, `SheetKind.fingerprint`) went through whole, NetSuite holds it,
    and every one of its plan's `problems` is a reference retired since (`RETIRED_SINCE`): the export
    will not plan it again, so they block nothing of it. Another problem (review of 2026-12-04's diff: an exported
    sheet ClickTime now reads short was compared as held, a false difference) keeps it blocked."""
    return (
        bool(problems)
        and all(p.cause_key.startswith(RETIRED_SINCE) for p in problems)
        and bool(approval)
        and mapping is not None
        and not mapping.deleted
        and mapping.fingerprint == approval
        and not mapping.details.get(BLOCKED)
    )


def flagged_before(mapping: Mapping | None, approval: str) -> bool:
    """Whether this very approval was held back by NetSuite (and flagged) when the worker last saw it: the overlap or a
    backfill that finds it still held back does not flag it again."""
    return bool(approval) and mapping is not None and mapping.fingerprint == f"{HELD_BACK}{approval}"


WITHDRAWAL_FLAGS = "withdrawal_flags"  # mapping detail: digests of the flags a withdrawal raised


def withdrawal_flags(before: Mapping | None, status: str, flags: list[str]) -> tuple[list[str], dict[str, str]]:
    """The flags a withdrawal (the sheet `status`, no longer approved or emptied) raises, and the mapping detail
    that remembers them (merged over the mapping's details): only those not raised already by this same withdrawal
    of records NetSuite still has. The withdrawn phase queues such a sheet again every run (so a report or bill
    NetSuite lets go of later is removed then); each thing it keeps is told once, not every night."""
    digests = {text: content_hash(text)[:16] for text in flags}
    told: set[str] = set()
    if before is not None and not before.deleted and before.details.get("withdrawn") == status:
        told = set(before.details.get(WITHDRAWAL_FLAGS, "").split())
    remembered = " ".join(sorted(set(digests.values())))
    return [text for text in flags if digests[text] not in told], {WITHDRAWAL_FLAGS: remembered}


def released(runlog: RunLog, message: WorkMessage, before: Mapping | None, cause_key: str) -> None:
    """A sheet whose last pass NetSuite held back (an approval's mark, a withdrawal's remembered flags) went through
    whole this time (call it only then): it leaves the cause that flagged it, so `ctns errors` stops asking for a
    backfill, or a fix in NetSuite, that is done."""
    if before is None:
        return
    if is_held_back(before) or before.details.get(WITHDRAWAL_FLAGS):
        runlog.unblock(message.sync, cause_key, message.source_id)


def blocked_marker(
    before: Mapping | None, kind: str, source_id: str, period_start: str, error: NeedsAttention
) -> Mapping | None:
    """The mapping to record for a sheet `error` holds while nothing of it is in NetSuite (no mapping, or one
    withdrawn whole): its plan blocked (`Blocked`, each cause), or NetSuite refused its first write. None when it has a
    live mapping (whose withdrawal is listed anyway, and goes through). Without it, a held sheet rejected or deleted
    since was never looked at again, and its causes listed it for good."""
    if before is not None and not before.deleted:
        return None
    # a cause an earlier approval was held by still holds the sheet too (it never went through since)
    causes = getattr(error, "causes", None)
    held = {key for key, _, _ in causes()} if callable(causes) else {error.cause_key}
    keys = held | set((before.details.get(BLOCKED, "") if before else "").split())
    details = {"period_start": period_start, BLOCKED: " ".join(sorted(keys))}
    if before is None:
        return Mapping.of_no_target(kind, source_id, details=details)
    return before.model_copy(update={"details": {**before.details, **details}})


def let_go(runlog: RunLog, message: WorkMessage, before: Mapping, status: str) -> Mapping:
    """A sheet blocked while nothing of it was in NetSuite (`blocked_marker`) is no longer approved: the causes that
    held it leave it (nothing is left to fix for it; approved again and still bad, they name it again). Its mapping,
    no longer listed as blocked."""
    for key in before.details.get(BLOCKED, "").split():
        runlog.unblock(message.sync, key, message.source_id)
    details = {k: v for k, v in before.details.items() if k != BLOCKED}
    return before.model_copy(update={"details": {**details, "withdrawn": status}})


class SheetExport:
    """The wiring both exports share; each export adds its own plan, apply and withdraw."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        runlog: RunLog,
        config: SyncConfig,
        cache: References,
        *,
        sheets: SheetKind,
        lookback_days: int,
        late_approval_days: int,
    ) -> None:
        self._netsuite = netsuite
        self._clicktime = clicktime
        self._mappings = mappings
        self._runlog = runlog
        self._accounting = config.accounting
        self._ns = NetSuiteReferences(netsuite, cache)
        self._ct = ClickTimeReferences(clicktime, cache)
        self._people = config.people
        self._cache = cache
        self._sheets = sheets
        self._late_wait = timedelta(seconds=config.netsuite.late_write_seconds)
        self.source = ApprovedSheetSource(
            clicktime,
            mappings,
            sheets,
            lookback_days=lookback_days,
            skew_seconds=config.clicktime.clock_skew_seconds,
            late_approval_days=late_approval_days,
        )

    def _resolvers(self) -> tuple[People, Projects]:
        """People (ClickTime user -> NetSuite employee) and projects (job/task -> project/task), built once per
        environment and kept in the reference cache with what they have resolved."""
        prefix = self._sheets.mapping_kind
        people = self._cache.get(f"{prefix}:people", lambda: People(self._people, self._ns, self._ct))
        projects = self._cache.get(
            f"{prefix}:projects", lambda: Projects(self._mappings, self._ct, self._cache, self._ns)
        )
        return people, projects

    def _mark_held(
        self,
        lock: Lock,
        error: NeedsAttention,
        period_start: str,
        noun: str,
        recorded: Callable[[Mapping], Mapping] = lambda mapping: mapping,
    ) -> bool:
        """A sheet NetSuite refused (not a plan's block: `Blocked` marks its own) while nothing of it is in NetSuite
        is marked as a blocked one is (`blocked_marker`), so a rejection lets go of the cause; whether it was
        recorded. `recorded`: the marker as committed (an export adds what its writes left in doubt)."""
        if error.systemic or isinstance(error, Blocked) or not period_start or lock.released:
            return False  # released: the pass recorded its mapping and gave the lock up (a receipts retry's last try)
        kind = self._sheets.mapping_kind
        marker = blocked_marker(lock.mapping, kind, lock.source_id, period_start, error)
        if marker is None:
            return False
        try:
            self._mappings.commit(lock, recorded(marker))
        except Exception:
            logger.exception(
                f"{noun} {lock.source_id}: the cause holding it could not be recorded on its mapping",
                extra={"kind": kind, "source_id": lock.source_id, "cause_key": error.cause_key},
            )
            return False
        return True

    def _still_waiting(self, lock: Lock, write: str) -> Outcome | None:
        """A later look's answer while there is nothing to do yet (the lock released), or None: the wait after the
        sheet's last write of unknown outcome (`netsuite.late_write_seconds`) is over. `write`: what was sent ("a
        bill write")."""
        mapping = lock.mapping
        over_at = unsettled.wait_over_at(mapping.details, self._late_wait) if mapping else None
        if over_at is None:
            # under the lock: a new listing cannot come meanwhile
            self._mappings.unlist_unsettled(self._sheets.mapping_kind, lock.source_id)
            self._mappings.release(lock)
            return Outcome("unchanged", mapping.target_id if mapping else None, "nothing left to look at")
        if utc_now() < over_at:
            self._mappings.release(lock)
            return Outcome(
                "unchanged",
                mapping.target_id,  # type: ignore[union-attr]
                f"{write} of unknown outcome may still land until {format_instant(over_at)}: a later run looks",
            )
        return None

    def _look_waits(
        self, lock: Lock, message: WorkMessage, error: NeedsAttention, noun: str, looked: str, then: str
    ) -> Outcome:
        """A later look (after a write of unknown outcome) that only a person can unblock (the plan is blocked,
        NetSuite refuses a write) is not dead-lettered: its approval's message was, with the causes, when it failed
        the same way. It stays listed, and the reason is a cause again (the look may be the only message about the
        sheet now); the lock is given up. `noun`: what the sheet is called; `looked`: how a look's outcome starts
        (the runbook's query); `then`: when the look's writes are made."""
        self._mappings.release(lock)  # a no-op if the export committed its doubts
        if not isinstance(error, Blocked):  # a blocked sheet's causes stand until its plan changes
            record_flags(
                self._runlog,
                message,
                [error.message],
                what=f"{noun} {message.source_id}, {looked}",
                cause_key=error.cause_key,
                fix=error.fix,
                kind=error.code,
            )
        target = lock.mapping.target_id if lock.mapping else None
        return Outcome("skipped", target, f"{looked}: {error.message}; {then}")

    def _shared_problems(self) -> list[str]:
        """What `check()` finds wrong for either export: the closed-period rule needs the accounting periods."""
        if self._ns.periods():
            return []
        return ["no accounting periods are readable (accountingperiod): closed periods cannot be told apart"]
