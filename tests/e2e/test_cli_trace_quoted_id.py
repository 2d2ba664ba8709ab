"""`ctns trace ID` with the ID as it is copied from a function's JSON log line or `--json` output, quotes and all
(`"source_id": "111"` -> `ctns trace '"111"'`), or with a space inside (`ctns trace "51 11"`), says "Nothing about
ID "111" in the mapping store or the run log" (exit 1, "nothing is known about the ID"), while the Logs Insights
query the same command prints (and `--search-logs` runs on a deployed stack) searches for 111: one output, two
different IDs. The record is there; the person is told it is not, and handed a query for a record they were told
does not exist.

Cause: `ctns/commands/trace.py:cmd_trace` looks the ID up (`find`, `local_log_lines`) as typed (only stripped),
but `insights_query` drops every `"` and whitespace character from it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(small_stack: Any) -> Any:
    return small_stack


def test_trace_of_an_id_with_its_json_quotes_looks_up_the_id_its_query_searches(served, capsys):
    ran = ctns(capsys, "run", "projects")
    assert ran.code == 0, ran.out + ran.err
    plain = ctns(capsys, "trace", "111", "--json")
    assert plain.json["matches"], "project 111 should be mapped after a run"

    quoted = ctns(capsys, "trace", '"111"', "--json")

    searched = quoted.json["logs_insights"]["query"] if quoted.out.strip().startswith("{") else ""
    assert 'netsuite_id = "111"' in searched, searched  # the query printed searches for 111 ...
    # ... so the lookup must be of 111 too (or the ID refused in one line), not "nothing about it"
    assert quoted.code == 2 or quoted.json["matches"] == plain.json["matches"], (
        f"exit {quoted.code}: the query searches 111 but the lookup found {quoted.json['matches']!r}"
    )


@pytest.mark.parametrize("typed", ["'111'", " `111` ", '"111" '])
def test_trace_of_an_id_in_other_quotes_finds_it(served, capsys, typed):
    assert ctns(capsys, "run", "projects").code == 0
    assert (
        ctns(capsys, "trace", typed, "--json").json["matches"] == ctns(capsys, "trace", "111", "--json").json["matches"]
    )


@pytest.mark.parametrize("typed", ["51 11", '1"11', '""'])
def test_trace_of_what_cannot_be_an_id_is_one_line_saying_so(served, capsys, typed):
    refused = ctns(capsys, "trace", typed)
    assert refused.code == 2 and len(refused.problems) == 1, refused.err
    assert "is not an ID" in refused.problems[0] or "trace needs an ID" in refused.problems[0]
