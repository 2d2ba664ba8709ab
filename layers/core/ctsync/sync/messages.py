"""What travels between the parts: schedule input to the poller, work messages to the worker, outcomes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ctsync.errors import BadInput

Snapshot = TypeVar("Snapshot", bound=BaseModel)

Op = Literal["upsert", "delete", "adopt", "check"]


class PollRequest(BaseModel):
    """A poller's input: what the schedule sends (`{"sync": "projects"}`), or a continuation of a run."""

    model_config = ConfigDict(extra="ignore")

    sync: str
    lease_token: str | None = Field(default=None, description="set by the invocation handing a run over")


class PollResult(BaseModel):
    sync: str
    run_id: str | None = None
    status: Literal["enqueued", "partial", "continued", "skipped"]
    enqueued: int = 0
    unchanged: int = 0
    skipped: int = 0
    adopted: int = 0
    reason: str = ""


class WorkMessage(BaseModel):
    """One unit of work: a snapshot of one source record at one version. Small: never a file's bytes."""

    model_config = ConfigDict(extra="forbid")

    sync: str
    run_id: str
    source_id: str
    # the source's last-modified (approval, deletion) instant: newer wins; with its offset (a naive one could not be
    # compared with the mappings' versions: a body of another version is refused as malformed, not retried)
    version: AwareDatetime
    # check: look at the target of `snapshot["kind"]` again (a write of unknown outcome; `records.targets.recheck`)
    op: Literal["upsert", "delete", "check"] = "upsert"
    snapshot: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str = ""  # of the snapshot, recorded once the message is applied in full
    # See `Change`: the worker applies it whatever the fingerprint says. Written only when set, so a version of the
    # worker before it (a rollback, a redrive after one) still reads every other message (`extra="forbid"`).
    judged_by_worker: bool = Field(default=False, exclude_if=lambda judged: not judged)


@dataclass(frozen=True)
class Change:
    """What a change source yields: becomes a WorkMessage once the poller adds the sync and run.

    `op="adopt"` is not queued: the poller records `snapshot["target_id"]` as the record's target (of kind
    `snapshot["kind"]`) where none is known yet.
    """

    source_id: str
    version: datetime
    op: Op = "upsert"
    snapshot: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    # The source cannot tell this change from the one last applied (an approval stamped with a date alone): it is
    # queued whatever the fingerprint, and the worker, reading the record, judges whether anything changed.
    judged_by_worker: bool = False


@dataclass(frozen=True)
class Outcome:
    # deferred: part of the work waits for a later retry the applier queued itself (a receipt to download again)
    action: Literal["created", "updated", "unchanged", "skipped", "deferred"]
    target_id: str | None = None
    detail: str = ""
    # A look (`op: check`) that applied the record as its source holds it now (a sheet exported again whole, or
    # withdrawn): the record went through, as an apply does, and leaves the causes that held it. A look that only
    # checked the target against what was last written (ClickTime records) or waited is not that.
    whole: bool = False


def first_error(error: ValidationError) -> str:
    """Where and what of a validation error's first problem, never the input (it may hold a record's data)."""
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


def snapshot_as(model: type[Snapshot], message: WorkMessage, part: dict[str, Any] | None = None) -> Snapshot:
    """The message's snapshot (or `part` of it) read as `model`. A snapshot this version cannot read (a body an
    earlier or later version queued, in flight over a deploy) is `BadInput` naming the field: dead-lettered at its
    first delivery with that reason, where a bare ValidationError was retried MaxReceiveCount times and dead-lettered
    as "gave up" with pydantic's text, input values included (review, 2026-12-04)."""
    try:
        return model.model_validate(message.snapshot if part is None else part)
    except ValidationError as error:
        raise BadInput(
            f"work message of {message.source_id} ({message.run_id}) has a snapshot this version cannot read: "
            f"{first_error(error)}",
            cause="bad-input:work-message-snapshot",
        ) from None
