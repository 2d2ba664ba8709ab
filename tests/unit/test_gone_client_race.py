"""Review of the day's changes (2026-12-04; failed before the fix): two projects of one customer meet its client
deleted by hand at once; the one that finds the client already made anew writes its job with it."""

from types import SimpleNamespace

from ctsync.clicktime.errors import ClickTimeNotFound
from ctsync.records.customers import CustomerSnapshot, forget_gone_client


def test_a_client_made_anew_by_a_concurrent_project_lets_the_job_be_written_again():
    """P1 and P2 of one customer (a customer rename fans out to all its projects) both meet the client C1 deleted
    by hand. P1 forgets C1 and ensure_client makes C2; P2's refusal was for C1 too, but by the time it takes the
    customer's lock the mapping names C2: forget_gone_client answers False, projects.py re-raises the
    ClickTimeValidationError (a NeedsAttention) and P2 is dead-lettered, though writing it again with C2 would pass."""

    def get_client(_id):
        raise ClickTimeNotFound(404, "Client C1 not found")

    clicktime = SimpleNamespace(get_client=get_client)
    mapping = SimpleNamespace(deleted=False, target_id="C2", content_hash="abc")
    released = []
    mappings = SimpleNamespace(
        lock=lambda *_a, **_k: SimpleNamespace(mapping=mapping),
        release=lambda lock: released.append(lock),
        commit=lambda *_a, **_k: None,
    )
    customer = CustomerSnapshot(id="7", number="C-7", name="Acme")
    assert forget_gone_client(clicktime, mappings, customer, "C1", "run:p2") is True
    assert released, "the customer's lock is released, nothing committed over the client made anew"
