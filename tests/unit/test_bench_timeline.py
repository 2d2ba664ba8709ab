"""The benchmark's split of an invocation's time (`ctns.bench.timeline.summary`), on a timeline made by hand."""

from __future__ import annotations

import pytest

from ctns.bench import timeline


@pytest.fixture
def recorded(monkeypatch):
    requests: list[tuple[str, float, float]] = []
    invocations: list[tuple[float, float]] = []
    monkeypatch.setattr(timeline, "_requests", requests)
    monkeypatch.setattr(timeline, "_invocations", invocations)
    monkeypatch.setattr(timeline, "_threads", [])
    return requests, invocations


def test_the_time_without_a_netsuite_request_is_split_by_what_was_in_flight_and_where(recorded):
    requests, invocations = recorded
    invocations.append((0.0, 1.0))
    requests += [
        ("aws:PutItem", 0.0, 0.1),  # head: AWS
        ("clicktime", 0.1, 0.2),  # head: ClickTime
        ("netsuite", 0.25, 0.45),  # head ends at 0.25 (0.05 of neither)
        ("netsuite", 0.4, 0.5),  # overlapping writes count once
        ("aws:Query", 0.5, 0.6),  # between: AWS, a ClickTime call beside it counts as AWS
        ("clicktime", 0.55, 0.65),  # ... and then alone for 0.05
        ("netsuite", 0.7, 0.9),  # between also 0.05 of neither (0.65-0.7)
        ("aws:UpdateItem", 0.95, 1.2),  # tail: AWS until the invocation ends, 0.05 of neither before it
        ("netsuite", 1.5, 1.6),  # outside any invocation: not counted
    ]

    shares = timeline.summary()

    assert shares["invoked"] == 1.0
    assert shares["netsuite"] == pytest.approx(0.45)
    assert shares["aws"] == pytest.approx(0.1 + 0.1 + 0.05)
    assert shares["clicktime"] == pytest.approx(0.1 + 0.05)
    assert shares["neither"] == pytest.approx(0.05 + 0.05 + 0.05)
    assert (shares["head"], shares["between"], shares["tail"]) == pytest.approx((0.25, 0.2, 0.1))
    assert shares["netsuite"] + shares["aws"] + shares["clicktime"] + shares["neither"] == pytest.approx(1.0)
    assert shares["aws:Query"] == pytest.approx(0.1) and shares["aws:UpdateItem"] == pytest.approx(0.05)
    assert shares["calls aws:UpdateItem"] == 1 and shares["seconds aws:UpdateItem"] == pytest.approx(0.25)
    assert (shares["first invoked"], shares["first netsuite"]) == pytest.approx((1.0, 0.45))


def test_an_invocation_without_a_netsuite_request_is_all_head_and_only_the_first_counts_as_first(recorded):
    requests, invocations = recorded
    invocations += [(0.0, 1.0), (10.0, 10.5)]
    requests += [("netsuite", 0.0, 1.0), ("aws:GetItem", 10.1, 10.2)]

    shares = timeline.summary()
    shares = {key: value - 1.0 if key in ("invoked", "netsuite") else value for key, value in shares.items()}

    assert (shares["head"], shares["between"], shares["tail"]) == pytest.approx((0.5, 0.0, 0.0))
    assert (shares["aws"], shares["neither"], shares["netsuite"]) == pytest.approx((0.1, 0.4, 0.0))
    assert (shares["first invoked"], shares["first netsuite"]) == (1.0, 1.0)
