"""A reconciliation's report lists a sample of its differences and notes, and says how many it left out."""

from __future__ import annotations

from ctsync.reconcile.report import SAMPLE, Check, Reconciliation, groups_check


def test_the_report_counts_the_notes_and_differences_it_does_not_list() -> None:
    """The report listed the first 10 notes (sheets left out of the comparison, and why) and the first 10
    differences of a check, and said nothing of the rest: 12 blocked sheets read as 10, and a check whose
    differences are groups NetSuite alone holds (counted in neither its expected nor its found) as 10 of them.

    Found by review 14; failed before the fix."""
    only_in_netsuite = groups_check(
        "amounts", {}, {(str(n),): 1 for n in range(SAMPLE + 2)}, 0, lambda g, e, f: f"group {g[0]}: {e} / {f}"
    )
    result = Reconciliation(
        record="time",
        checks=[only_in_netsuite, Check(name="fine", expected=1, found=1)],
        notes=[f"note {n}" for n in range(SAMPLE + 2)],
    )

    report = result.as_report()

    assert report["notes"] == [f"note {n}" for n in range(SAMPLE)] + ["and 2 more (`ctns reconcile --all` lists them)"]
    assert report["checks"][0]["differences"][-1] == "and 2 more (`ctns reconcile --all` lists them)"
    assert len(report["checks"][0]["differences"]) == SAMPLE + 1
    assert report["checks"][1]["differences"] == []
    assert not report["ok"]


def test_a_report_within_the_sample_lists_everything() -> None:
    result = Reconciliation(record="time", checks=[], notes=[f"note {n}" for n in range(SAMPLE)])
    assert result.as_report()["notes"] == [f"note {n}" for n in range(SAMPLE)]
