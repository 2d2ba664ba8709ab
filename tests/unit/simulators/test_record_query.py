"""The q language of NetSuite record collections, as the simulator reads it (no HTTP)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from simulators.netsuite.errors import NetSuiteError
from simulators.netsuite.record_query import compile_query
from simulators.netsuite.schema import RecordSchema

TZ = ZoneInfo("America/Los_Angeles")
SCHEMA = RecordSchema({"job": {"custentity_ct_job_id": "string"}})
JOBS = [
    {
        "id": "1774",
        "entityId": "P-1774",
        "companyName": "Website Redesign",
        "parent": {"id": "12"},
        "isInactive": False,
        "startDate": "2026-01-05",
        "entityStatus": {"id": "2"},
        # 06:00 UTC on the 25th is 22:00 on the 24th in Los Angeles, the user's zone.
        "lastModifiedDate": "2026-11-25T06:00:00Z",
        "custentity_ct_job_id": "ct-1",
    },
    {
        "id": "1775",
        "entityId": "P-1775",
        "companyName": "Old work",
        "parent": {"id": "15"},
        "isInactive": True,
        "lastModifiedDate": "2026-11-25T09:00:00Z",
    },
    {"id": "1776", "entityId": "X-1", "companyName": "Web Shop", "parent": {"id": "12"}, "isInactive": False},
]


def ids(q: str, rtype: str = "job") -> list[str]:
    test = compile_query(q, SCHEMA.types[rtype], TZ)
    return [r["id"] for r in JOBS if test(r)]


def refusal(q: str) -> dict[str, str]:
    with pytest.raises(NetSuiteError) as caught:
        ids(q)
    error = caught.value
    assert error.status == 400 and error.query_param == "q"
    return {"code": error.code, "detail": error.message}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('entityId IS "P-1774"', ["1774"]),
        ('entityId IS "p-1774"', ["1774"]),  # text compares ignore case
        ("entityId IS P-1774", ["1774"]),  # a bare word is a value too
        ('entityId IS_NOT "P-1774"', ["1775", "1776"]),
        ('companyName START_WITH "web"', ["1774", "1776"]),
        ('companyName CONTAIN "redesign"', ["1774"]),
        ('companyName END_WITH "work"', ["1775"]),
        ('companyName IS "Website \\"Redesign\\""', []),  # an escaped quote inside a string
        ("custentity_ct_job_id EMPTY", ["1775", "1776"]),
        ("custentity_ct_job_id EMPTY_NOT", ["1774"]),
        ("id ANY_OF [1774, 1776]", ["1774", "1776"]),
        ("id ANY_OF 1775", ["1775"]),
        ("id GREATER 1774", ["1775", "1776"]),
        ("id LESS 1775", ["1774"]),
        ("id GREATER_OR_EQUAL 1775", ["1775", "1776"]),
        ("id EQUAL 1775", ["1775"]),
        ("parent ANY_OF [12]", ["1774", "1776"]),
        ('parent ANY_OF ["15", 99]', ["1775"]),
        ("parent ANY_OF_NOT [12]", ["1775"]),
        ("entityStatus ANY_OF [2]", ["1774"]),
        ("isInactive IS true", ["1775"]),
        ("isInactive IS_NOT true", ["1774", "1776"]),
        ("isInactive IS FALSE", ["1774", "1776"]),
        ('startDate ON "1/5/2026"', ["1774"]),
        ('startDate AFTER "1/4/2026"', ["1774"]),
        ('startDate BEFORE "1/5/2026"', []),
        ('startDate ON_OR_BEFORE "1/5/2026"', ["1774"]),
        ("startDate EMPTY", ["1775", "1776"]),
        # A datetime is compared by its day in the user's zone.
        ('lastModifiedDate ON "11/24/2026"', ["1774"]),
        ('lastModifiedDate ON "11/25/2026"', ["1775"]),
        ('lastModifiedDate ON_OR_AFTER "11/24/2026"', ["1774", "1775"]),
        ('lastModifiedDate AFTER "11/24/2026"', ["1775"]),
        ('isInactive IS false AND parent ANY_OF [12] AND companyName START_WITH "Web"', ["1774", "1776"]),
        ('entityId IS "P-1774" OR entityId IS "X-1"', ["1774", "1776"]),
    ],
)
def test_conditions(q, expected):
    assert ids(q) == expected


@pytest.mark.parametrize(
    ("q", "code", "needle"),
    [
        ('nosuch IS "x"', "NONEXISTENT_FIELD", "Unknown field name 'nosuch'"),
        ('entityid IS "x"', "NONEXISTENT_FIELD", "case-sensitive: entityId"),
        ('entityId EQUALS "x"', "INVALID_PARAMETER", "EQUALS is not valid"),
        ("id BETWEEN [1, 2]", "INVALID_PARAMETER", "does not support the operator BETWEEN"),
        ('entityId CONTAIN_NOT "x"', "INVALID_PARAMETER", "CONTAIN_NOT"),
        ('entityId ANY_OF ["x"]', "INVALID_PARAMETER", "not valid for the field entityId"),
        ("isInactive IS yes", "INVALID_PARAMETER", "true or false"),
        ("id GREATER ten", "INVALID_PARAMETER", "is a number"),
        ('startDate ON "2026-01-05"', "INVALID_PARAMETER", "M/D/YYYY"),
        ('lastModifiedDate AFTER "11/24/2026 10:00 am"', "INVALID_PARAMETER", "M/D/YYYY"),
        ('startDate ON "2/30/2026"', "INVALID_PARAMETER", "Unparseable date"),
        ('entityId IS "x" AND id EQUAL 1 OR id EQUAL 2', "INVALID_PARAMETER", "AND and OR"),
        ('(entityId IS "x")', "INVALID_PARAMETER", "parentheses"),
        ('entityId IS "x', "INVALID_PARAMETER", "unterminated"),
        ("entityId IS", "INVALID_PARAMETER", "expected a value"),
        ("entityId", "INVALID_PARAMETER", "expected an operator"),
        ('entityId IS "a" "b"', "INVALID_PARAMETER", "expected AND, OR"),
        ("id ANY_OF [1, 2", "INVALID_PARAMETER", "to close the list"),
        ('entityId IS ["a"]', "INVALID_PARAMETER", "single value"),
        ("addressBook EMPTY", "INVALID_PARAMETER", "cannot be used"),
        ('entityId is "x"', "INVALID_PARAMETER", "expected an operator"),  # operators are upper case
    ],
)
def test_refusals(q, code, needle):
    error = refusal(q)
    assert error["code"] == code and needle in error["detail"], error


def test_numbers_compare_as_numbers():
    report_schema = RecordSchema()
    test = compile_query("amount GREATER 99.5", report_schema.types["expenseReport"], TZ)
    assert test({"id": "1", "amount": Decimal("100")}) and not test({"id": "2", "amount": Decimal("99.50")})
    assert not test({"id": "3"})
