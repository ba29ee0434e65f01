"""Service use and its cost (DOMAIN.md "Service use and cost"); no Django here.

Unit costs carry their price year; an uprating index (e.g. HM Treasury GDP deflators) turns
them into the reporting year's prices: ``amount * index[reporting] / index[price_year]``.
A mapping turns events into uses of a unit: one per event, or one per night of a stay
(admission to discharge, reception to release, or an event's own end date).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal


class CostError(ValueError):
    """Cost data that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class UnitCost:
    key: str
    label: str
    amount: Decimal
    price_year: str  # "2011/12"
    per: str = "event"  # "event", "night" or "year" (a year's cost, counted per night)


@dataclass(frozen=True)
class Rule:
    """Events of ``kind``/``event_type`` (and, if set, ``arrival_mode``) use ``unit``. A
    stay rule names the event that ends it (``ends_with``)."""

    kind: str
    event_type: str
    unit: str
    arrival_mode: str | None = None
    ends_with: str | None = None


@dataclass(frozen=True)
class Event:
    person_id: int
    kind: str
    event_type: str
    event_date: date
    end_date: date | None = None
    arrival_mode: str | None = None


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("ed", "attendance", "ae_attendance"),
    Rule("ed", "attendance", "ambulance", arrival_mode="ambulance"),
    Rule("mental_health", "admission", "mh_bed_day", ends_with="discharge"),
    Rule("mental_health", "crisis_contact", "mh_community_contact"),
    Rule("police", "arrest", "arrest"),
    Rule("police", "custody", "arrest"),
    Rule("prison", "reception", "prison", ends_with="release"),
    Rule("housing", "eviction", "eviction"),
    Rule("housing", "homelessness_approach", "homelessness_application"),
    Rule("housing", "rough_sleeping_verified", "rough_sleeping"),
    Rule("domestic_abuse", "marac_referral", "dv_incident"),
    Rule("domestic_abuse", "idva_referral", "dv_incident"),
)


def uprate(cost: UnitCost, reporting_year: str, index: Mapping[str, Decimal]) -> Decimal:
    """The unit cost in ``reporting_year`` prices (per use: a night for stays and yearly
    costs), to the penny."""
    for year in (cost.price_year, reporting_year):
        if year not in index:
            raise CostError(f"the uprating index has no value for {year}")
    amount = cost.amount * index[reporting_year] / index[cost.price_year]
    if cost.per == "year":
        amount = amount / 365
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def uses(
    events: Sequence[Event], rules: Iterable[Rule], *, until: date
) -> list[tuple[int, date, str]]:
    """Each use of a unit: ``(person_id, day, unit)``, one per night for stays. A stay
    with no end runs to ``until``."""
    rules = list(rules)
    ordered = sorted(events, key=lambda e: (e.person_id, e.event_date, e.kind, e.event_type))
    out: list[tuple[int, date, str]] = []
    for n, event in enumerate(ordered):
        for rule in rules:
            if (rule.kind, rule.event_type) != (event.kind, event.event_type):
                continue
            if rule.arrival_mode is not None and event.arrival_mode != rule.arrival_mode:
                continue
            if rule.ends_with is None:
                out.append((event.person_id, event.event_date, rule.unit))
                continue
            end = event.end_date or next(
                (
                    later.event_date
                    for later in ordered[n + 1 :]
                    if later.person_id == event.person_id
                    and later.kind == event.kind
                    and later.event_type == rule.ends_with
                ),
                until,
            )
            nights = max((min(end, until) - event.event_date).days, 1)
            out += [
                (event.person_id, event.event_date + timedelta(days=i), rule.unit)
                for i in range(nights)
            ]
    return out


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # exclusive
    end: date  # inclusive


def before_after(start: date, today: date, *, years_after: int = 3) -> list[Period]:
    """The 12 months before support began, then each whole 12 months after it."""
    periods = [Period("12 months before", start - timedelta(days=365), start)]
    for k in range(1, years_after + 1):
        end = start + timedelta(days=365 * k)
        if end > today:
            break
        periods.append(Period(f"Year {k} of support", end - timedelta(days=365), end))
    return periods


def cost_by_period(
    person_uses: Iterable[tuple[date, str]],
    periods: Sequence[Period],
    prices: Mapping[str, Decimal],
) -> list[tuple[Period, Decimal, dict[str, int]]]:
    """For one person: each period's cost and the count of uses of each unit in it."""
    items = list(person_uses)
    out = []
    for period in periods:
        counts: dict[str, int] = {}
        for day, unit in items:
            if period.start < day <= period.end and unit in prices:
                counts[unit] = counts.get(unit, 0) + 1
        total = sum((prices[u] * n for u, n in counts.items()), Decimal("0"))
        out.append((period, total, counts))
    return out
