"""`ctns errors [SYNC]`: the open failures, grouped by cause, each with the records it blocks (both systems'
IDs) and what to fix; then how to redrive them.

A cause is what a person must fix (`project-without-customer`, `field-not-kept:projectTask.custevent_…`): one
unmapped value blocks many records, and shows up once. Dead letters that carry no cause (SQS moved them after
a crash or timeout) are listed as their own group. Exit code 1 when anything is open, else 0.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from ctns import deadletters
from ctns.commands.common import (
    add_json_option,
    add_target_options,
    run_command,
    target_named,
    target_of,
)
from ctns.output import FAILURES, OK, Output
from ctns.target import Target, check_sync
from ctsync.records.writeback import NOT_KEPT
from ctsync.state.runlog import failed_phase
from ctsync.sync.registry import SYNC_NAMES, spec
from ctsync.timeutil import format_instant, parse_instant

SHOWN = 10
NO_CAUSE = "(no recorded cause)"


def register(sub: Any) -> None:
    errors = sub.add_parser("errors", help="open failures grouped by cause, with the records they block and the fix")
    errors.add_argument("sync", nargs="?", metavar="SYNC", help=f"one of {', '.join(SYNC_NAMES)} (default: all)")
    errors.add_argument("--all", action="store_true", help="list every blocked record, not the first ten")
    add_target_options(errors)
    add_json_option(errors)
    errors.set_defaults(func=cmd_errors)


def describe_record(target: Target, sync: str, source_id: str, failed_version: str = "") -> dict[str, Any]:
    """One blocked record with both systems' IDs (the target's, when it was synced before). `failed_version`:
    the source version its dead letter carried; when a version as new has been applied since, the record went
    through (`went_through`: the applied version) and its dead letter is only left over."""
    definition = spec(sync)
    if ":" in source_id or not source_id or source_id == "unknown":
        return {"source_id": source_id, "target_id": None, "text": source_id, "went_through": None}
    mapping = target.mappings.get(definition.mapping_kind, source_id)
    target_id, other = target_named(definition.target_record, mapping)
    text = f"{definition.source_record} {source_id} ({other})"
    applied = mapping.source_version if mapping and target_id and not mapping.deleted else None
    # A record whose ID NetSuite did not keep (the write-back) has its target, but has not gone through; nor has one
    # whose follow-up failed after its target was made (the ID written back, the task linked to its job): its
    # mapping is kept at once with no content (`records.targets.upsert_target`), so that the retry finishes it.
    not_kept = bool(mapping and mapping.details.get(NOT_KEPT))
    made_only = definition.target_system == "clicktime" and bool(
        mapping and target_id and not mapping.deleted and not mapping.content_hash
    )
    unfinished = not_kept or made_only
    went_through = (
        applied is not None and not unfinished and bool(failed_version) and _instant(failed_version) <= applied
    )
    if not_kept and mapping is not None:
        text += f": NetSuite did not keep the ClickTime ID in {mapping.details[NOT_KEPT]}"
    elif unfinished:
        text += (
            f": its {definition.target_record} was made, but the sync has not finished it (what follows the write: "
            "its ID written back to NetSuite, its link to the job); the reason above says what stopped it"
        )
    if went_through:
        text += f": went through since (version {format_instant(applied)}); the redrive clears its dead letter"
    return {
        "source_id": source_id,
        "target_id": target_id,
        "text": text,
        "went_through": format_instant(applied) if went_through else None,
    }


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)  # unreadable: never taken as gone through


def open_failures(target: Target, syncs: list[str]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for sync in syncs:
        letters = deadletters.read(target.client("sqs"), target.dead_letter_url(sync), sync)
        by_cause: dict[str, list[deadletters.Letter]] = {}
        for letter in letters:
            by_cause.setdefault(letter.cause_key or NO_CAUSE, []).append(letter)
        causes = {cause.key: cause for cause in target.runlog.causes(sync)}
        for key in list(causes) + [k for k in by_cause if k not in causes]:
            cause = causes.get(key)
            waiting = by_cause.get(key, [])
            blocked = list(cause.blocked) if cause else []
            blocked += [letter.source_id for letter in waiting if letter.source_id not in blocked]
            # A phase that could not be read is recorded under `phase:<name>`: it blocks no record, and is told apart.
            phases = [phase for sid in blocked if (phase := failed_phase(sid))]
            blocked = [sid for sid in blocked if not failed_phase(sid)]
            sample = waiting[0] if waiting else None
            failed = {letter.source_id: letter.version for letter in sorted(waiting, key=lambda x: x.version)}
            groups.append(
                {
                    "sync": sync,
                    "cause_key": key,
                    "kind": cause.kind if cause else (sample.kind if sample else ""),
                    "failures": cause.count if cause else len(waiting),
                    "reason": cause.reason if cause else (sample.reason if sample else ""),
                    "fix": (cause.fix if cause else "") or (sample.fix if sample else ""),
                    "first_seen": cause.first_seen.isoformat() if cause else None,
                    "last_seen": cause.last_seen.isoformat() if cause else None,
                    "dead_letters": len(waiting),
                    "records": [describe_record(target, sync, sid, failed.get(sid, "")) for sid in blocked],
                    "phases": phases,
                }
            )
    return groups


def records_blocked(groups: list[dict[str, Any]]) -> int:
    """How many records the causes hold: one that two causes hold is one record (it was counted once per cause); a
    phase that could not be read is no record (it is in `phases`, not `records`)."""
    return len({(group["sync"], record["source_id"]) for group in groups for record in group["records"]})


def cmd_errors(args: argparse.Namespace, out: Output) -> int:
    syncs = [check_sync(args.sync)] if args.sync else list(SYNC_NAMES)
    with target_of(args, out) as target:
        groups = open_failures(target, syncs)
        out.document({"target": target.describe(), "causes": groups})
        if not groups:
            out.line(f"No open failures on {target.describe()}.")
            return OK
        records = records_blocked(groups)
        out.line(f"Open failures on {target.describe()}: {len(groups)} cause(s), {records} record(s) blocked")
        for group in groups:
            out.line()
            seen = f", last seen {group['last_seen'][:16].replace('T', ' ')}Z" if group["last_seen"] else ""
            out.line(
                f"{group['sync']} · {group['cause_key']} · {group['kind']} · {group['failures']} failure(s){seen} · "
                f"{group['dead_letters']} in the dead-letter queue"
            )
            out.line(f"  why:     {group['reason']}")
            out.line(f"  fix:     {group['fix'] or fix_hint(target, group)}")
            if group["phases"]:
                out.line(f"  phases:  {', '.join(f'the {phase} phase' for phase in group['phases'])} could not be read")
            shown = group["records"] if args.all else group["records"][:SHOWN]
            for index, record in enumerate(shown):
                out.line(f"  {'records:' if index == 0 else '':<8} {record['text']}")
            if len(group["records"]) > len(shown):
                out.line(f"           … and {len(group['records']) - len(shown)} more (--all lists them)")
            out.line(f"  then:    {next_step(target, group)}")
        return FAILURES


def next_step(target: Target, group: dict[str, Any]) -> str:
    """What to run after the fix: a redrive sends the dead letters back; a cause that only failed a phase of the
    sync (nothing in the dead-letter queue) is closed by a redrive and read again by a run, which a redrive does not
    start (a run is `ctns run`'s, with its own confirmation on a deployed stack)."""
    sync, phases = group["sync"], group["phases"]
    stack = f" --stack {target.name}" if not target.is_local else ""
    option = "" if group["cause_key"] == NO_CAUSE else f" --cause {group['cause_key']}"
    if phases and not group["dead_letters"]:
        which = " and ".join(phases)
        return (
            f"ctns redrive {sync}{option}{stack} (closes the cause), then {run_command(target, sync)}: the {which} "
            f"phase{'s are' if len(phases) > 1 else ' is'} read again by a run, not a redrive"
        )
    return f"ctns redrive {sync}{option}{stack}"


def fix_hint(target: Target, group: dict[str, Any]) -> str:
    """What to do when the failure did not say: by the kind of failure."""
    kind = group["kind"]
    if group.get("phases") and not group["dead_letters"]:
        return "fix what the reason names, then close the cause and run the sync (below): the run reads the phase again"
    if kind == "GAVE_UP" or group["cause_key"] == NO_CAUSE:
        return "it kept failing on something that may pass later (throttling, an outage): read the worker's log, then redrive"
    if kind == "BAD_INPUT":
        return (
            "correct the record in the source system (the field named above): the next run brings it over "
            f"(`{run_command(target, group['sync'])}` for now); `ctns redrive` then clears the old dead letter (older "
            "than what was applied, it is skipped)"
        )
    if kind == "SYSTEMIC":
        return "fix the credentials, permission or setting named above, then redrive (one redrive brings every held record back)"
    return "fix what the reason names in NetSuite or ClickTime, then redrive"
