"""Expense report writes of unknown outcome, kept on their expense sheet's mapping (`ctsync.unsettled`).

A PUT or DELETE of an expense report whose answer was lost (a read timeout, a connection dropped after sending, a
500, 502 or 504) may be processed by NetSuite later, after a newer write of the same report: a correction undone, a
rejected sheet's report brought back. The sheet's mapping keeps when the last such write was sent
(`unsettled.SINCE`), and the sheet is listed for the expenses sync's later runs (`MappingStore.list_unsettled`). The
first run at least `netsuite.late_write_seconds` after that write looks again (`ExpenseExport.recheck`): the report
written whole as the sheet stands, or deleted, found by its external ID (`brought_back`), when the sheet is no longer
approved; a report NetSuite froze meanwhile is read and compared with the sheet (`unlike_held`). A report has one
NetSuite record, so the doubt is the sheet's, not a list of records as for time bills (`records.time_doubts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctsync import unsettled
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.observability import logger
from ctsync.records.expense_lines import KIND, RECORD, ReportPlan, external_id, unlike_plan
from ctsync.state import Lock, Mapping, MappingStore
from ctsync.timeutil import format_instant, utc_now

REPORT_PATH = f"/record/v1/{RECORD}/"  # how the NetSuite client notes a report's writes (`ctsync.unsettled`)
LOOKED = "looked at again after a report write of unknown outcome"  # a look's outcomes start so (the runbook's query)


@dataclass
class Attempt:
    """One pass over a sheet: the NetSuite writes it sent (`unsettled.watching`), and whether it is a look."""

    look: bool = False
    sent: list[unsettled.Write] = field(default_factory=list)
    period_start: str = ""  # the sheet's date, once it is read approved
    listed: bool = False  # a doubtful write listed the sheet (told once in the log, however many commits follow)
    # The sheet's mapping `ReportDoubts.recorded` last made for this attempt, and how many of `sent` it accounts for
    made: tuple[Mapping, int] | None = None


def doubtful(sent: list[unsettled.Write]) -> bool:
    """Whether a write of the report (or to it: a file attached) went out and its answer was lost."""
    return any(write.doubtful and write.path.startswith(REPORT_PATH) for write in sent)


class ReportDoubts:
    """What an attempt's writes leave in doubt, recorded on the sheet's mapping under the sheet's lock."""

    def __init__(self, mappings: MappingStore) -> None:
        self._mappings = mappings

    def recorded(self, lock: Lock, attempt: Attempt, mapping: Mapping) -> Mapping:
        """`mapping` as the sheet's new mapping after this attempt's writes. A write of the report whose answer was
        lost lists the sheet for a later look (before its mapping is recorded: listed and found settled costs a
        look, never a miss) and starts the wait again; a look none of whose writes was doubtful ends it."""
        details = {k: v for k, v in mapping.details.items() if k != unsettled.SINCE}
        before = lock.mapping.details if lock.mapping else {}
        if not attempt.look and unsettled.SINCE in before:
            details[unsettled.SINCE] = before[unsettled.SINCE]  # only a look settles an earlier doubt
        if doubtful(attempt.sent):
            self._mappings.list_unsettled(KIND, lock.source_id)
            details[unsettled.SINCE] = format_instant(utc_now())
            if not attempt.listed:
                attempt.listed = True
                logger.info(
                    f"expense sheet {lock.source_id}: a write of its report had an unknown outcome; a later run looks "
                    "again",
                    extra={"kind": KIND, "source_id": lock.source_id, "netsuite_id": mapping.target_id},
                )
        elif attempt.look:
            self._mappings.unlist_unsettled(KIND, lock.source_id)
        made = mapping.model_copy(update={"details": details})
        attempt.made = (made, len(attempt.sent))
        return made

    def keep(self, lock: Lock, attempt: Attempt) -> None:
        """A pass that failed after a report write of unknown outcome still records the doubt (the retry that
        succeeds later cannot tell that an earlier request is on its way), on a mapping of no report when the sheet
        has none yet. Failing here too, it says so in the log and leaves the pass's own error to be reported.

        Nothing, when the pass itself recorded the doubt and gave the lock up with it: its last commit (`lock.mapping`,
        the lock released) is the mapping `recorded` made for it after every write it sent (a receipts retry commits,
        then raises on its last try). Committed again, on a lock no longer held, it was refused and logged as lost
        (found by the soak, seed 45003)."""
        before = lock.mapping
        if not doubtful(attempt.sent):
            return
        if lock.released:
            made, covered = attempt.made or (None, 0)
            if made is not None and made is before and not doubtful(attempt.sent[covered:]):
                return
            logger.error(  # a write after the lock was given up, or a lock given up without its doubt: not recordable
                f"expense sheet {lock.source_id}: the doubt after a failed export could not be recorded (the lock "
                "was given up before it)",
                extra={"kind": KIND, "source_id": lock.source_id, "sent": len(attempt.sent)},
            )
            return
        if before is None:
            # A first export that failed: the report may exist, or come later. A mapping of no report keeps the doubt
            # (the redelivery's export takes it over), so a late PUT after a withdrawal is still looked at.
            before = Mapping.of_no_target(KIND, lock.source_id)
        try:
            self._mappings.commit(lock, self.recorded(lock, Attempt(sent=attempt.sent), before))
        except Exception:
            logger.exception(
                f"expense sheet {lock.source_id}: the doubt after a failed export could not be recorded",
                extra={"kind": KIND, "source_id": lock.source_id, "sent": len(attempt.sent)},
            )


def unlike_held(netsuite: NetSuiteClient, report: str, plan: ReportPlan) -> list[str]:
    """How the report NetSuite holds (internal ID `report`, one read) differs from `plan`
    (`expense_lines.unlike_plan`; [] when alike or gone)."""
    try:
        return unlike_plan(plan, netsuite.get_record(RECORD, report, expand=True))
    except NetSuiteNotFound:
        return []


def brought_back(netsuite: NetSuiteClient, sheet_id: str, known: str | None = None) -> str | None:
    """The internal ID of the report NetSuite holds under the sheet's external ID, or None. Unless it is the `known`
    one (the mapping's), no mapping knows it: a late request wrote it after the sheet's report was deleted, or a
    holder wrote it (anew, the old one deleted in NetSuite) and failed before recording it. One read."""
    try:
        record = netsuite.get_record(RECORD, f"eid:{external_id(sheet_id)}", fields=["id"])
    except NetSuiteNotFound:
        return None
    found = str(record.get("id") or "")
    if found and found != known:
        logger.warning(
            f"expense report {found} of expense sheet {sheet_id} is in NetSuite though no mapping holds it (a late "
            "write, or one whose mapping was not recorded)",
            extra={"clicktime_id": sheet_id, "netsuite_id": found},
        )
    return found or None
