"""Review of the day's changes (2026-12-04; failed before the fix): an update whose number another synced record
holds is retried; once its retries run out it is dead-lettered, and its fix must say what a person does (a swap does
not free itself), not the gave-up hint to redrive."""

from types import SimpleNamespace

import pytest

from ctsync.clicktime.errors import ClickTimeAlreadyExists
from ctsync.errors import TransientError
from ctsync.records import targets


def test_a_held_update_dead_lettered_after_its_retries_names_a_fix():
    """A swap whose holder cannot be moved aside (no `vacate` here), or a sibling task of the same title: `number_held` is retried until
    MaxReceiveCount, then the worker dead-letters it with `getattr(error, "fix", "")`: an empty fix."""

    def update(*_):
        raise ClickTimeAlreadyExists(400, "JobNumber 'P-2' is already in use", field="JobNumber")

    ops = targets.TargetOps(
        kind="project",
        find=lambda: None,
        create=lambda _p: "x",
        update=update,
        taken_by=lambda _p: targets.Holder(
            "ClickTime job J2 'B' holds JobNumber 'P-2' and names NetSuite record B", "J2", "B"
        ),
    )
    before = SimpleNamespace(target_id="J1", source_id="A", deleted=False)
    mappings = SimpleNamespace(by_target=lambda _k, _t: SimpleNamespace(source_id="B", deleted=False))
    with pytest.raises(TransientError) as caught:
        targets._updated_unless_gone(mappings, ops, before, {}, "run-1:A")
    assert getattr(caught.value, "fix", ""), "dead-lettered (gave-up) with no fix"
    assert "give one of them another JobNumber" in caught.value.fix and "B" in caught.value.fix
