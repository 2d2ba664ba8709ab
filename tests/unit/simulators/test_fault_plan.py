"""The simulators' fault plan: what each random rate draws, and what `clear` leaves."""

from __future__ import annotations

from simulators.common.faults import Fault, FaultPlan


def test_each_rate_alone_draws_its_own_kind_and_clear_draws_none() -> None:
    for rate, kind in (("reset_rate", "reset"), ("reset_after_rate", "reset_after"), ("cut_rate", "cut")):
        plan = FaultPlan(seed=3, **{rate: 1.0})
        assert plan.draw("GET", "/x") == Fault(kind=kind), rate
        plan.clear()
        assert plan.draw("GET", "/x") is None, rate


def test_a_cut_rate_takes_its_share_of_the_draws_no_other_fault_had() -> None:
    """The soak replays a seed: turning the cut on must not move any other fault of that seed."""
    rates = {"error_rates": {429: 0.1, 503: 0.1}, "timeout_rate": 0.05, "reset_rate": 0.05, "reset_after_rate": 0.05}
    plain, cutting = FaultPlan(seed=11, **rates), FaultPlan(seed=11, cut_rate=0.2, **rates)
    before = [plain.draw("GET", "/x") for _ in range(2000)]
    after = [cutting.draw("GET", "/x") for _ in range(2000)]
    assert all(a == b for a, b in zip(after, before, strict=True) if b is not None)
    cuts = [a for a, b in zip(after, before, strict=True) if b is None and a is not None]
    assert cuts and all(fault.kind == "cut" for fault in cuts)
    assert 0.15 < len(cuts) / len(after) < 0.25


def test_a_scripted_cut_fires_on_the_matching_request_only() -> None:
    plan = FaultPlan()
    plan.inject("cut", times=1, method="GET", path=r"^/receipts/")
    assert plan.draw("POST", "/receipts/1") is None
    assert plan.draw("GET", "/receipts/1") == Fault(kind="cut", status=503)
    assert plan.draw("GET", "/receipts/1") is None
