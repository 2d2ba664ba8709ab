"""generate_company: deterministic, scalable, and consistent enough for both simulators to trust."""

from __future__ import annotations

import dataclasses
import re
import struct
import zlib
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators import generator
from simulators.company import CLOSED_PROJECT_STATUS, Company
from simulators.generator import CONTRACTOR_KEY, ODD_HOURS, generate_company, reference_date


@pytest.fixture(scope="module")
def company() -> Company:
    return generate_company()


def test_same_seed_same_company_and_other_seed_other_company() -> None:
    assert generate_company(7) == generate_company(7)
    assert generate_company(7) != generate_company(8)


def test_reference_date_is_a_monday_fixed_by_the_seed(company: Company) -> None:
    ref = reference_date(company.seed)
    assert ref.weekday() == 0
    assert reference_date(company.seed) == ref
    starts = sorted({t.start_date for t in company.timesheets})
    assert starts == [ref - timedelta(weeks=w) for w in (4, 3, 2, 1)]


def test_size_multiplies_the_volume() -> None:
    one, two = generate_company(3, size=1), generate_company(3, size=2)
    assert len(two.customers) == 2 * len(one.customers) == 16
    assert len(two.projects) == 2 * len(one.projects) == 28
    assert len(two.employees) == 2 * len(one.employees) == 24
    assert len(two.users) == len(two.employees) + 1
    assert len(two.tasks) > 1.5 * len(one.tasks)
    assert len(two.timesheets) > 1.5 * len(one.timesheets)
    # Reference data does not grow.
    assert len(two.expense_types) == len(one.expense_types)
    assert len(two.currencies) == len(one.currencies) == 2


def test_demo_size_has_the_expected_shape(company: Company) -> None:
    assert len(company.subsidiaries) == 2
    assert {c.iso for c in company.currencies} == {"USD", "EUR"}
    assert {s.currency_id for s in company.subsidiaries} == {c.id for c in company.currencies}
    assert len(company.customers) == 8
    assert len(company.projects) == 14
    assert len(company.employees) == 12
    assert len(company.service_items) == 2
    for project in company.projects:
        assert re.fullmatch(r"P-\d{4}", project.entity_id)
        count = sum(1 for t in company.tasks if t.project_id == project.id)
        assert 3 <= count <= 7


def test_project_mix(company: Company) -> None:
    projects = company.projects
    assert sum(p.status_id == CLOSED_PROJECT_STATUS for p in projects) == 2
    assert sum(p.is_inactive for p in projects) == 1
    assert sum(not p.allow_time for p in projects) == 1
    assert sum(p.status_id == "4" for p in projects) == 1  # Pending
    assert sum(p.status_id == "2" and not p.is_inactive and p.allow_time for p in projects) >= 8


def test_ids_are_integer_strings_unique_per_type(company: Company) -> None:
    # Customers, projects and employees share NetSuite's entity id sequence, so they are unique together.
    entity_ids = [r.id for r in company.customers + company.projects + company.employees]
    for ids in (
        entity_ids,
        [t.id for t in company.tasks],
        [c.id for c in company.expense_categories],
        [s.id for s in company.service_items],
        [c.id for c in company.currencies],
    ):
        assert all(re.fullmatch(r"\d+", i) for i in ids)
        assert len(ids) == len(set(ids))


def test_tasks_reference_real_projects_and_parents(company: Company) -> None:
    projects = {p.id for p in company.projects}
    tasks = {t.id: t for t in company.tasks}
    items = {i.id for i in company.service_items}
    assert any(t.parent_id for t in company.tasks), "some tasks are subtasks"
    for task in company.tasks:
        assert task.project_id in projects
        assert task.status in {"NOTSTART", "PROGRESS", "COMPLETE"}
        assert task.service_item_id is None or task.service_item_id in items
        if task.parent_id:
            parent = tasks[task.parent_id]
            assert parent.project_id == task.project_id
            assert parent.parent_id is None  # two levels
    assert {t.status for t in company.tasks} == {"NOTSTART", "PROGRESS", "COMPLETE"}
    with_item = sum(t.service_item_id is not None for t in company.tasks)
    assert with_item > len(company.tasks) / 2


def test_users_mirror_employees_plus_one_unmapped(company: Company) -> None:
    by_email = {e.email: e for e in company.employees}
    unmapped = [u for u in company.users if u.email not in by_email]
    assert len(unmapped) == 1
    assert unmapped[0].employee_number not in {e.entity_id for e in company.employees}
    for user in company.users:
        if user in unmapped:
            continue
        employee = by_email[user.email]
        assert user.employee_number == employee.entity_id
        assert user.email.split("@")[0] == f"{employee.first_name.lower()}.{employee.last_name.lower()}"
    assert len({u.key for u in company.users}) == len(company.users)


def test_expense_types_map_by_id_by_name_or_not_at_all(company: Company) -> None:
    categories = {c.id: c.name for c in company.expense_categories}
    names = set(categories.values())
    by_id = [t for t in company.expense_types if t.accounting_package_id]
    by_name = [t for t in company.expense_types if not t.accounting_package_id and t.name in names]
    unmapped = [t for t in company.expense_types if not t.accounting_package_id and t.name not in names]
    assert by_id and by_name and len(unmapped) == 1
    assert all(categories[t.accounting_package_id] == t.name for t in by_id)
    assert 5 <= len(company.expense_categories) <= 7
    reimbursable = {p.name: p.reimbursable for p in company.payment_types}
    assert reimbursable == {"Personal Card": True, "Company Card": False}


def test_time_plan_is_quarter_hours_on_open_leaf_tasks_but_for_the_odd_ones(company: Company) -> None:
    projects = {p.id: p for p in company.projects}
    tasks = {t.id: t for t in company.tasks}
    parents = {t.parent_id for t in company.tasks if t.parent_id}
    users = {u.key for u in company.users}
    entries = 0
    for sheet in company.timesheets:
        assert sheet.user_key in users
        assert sheet.end_date - sheet.start_date == timedelta(days=6)
        for entry in sheet.entries:
            entries += 1
            assert sheet.start_date <= entry.date <= sheet.end_date
            assert isinstance(entry.hours, Decimal) and entry.hours > 0
            # Quarter hours, apart from the five odd entries the exports must meet (see test_odd_hours...).
            assert entry.hours % Decimal("0.25") == 0 or entry.hours in ODD_HOURS
            project, task = projects[entry.project_id], tasks[entry.task_id]
            assert task.project_id == project.id and task.id not in parents
            assert project.status_id == "2" and not project.is_inactive and project.allow_time
            assert entry.is_billable == (not task.non_billable)
    assert entries > 200
    statuses = Counter(s.status for s in company.timesheets)
    assert {"Approved", "Waiting", "Open", "Rejected"} <= set(statuses)
    assert statuses["Approved"] > len(company.timesheets) / 2


def test_expense_amounts_are_exact_decimals(company: Company) -> None:
    items = [i for s in company.expense_sheets for i in s.items]
    assert {s.status for s in company.expense_sheets} >= {"approved", "open"}
    foreign = [i for i in items if i.foreign_currency]
    assert foreign and any(not i.foreign_currency for i in items)
    for item in items:
        assert isinstance(item.amount, Decimal) and item.amount.as_tuple().exponent == -2 and item.amount > 0
    for item in foreign:
        assert item.foreign_currency == "EUR"
        assert isinstance(item.foreign_amount, Decimal) and isinstance(item.exchange_rate, Decimal)
        assert -6 <= item.exchange_rate.as_tuple().exponent <= -4
        expected = (item.foreign_amount * item.exchange_rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert item.amount == expected


def test_receipts_are_valid_png_or_pdf(company: Company) -> None:
    receipts = [i for s in company.expense_sheets for i in s.items if i.receipt is not None]
    kinds = {i.receipt_type for i in receipts}
    assert kinds == {"image/png", "application/pdf"}
    for item in receipts:
        if item.receipt_type == "image/png":
            _assert_png(item.receipt)
        else:
            _assert_pdf(item.receipt)


def _assert_png(data: bytes) -> None:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    at, idat, chunks = 8, b"", []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append(kind)
        idat += body if kind == b"IDAT" else b""
        at += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)


def _assert_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    xref_at = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[xref_at : xref_at + 4] == b"xref"
    offsets = re.findall(rb"(\d{10}) 00000 n", data)
    for number, offset in enumerate(offsets, start=1):
        assert data[int(offset) :].startswith(f"{number} 0 obj".encode())


def _floats(value: object, path: str = "company") -> list[str]:
    if isinstance(value, float):
        return [path]
    if dataclasses.is_dataclass(value):
        return [p for f in dataclasses.fields(value) for p in _floats(getattr(value, f.name), f"{path}.{f.name}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _floats(v, f"{path}[{i}]")]
    return []


def test_no_float_anywhere(company: Company) -> None:
    assert _floats(company) == []


# -- what the exports must meet ------------------------------------------------------------------------------
def _mapped(company: Company) -> set[str]:
    emails = {e.email for e in company.employees}
    return {u.key for u in company.users if u.email in emails}


def assert_export_cases(company: Company) -> None:
    """The guarantees of generator._export_cases, for any seed and size."""
    mapped = _mapped(company)
    approved = [s for s in company.timesheets if s.status == "Approved" and s.user_key in mapped]
    entries = [e for s in approved for e in s.entries]
    odd = sorted(e.hours for s in company.timesheets for e in s.entries if e.hours % Decimal("0.25"))
    assert odd == [Decimal("0.1"), Decimal("0.33"), Decimal("0.33"), Decimal("0.33"), Decimal("7.99")]
    assert {e.hours for e in entries} >= set(ODD_HOURS)  # all on approved sheets of mapped employees
    # One day with three 0.33 h entries on the same project (and task): 59.4 minutes together.
    thirds = [(s, e) for s in approved for e in s.entries if e.hours == Decimal("0.33")]
    assert len({(id(s), e.date, e.project_id, e.task_id) for s, e in thirds}) == 1
    assert sum((e.hours for _, e in thirds), Decimal(0)) * 60 == Decimal("59.40")
    # 7.99 h is a whole day's time.
    [(long_sheet, long_entry)] = [(s, e) for s in approved for e in s.entries if e.hours == Decimal("7.99")]
    assert [e.hours for e in long_sheet.entries if e.date == long_entry.date] == [Decimal("7.99")]
    assert any(e.is_billable for e in entries) and any(not e.is_billable for e in entries)
    contractor = [s for s in company.timesheets if s.user_key == CONTRACTOR_KEY]
    assert CONTRACTOR_KEY not in mapped and any(s.status == "Approved" and s.entries for s in contractor)
    assert {s.status for s in company.timesheets} >= {"Approved", "Waiting", "Open", "Rejected"}

    items = [(s, i) for s in company.expense_sheets for i in s.items]
    approved_items = [i for s, i in items if s.status == "approved"]
    assert {"image/png", "application/pdf"} <= {i.receipt_type for i in approved_items}
    [(sheet, failing)] = [(s, i) for s, i in items if i.receipt_fails]
    assert failing.receipt is not None and failing.receipt_fail_status == 500
    assert sheet.status == "approved" and sheet.user_key in mapped
    receipts = [i for s, i in items if s.status == "approved" and s.user_key in mapped and i.receipt is not None]
    assert failing.expense_date == min(i.expense_date for i in receipts)


def test_the_demo_company_has_every_export_case(company: Company) -> None:
    assert_export_cases(company)


def test_export_cases_leave_the_rest_of_the_company_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases come from their own random generator: nothing the seed drew before them is redrawn."""
    company = generate_company(7)
    monkeypatch.setattr(generator, "_export_cases", lambda *args: None)
    plain = generate_company(7)
    assert (company.customers, company.projects, company.employees, company.users) == (
        plain.customers,
        plain.projects,
        plain.employees,
        plain.users,
    )
    assert [(s.user_key, s.start_date) for s in company.timesheets] == [
        (s.user_key, s.start_date) for s in plain.timesheets
    ]
    amounts = lambda c: [(i.expense_date, i.amount) for s in c.expense_sheets for i in s.items]  # noqa: E731
    assert amounts(company) == amounts(plain)
    added = Counter(e.hours for s in company.timesheets for e in s.entries)
    added.subtract(Counter(e.hours for s in plain.timesheets for e in s.entries))
    assert {h: n for h, n in added.items() if n > 0} == {Decimal("0.33"): 3, Decimal("0.1"): 1, Decimal("7.99"): 1}


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_invariants_hold_for_any_seed(seed: int) -> None:
    company = generate_company(seed)
    tasks = {t.id: t for t in company.tasks}
    assert all(t.parent_id is None or tasks[t.parent_id].project_id == t.project_id for t in company.tasks)
    assert {s.status for s in company.timesheets} >= {"Approved", "Waiting", "Open", "Rejected"}
    approved_items = [i for s in company.expense_sheets if s.status == "approved" for i in s.items]
    assert any(i.foreign_currency for i in approved_items)
    assert any(i.expense_type_key == "et-gifts" for i in approved_items)
    assert_export_cases(company)
    for sheet in company.timesheets:  # entries still follow their task's billability
        assert all(e.is_billable == (not tasks[e.task_id].non_billable) for e in sheet.entries)
    assert _floats(company) == []


@pytest.mark.parametrize("seed", [3, 11])
def test_export_cases_hold_at_size_two(seed: int) -> None:
    assert_export_cases(generate_company(seed, size=2))
