"""`time.service_item_id` naming an item NetSuite does not have (review of configuration, 2026-12-04): the time
bills it refuses are held by one cause naming the setting, with what to do. Before, the cause was NetSuite's
`netsuite-invalid_key_or_ref:item` ("Invalid item reference key 99999. at item") with no fix, nothing naming the
setting (`ctns check` did say it, before a run)."""

from __future__ import annotations

import pytest

from tests.e2e.support import run

pytestmark = pytest.mark.e2e


def test_bills_refused_on_the_configured_service_item_name_the_setting(open_session):
    session = open_session({"time": {"service_item_id": "99999"}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()

    run(session, "time")

    held = [letter for letter in session.runner.dead_letters("time") if "item" in letter.cause_key]
    assert held and {letter.cause_key for letter in held} == {"setting:time.service_item_id"}
    for letter in held:
        assert "(the item of time.service_item_id 99999)" in letter.reason
        assert letter.fix.startswith("set time.service_item_id to the internal id of an active service item")
    (cause,) = [c for c in session.runlog.causes("time") if c.key == "setting:time.service_item_id"]
    assert cause.fix and cause.count >= len(held)
