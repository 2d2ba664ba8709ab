"""The receipt step of the expense export: each item's receipt stored once in NetSuite's File Cabinet and linked
to its line, a step that never blocks the report.

The receipts are stored BEFORE the report is written, and the report's one write links every file stored
(`expmediaitem`): each write of a report, the first, a retry of it, or one NetSuite processes late after its
answer was lost, carries the same complete content, so a late one changes nothing. (Stored after the report and
linked by a second write, a first write processed late put the lines back without their links: found by the
soak, seed 427260.) A receipt that fails leaves its line unlinked; the write that later links it carries the
whole report again, and checks once, a retry's delay later, that a late earlier write did not undo the links
(`RECEIPT_VERIFY`). `attach` (a call per file on the report) needs the report's id, so it follows the write.

A failure is recorded on the item's child mapping (kind `expenseitem`) and reported once per sheet and cause,
naming each item; one that may go through later (a 5xx, a timeout) is retried by a message the worker sends
itself (`RECEIPTS_ONLY`), its delay doubling each try, up to `expenses.receipts.retries`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ctsync.clicktime.client import ClickTimeClient, ReceiptRefused
from ctsync.clicktime.models import ExpenseItem
from ctsync.config import ReceiptSettings
from ctsync.errors import NeedsAttention, TransientError
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteAlreadyBilled, NetSuiteNotFound, NetSuitePeriodClosed
from ctsync.observability import logger
from ctsync.records.blocking import record_flags
from ctsync.records.clicktime_source import decimal_text
from ctsync.records.expense_lines import (
    ITEM_KIND,
    KIND,
    RECORD,
    SUBLIST,
    ReportPlan,
    external_id,
    report_hash,
    report_payload,
)
from ctsync.records.receipts import FileCabinet, file_type_of
from ctsync.records.sheet_export import is_held_back, kept_fingerprint
from ctsync.records.targets import content_hash
from ctsync.state import Lock, Mapping, MappingStore, RunLog
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.timeutil import format_instant, same_all_day

# The snapshot flags of a receipts retry (a message the worker sends itself): only the receipt step runs.
RECEIPTS_ONLY = "receipts_only"
RECEIPT_TRY = "receipt_try"
RECEIPT_VERIFY = "receipt_verify"  # a check, once, that the links a retry wrote are still on the report
DOWNLOAD_ATTEMPTS = 2  # the client's own tries per receipt; later ones go through the queue


def is_follow_up(snapshot: dict[str, Any]) -> bool:
    """Whether a message is one the worker sent itself (a receipts retry, a link check): it carries work its
    sheet's fingerprint does not cover, so it is never judged unchanged by that fingerprint."""
    return bool(snapshot.get(RECEIPTS_ONLY) or snapshot.get(RECEIPT_VERIFY))


Requeue = Callable[[WorkMessage, int], None]  # a message, its delay in seconds
Frozen = Callable[[str], str | None]  # a report id -> why it must not change (paid, closed period), or None


@dataclass
class ReceiptsDone:
    """What one pass of the receipt step did, and what it leaves to report or to retry."""

    stored: int = 0
    linked: bool = False  # the report was written again (by a retry of this step) to link files to lines
    attached: int = 0
    detached: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # cause key -> texts: not retried for this approval
    pending: dict[str, list[str]] = field(default_factory=dict)  # cause key -> texts: may go through later
    link_hash: str = ""  # the report's payload hash after the write that linked files to lines
    # The causes the sheet's items were named under before this pass (an earlier try's failure, `receipt_error` or
    # `receipt_refused` on the item's mapping), and those they are named under after it (`item_causes`): a cause of
    # the first not in the second, nor reported by this pass, lets go of the sheet (`report`)
    recovered: set[str] = field(default_factory=set)
    holding: set[str] = field(default_factory=set)
    # Receipts of this approval not stored because NetSuite holds the report back (paid, approved by accounting, a
    # closed period): they wait with the approval's other changes, and the export flags them with those
    held_back: list[str] = field(default_factory=list)
    written_as: str = ""  # the report's internal ID as a retry's write answered it (another when it was made anew)

    def merged(self, later: ReceiptsDone) -> ReceiptsDone:
        """This pass and a later one of the same approval (a re-store): what either did, reported or left."""

        def joined(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, list[str]]:
            # a receipt the later pass tried again (a download that failed) is told once
            return {key: list(dict.fromkeys([*a.get(key, []), *b.get(key, [])])) for key in {**a, **b}}

        return ReceiptsDone(
            stored=self.stored + later.stored,
            linked=self.linked or later.linked,
            attached=self.attached + later.attached,
            detached=self.detached + later.detached,
            failures=joined(self.failures, later.failures),
            pending=joined(self.pending, later.pending),
            link_hash=later.link_hash or self.link_hash,
            recovered=self.recovered | later.recovered,
            holding=later.holding,  # the later pass saw every item as it now stands
            held_back=[*self.held_back, *later.held_back],
        )

    @property
    def wrote(self) -> bool:
        return bool(self.stored or self.linked or self.attached or self.detached)

    @property
    def retry(self) -> int:
        return sum(len(texts) for texts in self.pending.values())

    def fail(self, cause: str, text: str) -> None:
        self.failures.setdefault(cause, []).append(text)

    def later(self, cause: str, text: str) -> None:
        self.pending.setdefault(cause, []).append(text)


class ReceiptStep:
    """Stores, links and retries the receipts of one expense report's lines."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        runlog: RunLog,
        settings: ReceiptSettings,
        cabinet: FileCabinet,
        requeue: Requeue | None,
        frozen: Frozen,
    ) -> None:
        self._frozen = frozen
        self._netsuite = netsuite
        self._clicktime = clicktime
        self._mappings = mappings
        self._runlog = runlog
        self._settings = settings
        self._cabinet = cabinet
        self._requeue = requeue

    def linked_files(self, plan: ReportPlan, children: dict[str, Mapping]) -> dict[str, str]:
        """Item -> file id of the receipts stored for the items' current receipts, when linked per line."""
        if self._settings.link == "attach" or not self._settings.enabled:
            return {}
        files = {}
        for line in plan.lines:
            details = children[line.item.ID].details if line.item.ID in children else {}
            if line.item.ReceiptURL and details.get("receipt_file"):
                files[line.item.ID] = details["receipt_file"]
        return files

    def would_store(self, item: ExpenseItem, details: dict[str, str], version: Any, approved_date: str | None) -> bool:
        """For `ctns plan`: whether the run would store (or try to store) this item's receipt, `details` being its
        child mapping's. Not when it was stored or refused for this approval already (`checked_already`); when a
        file is stored from an earlier approval, the receipt is downloaded (a read, capped at `receipts.max_bytes`)
        and compared by its SHA-256, as the run compares it: a receipt replaced in ClickTime and approved again is
        told as a write, where the plan said unchanged and the run replaced the file. A download or type the run
        would fail on counts as work too (the run reports it)."""
        if not item.ReceiptURL or checked_already(details, version, item, approved_date):
            return False
        if not (details.get("receipt_file") and details.get("receipt_sha")):
            return True
        try:
            content, mime = self._download(item)
        except (NeedsAttention, TransientError):  # refused, too large, gone, failing: the run reports or retries it
            return True
        if file_type_of(mime, content) is None:
            return True
        return hashlib.sha256(content).hexdigest() != details["receipt_sha"]

    def _download(self, item: ExpenseItem) -> tuple[bytes, str]:
        """The item's receipt (bytes, MIME type), capped at `receipts.max_bytes`, with the client's own few tries."""
        return self._clicktime.download_receipt(
            item.ReceiptURL or "", max_bytes=self._settings.max_bytes, attempts=DOWNLOAD_ATTEMPTS
        )

    def frozen(self, report: str) -> Callable[[], str | None]:
        """Why the report must not change, read once and only when asked (before an upload, before a write)."""
        return cache(lambda: self._frozen(report) if report else None)

    def store(
        self,
        plan: ReportPlan,
        version: Any,
        children: dict[str, Mapping],
        report: str,
        frozen: Callable[[], str | None],
    ) -> ReceiptsDone:
        """Store each item's receipt once, before the report is written (`report`: its id, "" before the first
        write; `frozen`: as `frozen(report)` gives); `children` gains each item's child mapping with its
        receipt's state.

        For each item with a ReceiptURL whose receipt was not stored (or refused) for this approval: download it
        as a stream capped at `receipts.max_bytes` (one receipt in memory at a time); map its type; compare its
        SHA-256 with the one stored (the same content is never uploaded again); upload it, unless the report is
        paid or in a closed period (it will not change, so its file would be linked nowhere). A download that may
        work later (5xx, a timeout) is left for a retry of this step alone; one that cannot (too large, a type
        NetSuite refuses) is reported and not tried again until the sheet is approved anew.
        """
        done = ReceiptsDone()
        done.recovered = {cause for child in children.values() for cause in item_causes(child.details)}
        for line in plan.lines:
            item = line.item
            if not item.ReceiptURL:
                if line.item.ID in children and item_causes(children[item.ID].details):
                    # Its receipt was removed in ClickTime: nothing of it fails now (its cause lets go of the sheet)
                    kept = {k: v for k, v in children[item.ID].details.items() if k not in ITEM_CAUSES}
                    children[item.ID] = self._save_child(children[item.ID], kept)
                continue
            # Before the report's first write its internal id is unknown: the child names it by external ID
            # (a mapping without a target reads as none), and the write that follows names the id.
            target = report or f"eid:{external_id(plan.sheet.ID)}"
            child = children.get(item.ID) or Mapping(
                kind=ITEM_KIND, source_id=item.ID, target_id=target, parent=f"{KIND}#{plan.sheet.ID}"
            )
            details = dict(child.details)
            keyed = receipt_key(version, item)
            if checked_already(details, version, item, plan.sheet.ApprovedDate):
                continue  # stored (or refused) for this approval already: not downloaded again
            failure = self._receipt(item, child, details, done, frozen, report)
            if failure is not None and failure[0] == FROZEN:
                # Not checked for this approval: tried again when the approval is (a backfill once NetSuite lets
                # the report change); the file it had stays linked to the report NetSuite keeps as it is
                done.held_back.append(failure[1])
                continue
            if failure is not None:
                cause, text, retry = failure
                details["receipt_error"] = cause
                if retry:
                    done.later(cause, text)
                else:  # not tried again for this approval; an older file is not this approval's receipt
                    details.update({"receipt_refused": cause, "receipt_checked": keyed})
                    details.pop("receipt_file", None)
                    done.fail(cause, text)
            else:
                for stale in ("receipt_uploading", "receipt_error", "receipt_refused"):
                    details.pop(stale, None)
                details["receipt_checked"] = keyed
            children[item.ID] = self._save_child(child, details)
        # What every receipt of the sheet fails for now: a failure of this pass, or one an earlier pass left on an
        # item not tried again (refused for this approval, held back with a frozen report)
        done.holding = {
            cause
            for line in plan.lines
            if line.item.ReceiptURL and line.item.ID in children
            for cause in item_causes(children[line.item.ID].details)
        }
        return done

    def _receipt(
        self,
        item: ExpenseItem,
        child: Mapping,
        details: dict[str, str],
        done: ReceiptsDone,
        frozen: Callable[[], str | None],
        report: str,
    ) -> tuple[str, str, bool] | None:
        """Download one receipt and store it unless NetSuite holds the same content; `details` (the item's child
        mapping) is updated in place. Returns None, or (cause, text, worth retrying) when it did not go through.
        The receipt's bytes live only in this call: one receipt in memory at a time."""
        what = f"expense item {item.ID}"
        try:
            content, mime = self._download(item)
        except ReceiptRefused as refused:
            return refused.cause_key, f"{what}: {refused.message}", False
        except TransientError as error:
            return "receipt-download", f"{what}: download failed: {error.message}", True
        except NeedsAttention as error:  # 404 and the like: the receipt is not there to fetch
            return "receipt-download", f"{what}: download refused: {error.message}", False
        file_type = file_type_of(mime, content)
        if file_type is None:
            return (
                "receipt-type",
                f"{what}: its receipt is {mime or 'of no type'} ({len(content)} bytes), not a file type NetSuite takes "
                "as a receipt (PNG, JPEG, GIF, TIFF, BMP, PDF)",
                False,
            )
        sha = hashlib.sha256(content).hexdigest()
        if details.get("receipt_sha") == sha and details.get("receipt_file"):
            return None  # NetSuite holds this content already
        if why := frozen():
            return FROZEN, f"{what}: its receipt is not stored: report {report} {why}", False
        try:
            file_id = self._store(item, child, content, file_type, sha, details)
        except TransientError as error:
            return "receipt-upload", f"{what}: upload failed: {error.message}", True
        except NeedsAttention as error:  # NetSuite refused the file or the folder
            return "receipt-upload", f"{what}: NetSuite refused the receipt: {error.message}", False
        details.update({"receipt_file": file_id, "receipt_sha": sha, "receipt_type": file_type})
        done.stored += 1
        return None

    def _store(
        self, item: ExpenseItem, child: Mapping, content: bytes, file_type: str, sha: str, details: dict[str, str]
    ) -> str:
        """Upload one receipt. Its hash is recorded before the upload: should the worker die between the upload
        and the mapping write, the next attempt reads the file's description and adopts it instead of uploading
        the same content again."""
        if details.get("receipt_uploading") == sha:
            stored = self._cabinet.stored(item.ID)
            if stored is not None and stored.sha256 == sha:
                return stored.id
        details["receipt_uploading"] = sha
        self._save_child(child, details)
        what = f"ClickTime expense item {item.ID} of expense sheet {item.ExpenseSheetID}"
        return self._cabinet.upload(item.ID, content, file_type, sha, what)

    def _save_child(self, child: Mapping, details: dict[str, str]) -> Mapping:
        saved = child.model_copy(update={"details": dict(details)})
        self._mappings.put(saved)  # a child is written only under its sheet's lock
        return saved

    def _link(
        self,
        plan: ReportPlan,
        report: str,
        children: dict[str, Mapping],
        done: ReceiptsDone,
        held_hash: str,
        frozen: Callable[[], str | None],
        lock: Lock,
    ) -> None:
        """After a retry of this step stored files: the whole report written again with every line's file
        (`line`), and/or each new file attached (`attach`). A link NetSuite refuses is reported; the report stays
        as it is."""
        if self._settings.link in ("line", "both"):
            payload = report_payload(plan, self.linked_files(plan, children))
            digest = report_hash(plan, payload)
            if digest != held_hash and (why := frozen()):
                done.held_back.append(f"receipts not linked to the lines of report {report}: it {why}")
            elif digest != held_hash:
                # Noted before it is written: by external ID, it is made anew if it was deleted in NetSuite since
                self._mappings.note_writes(lock, [external_id(plan.sheet.ID)])
                try:
                    written = self._netsuite.upsert_record(
                        RECORD, external_id(plan.sheet.ID), payload, replace=[SUBLIST]
                    )
                except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                    done.fail(
                        "expense-report-frozen",
                        f"receipts not linked to the lines of report {report}: NetSuite refused: {refused.detail}",
                    )
                except TransientError as error:
                    done.later(
                        "receipt-link", f"receipts not linked to the lines of report {report} yet: {error.message}"
                    )
                except NeedsAttention as error:
                    done.fail(
                        "receipt-link",
                        f"receipts not linked to the lines of report {report}: NetSuite refused: {error.message}",
                    )
                else:
                    done.linked = True
                    done.link_hash = digest
                    done.written_as = written
        self.attach(plan, report, children, done, frozen)

    def attach(
        self,
        plan: ReportPlan,
        report: str,
        children: dict[str, Mapping],
        done: ReceiptsDone,
        frozen: Callable[[], str | None],
        left: tuple[Mapping, ...] = (),
    ) -> None:
        """Attach each stored file not attached yet to the report, by `expenses.receipts.link` (attach, both), and
        detach the files of receipts removed in ClickTime and of the items that `left` the sheet (their mappings
        already forgotten: one that cannot be detached is reported to do by hand). Nothing, when the report is
        frozen (`frozen`, asked only when there is something to do): what it would change is `done.held_back`."""
        if self._settings.link in ("attach", "both"):
            if self._attachments_change(plan, report, children, left) and (why := frozen()):
                done.held_back.append(f"receipts not attached to or detached from report {report}: it {why}")
                return
            self._detach_removed(plan, report, children, done, left)
            for line in plan.lines:
                child = children.get(line.item.ID)
                file_id = child.details.get("receipt_file") if child and line.item.ReceiptURL else None
                if not file_id or child is None or child.details.get("receipt_attached") == f"{report}:{file_id}":
                    continue
                try:
                    self._cabinet.attach(RECORD, report, file_id)
                except TransientError as error:
                    done.later(
                        "receipt-link",
                        f"expense item {line.item.ID}: file {file_id} not attached to report {report} yet: {error.message}",
                    )
                    continue
                except NeedsAttention as error:
                    done.fail(
                        "receipt-link",
                        f"expense item {line.item.ID}: NetSuite refused to attach file {file_id} to report {report}: "
                        f"{error.message}",
                    )
                    continue
                children[line.item.ID] = self._save_child(
                    child, {**child.details, "receipt_attached": f"{report}:{file_id}"}
                )
                done.attached += 1

    def _attachments_change(
        self, plan: ReportPlan, report: str, children: dict[str, Mapping], left: tuple[Mapping, ...]
    ) -> bool:
        """Whether `attach` has a file to attach to the report or to detach from it."""
        for line in plan.lines:
            child = children.get(line.item.ID)
            if child is None:
                continue
            attached = child.details.get("receipt_attached", "")
            file_id = child.details.get("receipt_file") if line.item.ReceiptURL else None
            if (file_id and attached != f"{report}:{file_id}") or (
                not line.item.ReceiptURL and attached.startswith(f"{report}:")
            ):
                return True
        return any(m.details.get("receipt_attached", "").startswith(f"{report}:") for m in left)

    def _detach_removed(
        self, plan: ReportPlan, report: str, children: dict[str, Mapping], done: ReceiptsDone, left: tuple[Mapping, ...]
    ) -> None:
        removed = [
            children[line.item.ID] for line in plan.lines if not line.item.ReceiptURL and line.item.ID in children
        ]
        for child in [*removed, *left]:
            attached_to, _, file_id = child.details.get("receipt_attached", "").partition(":")
            if attached_to != report or not file_id:
                continue
            try:
                self._cabinet.detach(RECORD, report, file_id)
            except (TransientError, NeedsAttention) as error:
                text = (
                    f"expense item {child.source_id}: its receipt is gone from ClickTime, but file {file_id} could not "
                    f"be detached from report {report} ({error.message}): detach it in NetSuite"
                )
                if child in left:  # nothing left to try again from
                    done.fail("receipt-detach", text)
                elif isinstance(error, TransientError):
                    done.later("receipt-detach", text)
                else:
                    done.fail("receipt-detach", text)
                continue
            if child not in left:  # no receipt state is left on an item without a receipt
                details = {k: v for k, v in child.details.items() if not k.startswith("receipt_")}
                children[child.source_id] = self._save_child(child, details)
            done.detached += 1

    def report(
        self,
        message: WorkMessage,
        plan: ReportPlan,
        report: str,
        mapping: Mapping,
        done: ReceiptsDone,
        *,
        try_number: int,
        before: Mapping | None,
        held_back: bool = False,
    ) -> Mapping:
        """Report what failed (per item); the sheet's mapping as it now stands (its hash moves on when a retry of
        this step wrote the report again to link files).

        The sheet leaves each cause of the receipt step that named it (`RECEIPT_CAUSES` on its mapping `before`
        this pass, and its items' failures: `done.recovered`) and no longer holds: no item's receipt fails for it
        now (`done.holding`) and this pass reported nothing under it. What holds is kept on the sheet's mapping,
        the next pass's `before` (no write of its own: the mapping is committed anyway). `held_back`: NetSuite held
        the report back on this pass (paid, a closed period), so its links were not written: a link failure holds.
        `expense-report-frozen` has its own way out (`sheet_export.released`), and a file to detach by hand
        (`receipt-detach`) waits for a person: neither is let go of here. Kept as one `receipt_error` per item,
        the latest, a receipt that failed for two causes before it was stored left the sheet under the first for
        good; a link that failed once, under `receipt-link` (found by the soak, seed 45003)."""
        settings = self._settings
        last_try = try_number >= settings.retries
        reported = [*done.failures.items(), *([] if last_try else done.pending.items())]  # the last: raised instead
        for cause, texts in reported:  # one failure per sheet and cause, naming each item
            record_flags(
                self._runlog,
                message,
                ["; ".join(texts)],
                what=f"expense sheet {plan.sheet.ID} (report {report})",
                cause_key=cause,
                fix=RECEIPT_FIXES.get(cause, ""),
                kind="RECEIPT" if cause.startswith("receipt") else "FLAGGED",
            )
        named = set((before.details if before else {}).get(RECEIPT_CAUSES, "").split()) | done.recovered
        holding = done.holding | done.failures.keys() | done.pending.keys()
        if held_back or done.held_back:
            holding |= named & {"receipt-link"}
        for cause in sorted(named - holding - LEFT_TO_OTHERS):
            # An earlier pass named this sheet in a cause that holds no longer: every receipt of it went through,
            # failed for another cause since, or left the sheet
            self._runlog.unblock(message.sync, cause, message.source_id)
        details = {k: v for k, v in mapping.details.items() if k != RECEIPT_CAUSES}
        details["receipts_pending"] = str(done.retry)
        if still := sorted(holding - LEFT_TO_OTHERS):
            details[RECEIPT_CAUSES] = " ".join(still)
        mapping = mapping.model_copy(
            update={"details": details, "content_hash": done.link_hash or mapping.content_hash}
        )
        return mapping

    def requeue_retry(self, message: WorkMessage, version: Any, done: ReceiptsDone, *, try_number: int) -> None:
        """Queue a retry of the receipt step alone, when something may go through later and tries are left (sent
        once the sheet's mapping is recorded, so the retry finds the lock free). Its delay doubles each try."""
        settings = self._settings
        if not done.retry or try_number >= settings.retries or self._requeue is None:
            return
        retry = message.model_copy(
            update={
                "snapshot": {**message.snapshot, RECEIPTS_ONLY: True, RECEIPT_TRY: try_number + 1},
                "version": version,
            }
        )
        self._requeue(retry, min(900, settings.retry_delay_seconds * 2**try_number))

    def _requeue_verify(self, message: WorkMessage, version: Any, try_number: int) -> None:
        """After a retry wrote the report again to link files: an earlier write whose answer was lost may still
        be processed after it and put the lines back without them. One check, a retry's delay later (what NetSuite
        does late it does within that); a repair it makes is not checked again, so a NetSuite that drops the
        links for good is left to the reconciliation and not written every few minutes."""
        if self._requeue is None:
            return
        snapshot = {**message.snapshot, RECEIPTS_ONLY: True, RECEIPT_TRY: try_number, RECEIPT_VERIFY: True}
        check = message.model_copy(update={"snapshot": snapshot, "version": version})
        self._requeue(check, min(900, self._settings.retry_delay_seconds * 2**try_number))

    def _links_hold(self, plan: ReportPlan, report: str, children: dict[str, Mapping]) -> bool:
        """Every stored file is on its line of the report in NetSuite (one read)."""
        try:
            record = self._netsuite.get_record(RECORD, report, expand=True)
        except NetSuiteNotFound:
            return True  # deleted in NetSuite: the sheet's own messages decide about the report, not this check
        linked = {
            str((line.get("expmediaitem") or {}).get("id")) for line in (record.get(SUBLIST) or {}).get("items", [])
        }
        return set(self.linked_files(plan, children).values()) <= linked

    def again(
        self,
        lock: Lock,
        message: WorkMessage,
        plan: ReportPlan,
        version: Any,
        children: dict[str, Mapping],
        recorded: Callable[[Mapping], Mapping] = lambda mapping: mapping,
    ) -> Outcome:
        """A retry of the receipt step alone (a message the worker sent itself): only for the approval it was
        sent for, and only when the report is in NetSuite; the sheet's own messages do everything else.
        `recorded`: the sheet's mapping as it is committed (the export adds what its writes left in doubt)."""
        before = lock.mapping
        try_number = int(message.snapshot.get(RECEIPT_TRY, 1))
        same_approval = bool(before and before.source_version) and format_instant(
            before.source_version
        ) == format_instant(version)
        if before is None or before.deleted or not same_approval or plan.problems:
            self._mappings.release(lock)
            return Outcome("skipped", before.target_id if before else None, "receipts retry superseded")
        report = before.target_id
        if is_held_back(before):
            # NetSuite held this approval back: its receipts go with the rest of it (a backfill once NetSuite lets
            # it), not into the report by this retry
            self._mappings.release(lock)
            return Outcome("skipped", report, f"receipts retry: report {report} held back by NetSuite, flagged")
        frozen = self.frozen(report)
        done = self.store(plan, version, children, report, frozen)
        held = before.content_hash
        verify = bool(message.snapshot.get(RECEIPT_VERIFY))
        if verify and not self._links_hold(plan, report, children):
            held = ""  # an earlier write of the report, processed late, undid links: written whole again
        self._link(plan, report, children, done, held, frozen, lock)
        if done.written_as and done.written_as != report:
            logger.warning(
                f"expense report {report} was deleted in NetSuite: the receipts retry wrote it anew as {done.written_as}",
                extra={"clicktime_id": plan.sheet.ID, "netsuite_id": done.written_as},
            )
            report = done.written_as
            before = before.model_copy(update={"target_id": report})
        for text in done.held_back:  # the report froze after this retry was queued: the receipt waits, flagged
            done.fail(FROZEN, text)
        mapping = self.report(message, plan, report, before, done, try_number=try_number, before=before)
        if FROZEN in done.failures:
            mapping = mapping.model_copy(update={"fingerprint": kept_fingerprint(before.fingerprint, held_back=True)})
        self._mappings.commit(lock, recorded(mapping), settled=done.linked)  # the write of the report is recorded
        self.requeue_retry(message, version, done, try_number=try_number)
        if done.linked and not verify:
            self._requeue_verify(message, version, try_number)
        if done.retry and try_number >= self._settings.retries:
            cause = next(iter(done.pending))
            texts = [text for pending in done.pending.values() for text in pending]
            raise NeedsAttention(
                f"expense sheet {plan.sheet.ID} (report {report}): receipts still fail after {try_number} "
                f"retries: {'; '.join(texts)}",
                code="RECEIPT_RETRIES",
                cause=cause,
                fix=RECEIPT_FIXES.get(cause, ""),
            )
        if done.retry:
            return Outcome("deferred", report, f"{done.retry} receipt(s) still fail (try {try_number})")
        return Outcome("updated" if done.wrote else "unchanged", report, f"{done.stored} receipt(s) stored")


FROZEN = "expense-report-frozen"
RECEIPT_CAUSES = "receipt_causes"  # sheet mapping detail: the receipt step's causes that name the sheet (`report`)
ITEM_CAUSES = ("receipt_error", "receipt_refused")  # item mapping details: the cause its receipt failed for
LEFT_TO_OTHERS = frozenset({FROZEN, "receipt-detach"})  # causes `report` never lets go of (see there)


def receipt_causes_of(before: Mapping | None, mapping: Mapping) -> Mapping:
    """`mapping` (the sheet's) carrying the receipt causes its mapping `before` named (`RECEIPT_CAUSES`)."""
    causes = (before.details if before else {}).get(RECEIPT_CAUSES)
    return mapping.model_copy(update={"details": {**mapping.details, RECEIPT_CAUSES: causes}}) if causes else mapping


def item_causes(details: dict[str, str]) -> set[str]:
    """The causes an item's receipt is named under, as its mapping (`details`) keeps them."""
    return {details[name] for name in ITEM_CAUSES if details.get(name)}


RECEIPT_FIXES = {
    "receipt-download": "the receipt is retried on its own; if it keeps failing, check the receipt in ClickTime, then "
    "redrive the expenses dead-letter queue",
    "receipt-too-large": "NetSuite takes files up to 10 MB: attach a smaller scan to the item in ClickTime (the "
    "report itself is in NetSuite)",
    "receipt-type": "NetSuite takes PNG, JPEG, GIF, TIFF, BMP and PDF receipts: attach one of those in ClickTime",
    "receipt-upload": "check the integration role's access to the File Cabinet (Documents and Files) and the "
    "receipts folder (expenses.receipts); the receipt is stored again when the sheet is approved anew or redriven",
    "receipt-link": "NetSuite did not take the receipt link (expenses.receipts.link): try attach instead of line",
    "expense-report-frozen": "a paid, accounting-approved or closed-period expense report is not changed by the sync",
    "receipt-detach": "detach the file named from the expense report in NetSuite (its receipt was removed in ClickTime)",
}


def receipt_key(version: Any, item: ExpenseItem) -> str:
    """What an item's receipt is checked for (`receipt_checked`): the approval's stamp and the item as ClickTime lists
    it, so a correction approved again under a stamp that reads the same (a date alone) that changed the item
    checks its receipt again."""
    return f"{format_instant(version)}#{item_digest(item)}"


def checked_already(details: dict[str, str], version: Any, item: ExpenseItem, approved_date: str | None) -> bool:
    """Whether the item's receipt was stored, or refused, for this approval and item already (`details`: its child
    mapping's; `receipt_key`). A key of the stamp alone was written before the item was part of it (an upgrade):
    taken as this item's, except for a stored receipt under a stamp that reads the same all day (`same_all_day`),
    where it names no one approval: that receipt is checked once more (downloaded, compared by its SHA-256, never
    uploaded twice)."""
    stored, refused = bool(details.get("receipt_file")), bool(details.get("receipt_refused"))
    keys = {receipt_key(version, item)}
    if refused or not (approved_date and same_all_day(approved_date)):
        keys.add(format_instant(version))
    return details.get("receipt_checked") in keys and (stored or refused)


def item_digest(item: ExpenseItem) -> str:
    """What of an expense item a correction changes, as a short digest: every field but its ID, sheet and
    `ReceiptURL` (which may be signed anew on every read: UNVERIFIED), decimals as one text."""
    fields = item.model_dump(exclude={"ID", "ExpenseSheetID", "ReceiptURL"}, mode="json")
    return content_hash({name: decimal_text(value) if name in DECIMALS else value for name, value in fields.items()})[
        :16
    ]


DECIMALS = frozenset({"Amount", "AmountForeign", "AmountForeignExchangeRate", "Quantity", "Rate"})
