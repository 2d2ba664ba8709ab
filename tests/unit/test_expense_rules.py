"""The pure parts of the expense export: which NetSuite category an expense type becomes, what a line says about
money in which currency, and which receipts NetSuite takes (and as what file type)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.clicktime.models import ExpenseItem, ExpenseType
from ctsync.records.expense_export import line_money, resolve_category
from ctsync.records.expense_lines import spent_by
from ctsync.records.receipts import file_type_of, sniff
from ctsync.records.references import Currency, ExpenseCategory

AIRFARE = ExpenseCategory("301", "Airfare", "", False)
LODGING = ExpenseCategory("302", "Lodging", "cat-lodging", False)
MEALS_OLD = ExpenseCategory("303", "Meals", "", True)
CATEGORIES = {c.id: c for c in (AIRFARE, LODGING, MEALS_OLD)}


def kind(name: str, apid: str | None = None, type_id: str = "T1") -> ExpenseType:
    return ExpenseType(ID=type_id, Name=name, AccountingPackageID=apid)


# -- categories -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expense_type", "explicit", "expected"),
    [
        (kind("Flights", apid="301"), {}, "301"),  # AccountingPackageID holds the internal id
        (kind("Hotels", apid="cat-lodging"), {}, "302"),  # ... or the category's external ID
        (kind("airfare"), {}, "301"),  # the same name, whatever the case
        (kind("Flights", apid="302"), {"T1": "301"}, "301"),  # the config's map by type ID decides first
        (kind("Flights", apid="302"), {"flights": "301"}, "301"),  # ... or by type name
    ],
)
def test_an_expense_type_finds_its_category(expense_type, explicit, expected) -> None:
    category, problem = resolve_category("T1", expense_type, CATEGORIES, explicit)
    assert problem is None and category is not None and category.id == expected


def test_an_unmapped_type_is_one_cause_named_after_the_type_with_the_fix() -> None:
    category, problem = resolve_category("T9", kind("Client Gifts", type_id="T9"), CATEGORIES, {})
    assert category is None and problem is not None
    assert problem.cause_key == "expense-type-unmapped:client-gifts"
    assert "Client Gifts (T9)" in problem.reason and "expenses.categories" in problem.fix


def test_an_inactive_category_blocks_rather_than_falling_through() -> None:
    _, problem = resolve_category("T1", kind("Meals"), CATEGORIES, {})
    assert problem is not None and problem.cause_key == "category-inactive:303"


@pytest.mark.parametrize(
    ("expense_type", "explicit", "cause"),
    [
        (kind("Flights", apid="999"), {}, "category-missing:999"),  # a wrong AccountingPackageID is not ignored
        (kind("Flights"), {"T1": "998"}, "category-missing:998"),
    ],
)
def test_an_explicit_mapping_to_nothing_blocks(expense_type, explicit, cause) -> None:
    _, problem = resolve_category("T1", expense_type, CATEGORIES, explicit)
    assert problem is not None and problem.cause_key == cause


def test_two_active_categories_of_one_name_are_ambiguous() -> None:
    twins = {**CATEGORIES, "304": ExpenseCategory("304", "airfare", "", False)}
    _, problem = resolve_category("T1", kind("Airfare"), twins, {})
    assert problem is not None and problem.cause_key == "category-ambiguous:airfare"


def test_an_unknown_type_id_is_unmapped_by_its_id() -> None:
    _, problem = resolve_category("T404", None, CATEGORIES, {})
    assert problem is not None and problem.cause_key == "expense-type-unmapped:t404"


# -- money per line -------------------------------------------------------------------------------------------

USD = Currency("1", "USD", "US Dollar", 2, True)
EUR = Currency("4", "EUR", "Euro", 2, False)
JPY = Currency("7", "JPY", "Yen", 0, False)
BY_ISO = {c.iso: c for c in (USD, EUR, JPY)}
DAY = date(2026, 10, 20)


def item(amount: str, foreign: tuple[str, str, str] | None = None, currency: str = "USD") -> ExpenseItem:
    fields: dict[str, object] = {
        "ID": "I1",
        "ExpenseSheetID": "S1",
        "ExpenseDate": DAY.isoformat(),
        "Amount": Decimal(amount),
        "Currency": currency,
    }
    if foreign:
        value, iso, rate = foreign
        fields.update(
            HasForeignCurrency=True,
            AmountForeign=Decimal(value),
            AmountForeignCurrency=iso,
            AmountForeignExchangeRate=Decimal(rate),
        )
    return ExpenseItem.model_validate(fields)


def money(expense: ExpenseItem, report: Currency, rates: dict[tuple[str, str], Decimal] | None = None):
    def rate(spent: Currency, into: Currency, day: date) -> Decimal | None:
        assert day == DAY  # the rate of the expense date
        return (rates or {}).get((spent.iso, into.iso))

    return line_money(expense, report, "USD", BY_ISO.get, rate if rates is not None else None)


def test_an_item_in_the_reports_currency_is_its_amount() -> None:
    result, problem = money(item("120.50"), USD)
    assert problem is None and result is not None
    assert (result.amount, result.currency, result.foreign) == (Decimal("120.50"), None, None)


def test_a_foreign_item_on_a_company_currency_report_keeps_clicktimes_amount_and_rate() -> None:
    # 110.00 EUR x 1.0955 = 120.505: ClickTime said 120.51 and the approver saw that; it is kept, not recomputed
    result, problem = money(item("120.51", ("110.00", "EUR", "1.0955")), USD)
    assert problem is None and result is not None
    assert result.amount == Decimal("120.51") and result.currency == EUR
    assert (result.foreign, result.rate) == (Decimal("110.00"), Decimal("1.0955"))
    assert (result.spent_in, result.spent) == ("EUR", Decimal("110.00"))


def test_a_foreign_item_in_the_reports_own_currency_is_what_was_spent() -> None:
    result, problem = money(item("120.51", ("110.00", "EUR", "1.0955")), EUR)
    assert problem is None and result is not None
    assert (result.amount, result.currency) == (Decimal("110.00"), None)


def test_an_item_clicktime_gives_no_rate_for_takes_netsuites_rate_rounded_once() -> None:
    result, problem = money(item("100.00"), EUR, {("USD", "EUR"): Decimal("0.921659")})
    assert problem is None and result is not None
    assert result.amount == Decimal("92.17") and result.currency == USD  # 92.1659 rounded half up once
    assert (result.foreign, result.rate) == (Decimal("100.00"), Decimal("0.921659"))
    assert "NetSuite's rate" in result.note


def test_without_a_rate_the_sheet_is_blocked_naming_both_currencies() -> None:
    for rates in ({}, None):  # NetSuite has none, or expenses.exchange_rates = fail
        result, problem = money(item("100.00"), EUR, rates)
        assert result is None and problem is not None
        assert problem.cause_key == "exchange-rate-missing:usd-eur" and problem.entries == ("I1",)


def test_an_unknown_currency_blocks() -> None:
    _, problem = money(item("10.00", ("9.00", "CHF", "1.1")), USD)
    assert problem is not None and problem.cause_key == "currency-unmapped:chf"


@pytest.mark.parametrize("missing", [None, "", "  "])
def test_a_foreign_amount_without_its_currency_names_the_missing_field(missing: str | None) -> None:
    # found by a review: the reason said "in currency (none)" and the fix "add the currency  in NetSuite"
    expense = item("54.10", ("50.00", "EUR", "1.082")).model_copy(update={"AmountForeignCurrency": missing})
    result, problem = money(expense, USD)
    assert result is None and problem is not None
    assert problem.cause_key == "bad-input:AmountForeignCurrency" and problem.entries == ("I1",)
    assert "AmountForeignCurrency" in problem.reason and "50.00" in problem.reason
    assert "ClickTime" in problem.fix and "  " not in problem.fix


def test_a_currency_without_minor_units_is_rounded_to_whole_units() -> None:
    result, _ = money(item("10.00"), JPY, {("USD", "JPY"): Decimal("151.237")})
    assert result is not None and result.amount == Decimal("1512") and str(result.amount) == "1512"


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal("2"), places=6),
)
def test_a_converted_amount_is_within_half_a_cent_of_the_exact_product(spent: Decimal, rate: Decimal) -> None:
    result, _ = money(item(str(spent)), EUR, {("USD", "EUR"): rate})
    assert result is not None
    assert abs(result.amount - spent * rate) <= Decimal("0.005") and -result.amount.as_tuple().exponent == 2
    assert result.spent == spent  # what was spent is carried exactly


@given(
    st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=3),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.02"), places=7),
)
def test_a_line_at_netsuites_rate_posts_its_foreign_amount_as_sent_at_that_rate(spent: Decimal, rate: Decimal) -> None:
    # the clerk's check, foreignamount x exchangerate = amount: 1234.5 JPY sent as 1235 at 0.00999 was 12.33
    expense = item("10.00", (str(spent), "JPY", "0.0066"))
    result, _ = money(expense, EUR, {("JPY", "EUR"): rate})
    assert result is not None and result.foreign == spent.quantize(Decimal(1), ROUND_HALF_UP)
    assert result.amount == (result.foreign * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("amount", "foreign", "rate"),
    [
        ("120.51", "110.00", "1.0955"),  # 120.505: ClickTime's half up
        ("120.50", "110.00", "1.0955"),  # ... or its half even: a cent off is kept, not refused
        ("82.07", "12345", "0.0066"),  # a rate ClickTime shows cut to 4 places (0.006648...): 81.48 by it
        ("8.26", "1234.5", "0.00669"),  # a fraction of a yen
        ("0.00", "0.00", "1.085"),
    ],
)
def test_clicktime_figures_that_rounding_explains_are_kept(amount: str, foreign: str, rate: str) -> None:
    iso = "JPY" if "." not in foreign or foreign.endswith(".5") else "EUR"
    result, problem = money(item(amount, (foreign, iso, rate)), USD)
    assert problem is None and result is not None and result.amount == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "foreign", "rate"),
    [
        ("119.35", "110.00", "0.9217"),  # the rate quoted USD -> EUR
        ("130.00", "110.00", "1.0955"),  # an Amount edited alone
        ("8.26", "12345", "0.00669"),  # an AmountForeign edited alone
    ],
)
def test_clicktime_figures_that_contradict_each_other_block_naming_the_item_and_fields(
    amount: str, foreign: str, rate: str
) -> None:
    result, problem = money(item(amount, (foreign, "EUR", rate)), USD)
    assert result is None and problem is not None
    assert problem.cause_key == "bad-input:AmountForeignExchangeRate" and problem.entries == ("I1",)
    for told in (f"Amount {amount} USD", f"AmountForeign {foreign} EUR", f"AmountForeignExchangeRate {rate}"):
        assert told in problem.reason, problem.reason


# -- receipts -------------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
PDF = b"%PDF-1.4\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 8


@pytest.mark.parametrize(
    ("mime", "expected"),
    [
        ("image/png", "PNGIMAGE"),
        ("image/x-png", "PNGIMAGE"),
        ("IMAGE/PNG; charset=binary", "PNGIMAGE"),
        ("image/jpeg", "JPGIMAGE"),
        ("image/pjpeg", "JPGIMAGE"),
        ("image/gif", "GIFIMAGE"),
        ("image/tiff", "TIFFIMAGE"),
        ("image/x-bmp", "BMPIMAGE"),
        ("application/pdf", "PDF"),
        ("image/pdf", "PDF"),  # ClickTime's own alias
    ],
)
def test_clicktimes_receipt_types_map_to_netsuite_file_types(mime: str, expected: str) -> None:
    assert file_type_of(mime, b"anything") == expected


@pytest.mark.parametrize("mime", ["image/heic", "text/html", "application/msword", "image/webp"])
def test_a_type_netsuite_does_not_take_is_refused_whatever_the_content(mime: str) -> None:
    assert file_type_of(mime, PNG) is None


@pytest.mark.parametrize(
    ("content", "expected"), [(PNG, "PNGIMAGE"), (PDF, "PDF"), (JPEG, "JPGIMAGE"), (b"GIF89a...", "GIFIMAGE")]
)
def test_an_untyped_receipt_is_known_by_its_first_bytes(content: bytes, expected: str) -> None:
    assert file_type_of("application/octet-stream", content) == expected
    assert file_type_of(None, content) == expected
    assert sniff(content) == expected


def test_untyped_content_nobody_knows_is_refused() -> None:
    assert file_type_of("application/octet-stream", b"PK\x03\x04 a zip") is None


# -- the report's content hash ----------------------------------------------------------------------------------
def test_the_dates_own_posting_period_is_sent_but_not_hashed_and_a_moved_one_is_both():
    """Reports exported before the period was sent keep their hash (not written again, nor flagged when paid);
    a report moved out of a closed period hashes its period, so moving it back is a change."""
    from ctsync.clicktime.models import ExpenseSheet
    from ctsync.records.expense_lines import ReportPlan, report_hash, report_payload
    from ctsync.records.targets import content_hash

    sheet = ExpenseSheet(ID="1", UserID="u1", Status="Approved")
    header = {"externalId": "ct-es-1", "tranDate": "2026-11-10", "memo": "Trip"}
    before = ReportPlan(sheet, header=dict(header))
    own = ReportPlan(sheet, header={**header, "postingPeriod": {"id": "12132"}}, own_period="12132")
    moved = ReportPlan(sheet, header={**header, "postingPeriod": {"id": "12133"}})

    sent = report_payload(own, {})
    assert sent["postingPeriod"] == {"id": "12132"}
    assert (
        report_hash(own, sent)
        == content_hash(report_payload(before, {}))
        == report_hash(before, report_payload(before, {}))
    )
    assert report_hash(moved, report_payload(moved, {})) != report_hash(own, sent)


def test_an_item_clicktime_says_is_not_foreign_is_its_amount_whatever_foreign_fields_it_keeps() -> None:
    """`HasForeignCurrency: false` with foreign fields left behind (0 USD, or an old 46.00 EUR) posted the foreign
    figure: a 50.00 line written as 0.00, and the reconciliation agreeing (money review, 2026-12-03)."""
    base = {"ID": "ei-1", "ExpenseSheetID": "es-1", "ExpenseDate": "2026-11-10", "Amount": Decimal("50.00")}
    for left in (
        {"AmountForeignCurrency": "USD", "AmountForeign": Decimal("0")},
        {"AmountForeignCurrency": "EUR", "AmountForeign": Decimal("46.00")},
    ):
        home = ExpenseItem(**base, Currency="USD", HasForeignCurrency=False, **left)
        assert spent_by(home, "USD") == ("USD", Decimal("50.00"), False)
    # the flag absent (older answers): a foreign currency with its amount is still foreign
    old = ExpenseItem(**base, Currency="USD", AmountForeignCurrency="EUR", AmountForeign=Decimal("46.00"))
    assert spent_by(old, "USD") == ("EUR", Decimal("46.00"), True)


# -- a sheet's items read against its own figures (money review, 2026-12-03 evening) -----------------------------
def test_items_read_are_compared_with_the_sheets_own_figures_only_when_it_gives_them():
    from ctsync.clicktime.models import ExpenseSheet
    from ctsync.records.expense_export import SHORT, owes_nothing, short_of

    def item(amount: str) -> ExpenseItem:
        return ExpenseItem(ID=amount, ExpenseSheetID="1", ExpenseDate="2026-11-10", Amount=Decimal(amount))

    def sheet(**figures) -> ExpenseSheet:
        return ExpenseSheet(ID="1", UserID="u1", Status="approved", **figures)

    items = [item("40.00"), item("60.00")]
    # no figures (an older API answer), or a count that is no whole number: exported as read, as before the check
    assert short_of(sheet(), items[:1]) is None and owes_nothing(sheet(), [])
    assert short_of(sheet(ExpenseItemCount="two"), items[:1]) is None
    # a total sent as a double, or rounded to the cent while an item has a tenth of one: not short
    assert short_of(sheet(TotalAmount=Decimal("100.00000000000001"), ExpenseItemCount=2), items) is None
    assert short_of(sheet(TotalAmount=Decimal("74.99")), [item("100.00"), item("-25.005")]) is None
    problem = short_of(sheet(TotalAmount=Decimal("100.00"), ExpenseItemCount="2"), items[:1])
    assert problem is not None and problem.cause_key == SHORT
    assert "2 item(s), 100.00 in total" in problem.reason and "1 item(s), 40.00 in total" in problem.reason
    assert short_of(sheet(ExpenseItemCount=2), [item("0.004")]) is not None  # under a cent: by its count
    assert not owes_nothing(sheet(TotalAmount=Decimal("100.00")), [])  # an empty read is not an emptied sheet


KWD = Currency("9", "KWD", "Kuwaiti Dinar", 3, False)


@pytest.mark.parametrize(
    ("amount", "foreign", "rate"),
    [
        ("33.78", "110.00", "0.307123"),  # 33.78353 KWD: ClickTime's Amount to 2 places, NetSuite's KWD has 3
        ("-33.78", "-110.00", "0.307123"),  # a credit
    ],
)
def test_an_amount_clicktime_rounded_to_fewer_places_than_the_reports_currency_is_kept(
    amount: str, foreign: str, rate: str
) -> None:
    # ClickTime may give the Amount to the cent whatever the currency's places: rounding then explains half a cent,
    # not half of NetSuite's 0.001 KWD (the check blocked a sheet nobody got wrong)
    lookup = {"KWD": KWD, "USD": USD}.get
    result, problem = line_money(item(amount, (foreign, "USD", rate), currency="KWD"), KWD, "USD", lookup, None)
    assert problem is None, problem
    assert result is not None and result.amount == Decimal(amount).quantize(Decimal("0.001"))


@pytest.mark.parametrize("amount", ["33.80", "34"])  # more than half a cent off; an Amount in whole units too
def test_an_amount_off_by_more_than_cent_rounding_explains_is_still_blocked(amount: str) -> None:
    lookup = {"KWD": KWD, "USD": USD}.get
    result, problem = line_money(item(amount, ("110.00", "USD", "0.307123"), currency="KWD"), KWD, "USD", lookup, None)
    assert result is None and problem is not None and problem.cause_key == "bad-input:AmountForeignExchangeRate"
