"""Seeding the simulated account from a generated `Company`, keeping the company's NetSuite internal ids.

Records go in through `RecordStore.add`, so they pass the same name and reference checks as a client's
writes: a generator that produced a task under a missing project fails here, not in a test three layers up.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulators.company import Company, ProjectTask
from simulators.generator import reference_date
from simulators.netsuite.accounting import add_months, period_rows

if TYPE_CHECKING:
    from simulators.netsuite.records import RecordStore


def load_company(store: RecordStore, company: Company) -> None:
    add = store.add
    seed_accounting_periods(store, reference_date(company.seed))
    for currency in company.currencies:
        # NetSuite's currency.symbol is the ISO code (displaySymbol is the "$").
        add("currency", {"id": currency.id, "name": currency.name, "symbol": currency.iso, "currencyPrecision": 2})
    seed_exchange_rates(store, company, reference_date(company.seed))
    for sub in company.subsidiaries:
        add("subsidiary", {"id": sub.id, "name": sub.name, "currency": _ref(sub.currency_id)})
    for customer in company.customers:
        add(
            "customer",
            {
                "id": customer.id,
                "entityId": customer.entity_id,
                "companyName": customer.company_name,
                "subsidiary": _ref(customer.subsidiary_id),
                "isInactive": customer.is_inactive,
            },
        )
    for item in company.service_items:
        add("serviceSaleItem", {"id": item.id, "itemId": item.item_id, "isInactive": item.is_inactive})
    for category in company.expense_categories:
        # expenseCategory spells it isinactive, lower case, unlike the other records.
        add("expenseCategory", {"id": category.id, "name": category.name, "isinactive": category.is_inactive})
    for employee in company.employees:
        add(
            "employee",
            {
                "id": employee.id,
                "entityId": employee.entity_id,
                "firstName": employee.first_name,
                "lastName": employee.last_name,
                "email": employee.email,
                "subsidiary": _ref(employee.subsidiary_id),
                "currency": _ref(employee.currency_id),
                "isInactive": employee.is_inactive,
            },
        )
    for project in company.projects:
        add(
            "job",
            _drop_none(
                {
                    "id": project.id,
                    "entityId": project.entity_id,
                    "companyName": project.company_name,
                    "parent": _ref(project.customer_id),
                    "subsidiary": _ref(project.subsidiary_id),
                    "entityStatus": _ref(project.status_id),
                    "isInactive": project.is_inactive,
                    "allowTime": project.allow_time,
                    "allowExpenses": project.allow_expenses,
                    "startDate": _day(project.start_date),
                    "projectedEndDate": _day(project.projected_end_date),
                }
            ),
        )
    for task in _parents_first(company.tasks, store):
        fields: dict[str, Any] = {
            "id": task.id,
            "title": task.title,
            "project": _ref(task.project_id),
            "status": _ref(task.status),
            "isInactive": task.is_inactive,
            "nonBillableTask": task.non_billable,
        }
        if task.parent_id:
            fields["parent"] = _ref(task.parent_id)
        if task.service_item_id:
            fields["assignee"] = {"items": [{"serviceItem": _ref(task.service_item_id)}]}
        add("projectTask", fields)


def seed_accounting_periods(store: RecordStore, reference: date) -> None:
    """Fiscal years (with quarters and months) covering 13 months before to 3 months after `reference`, all
    open. Loading a second company adds none: an account has one calendar."""
    if store.snapshot("accountingPeriod"):
        return
    ids: dict[str, str] = {}
    for row in period_rows(add_months(reference, -13), add_months(reference, 3)):
        fields = {k: v for k, v in row.items() if k not in ("key", "parent_key")}
        if row["parent_key"]:
            fields["parent"] = _ref(ids[row["parent_key"]])
        ids[row["key"]] = store.add("accountingPeriod", fields)


# What one unit of each currency is worth in US dollars, for the account's Currency Exchange Rates (made up,
# fixed, so a seed's company is the same whatever the day).
USD_VALUE = {"USD": Decimal("1"), "EUR": Decimal("1.085"), "GBP": Decimal("1.27"), "CAD": Decimal("0.73")}


def seed_exchange_rates(store: RecordStore, company: Company, reference: date) -> None:
    """A rate between every two of the company's currencies (each way), effective from the first period."""
    if store.exchange_rates:
        return
    start = add_months(reference, -13).isoformat()
    known = [c for c in company.currencies if c.iso in USD_VALUE]
    for base in known:
        for other in known:
            if base.id != other.id:
                rate = (USD_VALUE[other.iso] / USD_VALUE[base.iso]).quantize(Decimal("0.000001"))
                store.exchange_rates.append(
                    {
                        "id": str(len(store.exchange_rates) + 1),
                        "basecurrency": base.id,
                        "transactioncurrency": other.id,
                        "exchangerate": rate,
                        "effectivedate": start,
                    }
                )


def _parents_first(tasks: list[ProjectTask], store: RecordStore) -> list[ProjectTask]:
    ordered: list[ProjectTask] = []
    placed: set[str] = set()
    pending = list(tasks)
    while pending:
        ready = [
            t
            for t in pending
            if not t.parent_id or t.parent_id in placed or store.get("projectTask", t.parent_id) is not None
        ]
        if not ready:
            raise ValueError(f"project tasks {[t.id for t in pending]} have parents that never come")
        ordered.extend(ready)
        placed.update(t.id for t in ready)
        pending = [t for t in pending if t.id not in placed]
    return ordered


def _ref(record_id: str) -> dict[str, str]:
    return {"id": record_id}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
