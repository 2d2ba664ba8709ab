"""The SuiteQL engine of the NetSuite simulator: the subset the product sends, and NetSuite's quirks.

Most tests go through `NetSuiteSimulator.query` over records added to its store, because the column
semantics (references as ids, 'T'/'F', dates in the user's zone) live in the table layer; a few drive the
bare engine over a ListTable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.netsuite import NetSuiteSimulator
from simulators.netsuite.errors import NetSuiteError
from simulators.netsuite.suiteql import ListTable, SuiteQLError, run, run_page

UTC_NOON = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_sim(tz: str = "America/Los_Angeles", clock: Clock | None = None) -> NetSuiteSimulator:
    sim = NetSuiteSimulator(user_timezone=tz, clock=clock or Clock(UTC_NOON))
    add = sim.records.add
    add("currency", {"id": "1", "name": "US Dollar", "symbol": "USD"})
    add("subsidiary", {"id": "1", "name": "HQ", "currency": {"id": "1"}})
    add("customer", {"id": "12", "entityId": "C-12", "companyName": "Acme", "subsidiary": {"id": "1"}})
    add("customer", {"id": "15", "entityId": "C-15", "companyName": "O'Brien & Sons", "subsidiary": {"id": "1"}})
    add(
        "customer",
        {"id": "120", "entityId": "C-120", "companyName": "Zeta", "subsidiary": {"id": "1"}, "isInactive": True},
    )
    return sim


def add_job(sim: NetSuiteSimulator, job_id: str, **fields) -> str:
    body = {
        "id": job_id,
        "entityId": f"P-{job_id}",
        "companyName": f"Project {job_id}",
        "parent": {"id": "12"},
        "entityStatus": {"id": "2"},
        "allowTime": True,
        **fields,
    }
    return sim.records.add("job", body)


def error_of(sim: NetSuiteSimulator, sql: str) -> NetSuiteError:
    with pytest.raises(NetSuiteError) as caught:
        sim.query(sql)
    assert caught.value.status == 400
    return caught.value


# -- selection --------------------------------------------------------------------------------------
def test_selection_names_columns_by_alias_or_column_and_leaves_nulls_out():
    sim = make_sim()
    rows = sim.query("SELECT c.id AS ID, c.entityid, c.companyname name, c.parent, 'x' FROM customer c WHERE c.id = 12")
    # Keys are lower case; the NULL parent is missing, not null; unnamed expressions become exprN.
    assert rows == [{"id": "12", "entityid": "C-12", "name": "Acme", "expr1": "x", "links": []}]


def test_keywords_and_identifiers_are_case_insensitive():
    sim = make_sim()
    rows = sim.query("select C.ID from CUSTOMER c where C.ISINACTIVE = 'F' order by c.Id")
    assert [r["id"] for r in rows] == ["12", "15"]


def test_string_literals_escape_quotes_by_doubling():
    sim = make_sim()
    rows = sim.query("SELECT c.id FROM customer c WHERE c.companyname = 'O''Brien & Sons'")
    assert [r["id"] for r in rows] == ["15"]


def test_references_are_ids_booleans_are_T_F_and_builtin_df_gives_names():
    sim = make_sim()
    add_job(sim, "200")
    [row] = sim.query(
        "SELECT j.parent, BUILTIN.DF(j.parent) AS customer, j.entitystatus, "
        "BUILTIN.DF(j.entitystatus) AS status, j.isinactive, j.allowtime FROM job j"
    )
    assert row == {
        "parent": "12",
        "customer": "C-12",
        "entitystatus": "2",
        "status": "In Progress",
        "isinactive": "F",
        "allowtime": "T",
        "links": [],
    }


def test_custom_fields_are_columns():
    sim = make_sim()
    add_job(sim, "200", custentity_ct_job_id="ct-77")
    add_job(sim, "201")
    rows = sim.query("SELECT j.id, j.custentity_ct_job_id AS ct FROM job j WHERE j.custentity_ct_job_id IS NOT NULL")
    assert rows == [{"id": "200", "ct": "ct-77", "links": []}]


# -- conditions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("c.id IN (12, 15)", ["12", "15"]),
        ("c.id NOT IN (12, 15)", ["120"]),
        ("c.isinactive = 'F' AND c.id > 12", ["15"]),
        ("c.id = 12 OR c.isinactive = 'T'", ["12", "120"]),
        ("NOT (c.id = 12 OR c.id = 15)", ["120"]),
        ("c.companyname LIKE 'O%'", ["15"]),
        ("c.entityid LIKE 'C-1_'", ["12", "15"]),
        ("c.companyname NOT LIKE '%e%'", []),
        ("c.parent IS NULL AND c.subsidiary IS NOT NULL", ["12", "15", "120"]),
        ("CASE WHEN c.isinactive = 'T' THEN 'gone' ELSE 'here' END = 'gone'", ["120"]),
        ("c.id <> 12 AND c.id != 15", ["120"]),
        ("c.id >= 15 AND c.id <= 120", ["15", "120"]),
    ],
)
def test_where_conditions(where, expected):
    sim = make_sim()
    assert [r["id"] for r in sim.query(f"SELECT c.id FROM customer c WHERE {where} ORDER BY c.id")] == expected


def test_null_follows_three_valued_logic():
    # parent is NULL everywhere: `= NULL` matches nothing, NOT IN with a NULL matches nothing.
    sim = make_sim()
    assert sim.query("SELECT c.id FROM customer c WHERE c.parent = NULL") == []
    assert sim.query("SELECT c.id FROM customer c WHERE NOT (c.parent = 5)") == []
    assert sim.query("SELECT c.id FROM customer c WHERE c.id NOT IN (12, NULL)") == []
    assert len(sim.query("SELECT c.id FROM customer c WHERE c.id IN (12, NULL)")) == 1


def test_case_and_nvl_in_the_select_list():
    sim = make_sim()
    add_job(sim, "200")
    add_job(sim, "201", isInactive=True)
    rows = sim.query(
        "SELECT j.id, CASE WHEN (j.isinactive = 'F' AND j.allowtime = 'T') THEN 'T' ELSE 'F' END "
        "AS inscope, NVL(j.custentity_ct_job_id, 'none') AS ct FROM job j ORDER BY j.id"
    )
    assert [(r["id"], r["inscope"], r["ct"]) for r in rows] == [("200", "T", "none"), ("201", "F", "none")]


def test_ids_compare_and_sort_as_numbers_not_text():
    sim = make_sim()
    for job_id in ("99", "100", "1000", "250"):
        add_job(sim, job_id)
    assert [r["id"] for r in sim.query("SELECT j.id FROM job j WHERE j.id > 99 ORDER BY j.id")] == [
        "100",
        "250",
        "1000",
    ]
    # A quoted number against an id converts to a number, as Oracle converts it.
    assert [r["id"] for r in sim.query("SELECT j.id FROM job j WHERE j.id > '250' ORDER BY j.id DESC")] == ["1000"]
    assert [r["id"] for r in sim.query("SELECT j.id AS id FROM job j ORDER BY id DESC")][0] == "1000"


# -- time -------------------------------------------------------------------------------------------
def test_to_char_and_to_timestamp_use_the_user_time_zone():
    clock = Clock(datetime(2026, 11, 25, 5, 30, 0, tzinfo=UTC))  # 2026-11-24 21:30 in Los Angeles
    sim = make_sim("America/Los_Angeles", clock)
    add_job(sim, "200")
    [row] = sim.query(
        "SELECT TO_CHAR(j.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lm, j.lastmodifieddate AS bare FROM job j"
    )
    assert row["lm"] == "2026-11-24 21:30:00"
    # Without TO_CHAR a datetime comes back as the user's date, M/D/YYYY, in the user's zone (the 24th, not the
    # 25th it is in UTC): code that forgets TO_CHAR loses the time and can lose a day.
    assert row["bare"] == "11/24/2026"

    def matching(op: str, text: str) -> int:
        sql = f"SELECT j.id FROM job j WHERE j.lastmodifieddate {op} TO_TIMESTAMP('{text}', 'YYYY-MM-DD HH24:MI:SS')"
        return len(sim.query(sql))

    # The same instant, written in the user's zone, is found; written in UTC it is read as 8 hours later.
    assert matching(">=", "2026-11-24 21:30:00") == 1
    assert matching(">", "2026-11-24 21:30:00") == 0
    assert matching(">=", "2026-11-25 05:30:00") == 0


def test_the_same_instant_in_another_user_zone():
    clock = Clock(datetime(2026, 11, 25, 5, 30, 0, tzinfo=UTC))  # 14:30 in Tokyo
    sim = make_sim("Asia/Tokyo", clock)
    add_job(sim, "200")
    [row] = sim.query(
        "SELECT TO_CHAR(j.lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI') AS lm FROM job j "
        "WHERE j.lastmodifieddate = TO_TIMESTAMP('2026-11-25 14:30:00', 'YYYY-MM-DD HH24:MI:SS')"
    )
    assert row["lm"] == "2026-11-25T14:30"


def test_date_fields_render_as_user_dates_and_compare_with_to_date():
    sim = make_sim()
    add_job(sim, "200", startDate="2026-01-05", projectedEndDate="2026-12-31")
    add_job(sim, "201", startDate="2026-02-01")
    [row] = sim.query(
        "SELECT j.startdate, TO_CHAR(j.startdate, 'YYYY-MM-DD') AS iso, j.projectedenddate "
        "FROM job j WHERE j.startdate < TO_DATE('2026-02-01', 'YYYY-MM-DD')"
    )
    assert row == {"startdate": "1/5/2026", "iso": "2026-01-05", "projectedenddate": "12/31/2026", "links": []}
    # A bare string against a date is read in the user's date format.
    assert len(sim.query("SELECT j.id FROM job j WHERE j.startdate = '2/1/2026'")) == 1


def test_deletedrecord_lists_deletions_with_lower_case_types():
    clock = Clock(UTC_NOON)
    sim = make_sim(clock=clock)
    add_job(sim, "200")
    clock.now += timedelta(minutes=5)
    sim.records.delete("job", "200")
    rows = sim.query(
        "SELECT d.recordid, d.recordtypeid, d.name, TO_CHAR(d.deleteddate, 'YYYY-MM-DD HH24:MI:SS') "
        "AS deleteddate FROM deletedrecord d WHERE d.recordtypeid = 'job' AND d.deleteddate >= "
        "TO_TIMESTAMP('2026-11-25 04:00:00', 'YYYY-MM-DD HH24:MI:SS') ORDER BY d.recordid"
    )
    assert rows == [
        {"recordid": "200", "recordtypeid": "job", "name": "P-200", "deleteddate": "2026-11-25 04:05:00", "links": []}
    ]


# -- aggregates -------------------------------------------------------------------------------------
def _time_bills(sim: NetSuiteSimulator) -> None:
    add = sim.records.add
    add("employee", {"id": "7", "entityId": "Ann", "subsidiary": {"id": "1"}})
    add("employee", {"id": "8", "entityId": "Bob", "subsidiary": {"id": "1"}})
    for employee, hours, rate in (
        ("7", "1:45", "0.1"),
        ("7", "0:30", "0.2"),
        ("8", "2:00", "0.3"),
        ("8", "0:20", None),
    ):
        body = {"employee": {"id": employee}, "hours": hours, "tranDate": "2026-11-20"}
        if rate is not None:
            body["rate"] = rate
        add("timeBill", body)


def test_count_and_sum_group_by_with_decimal_arithmetic():
    sim = make_sim()
    _time_bills(sim)
    rows = sim.query(
        "SELECT tb.employee, BUILTIN.DF(tb.employee) AS who, COUNT(*) AS n, SUM(tb.hours) AS hours, "
        "SUM(tb.rate) AS rate, COUNT(tb.rate) AS rated, MIN(tb.hours) lo, MAX(tb.hours) hi "
        "FROM timebill tb GROUP BY tb.employee ORDER BY tb.employee"
    )
    assert rows == [
        # 1:45 + 0:30 = 2.25 hours; 0.1 + 0.2 is exactly 0.3 (a float sum would not be).
        {
            "employee": "7",
            "who": "Ann",
            "n": "2",
            "hours": "2.25",
            "rate": "0.3",
            "rated": "2",
            "lo": "0.5",
            "hi": "1.75",
            "links": [],
        },
        # 0:20 is 0.33 hours: SuiteQL hours are decimal and rounded, so reconcile in minutes.
        {
            "employee": "8",
            "who": "Bob",
            "n": "2",
            "hours": "2.33",
            "rate": "0.3",
            "rated": "1",
            "lo": "0.33",
            "hi": "2",
            "links": [],
        },
    ]


def test_aggregate_without_group_by_over_no_rows():
    sim = make_sim()
    assert sim.query("SELECT COUNT(*) AS n, SUM(tb.hours) AS total FROM timebill tb") == [{"n": "0", "links": []}]


def test_order_by_an_aggregate_descending():
    sim = make_sim()
    _time_bills(sim)
    sim.records.add("timeBill", {"employee": {"id": "8"}, "hours": "3:00", "tranDate": "2026-11-21"})
    rows = sim.query(
        "SELECT tb.employee AS e, COUNT(*) AS n FROM timebill tb GROUP BY tb.employee ORDER BY COUNT(*) DESC"
    )
    assert [(r["e"], r["n"]) for r in rows] == [("8", "3"), ("7", "2")]


# -- errors -----------------------------------------------------------------------------------------
def test_unknown_column_is_nonexistent_field():
    error = error_of(make_sim(), "SELECT c.id, c.lastModified FROM customer c")
    assert error.code == "NONEXISTENT_FIELD"
    assert error.message.startswith("Invalid search query.")
    assert "lastmodified" in error.message


def test_unknown_table_is_invalid_parameter():
    error = error_of(make_sim(), "SELECT p.id FROM project p")
    assert error.code == "INVALID_PARAMETER"
    assert "Invalid search query" in error.message and "'project'" in error.message


def test_unknown_column_fails_even_when_no_row_would_reach_it():
    error = error_of(make_sim(), "SELECT j.id FROM job j WHERE j.id < 0 AND j.nosuchcolumn = 1")
    assert error.code == "NONEXISTENT_FIELD"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT FROM customer c",
        "SELECT c.id FROM customer c WHERE",
        "SELECT c.id FROM customer c WHERE c.companyname = 'open",
        "SELECT c.id customer c",
        "SELECT c.id FROM customer c ORDER c.id",
        "SELECT c.id FROM customer c WHERE c.id IN ()",
        "SELECT c.id FROM customer c; DROP TABLE customer",
        "SELECT x.id FROM customer c",
        "SELECT NOSUCHFUNC(c.id) FROM customer c",
        "SELECT c.id, COUNT(*) FROM customer c",
        "SELECT c.id FROM customer c WHERE COUNT(*) > 1",
        "SELECT TO_CHAR(c.lastmodifieddate, 'YYYY-MM-DDTHH24') FROM customer c",
        "SELECT c.id FROM customer c WHERE c.lastmodifieddate > TO_TIMESTAMP('2026-13-01', 'YYYY-MM-DD')",
        "SELECT c.id FROM customer c WHERE c.id = 'twelve'",
    ],
)
def test_syntax_and_semantic_errors_are_invalid_parameter(sql):
    assert error_of(make_sim(), sql).code == "INVALID_PARAMETER"


# -- the bare engine --------------------------------------------------------------------------------
def test_engine_over_a_plain_table():
    rows = [{"n": Decimal(3), "s": "b"}, {"n": Decimal(1), "s": None}, {"n": Decimal(2), "s": "a"}]

    class Catalog:
        def table(self, name):
            return ListTable("t", ("n", "s"), lambda: rows) if name == "t" else None

    tz = ZoneInfo("UTC")
    assert run("SELECT t.n FROM t ORDER BY t.s", Catalog(), tz) == [
        {"n": "2", "links": []},
        {"n": "3", "links": []},
        {"n": "1", "links": []},
    ]  # NULLs last ascending
    assert run("SELECT t.n FROM t ORDER BY t.s DESC", Catalog(), tz)[0] == {"n": "1", "links": []}
    assert run("SELECT SUM(t.n) AS total FROM t WHERE t.s IS NOT NULL", Catalog(), tz) == [{"total": "5", "links": []}]
    with pytest.raises(SuiteQLError):
        run("SELECT t.n FROM nosuch", Catalog(), tz)


# -- properties -------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    ids=st.sets(st.integers(min_value=1000, max_value=6000), max_size=25), k=st.integers(min_value=900, max_value=6100)
)
def test_keyset_paging_query_equals_the_python_filter(ids, k):
    sim = make_sim()
    for job_id in ids:
        add_job(sim, str(job_id))
    rows = sim.query(f"SELECT j.id FROM job j WHERE j.id > {k} ORDER BY j.id")
    assert [int(r["id"]) for r in rows] == sorted(i for i in ids if i > k)


@settings(max_examples=30, deadline=None)
@given(minutes=st.lists(st.integers(min_value=1, max_value=24 * 60 - 1), min_size=1, max_size=8))
def test_summed_hours_are_the_sum_of_rounded_decimal_hours(minutes):
    sim = make_sim()
    sim.records.add("employee", {"id": "7", "entityId": "Ann", "subsidiary": {"id": "1"}})
    for m in minutes:
        sim.records.add(
            "timeBill", {"employee": {"id": "7"}, "hours": f"{m // 60}:{m % 60:02d}", "tranDate": "2026-11-20"}
        )
    [row] = sim.query("SELECT SUM(tb.hours) AS total FROM timebill tb")
    expected = sum((round(Decimal(m) / 60, 2) for m in minutes), Decimal(0))
    assert Decimal(row["total"]) == expected


# -- joins ------------------------------------------------------------------------------------------------


def test_a_left_join_brings_the_parents_columns_and_keeps_rows_without_one():
    from simulators.generator import generate_company
    from simulators.netsuite import NetSuiteSimulator

    sim = NetSuiteSimulator()
    sim.load(generate_company(7, 1))
    orphan = sim.records.add("job", {"entityId": "P-ORPHAN", "companyName": "No customer", "subsidiary": {"id": "1"}})
    rows = sim.query(
        "SELECT j.id AS id, c.entityid AS customernumber, c.isinactive AS inactive "
        "FROM job j LEFT OUTER JOIN customer c ON j.parent = c.id ORDER BY j.id"
    )
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == len(sim.records.all("job"))  # one row per project, joined or not
    assert "customernumber" not in by_id[orphan]  # no customer: NULL columns are left out
    first = sim.records.all("job")[0]
    customer = sim.records.get("customer", first["parent"]["id"])
    assert by_id[first["id"]]["customernumber"] == customer["entityId"]
    inner = sim.query("SELECT j.id AS id FROM job j INNER JOIN customer c ON j.parent = c.id")
    assert orphan not in {r["id"] for r in inner} and len(inner) == len(rows) - 1


def test_a_column_of_a_joined_query_must_name_its_table():
    from simulators.netsuite import NetSuiteSimulator
    from simulators.netsuite.errors import NetSuiteError

    with pytest.raises(NetSuiteError, match="table aliases"):
        NetSuiteSimulator().query("SELECT id FROM job j LEFT JOIN customer c ON j.parent = c.id")


def _sorted_the_slow_way(rows, keys):
    """The reference order: stable sorts from the last key to the first, NULLs largest (Oracle's)."""
    ordered = list(rows)
    for column, descending in reversed(keys):
        present = sorted((r for r in ordered if r[column] is not None), key=lambda r: r[column], reverse=descending)
        nulls = [r for r in ordered if r[column] is None]
        ordered = nulls + present if descending else present + nulls
    return ordered


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.none() | st.integers(0, 3), st.none() | st.sampled_from(["a", "b", "c"])), max_size=25
    ),
    keys=st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.booleans()), min_size=1, max_size=2, unique_by=lambda k: k[0]
    ),
    start=st.integers(0, 30),
    size=st.integers(0, 30),
)
def test_a_page_is_that_slice_of_the_whole_ordered_result_and_counts_every_row(values, keys, start, size):
    """The REST service's pages come from a partial sort (one pass for a 1,000-row page of 100,000 rows):
    every page equals the slice of the fully sorted result, ties in table order, NULLs placed as Oracle does."""
    rows = [{"n": Decimal(i), "a": None if a is None else Decimal(a), "b": b} for i, (a, b) in enumerate(values)]

    class Catalog:
        def table(self, name):
            return ListTable("t", ("n", "a", "b"), lambda: rows) if name == "t" else None

    order = ", ".join(f"t.{column}{' DESC' if descending else ''}" for column, descending in keys)
    sql = f"SELECT t.n FROM t ORDER BY {order}"
    tz = ZoneInfo("UTC")
    expected = [str(r["n"]) for r in _sorted_the_slow_way(rows, keys)]

    page, total = run_page(sql, Catalog(), tz, start, start + size)

    assert total == len(rows)
    assert [r["n"] for r in page] == expected[start : start + size]
    assert [r["n"] for r in run(sql, Catalog(), tz)] == expected
