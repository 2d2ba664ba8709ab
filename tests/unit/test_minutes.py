"""Decimal hours to NetSuite's whole minutes without drift (ctsync.minutes): per employee, project and day,
NetSuite's total is ClickTime's rounded to the minute, half up, and no entry is more than a minute off."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.minutes import Timed, allocate, duration, group_total_minutes, hours_to_minutes
from ctsync.records.time_export import netsuite_minutes


def timed(*hours: str, group: str = "g") -> list[Timed]:
    return [Timed(f"e{n}", group, Decimal(h)) for n, h in enumerate(hours)]


def test_three_entries_of_a_third_are_59_minutes_not_60() -> None:
    minutes = allocate(timed("0.33", "0.33", "0.33"))
    assert sum(minutes.values()) == 59  # 0.99 h = 59.4 min
    assert sorted(minutes.values()) == [19, 20, 20]
    assert minutes == {"e0": 20, "e1": 20, "e2": 19}  # ties go to the earlier entries


@pytest.mark.parametrize(
    ("hours", "expected"),
    [("0.1", 6), ("7.99", 479), ("1.75", 105), ("0.125", 8), ("0.375", 23), ("0.1249", 7), ("8", 480), ("0", 0)],
)
def test_a_single_entry_rounds_half_up_to_the_minute(hours: str, expected: int) -> None:
    assert allocate(timed(hours)) == {"e0": expected}


def test_groups_are_rounded_on_their_own() -> None:
    entries = timed("0.33", "0.33", group="p1") + [Timed("x", "p2", Decimal("0.33"))]
    minutes = allocate(entries)
    assert minutes["e0"] + minutes["e1"] == 40  # 39.6 -> 40
    assert minutes["x"] == 20


def test_negative_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(timed("1", "-0.5"))


@pytest.mark.parametrize(("minutes", "text"), [(0, "0:00"), (59, "0:59"), (60, "1:00"), (479, "7:59"), (1441, "24:01")])
def test_duration_is_netsuites_hours_and_minutes(minutes: int, text: str) -> None:
    assert duration(minutes) == text


def test_duration_refuses_negative_minutes() -> None:
    with pytest.raises(ValueError):
        duration(-1)


@pytest.mark.parametrize(("hours", "minutes"), [("0.33", 20), ("0.98", 59), ("8", 480), ("0.02", 1), ("0.01", 1)])
def test_netsuites_two_place_hours_read_back_as_minutes(hours: str, minutes: int) -> None:
    assert hours_to_minutes(Decimal(hours)) == minutes


@given(st.integers(min_value=0, max_value=24 * 60))
def test_every_whole_minute_survives_netsuites_two_place_hours(minutes: int) -> None:
    # SuiteQL answers timebill.hours with two decimals: whole minutes are still told apart
    two_places = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    assert hours_to_minutes(two_places) == minutes


hours_values = st.decimals(min_value=0, max_value=24, places=3, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), hours_values), min_size=1, max_size=30))
def test_the_rule_holds_for_any_entries(rows: list[tuple[str, Decimal]]) -> None:
    entries = [Timed(f"e{n}", group, hours) for n, (group, hours) in enumerate(rows)]
    minutes = allocate(entries)
    for group in {g for g, _ in rows}:
        members = [e for e in entries if e.group == group]
        # the group's NetSuite total is its ClickTime total rounded to the minute
        assert sum(minutes[e.key] for e in members) == group_total_minutes([e.hours for e in members])
    for entry in entries:
        # no entry drifts a minute or more from its exact value
        assert abs(Decimal(minutes[entry.key]) - entry.hours * 60) < 1


@given(st.lists(hours_values, min_size=1, max_size=20))
def test_the_order_of_groups_does_not_change_anyones_minutes(hours: list[Decimal]) -> None:
    entries = [Timed(f"e{n}", n % 3, h) for n, h in enumerate(hours)]
    by_group = sorted(entries, key=lambda e: e.group)  # stable: the order within each group is kept
    assert allocate(entries) == allocate(by_group)


def test_the_minutes_left_go_to_the_largest_fractions_not_the_first_entries() -> None:
    # 0.06 and 0.96 minutes: 1.02 in all rounds to 1, which goes to the entry nearest its next minute
    entries = [Timed("a", "g", Decimal("0.001")), Timed("b", "g", Decimal("0.016"))]
    assert allocate(entries) == {"a": 0, "b": 1}


def test_an_empty_group_totals_zero_minutes() -> None:
    assert group_total_minutes([]) == 0


def test_a_half_minute_of_netsuite_hours_rounds_up() -> None:
    assert hours_to_minutes(Decimal("0.075")) == 5  # 4.5 minutes (half-even would give 4)


def test_negative_minutes_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="^negative minutes -1$"):
        duration(-1)


@pytest.mark.parametrize(
    ("hours", "minutes"), [("1:30", 90), ("0:05", 5), ("12:00", 720), ("1.5", 90), (Decimal("0.25"), 15), (2, 120)]
)
def test_a_time_bill_s_hours_read_back_as_netsuite_may_give_them(hours, minutes) -> None:
    """H:MM, a decimal text or a number (exports addendum U1): an H:MM value stopped the whole reconciliation."""
    assert netsuite_minutes(hours) == minutes


# -- bills NetSuite will not let change keep their minutes (finance review, 2026-12-04) ------------------------------
def test_an_entry_added_to_a_day_of_billed_bills_gets_what_the_day_lacks_and_the_billed_keep_theirs() -> None:
    """Three 0.33 h entries billed at 20, 20, 19; a fourth 0.33 h is added: 4 x 19.8 = 79.2 -> 79 minutes. Spread
    anew it would be 20, 20, 20, 19, a minute onto the third billed bill; the billed keep theirs, the new one 20."""
    entries = timed("0.33", "0.33", "0.33", "0.33")
    fixed = {"e0": 20, "e1": 20, "e2": 19}
    assert allocate(entries) == {"e0": 20, "e1": 20, "e2": 20, "e3": 19}  # the rule without frozen bills
    assert allocate(entries, fixed) == {"e0": 20, "e1": 20, "e2": 19, "e3": 20}


def test_a_frozen_bill_whose_entry_changed_is_allocated_as_any_other() -> None:
    """A billed bill of 30 minutes whose entry is now 0.33 h (19.8): its minutes are no longer its entry's (the
    export writes it, and flags it: it cannot change); the day's other entries are not bent to make up for it."""
    entries = timed("0.33", "0.33")
    assert allocate(entries, {"e0": 30}) == allocate(entries) == {"e0": 20, "e1": 20}


def test_the_others_make_up_a_frozen_bills_share_only_within_a_minute_of_their_own() -> None:
    """Frozen at the floor (19) where the day's rule alone now gives it the ceiling: 0.33 + 0.33 h = 40 minutes, but
    the other cannot take 21 for 19.8 minutes; it takes 20, and the day holds 39 (the reconciliation shows it)."""
    assert allocate(timed("0.33", "0.33"), {"e0": 19}) == {"e0": 19, "e1": 20}


def test_fixed_minutes_of_an_entry_not_in_the_entries_change_nothing() -> None:
    assert allocate(timed("0.33", "0.33", "0.33"), {"gone": 7}) == allocate(timed("0.33", "0.33", "0.33"))


frozen_rows = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), hours_values, st.sampled_from([None, "floor", "ceil", "off"])),
    min_size=1,
    max_size=25,
)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _fixed_of(entries: list[Timed], kinds: list[str | None]) -> dict[str, int]:
    """Frozen bills' minutes: at their entry's floor or ceiling (unchanged but for rounding), or off by 5 (changed)."""
    fixed: dict[str, int] = {}
    for entry, kind in zip(entries, kinds, strict=True):
        exact = entry.hours * 60
        if kind == "floor":
            fixed[entry.key] = _floor(exact)
        elif kind == "ceil":
            fixed[entry.key] = _ceil(exact)
        elif kind == "off":
            fixed[entry.key] = _floor(exact) + 5
    return fixed


@given(frozen_rows)
def test_frozen_minutes_are_kept_and_the_day_is_exact_wherever_the_others_can_make_it(rows) -> None:
    entries = [Timed(f"e{n}", group, hours) for n, (group, hours, _) in enumerate(rows)]
    fixed = _fixed_of(entries, [kind for _, _, kind in rows])
    minutes = allocate(entries, fixed)
    kept = {e.key for e in entries if e.key in fixed and abs(Decimal(fixed[e.key]) - e.hours * 60) < 1}
    for entry in entries:
        if entry.key in kept:
            assert minutes[entry.key] == fixed[entry.key]  # a frozen bill's minutes never move
        else:
            assert abs(Decimal(minutes[entry.key]) - entry.hours * 60) < 1  # the others within a minute of exact
    for group in {g for g, _, _ in rows}:
        members = [e for e in entries if e.group == group]
        total = group_total_minutes([e.hours for e in members])
        free = [e for e in members if e.key not in kept]
        share = total - sum(fixed[e.key] for e in members if e.key in kept)
        low = sum(_floor(e.hours * 60) for e in free)
        high = sum(_ceil(e.hours * 60) for e in free)
        got = sum(minutes[e.key] for e in members)
        if low <= share <= high:
            assert got == total  # exact whenever the changeable entries can make it up
        else:
            assert got - total == min(max(share, low), high) - share  # else as near as they can come


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), hours_values), min_size=1, max_size=30))
def test_with_nothing_frozen_the_rule_is_the_one_without_frozen_bills(rows) -> None:
    entries = [Timed(f"e{n}", group, hours) for n, (group, hours) in enumerate(rows)]
    assert allocate(entries, {}) == allocate(entries)


@given(frozen_rows)
def test_a_day_rounded_with_its_own_rule_then_frozen_whole_is_left_as_it_is(rows) -> None:
    """Every bill of a day frozen at what the rule gave it: the same minutes again, nothing moves."""
    entries = [Timed(f"e{n}", group, hours) for n, (group, hours, _) in enumerate(rows)]
    first = allocate(entries)
    assert allocate(entries, first) == first


def test_the_minute_left_goes_to_the_largest_fraction_not_the_largest_entry() -> None:
    """120.3 and 0.6 minutes: 120.9 in all rounds to 121; the minute goes to the 0.6, nearest its next minute."""
    entries = [Timed("a", "g", Decimal("2.005")), Timed("b", "g", Decimal("0.01"))]
    assert allocate(entries) == {"a": 120, "b": 1}


def test_a_whole_minute_entry_never_takes_what_a_frozen_bill_holds_short_of_its_share() -> None:
    """A bill frozen at 19 for 19.8 minutes beside an entry of exactly 60: the day is 80 (79.8), but 61 for 60
    minutes would be a minute off an entry that has no fraction to round; it keeps 60, and the day holds 79."""
    assert allocate(timed("0.33", "1"), {"e0": 19}) == {"e0": 19, "e1": 60}
