"""Service use and its cost, checked against hand-computed examples with uprating."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from onestory_engine.costs import (
    DEFAULT_RULES,
    CostError,
    Event,
    UnitCost,
    before_after,
    cost_by_period,
    uprate,
    uses,
)

INDEX = {"2011/12": Decimal("80"), "2013/14": Decimal("90"), "2024/25": Decimal("100")}
AE = UnitCost("ae_attendance", "A&E attendance", Decimal("109"), "2011/12")
AMBULANCE = UnitCost("ambulance", "Ambulance call-out", Decimal("216"), "2013/14")
PRISON = UnitCost("prison", "Prison", Decimal("33785"), "2013/14", per="year")


def test_uprating_to_the_reporting_year() -> None:
    assert uprate(AE, "2024/25", INDEX) == Decimal("136.25")  # 109 x 100 / 80
    assert uprate(AMBULANCE, "2024/25", INDEX) == Decimal("240.00")  # 216 x 100 / 90
    # A year's cost per night: 33,785 x 100 / 90 / 365 = 102.846... -> 102.85.
    assert uprate(PRISON, "2024/25", INDEX) == Decimal("102.85")
    with pytest.raises(CostError, match="no value for 2030/31"):
        uprate(AE, "2030/31", INDEX)


def test_cost_before_and_after_support_began() -> None:
    events = [
        Event(1, "ed", "attendance", date(2024, 3, 1), arrival_mode="ambulance"),
        Event(1, "prison", "reception", date(2024, 4, 1)),
        Event(1, "prison", "release", date(2024, 4, 11)),
        Event(1, "ed", "attendance", date(2024, 7, 1), arrival_mode="walk_in"),
        Event(1, "police", "victim_report", date(2024, 8, 1)),  # no cost
    ]
    used = uses(events, DEFAULT_RULES, until=date(2025, 11, 1))
    assert sorted(u for _, _, u in used).count("prison") == 10  # ten nights
    prices = {u.key: uprate(u, "2024/25", INDEX) for u in (AE, AMBULANCE, PRISON)}
    periods = before_after(date(2024, 6, 1), date(2025, 11, 1))
    assert [p.label for p in periods] == ["12 months before", "Year 1 of support"]
    result = cost_by_period([(d, u) for _, d, u in used], periods, prices)
    # Before: 136.25 + 240.00 + 10 x 102.85 = 1,404.75. Year 1: 136.25.
    assert [cost for _, cost, _ in result] == [Decimal("1404.75"), Decimal("136.25")]
    assert result[0][2] == {"ae_attendance": 1, "ambulance": 1, "prison": 10}


def test_a_stay_with_no_end_runs_to_the_day_of_reporting() -> None:
    events = [Event(2, "mental_health", "admission", date(2025, 1, 1))]
    used = uses(events, DEFAULT_RULES, until=date(2025, 1, 6))
    assert [u for _, _, u in used] == ["mh_bed_day"] * 5
