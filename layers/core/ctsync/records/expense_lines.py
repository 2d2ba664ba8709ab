"""The pure rules of the expense export: a report's external ID, an expense type's category, a line's money,
the plan of a whole report, and the mappings that record it. No I/O here: `records.expense_export` reads and
writes.

Currencies and amounts (every amount Decimal, rounded once by `ctsync.money`'s rule to the precision NetSuite
gives its currency). ClickTime keeps an item's `Amount` in the company currency C; an item paid in another
currency O also has `AmountForeign` in O and `AmountForeignExchangeRate` (O -> C). The report is kept in the
employee's subsidiary currency R, and each line says what was spent:
- O = R: `amount` = what was spent in O (the foreign amount, or Amount when O is C); no currency fields;
- R = C, O other: `amount` = ClickTime's Amount, the figure the approver saw, even where it differs by a cent
  from AmountForeign x rate (it is kept, not recomputed); `currency` O, `foreignamount`, `exchangerate` from
  ClickTime. An Amount that rounding cannot explain (a rate quoted the other way round, an amount edited alone)
  blocks the sheet: the line would contradict itself (`_disagreeing`);
- R other than both (a USD item on a EUR employee's report): ClickTime gives no rate into R, so NetSuite's own
  (Currency Exchange Rates, the latest on or before the expense date; `expenses.exchange_rates = netsuite`) is
  used: `amount` = the foreign amount as sent (rounded to O) x that rate, rounded; or the sheet is blocked (`fail`).
Every line in another currency so says what it posts: `foreignamount` x `exchangerate` is `amount`, rounded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ctsync.clicktime.models import ExpenseItem, ExpenseSheet, ExpenseType
from ctsync.digits import is_number
from ctsync.errors import cause_part
from ctsync.money import CENT, quantum, round_money, to_decimal
from ctsync.netsuite import external_ids
from ctsync.records.blocking import Problem
from ctsync.records.references import Currency, ExpenseCategory
from ctsync.records.targets import content_hash
from ctsync.state import Mapping

RECORD = "expenseReport"
SUBLIST = "expense"
KIND = "expensesheet"  # the sheet's mapping
ITEM_KIND = "expenseitem"  # each item's child mapping: its line and its receipt's state
EXTERNAL_PREFIX = "ct-es-"


def external_id(sheet_id: str) -> str:
    """The report's external ID (`netsuite.external_ids`)."""
    return external_ids.external_id(EXTERNAL_PREFIX, sheet_id)


def resolve_category(
    type_id: str,
    expense_type: ExpenseType | None,
    categories: dict[str, ExpenseCategory],
    explicit: dict[str, str],
) -> tuple[ExpenseCategory | None, Problem | None]:
    """The NetSuite expense category of a ClickTime expense type, or the problem that blocks it.

    Tried in order: `expenses.categories` by the type's ID, then by its name (a deliberate choice of the
    operator, so it decides first); the type's AccountingPackageID (a category's internal id, or its external
    ID); a category with the same name (case-insensitive, the only active one of that name). An inactive
    category blocks rather than falls through: a person retired it on purpose.
    """
    name = expense_type.Name.strip() if expense_type else ""
    label = f"{name} ({type_id})" if name else type_id
    by_name = {key.lower(): value for key, value in explicit.items()}
    chosen: ExpenseCategory | None = None
    how = ""
    wanted = explicit.get(type_id) or (by_name.get(name.lower()) if name else None)
    if wanted:
        chosen, how = categories.get(wanted), f"expenses.categories maps it to {wanted}"
        if chosen is None:
            return None, Problem(
                f"category-missing:{wanted}",
                f"ClickTime expense type {label}: {how}, which is no NetSuite expense category",
                "correct expenses.categories",
            )
    apid = ((expense_type.AccountingPackageID if expense_type else None) or "").strip()
    if chosen is None and apid:
        how = f"its AccountingPackageID is {apid}"
        chosen = categories.get(apid) or next((c for c in categories.values() if c.external_id == apid), None)
        if chosen is None:
            return None, Problem(
                f"category-missing:{cause_part(apid)}",
                f"ClickTime expense type {label}: {how}, which is no NetSuite expense category",
                "set the type's AccountingPackageID to a NetSuite expense category's internal id, or map the type "
                "in expenses.categories",
            )
    if chosen is None and name:
        same = [c for c in categories.values() if c.name.lower() == name.lower()]
        active = [c for c in same if not c.is_inactive]
        chosen = active[0] if len(active) == 1 else (same[0] if len(same) == 1 else None)
        how = "by its name"
        if len(active) > 1:
            return None, Problem(
                f"category-ambiguous:{cause_part(name)}",
                f"ClickTime expense type {label}: {len(active)} active NetSuite expense categories are named {name}",
                "map the type in expenses.categories or set its AccountingPackageID",
            )
    if chosen is None:
        return None, Problem(
            f"expense-type-unmapped:{cause_part(name or type_id)}",
            f"ClickTime expense type {label} has no NetSuite expense category (none by expenses.categories, "
            "AccountingPackageID or name)",
            f"create a NetSuite expense category named {name or type_id}, set the type's AccountingPackageID to a "
            "category's internal id, or map the type in expenses.categories",
        )
    if chosen.is_inactive:
        return None, Problem(
            f"category-inactive:{chosen.id}",
            f"ClickTime expense type {label} maps to NetSuite expense category {chosen.name} ({chosen.id}), "
            f"which is inactive ({how})",
            f"reactivate category {chosen.id} in NetSuite or map the type to another",
        )
    return chosen, None


@dataclass(frozen=True)
class Money:
    """What one line says about money: `amount` in the report's currency; `currency`, `foreign` and `rate`
    when the item was spent in another currency; `spent_in`/`spent` what was spent (for reconciliation)."""

    amount: Decimal
    spent_in: str  # ISO
    spent: Decimal
    currency: Currency | None = None
    foreign: Decimal | None = None
    rate: Decimal | None = None
    note: str = ""
    rounded: tuple[str, ...] = ()  # ClickTime figures with more decimal places than their currency: what was sent


RateLookup = Callable[[Currency, Currency, date], Decimal | None]  # (from, into, day) -> rate


def iso_code(code: str | None) -> str:
    """A currency as ClickTime may send it (" eur") as NetSuite knows it ("EUR")."""
    return (code or "").strip().upper()


def spent_by(item: ExpenseItem, company_iso: str) -> tuple[str, Decimal, bool]:
    """What was spent, as ClickTime says it (its currency's ISO code, the amount unrounded) and whether that is a
    foreign amount. The export's lines and the reconciliation read it here: a currency read two ways would put one
    amount in two groups, a difference that does not exist."""
    # ClickTime's own flag decides; without it (older answers) a foreign currency given says so. Foreign fields left
    # on an item made home again are not its amount.
    foreign = item.HasForeignCurrency if item.HasForeignCurrency is not None else bool(item.AmountForeignCurrency)
    if foreign and item.AmountForeign is not None:
        return iso_code(item.AmountForeignCurrency), item.AmountForeign, True
    return iso_code(item.Currency or company_iso), item.Amount, False


def line_money(
    item: ExpenseItem,
    report: Currency,
    company_iso: str,
    currency_by_iso: Callable[[str], Currency | None],
    netsuite_rate: RateLookup | None,
) -> tuple[Money | None, Problem | None]:
    """The line amounts of one item (rules in the module docstring); `netsuite_rate` None blocks a line that
    needs NetSuite's rate (`expenses.exchange_rates = fail`)."""
    home = iso_code(item.Currency or company_iso)
    spent_iso, spent_value, foreign = spent_by(item, company_iso)
    if not spent_iso:
        return None, Problem(
            "bad-input:AmountForeignCurrency",
            f"expense item {item.ID} has a foreign amount (AmountForeign {item.AmountForeign}) but no "
            "AmountForeignCurrency",
            "give the item the currency it was spent in, in ClickTime",
            (item.ID,),
        )
    spent_currency = currency_by_iso(spent_iso)
    if spent_currency is None:
        return None, Problem(
            f"currency-unmapped:{cause_part(spent_iso)}",
            f"expense item {item.ID} is in currency {spent_iso}, which NetSuite does not have",
            f"add the currency {spent_iso} in NetSuite (symbol = the ISO code) or correct the item",
            (item.ID,),
        )
    spent = round_money(spent_value, spent_currency.places)
    rounded = _rounded(item.ID, "AmountForeign" if foreign else "Amount", spent_value, spent, spent_currency)
    if spent_currency.id == report.id:
        return Money(round_money(spent_value, report.places), spent_iso, spent, rounded=rounded), None
    if home == report.iso and foreign:
        rate = item.AmountForeignExchangeRate
        if rate is None or rate <= 0:
            return None, Problem(
                "bad-input:exchange-rate",
                f"expense item {item.ID} in {spent_iso} has no exchange rate in ClickTime ({rate})",
                "give the item its exchange rate in ClickTime",
                (item.ID,),
            )
        if (problem := _disagreeing(item, spent_value, spent_iso, rate, report)) is not None:
            return None, problem
        amount = round_money(item.Amount, report.places)
        rounded += _rounded(item.ID, "Amount", item.Amount, amount, report)
        return Money(amount, spent_iso, spent, spent_currency, spent, rate, rounded=rounded), None
    # ClickTime gives no rate into the report's currency.
    rate = netsuite_rate(spent_currency, report, date.fromisoformat(item.ExpenseDate[:10])) if netsuite_rate else None
    if rate is None:
        how = "NetSuite has no rate on or before that date" if netsuite_rate else "expenses.exchange_rates is fail"
        add = f"add a {spent_iso} to {report.iso} rate in NetSuite (Lists > Accounting > Currency Exchange Rates)"
        return None, Problem(
            f"exchange-rate-missing:{cause_part(spent_iso)}-{cause_part(report.iso)}",
            f"expense item {item.ID} was spent in {spent_iso} on a report kept in {report.iso}, and ClickTime gives "
            f"no rate between them ({how})",
            # Only the fix that is left: under `netsuite` the setting is no way out, NetSuite's rate is
            add if netsuite_rate else f"set expenses.exchange_rates to netsuite and {add}",
            (item.ID,),
        )
    # The line carries `spent` (rounded to its currency, and said so) at `rate`: its amount is that, so the line's
    # three figures agree (1234.5 JPY sent as 1235 was converted unrounded: 1235 x 0.00999 written as 12.33).
    amount = round_money(spent * rate, report.places)
    note = f"{spent} {spent_iso} at NetSuite's rate {rate}"
    return Money(amount, spent_iso, spent, spent_currency, spent, rate, note, rounded), None


def _disagreeing(
    item: ExpenseItem, foreign: Decimal, spent_iso: str, rate: Decimal, report: Currency
) -> Problem | None:
    """The problem of a foreign item whose ClickTime figures contradict each other: its `Amount` is not its
    `AmountForeign` x `AmountForeignExchangeRate` within what rounding explains (half a unit of the report's
    currency for the Amount, half a cent where ClickTime gives it to the cent and the currency has more places, a
    whole unit of the rate's last decimal place for a rate ClickTime gives rounded or cut). Such a line would say "110.00 EUR at 0.9217" and post 119.35 USD: a rate quoted the other way round (the
    direction of ClickTime's rate is UNVERIFIED), or an Amount or AmountForeign edited alone. Which figure is right
    is ClickTime's to say, so the sheet waits; None when they agree."""
    converted = foreign * rate
    # ClickTime may give the Amount to the cent whatever the currency's places (33.78 for 33.78353 KWD, whose
    # NetSuite currency has 3): rounding explains half of the coarser of the two, never less than half a cent
    given = min(Decimal(1).scaleb(int(item.Amount.as_tuple().exponent)), CENT)
    slack = max(quantum(report.places), given) / 2 + abs(foreign) * Decimal(1).scaleb(int(rate.as_tuple().exponent))
    if abs(item.Amount - converted) <= slack:
        return None
    return Problem(
        "bad-input:AmountForeignExchangeRate",
        f"expense item {item.ID}: Amount {item.Amount} {report.iso} is not AmountForeign {foreign} {spent_iso} at "
        f"AmountForeignExchangeRate {rate} ({round_money(converted, report.places)} {report.iso}): ClickTime's "
        "figures disagree, nothing is written to NetSuite",
        f"correct the item in ClickTime so that Amount = AmountForeign x AmountForeignExchangeRate (the "
        f"{report.iso} value of one {spent_iso}), then approve the sheet again",
        (item.ID,),
    )


def _rounded(item_id: str, field: str, value: Decimal, sent: Decimal, currency: Currency) -> tuple[str, ...]:
    """A ClickTime amount with more decimal places than its currency has is sent rounded (half up, the money
    rule), and the rounding is said, naming the item and the field: never a silent change of an amount."""
    if value == sent:
        return ()
    return (
        f"expense item {item_id}: {field} {value} has more decimal places than {currency.iso} has "
        f"({currency.places}): sent as {sent}",
    )


# -- plans ---------------------------------------------------------------------------------------------------


@dataclass
class LinePlan:
    item: ExpenseItem
    line: dict[str, Any]  # the expense line, without its receipt link
    money: Money
    project: str | None


@dataclass
class ReportPlan:
    sheet: ExpenseSheet
    employee: str = ""
    currency: Currency | None = None
    header: dict[str, Any] = field(default_factory=dict)
    lines: list[LinePlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tran_date: date | None = None
    notes: list[str] = field(default_factory=list)
    own_period: str = ""  # the posting period sent when it is the date's own (NetSuite's default): see report_hash
    posted_to: str = ""  # "<the date's period>:<the period sent>" (the date's own, or one chosen out of a closed one)
    into_closed_period: bool = False  # the period sent is closed (or A/P-locked): kept there by an earlier export
    kept_out_of_reopened: bool = False  # kept where it was posted out of its date's period, which is open again
    made_anew: str = ""  # why an exported report is planned as a first export (`ExpenseExport._planned`)


def report_payload(plan: ReportPlan, files: dict[str, str]) -> dict[str, Any]:
    """The report as sent: header and every line, with the receipt files linked to their lines (`files`:
    item ID -> file internal id, when receipts are linked per line)."""
    lines = []
    for line in plan.lines:
        body = dict(line.line)
        file_id = files.get(line.item.ID)
        if file_id:
            body.update({"expmediaitem": {"id": file_id}, "receipt": True})
        lines.append(body)
    return {**plan.header, SUBLIST: {"items": lines}}


def report_hash(plan: ReportPlan, payload: dict[str, Any]) -> str:
    """The content hash of a report as sent, its date's own posting period left out: NetSuite posts there anyway,
    so a report exported before the period was sent is not written again for it alone (nor flagged, when paid)."""
    if plan.own_period:
        payload = {k: v for k, v in payload.items() if k != "postingPeriod"}
    return content_hash(payload)


def report_total(plan: ReportPlan) -> str:
    if plan.currency is None:
        return ""
    total = sum((line.money.amount for line in plan.lines), Decimal(0))
    return f"{round_money(total, plan.currency.places)} {plan.currency.iso}"


def line_mappings(plan: ReportPlan, report: str, children: dict[str, Mapping]) -> list[Mapping]:
    """Each item's child mapping after the report's write: its line's hash and what it holds, the receipt state
    of the mapping it had kept. An item whose receipt was removed in ClickTime keeps no receipt state (its line
    links none now), but for `receipt_attached`: a file attached to the report stays attached."""
    written = []
    for line in plan.lines:
        existing = children.get(line.item.ID)
        details = dict(existing.details) if existing else {}
        if not line.item.ReceiptURL:
            details = {k: v for k, v in details.items() if not k.startswith("receipt_") or k == "receipt_attached"}
        details.update(
            {
                "amount": str(line.money.amount),
                "spent": f"{line.money.spent} {line.money.spent_in}",
                "project": line.project or "",
                "employee": plan.employee,
            }
        )
        written.append(
            Mapping(
                kind=ITEM_KIND,
                source_id=line.item.ID,
                target_id=report,
                content_hash=content_hash(line.line),
                parent=f"{KIND}#{plan.sheet.ID}",
                details=details,
            )
        )
    return written


POSTED_TO = "posting_period"  # sheet mapping detail: see `posted_period`
# Sheet mapping detail: how many of the report's figures were sent rounded (flagged under ROUNDED_CAUSE), so a later
# pass with none rounded, or the report's withdrawal, lets go of that cause for the sheet (`ExpenseExport`).
ROUNDED = "rounded"
ROUNDED_CAUSE = "amount-rounded"


def rounded_texts(plan: ReportPlan) -> list[str]:
    """Each ClickTime figure the plan sends rounded, said with its item and field (`Money.rounded`)."""
    return [text for line in plan.lines for text in line.money.rounded]


def sheet_mapping(plan: ReportPlan, report: str, version: Any, digest: str, fingerprint: str, *, flags: int) -> Mapping:
    """The sheet's mapping after its report was written (or flagged): `digest` the payload NetSuite holds."""
    assert plan.currency is not None and plan.tran_date is not None
    return Mapping(
        kind=KIND,
        source_id=plan.sheet.ID,
        target_id=report,
        source_version=version,
        content_hash=digest,
        fingerprint=fingerprint,
        details={
            "period_start": (plan.sheet.ExpenseSheetDate or plan.tran_date.isoformat())[:10],
            "employee": plan.employee,
            "currency": plan.currency.iso,
            "lines": str(len(plan.lines)),
            "total": report_total(plan),
            "flagged": str(flags),
            **({POSTED_TO: plan.posted_to} if plan.posted_to else {}),
            **({ROUNDED: str(len(rounded))} if (rounded := rounded_texts(plan)) else {}),
        },
    )


def posted_period(mapping: Mapping | None) -> str:
    """Where the sheet's report in NetSuite was posted: "<its date's period>:<the period sent>" (internal ids; the
    same twice, or one chosen out of a closed one); "" when the sheet has no report, or its export predates this
    record."""
    if mapping is None or mapping.deleted or not mapping.target_id:
        return ""
    return mapping.details.get(POSTED_TO, "")


def posted_from_report(report: dict[str, Any] | None, period_of: Callable[[date], Any]) -> str:
    """`posted_period` for a report exported before the sheet's mapping kept it, from the report NetSuite holds
    (`tranDate`, `postingPeriod` as the REST record gives them; `period_of`: a day -> its accounting period, with an
    `id`): where it was posted is where it is. "" when the report is missing or says neither."""
    if not report:
        return ""
    sent = (report.get("postingPeriod") or {}).get("id")
    day = str(report.get("tranDate") or "")[:10]
    try:
        own = period_of(date.fromisoformat(day)) if day else None
    except ValueError:
        return ""
    return f"{own.id}:{sent}" if own is not None and sent else ""


def id_order(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if is_number(value) else (1, value)


def unlike_plan(plan: ReportPlan, report: dict[str, Any] | None) -> list[str]:
    """How a report NetSuite holds differs from what the export plans for its sheet ([] when alike, or when the
    report is missing: another check counts those)."""
    if report is None:
        return []
    found: list[str] = []
    day, held_day = str(plan.header.get("tranDate", "")), str(report.get("tranDate") or "")[:10]
    if held_day != day:
        found.append(f"dated {held_day or 'nothing'} in NetSuite, {day} planned")
    period = (plan.header.get("postingPeriod") or {}).get("id")
    held_period = (report.get("postingPeriod") or {}).get("id")
    if period and held_period and str(held_period) != str(period):
        found.append(f"posts to period {held_period} in NetSuite, {period} planned")
    own = plan.currency.id if plan.currency else str((report.get("expensereportcurrency") or {}).get("id") or "-")
    wanted = Counter(_line_key(line.line, own) for line in plan.lines)
    held = Counter(_line_key(line, own) for line in (report.get(SUBLIST) or {}).get("items", []))
    found += [f"NetSuite lacks the line {_line_text(key)}" for key in sorted((wanted - held).elements(), key=str)]
    found += [
        f"NetSuite holds a line not planned: {_line_text(key)}" for key in sorted((held - wanted).elements(), key=str)
    ]
    return found


LineKey = tuple[str, str, str, str, Decimal, str, Decimal | None, bool, bool]


def _line_key(line: dict[str, Any], own_currency: str) -> LineKey:
    """What a line is and how much, the same way for a line as sent and as NetSuite holds it (memo, rate, receipt
    link left out). A line in the report's own currency (`own_currency`, an internal id) at its own amount is keyed
    as one sent without a currency: NetSuite may fill in the currency, a foreign amount equal to the amount and a
    rate of 1 on a line the export sent without them."""

    def ref(name: str) -> str:
        return str((line.get(name) or {}).get("id") or "-")

    amount = to_decimal(line.get("amount") or 0, field="expense.amount")
    raw = line.get("foreignamount")
    foreign = to_decimal(raw, field="expense.foreignamount") if raw is not None else None
    currency = ref("currency")
    if currency in ("-", own_currency) and foreign in (None, amount):
        currency, foreign = "-", None
    return (
        ref("category"),
        ref("customer"),
        ref("projecttask"),
        str(line.get("expensedate") or "")[:10],
        amount,
        currency,
        foreign,
        bool(line.get("isBillable")),
        bool(line.get("isnonreimbursable")),
    )


def _line_text(key: LineKey) -> str:
    category, project, task, day, amount, currency, foreign, billable, nonreimbursable = key
    spent = f" ({foreign} in currency {currency})" if foreign is not None else ""
    return (
        f"{day} {amount}{spent}, category {category}, project {project}, task {task}, "
        f"{'billable' if billable else 'not billable'}, {'not reimbursable' if nonreimbursable else 'reimbursable'}"
    )


__all__ = [
    "EXTERNAL_PREFIX",
    "ITEM_KIND",
    "KIND",
    "RECORD",
    "POSTED_TO",
    "ROUNDED",
    "ROUNDED_CAUSE",
    "SUBLIST",
    "LinePlan",
    "Money",
    "ReportPlan",
    "external_id",
    "id_order",
    "line_mappings",
    "line_money",
    "posted_from_report",
    "posted_period",
    "report_payload",
    "report_total",
    "resolve_category",
    "rounded_texts",
    "unlike_plan",
    "sheet_mapping",
]
