"""NetSuite customers become ClickTime clients: every ClickTime job belongs to one.

A client is found by its number (the customer's entity ID) and recognised by its AccountingPackageID (the
customer's internal ID), created when missing, and kept named like the customer (and inactive with it) through
its projects' messages: the projects poller reads a project whose customer was modified in the window as a change
of that project (`records.projects.CUSTOMER_JOIN`), so a customer's edit reaches its client on the next run.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ctsync.clicktime.client import ClickTimeClient, client_api_path
from ctsync.clicktime.errors import ClickTimeAlreadyExists, ClickTimeNotFound, ClickTimeValidationError
from ctsync.observability import logger
from ctsync.records.targets import Applied, TargetOps, described_holder, locked, upsert_target
from ctsync.state import MappingStore

KIND = "customer"


class CustomerSnapshot(BaseModel):
    id: str
    number: str
    name: str
    is_inactive: bool = False
    # The customer's own lastmodifieddate (its latest reading): the client's version fence, so a project message
    # read before the customer's last edit (a late redelivery, a dead letter redriven) cannot write the old name
    # back. None in a message queued before it was read: that message's client write is not fenced.
    version: datetime | None = None


def client_payload(customer: CustomerSnapshot) -> dict[str, object]:
    return {
        "Name": customer.name,
        "ClientNumber": customer.number,
        "AccountingPackageID": customer.id,
        "IsActive": not customer.is_inactive,
    }


def ensure_client(
    clicktime: ClickTimeClient,
    mappings: MappingStore,
    customer: CustomerSnapshot,
    owner: str,
    earliest: datetime | None = None,
) -> Applied:
    """The customer's client, found, made or brought up to date; skipped (the mapped client as it is) when the
    snapshot is older than the customer's version already applied. `earliest`: the customer's version at its
    earliest reading (`upsert_target`)."""

    def find() -> str | None:
        for client in clicktime.clients(ClientNumber=customer.number):
            if client.AccountingPackageID == customer.id:
                return client.ID
        return None

    def create(payload: dict[str, object]) -> str:
        return clicktime.create_client(payload).ID

    def update(client_id: str, payload: dict[str, object], _before: object) -> None:
        clicktime.update_client(client_id, payload)

    # A client is shared by a customer's projects and rarely changes: read its mapping before taking the lock.
    ops = TargetOps(
        kind=KIND,
        find=find,
        create=create,
        update=update,
        check_first=True,
        path=client_api_path,
        system="ClickTime",
        taken_by=lambda _payload: described_holder(
            "client", "ClientNumber", customer.number, customer.id, clicktime.clients
        ),
        adopt_by=f"its Accounting Package ID to {customer.id} (NetSuite customer {customer.number})",
    )
    applied = upsert_target(
        mappings,
        ops,
        source_id=customer.id,
        version=customer.version,
        earliest=earliest,
        payload=client_payload(customer),
        owner=owner,
    )
    if applied.action in ("created", "updated"):
        # Made or changed on the way to a job: its own line, findable by either ID like every record's.
        logger.info(
            f"ClickTime client {applied.target_id} {applied.action} for NetSuite customer {customer.id} ({customer.number})",
            extra={"kind": KIND, "netsuite_id": customer.id, "clicktime_id": applied.target_id},
        )
    return applied


def refused_client(error: Exception) -> bool:
    """Whether ClickTime refused a job write for its ClientID (400 "Client '…' does not exist" in the simulator;
    how ClickTime words it is UNVERIFIED, so any validation refusal naming the field counts, and `forget_gone_client`
    reads the client before believing it gone)."""
    return (
        isinstance(error, ClickTimeValidationError)
        and not isinstance(error, ClickTimeAlreadyExists)
        and (error.field or "").casefold() == "clientid"
    )


def forget_gone_client(
    clicktime: ClickTimeClient, mappings: MappingStore, customer: CustomerSnapshot, client_id: str, owner: str
) -> bool:
    """A job write was refused for its ClientID `client_id`, the client mapped to `customer`: when ClickTime says
    that client is not found (a person deleted it there), its mapping's content hash is cleared, so the next
    `ensure_client` writes the client, meets the not-found and looks for it or makes it anew (`upsert_target`).
    True too when the mapping names another client already (a concurrent holder made it anew: the job is written
    with that one). False when the client is there (the refusal is about something else) or nothing maps it."""
    try:
        clicktime.get_client(client_id)
    except ClickTimeNotFound:
        pass
    else:
        return False
    with locked(mappings, KIND, customer.id, owner) as lock:
        mapping = lock.mapping
        if mapping is not None and not mapping.deleted and mapping.target_id and mapping.target_id != client_id:
            # Another holder met the same deleted client and made it anew meanwhile: the job is written with that
            mappings.release(lock)
            return True
        if mapping is None or mapping.deleted or mapping.target_id != client_id:
            mappings.release(lock)
            return False
        mappings.commit(lock, mapping.model_copy(update={"content_hash": ""}))
    logger.warning(
        f"ClickTime client {client_id} of NetSuite customer {customer.id} ({customer.number}) was deleted in "
        "ClickTime: looked for or made anew",
        extra={"kind": KIND, "netsuite_id": customer.id, "clicktime_id": client_id},
    )
    return True
