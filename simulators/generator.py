"""A seeded, realistic company for both simulators: `generate_company(seed, size) -> Company`.

Everything comes from one `random.Random(seed)` and from a reference date derived from the seed (never from
today's date), so a seed always produces the same company, byte for byte, receipts included. `size` multiplies
the volume (customers, projects, employees and, through them, the activity); reference data (subsidiaries,
currencies, expense categories, expense and payment types, service items) stays the same size.

The mix is deliberate, so that the syncs meet their awkward cases with the demo default (size=1):
closed, inactive, pending and no-time projects; parent tasks with subtasks; tasks without a service item;
one ClickTime user who has no NetSuite employee; expense types mapped by accounting id, by name only, or not
at all; expenses in a foreign currency; timesheets and expense sheets in every interesting status.

For the exports, every seed also guarantees (`_export_cases`), on Approved timesheets of mapped employees: a
day with three 0.33 h entries on one project and task (59.4 minutes: 59 when summed, 60 when each entry is
rounded), a 0.1 h entry and a 7.99 h day; billable and non-billable time; an Approved timesheet with entries
for the unmapped contractor; PNG and PDF receipts on approved expense sheets; and exactly one receipt whose
download fails. These come from a second random generator, so the rest of a seed's company is unchanged.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simulators.company import (
    CLOSED_PROJECT_STATUS,
    ClickTimeExpenseType,
    ClickTimePaymentType,
    ClickTimeSettings,
    ClickTimeUser,
    Company,
    Currency,
    Customer,
    Employee,
    ExpenseCategory,
    PlannedExpenseItem,
    PlannedExpenseSheet,
    PlannedTimeEntry,
    PlannedTimesheet,
    Project,
    ProjectTask,
    ServiceItem,
    Subsidiary,
)

IN_PROGRESS = "2"
PENDING = "4"
CENT = Decimal("0.01")
QUARTER = Decimal("0.25")

# NetSuite's own internal ids for these currencies in a new account (USD 1, EUR 4): realistic, not load-bearing.
USD = Currency(id="1", iso="USD", name="US Dollar")
EUR = Currency(id="4", iso="EUR", name="Euro")

COMPANY_NAMES = [
    "Harbor Analytics",
    "Northwind Consulting",
    "Bluestone Partners",
    "Kestrel Engineering",
    "Juniper Advisory",
    "Larkspur Digital",
]
CUSTOMER_NAMES = [
    "Acme Logistics",
    "Globex Retail",
    "Initech Software",
    "Umbrella Health",
    "Stark Manufacturing",
    "Wayne Foods",
    "Cyberdyne Robotics",
    "Soylent Nutrition",
    "Tyrell Biotech",
    "Wonka Confections",
    "Hooli Media",
    "Vandelay Imports",
    "Pied Piper Storage",
    "Massive Dynamic",
    "Oscorp Materials",
    "Gringotts Finance",
    "Monarch Travel",
    "Dunder Paper",
    "Aperture Labs",
    "Black Mesa Energy",
]
ENGAGEMENTS = [
    "Website Redesign",
    "ERP Rollout",
    "Data Warehouse",
    "Mobile App",
    "Security Audit",
    "Cloud Migration",
    "CRM Implementation",
    "Brand Refresh",
    "Analytics Dashboard",
    "Process Review",
    "Payroll Integration",
    "Customer Portal",
    "Supply Chain Study",
    "Support Retainer",
]
PHASES = ["", " Phase 2", " 2026", " Pilot"]
# Top-level task titles, each with the subtasks it may be broken into (two levels, as NetSuite allows more).
TASK_TEMPLATES: list[tuple[str, list[str]]] = [
    ("Discovery", ["Stakeholder Workshops", "Requirements"]),
    ("Design", ["Wireframes", "Visual Design"]),
    ("Build", ["Backend", "Frontend", "Integrations"]),
    ("Testing", ["Test Plan", "User Acceptance"]),
    ("Training", []),
    ("Project Management", []),
    ("Go-Live Support", []),
    ("Documentation", []),
]
FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nils",
    "Olivia",
    "Pavel",
    "Quinn",
    "Rosa",
    "Samir",
    "Tessa",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
]
LAST_NAMES = [
    "Anders",
    "Becker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Young",
    "Zhang",
]
# (category name, how the ClickTime expense type finds it): "id" = AccountingPackageID holds the category id,
# "name" = same name only, so the sync must match by name.
CATEGORIES: list[tuple[str, str]] = [
    ("Airfare", "id"),
    ("Lodging", "id"),
    ("Meals", "id"),
    ("Ground Transportation", "name"),
    ("Office Supplies", "name"),
    ("Software Subscriptions", "name"),
]
UNMAPPED_EXPENSE_TYPE = "Client Gifts"  # no NetSuite category of that name and no accounting id
TIME_COMMENTS = [
    "",
    "Client call",
    "Working session",
    "Review feedback",
    "Status meeting",
    "Follow-up items",
    "Implementation",
    "Fixes after review",
    "Preparation",
]
EXPENSE_DESCRIPTIONS = {
    "Airfare": ["Flight to client site", "Return flight"],
    "Lodging": ["Hotel, 2 nights", "Hotel near client office"],
    "Meals": ["Team lunch with client", "Dinner while travelling"],
    "Ground Transportation": ["Taxi from airport", "Train to client"],
    "Office Supplies": ["Workshop materials", "Printer paper"],
    "Software Subscriptions": ["Design tool licence", "Survey tool"],
    UNMAPPED_EXPENSE_TYPE: ["Thank-you gift for sponsor"],
}


def reference_date(seed: int) -> date:
    """The Monday the activity plan ends before: fixed per seed so runs never depend on today's date.

    Always a Monday between 2026-11-02 and 2026-11-16; the plan covers the four weeks before it.
    """
    return date(2026, 11, 2) + timedelta(weeks=seed % 3)


class _Ids:
    """NetSuite-style integer ids, unique per sequence."""

    def __init__(self, start: int) -> None:
        self._next = start

    def take(self) -> str:
        value = self._next
        self._next += 1
        return str(value)


def generate_company(seed: int = 7, size: int = 1) -> Company:
    if size < 1:
        raise ValueError("size must be at least 1")
    rng = random.Random(seed)
    ref = reference_date(seed)
    name = rng.choice(COMPANY_NAMES)
    domain = name.lower().replace(" ", "") + ".example.com"

    subsidiaries = [Subsidiary("1", f"{name} Inc.", USD.id), Subsidiary("2", f"{name} GmbH", EUR.id)]
    # Customers, projects and employees are all entities in NetSuite and share one id sequence there.
    entity_ids = _Ids(101)
    customers = _customers(rng, size, subsidiaries, entity_ids)
    projects = _projects(rng, size, customers, ref, entity_ids)
    service_items = [ServiceItem("501", "Consulting Hours"), ServiceItem("502", "Project Management")]
    tasks = _tasks(rng, projects, service_items)
    employees = _employees(rng, size, subsidiaries, domain, entity_ids)
    categories = [ExpenseCategory(str(301 + i), cat_name) for i, (cat_name, _) in enumerate(CATEGORIES)]
    users = [ClickTimeUser(f"u-{e.id}", f"{e.first_name} {e.last_name}", e.email, e.entity_id) for e in employees]
    # Someone who logs time in ClickTime but has no NetSuite employee record: an unmapped-employee case.
    users.append(ClickTimeUser("u-contractor", "Sam Freelance", f"sam.freelance@contractor.{domain}", "CTR-9001"))
    expense_types = _expense_types(categories)
    payment_types = [
        ClickTimePaymentType("pt-personal", "Personal Card", reimbursable=True),
        ClickTimePaymentType("pt-company", "Company Card", reimbursable=False),
    ]
    timesheets = _timesheets(rng, users, projects, tasks, ref)
    expense_sheets = _expense_sheets(rng, users, projects, expense_types, payment_types, ref)
    _export_cases(random.Random(f"exports-{seed}"), users, projects, tasks, timesheets, expense_sheets, ref)
    return Company(
        seed=seed,
        name=name,
        subsidiaries=subsidiaries,
        currencies=[USD, EUR],
        customers=customers,
        projects=projects,
        tasks=tasks,
        employees=employees,
        expense_categories=categories,
        service_items=service_items,
        clicktime_settings=ClickTimeSettings(),
        users=users,
        expense_types=expense_types,
        payment_types=payment_types,
        timesheets=timesheets,
        expense_sheets=expense_sheets,
    )


# -- NetSuite side ---------------------------------------------------------------------------------------


def _customers(rng: random.Random, size: int, subsidiaries: list[Subsidiary], ids: _Ids) -> list[Customer]:
    count = 8 * size
    names = _unique_names(rng, CUSTOMER_NAMES, count, suffixes=[" Europe", " Holdings", " Group", " Labs"])
    customers = []
    for i, company_name in enumerate(names):
        # Every fourth customer belongs to the European subsidiary.
        subsidiary = subsidiaries[1] if i % 4 == 3 else subsidiaries[0]
        customers.append(Customer(ids.take(), f"C-{2001 + i}", company_name, subsidiary.id))
    return customers


def _projects(rng: random.Random, size: int, customers: list[Customer], ref: date, ids: _Ids) -> list[Project]:
    projects = []
    used: set[str] = set()
    for block in range(size):
        # Per block of 14: 2 closed, 1 inactive, 1 without time entry, 1 pending, 9 in progress.
        kinds = ["closed", "closed", "inactive", "no_time", "pending"] + ["active"] * 9
        rng.shuffle(kinds)
        for i, kind in enumerate(kinds):
            number = 1040 + block * 14 + i
            # Round-robin over customers, so every customer has at least one project.
            customer = customers[(block * 14 + i) % len(customers)]
            title = _unique_title(rng, customer.company_name.rsplit(" ", 1)[0], used)
            start = ref - timedelta(days=rng.randint(60, 400))
            end: date | None = start + timedelta(days=rng.randint(90, 540))
            status = IN_PROGRESS
            if kind == "closed":
                status = CLOSED_PROJECT_STATUS
                end = ref - timedelta(days=rng.randint(10, 50))
            elif kind == "pending":
                status, start = PENDING, ref + timedelta(days=rng.randint(7, 40))
                end = start + timedelta(days=120)
            elif rng.random() < 0.2:
                end = None  # open-ended engagements exist
            projects.append(
                Project(
                    id=ids.take(),
                    entity_id=f"P-{number}",
                    company_name=title,
                    customer_id=customer.id,
                    subsidiary_id=customer.subsidiary_id,
                    status_id=status,
                    start_date=start,
                    projected_end_date=end,
                    is_inactive=kind == "inactive",
                    allow_time=kind != "no_time",
                    allow_expenses=kind != "no_time",
                )
            )
    return projects


def _unique_title(rng: random.Random, customer_word: str, used: set[str]) -> str:
    """A project name such as "Stark - ERP Rollout Phase 2", distinct within the company."""
    title = f"{customer_word} - {rng.choice(ENGAGEMENTS)}{rng.choice(PHASES)}"
    for _ in range(20):
        if title not in used:
            break
        title = f"{customer_word} - {rng.choice(ENGAGEMENTS)}{rng.choice(PHASES)}"
    base, n = title, 2
    while title in used:  # large sizes run out of combinations: number them
        title, n = f"{base} ({n})", n + 1
    used.add(title)
    return title


def _tasks(rng: random.Random, projects: list[Project], items: list[ServiceItem]) -> list[ProjectTask]:
    ids = _Ids(5001)
    tasks: list[ProjectTask] = []
    for project in projects:
        target = rng.randint(3, 7)
        templates = rng.sample(TASK_TEMPLATES, len(TASK_TEMPLATES))
        made: list[ProjectTask] = []
        for title, subtitles in templates:
            if len(made) >= target:
                break
            room = target - len(made) - 1
            # Break the phase down when there is room for at least two subtasks (a parent with one child is odd).
            children = subtitles[: min(len(subtitles), room)] if room >= 2 and rng.random() < 0.6 else []
            parent = ProjectTask(ids.take(), project.id, title, status=_task_status(rng, project))
            made.append(parent)
            subtasks = [
                ProjectTask(ids.take(), project.id, subtitle, parent_id=parent.id, status=_task_status(rng, project))
                for subtitle in children
            ]
            if subtasks:
                # A summary task's status follows its subtasks, as NetSuite rolls it up.
                statuses = {t.status for t in subtasks}
                parent.status = statuses.pop() if len(statuses) == 1 else "PROGRESS"
            made.extend(subtasks)
        for task in made:
            is_parent = any(t.parent_id == task.id for t in made)
            # Summary tasks carry no service item (time goes on their subtasks); a few leaves lack one too.
            if not is_parent and rng.random() < 0.85:
                task.service_item_id = items[1].id if task.title == "Project Management" else items[0].id
            task.non_billable = task.title in {"Training", "Documentation"} and rng.random() < 0.7
        tasks.extend(made)
    return tasks


def _task_status(rng: random.Random, project: Project) -> str:
    if project.status_id == CLOSED_PROJECT_STATUS:
        return "COMPLETE"
    if project.status_id == PENDING:
        return "NOTSTART"
    return rng.choices(["PROGRESS", "NOTSTART", "COMPLETE"], weights=[6, 2, 1])[0]


def _employees(rng: random.Random, size: int, subsidiaries: list[Subsidiary], domain: str, ids: _Ids) -> list[Employee]:
    count = 12 * size
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    chosen: list[tuple[str, str]] = []
    while len(chosen) < count:  # namesakes only once all 625 combinations are taken
        chosen += rng.sample(pairs, min(len(pairs), count - len(chosen)))
    seen: Counter[str] = Counter()
    employees = []
    for i, (first, last) in enumerate(chosen):
        subsidiary = subsidiaries[1] if i % 4 == 2 else subsidiaries[0]
        local = f"{first.lower()}.{last.lower()}"
        seen[local] += 1
        employees.append(
            Employee(
                id=ids.take(),
                entity_id=f"E{1001 + i}",
                first_name=first,
                last_name=last,
                email=f"{local}{seen[local] if seen[local] > 1 else ''}@{domain}",
                subsidiary_id=subsidiary.id,
                currency_id=subsidiary.currency_id,
            )
        )
    return employees


def _expense_types(categories: list[ExpenseCategory]) -> list[ClickTimeExpenseType]:
    types = []
    for category, (_, how) in zip(categories, CATEGORIES, strict=True):
        types.append(
            ClickTimeExpenseType(
                key=f"et-{category.id}",
                name=category.name,
                accounting_package_id=category.id if how == "id" else None,
            )
        )
    types.append(ClickTimeExpenseType("et-gifts", UNMAPPED_EXPENSE_TYPE, accounting_package_id=None))
    return types


# -- activity plan -----------------------------------------------------------------------------------------


def _time_targets(projects: list[Project], tasks: list[ProjectTask]) -> list[tuple[Project, list[ProjectTask]]]:
    """Projects people can log time to, each with its leaf tasks in progress."""
    parents = {t.parent_id for t in tasks if t.parent_id}
    targets = []
    for project in projects:
        if project.status_id != IN_PROGRESS or project.is_inactive or not project.allow_time:
            continue
        leaves = [
            t
            for t in tasks
            if t.project_id == project.id and t.id not in parents and t.status == "PROGRESS" and not t.is_inactive
        ]
        if leaves:
            targets.append((project, leaves))
    return targets


def _timesheets(
    rng: random.Random, users: list[ClickTimeUser], projects: list[Project], tasks: list[ProjectTask], ref: date
) -> list[PlannedTimesheet]:
    targets = _time_targets(projects, tasks)
    sheets: list[PlannedTimesheet] = []
    for user in users:
        assigned = rng.sample(targets, min(len(targets), rng.randint(1, 3)))
        for week in range(4, 0, -1):  # oldest first
            start = ref - timedelta(weeks=week)
            status = _timesheet_status(rng, week)
            sheet = PlannedTimesheet(user.key, start, start + timedelta(days=6), status)
            days = 5 if week > 1 or status != "Open" else rng.randint(1, 4)  # the open current week is partial
            for day in range(days):
                remaining = Decimal(rng.choice([6, 7, 8, 8, 8, 9]))
                for _ in range(rng.randint(1, 3)):
                    if remaining <= 0:
                        break
                    project, leaves = rng.choice(assigned)
                    task = rng.choice(leaves)
                    hours = min(remaining, QUARTER * rng.randint(2, 20))  # 0.5 h to 5 h in quarter hours
                    remaining -= hours
                    sheet.entries.append(
                        PlannedTimeEntry(
                            date=start + timedelta(days=day),
                            hours=hours,
                            project_id=project.id,
                            task_id=task.id,
                            comment=rng.choice(TIME_COMMENTS),
                            is_billable=not task.non_billable,
                        )
                    )
            sheets.append(sheet)
    _every_status(sheets, ref)
    return sheets


def _every_status(sheets: list[PlannedTimesheet], ref: date, keep: frozenset[int] = frozenset()) -> None:
    """Make sure every status the time sync must tell apart appears, whatever the seed drew; sheets whose id()
    is in `keep` are left as they are."""
    latest = [s for s in sheets if s.start_date == ref - timedelta(weeks=1) and id(s) not in keep]
    for sheet, status in zip(latest, ["Waiting", "Rejected", "Open"], strict=False):
        if not any(s.status == status for s in sheets):
            sheet.status = status


def _timesheet_status(rng: random.Random, weeks_ago: int) -> str:
    if weeks_ago >= 3:
        return rng.choices(["Approved", "Rejected"], weights=[19, 1])[0]
    if weeks_ago == 2:
        return rng.choices(["Approved", "Waiting", "Rejected"], weights=[8, 2, 1])[0]
    return rng.choices(["Approved", "Waiting", "Open", "Rejected"], weights=[4, 3, 2, 1])[0]


def _expense_sheets(
    rng: random.Random,
    users: list[ClickTimeUser],
    projects: list[Project],
    expense_types: list[ClickTimeExpenseType],
    payment_types: list[ClickTimePaymentType],
    ref: date,
) -> list[PlannedExpenseSheet]:
    open_projects = [p for p in projects if p.status_id == IN_PROGRESS and not p.is_inactive and p.allow_expenses]
    spenders = rng.sample(users, max(1, len(users) // 2))
    sheets: list[PlannedExpenseSheet] = []
    for n, user in enumerate(spenders):
        count = rng.randint(1, 2)
        for k in range(count):
            sheet_date = ref - timedelta(days=rng.randint(3, 27))
            status = "open" if (n + k) % 4 == 3 else "approved"
            project = rng.choice(open_projects)
            sheet = PlannedExpenseSheet(user.key, f"{project.entity_id} travel {sheet_date:%b %d}", sheet_date, status)
            for _ in range(rng.randint(1, 4)):
                sheet.items.append(_expense_item(rng, project, expense_types[:-1], payment_types, sheet_date))
            sheets.append(sheet)
    # The unmapped expense type and a foreign-currency item, on approved sheets, whatever the seed drew.
    approved = [s for s in sheets if s.status == "approved"]
    gift = _expense_item(rng, open_projects[0], [expense_types[-1]], payment_types, approved[0].sheet_date)
    approved[0].items.append(gift)
    if not any(i.foreign_currency for s in approved for i in s.items):
        approved[-1].items.append(
            _expense_item(
                rng, open_projects[-1], expense_types[:1], payment_types, approved[-1].sheet_date, force_foreign=True
            )
        )
    return sheets


def _expense_item(
    rng: random.Random,
    project: Project,
    types: list[ClickTimeExpenseType],
    payment_types: list[ClickTimePaymentType],
    sheet_date: date,
    force_foreign: bool = False,
) -> PlannedExpenseItem:
    expense_type = rng.choice(types)
    payment = rng.choices(payment_types, weights=[3, 1])[0]
    item = PlannedExpenseItem(
        expense_date=sheet_date - timedelta(days=rng.randint(0, 6)),
        expense_type_key=expense_type.key,
        payment_type_key=payment.key,
        project_id=project.id,
        amount=Decimal(rng.randint(800, 90000)) * CENT,
        description=rng.choice(EXPENSE_DESCRIPTIONS[expense_type.name]),
        billable=rng.random() < 0.6,
    )
    if force_foreign or rng.random() < 0.3:
        item.foreign_currency = "EUR"
        item.foreign_amount = Decimal(rng.randint(800, 60000)) * CENT
        # A rate with 4 to 6 decimal places, as banks and card networks quote them.
        places = rng.randint(4, 6)
        item.exchange_rate = Decimal(rng.randint(104000, 118000)) / Decimal(100000)
        item.exchange_rate = item.exchange_rate.quantize(Decimal(1).scaleb(-places))
        item.amount = (item.foreign_amount * item.exchange_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if rng.random() < 0.75:
        if rng.random() < 0.6:
            item.receipt, item.receipt_type = png_receipt(rng), "image/png"
        else:
            item.receipt, item.receipt_type = pdf_receipt(item.description, item.amount), "application/pdf"
    return item


# -- what the exports must meet, whatever the seed -------------------------------------------------------------

CONTRACTOR_KEY = "u-contractor"
ODD_HOURS = (Decimal("0.33"), Decimal("0.1"), Decimal("7.99"))


def _export_cases(
    rng: random.Random,
    users: list[ClickTimeUser],
    projects: list[Project],
    tasks: list[ProjectTask],
    sheets: list[PlannedTimesheet],
    expense_sheets: list[PlannedExpenseSheet],
    ref: date,
) -> None:
    mapped = {u.key for u in users if u.key != CONTRACTOR_KEY}
    touched: set[int] = set()

    # The contractor (no NetSuite employee) has approved time the export must leave out, and say so.
    contractor = [s for s in sheets if s.user_key == CONTRACTOR_KEY and s.entries]
    if contractor and not any(s.status == "Approved" for s in contractor):
        contractor[0].status = "Approved"
    touched.update(id(s) for s in contractor if s.status == "Approved")

    approved = [s for s in sheets if s.user_key in mapped and s.status == "Approved" and len(_days(s)) >= 2]
    if len(approved) < 2:  # not with the generator's weights, but every seed must have them
        for sheet in [s for s in sheets if s.user_key in mapped and len(_days(s)) >= 2][: 2 - len(approved)]:
            sheet.status = "Approved"
            approved.append(sheet)
    first, second = rng.sample(approved, 2)
    touched.update({id(first), id(second)})

    # Three 0.33 h entries on one day, project and task: 0.99 h is 59.4 minutes.
    model = first.entries[0]
    for _ in range(3):
        first.entries.append(
            PlannedTimeEntry(
                model.date, Decimal("0.33"), model.project_id, model.task_id, "Stand-up", model.is_billable
            )
        )
    # A 7.99 h day (one entry, the day's others gone) and a 0.1 h entry on another day.
    days = _days(second)
    long_day, short_day = days[-1], days[0]
    kept = [e for e in second.entries if e.date != long_day]
    model = next(e for e in second.entries if e.date == long_day)
    second.entries[:] = kept
    second.entries.append(
        PlannedTimeEntry(long_day, Decimal("7.99"), model.project_id, model.task_id, "Workshop", model.is_billable)
    )
    model = next(e for e in second.entries if e.date == short_day)
    second.entries.append(
        PlannedTimeEntry(short_day, Decimal("0.1"), model.project_id, model.task_id, "Quick call", model.is_billable)
    )

    # Billable and non-billable time on approved sheets of mapped employees.
    exported = [e for s in sheets if s.user_key in mapped and s.status == "Approved" for e in s.entries]
    if all(e.is_billable for e in exported):
        _add_non_billable(rng, projects, tasks, sheets, first)
    _every_status(sheets, ref, frozenset(touched))
    _receipt_cases(rng, mapped, expense_sheets)


def _days(sheet: PlannedTimesheet) -> list[date]:
    return sorted({e.date for e in sheet.entries})


def _add_non_billable(
    rng: random.Random,
    projects: list[Project],
    tasks: list[ProjectTask],
    sheets: list[PlannedTimesheet],
    sheet: PlannedTimesheet,
) -> None:
    """An entry on a non-billable task; when no task people log time to is non-billable, one becomes so (and
    every planned entry on it with it, so entries keep following their task)."""
    targets = _time_targets(projects, tasks)
    candidates = [(p, t) for p, leaves in targets for t in leaves if t.non_billable]
    if not candidates:
        project, leaves = rng.choice(targets)
        task = rng.choice(leaves)
        task.non_billable = True
        for entry in (e for s in sheets for e in s.entries if e.task_id == task.id):
            entry.is_billable = False
        candidates = [(project, task)]
    project, task = rng.choice(candidates)
    day = _days(sheet)[len(_days(sheet)) // 2]
    sheet.entries.append(PlannedTimeEntry(day, Decimal("1.5"), project.id, task.id, "Internal training", False))


def _receipt_cases(rng: random.Random, mapped: set[str], sheets: list[PlannedExpenseSheet]) -> None:
    """PNG and PDF receipts on approved sheets, and exactly one receipt that fails to download.

    The failing one is on an approved sheet of a mapped employee (so the export meets it), on the item with the
    earliest expense date: ClickTime lists items newest first, so it comes last in a plain listing.
    """
    approved = [i for s in sheets if s.status == "approved" for i in s.items]
    for mime in ("image/png", "application/pdf"):
        if not any(i.receipt_type == mime for i in approved):
            item = rng.choice([i for i in approved if i.receipt is None] or approved)
            item.receipt, item.receipt_type = (
                (png_receipt(rng), mime) if mime == "image/png" else (pdf_receipt(item.description, item.amount), mime)
            )
    for item in (i for s in sheets for i in s.items):
        item.receipt_fails = False
    mapped_items = [i for s in sheets if s.status == "approved" and s.user_key in mapped for i in s.items]
    with_receipt = [i for i in mapped_items if i.receipt is not None]
    if not with_receipt:
        item = mapped_items[0]
        item.receipt, item.receipt_type = png_receipt(rng), "image/png"
        with_receipt = [item]
    earliest = min(with_receipt, key=lambda i: i.expense_date)
    earliest.receipt_fails = True


# -- receipts ------------------------------------------------------------------------------------------


def png_receipt(rng: random.Random, width: int = 24, height: int = 32) -> bytes:
    """A small, valid PNG (8-bit RGB): a light "paper" with a few darker "lines of text"."""
    paper = bytes([rng.randint(225, 255), rng.randint(225, 255), rng.randint(215, 245)])
    ink = bytes([rng.randint(20, 90)] * 3)
    rows = []
    for y in range(height):
        line = ink if y % 4 == 2 and 2 < y < height - 3 else paper
        # Each scanline starts with filter type 0 (None).
        rows.append(b"\x00" + b"".join(line if 2 <= x < width - 2 - (y * 7) % 9 else paper for x in range(width)))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def pdf_receipt(description: str, amount: Decimal) -> bytes:
    """A one-page PDF 1.4 with a correct cross-reference table, showing the description and amount."""
    text = f"Receipt: {description} - {amount}".replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 36 100 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def _unique_names(rng: random.Random, base: list[str], count: int, suffixes: list[str]) -> list[str]:
    """`count` distinct names: the base list shuffled, then with suffixes when more are needed."""
    names = rng.sample(base, len(base))
    for suffix in suffixes:
        names += [n + suffix for n in rng.sample(base, len(base))]
    n = 2
    while len(names) < count:
        names += [f"{b} {n}" for b in base]
        n += 1
    return names[:count]
