"""`time_export.hours_refused` at its edge (review, day 2): judged to the minute the export writes, half up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ctsync.records.time_export import hours_refused


@pytest.mark.parametrize(
    ("hours", "refused"),
    [
        ("8", False),  # exactly the most
        ("8.000000000000002", False),  # a double's noise: 8:00
        ("8.008", False),  # 480.48 min: 8:00
        ("8.0083333333", False),  # 480.4999999980 min: 8:00
        ("8.009", True),  # 480.54 min: 8:01
        ("9", True),
        ("1E+30", True),
        ("1E+999999", True),  # judged, not raised on (Decimal's overflow)
        ("-0.25", True),
        ("0", False),
    ],
)
def test_hours_refused_to_the_minute(hours, refused):
    assert bool(hours_refused(Decimal(hours), 8)) is refused
