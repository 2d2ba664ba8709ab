"""`ctns errors` on a record whose target was made but whose follow-up failed (the projects review of 2026-12-03).

A ClickTime job was created, then NetSuite refused the save that writes its ID back onto the project (a user-event
script, a mandatory field); or a ClickTime task was created and ClickTime refused to link it to its job. The
mapping is kept at once (the retry updates that target rather than making another), with the message's version. The
operator was then told the record "went through since (version …); the redrive clears its dead letter" — nothing to
fix — while the ID was not in NetSuite and the task not on its job. Both tests failed before the fix.
"""

from __future__ import annotations

import pytest

from simulators.netsuite.errors import bad_request
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e


class RefuseSave:
    """A NetSuite validation (a user-event script, a mandatory field) that refuses every save of one project."""

    def __init__(self, project: str) -> None:
        self.project = project

    def before_write(self, rtype, old, new):
        if rtype == "job" and old and old.get("id") == self.project:
            raise bad_request("Please enter value(s) for: Project Manager", "USER_ERROR")


@pytest.fixture
def stack(small_stack):
    return small_stack


def test_a_project_whose_id_write_back_was_refused_has_not_gone_through(stack, capsys):
    ns = stack.session.simulators.netsuite
    project = sorted(p["id"] for p in ns.records.all("job") if p.get("parent"))[0]
    ns.records.policies.append(RefuseSave(project))
    ctns(capsys, "run", "projects")

    errors = ctns(capsys, "errors", "projects", "--json")

    records = [r for group in errors.json["causes"] for r in group["records"] if r["source_id"] == project]
    assert records and ns.records.get("job", project).get("custentity_ct_job_id") is None
    for record in records:
        assert record["went_through"] is None, record["text"]
        assert record["target_id"] and "not finished" in record["text"], record["text"]


def test_a_task_whose_link_to_its_job_was_refused_has_not_gone_through(stack, capsys):
    sims = stack.session.simulators
    ctns(capsys, "run", "projects")
    sims.clicktime.faults.inject(status=400, times=1000, method="POST", path=r"/Jobs/[^/]+/Tasks")
    ctns(capsys, "run", "tasks")

    errors = ctns(capsys, "errors", "tasks", "--json")

    records = [r for group in errors.json["causes"] for r in group["records"]]
    assert records
    assert [r["text"] for r in records if r["went_through"] is not None] == []
    assert all("not finished" in r["text"] for r in records if r["target_id"]), [r["text"] for r in records]
