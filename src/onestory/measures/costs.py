"""Service use and its cost, before and after support began (DOMAIN.md). The events are the
person's timeline (feeds and what workers recorded); the prices the editable unit-cost and
uprating tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Min

from onestory.casework.models import Allocation
from onestory.core.disclosure import Rule, shown
from onestory.measures import shipped
from onestory.measures.models import UnitCost, UpratingIndex
from onestory.people.models import TimelineEvent
from onestory_engine import costs as engine
from onestory_engine import feeds

# Recorded events carry no feed kind; their event type names it.
KIND_OF_TYPE = {t: k for k, types in feeds.EVENT_TYPES.items() for t in types if k != "probation"}


@dataclass(frozen=True)
class Prices:
    reporting_year: str
    per_use: dict[str, Decimal]
    labels: dict[str, str]
    index_source: str


def prices() -> Prices:
    shipped.ensure_costs()
    index = {row.year: row.value for row in UpratingIndex.objects.all()}
    reporting = UpratingIndex.objects.filter(reporting_year=True).first()
    year = reporting.year if reporting else max(index) if index else ""
    units = list(UnitCost.objects.all())
    return Prices(
        reporting_year=year,
        per_use={
            u.key: engine.uprate(
                engine.UnitCost(u.key, u.label, u.amount, u.price_year, u.per), year, index
            )
            for u in units
        },
        labels={u.key: u.label for u in units},
        index_source=reporting.source if reporting else "",
    )


def _events(person_ids: Iterable[int], categories: set[str] | None = None) -> list[engine.Event]:
    # A sealed entry never reaches a figure anyone outside its organisation sees (rule 6).
    rows = TimelineEvent.objects.filter(person_id__in=list(person_ids), sealed=False)
    if categories is not None:
        rows = rows.filter(category__in=categories)
    out = []
    for person_id, event_type, day, end, kind, raw in rows.values_list(
        "person_id", "event_type", "occurred_on", "ended_on", "source_record__source__kind",
        "source_record__raw",
    ):  # fmt: skip
        kind = kind or KIND_OF_TYPE.get(event_type, "")
        arrival = (raw or {}).get("arrival_mode") if isinstance(raw, dict) else None
        out.append(engine.Event(person_id, kind, event_type, day, end, (arrival or None)))
    return out


def support_starts() -> dict[int, date]:
    """When each person's one-to-one support began: their first lead allocation."""
    rows = (
        Allocation.objects.filter(kind=Allocation.Kind.LEAD)
        .values("person_id")
        .annotate(start=Min("started_on"))
    )
    return {r["person_id"]: r["start"] for r in rows}


@dataclass(frozen=True)
class PeriodRow:
    label: str
    people: int | None
    mean_cost: Decimal | None
    total_cost: Decimal | None


def person_costs(
    person_id: int, start: date, today: date, categories: set[str] | None, price: Prices
) -> list[tuple[engine.Period, Decimal, dict[str, int]]]:
    used = engine.uses(_events([person_id], categories), engine.DEFAULT_RULES, until=today)
    return engine.cost_by_period(
        [(d, u) for _, d, u in used], engine.before_after(start, today), price.per_use
    )


PersonPeriods = dict[int, list[tuple[engine.Period, Decimal, dict[str, int]]]]


def period_costs(today: date, starts: dict[int, date] | None = None) -> PersonPeriods:
    """Each person's cost, and their uses of each unit, in the 12 months before support
    began and each complete year after it (every category: an aggregate)."""
    starts = support_starts() if starts is None else starts
    price = prices()
    used = engine.uses(_events(starts), engine.DEFAULT_RULES, until=today)
    by_person: dict[int, list[tuple[date, str]]] = {}
    for person_id, day, unit in used:
        if day <= today:
            by_person.setdefault(person_id, []).append((day, unit))
    return {
        person_id: engine.cost_by_period(
            by_person.get(person_id, []), engine.before_after(start, today), price.per_use
        )
        for person_id, start in starts.items()
        if start <= today
    }


# Emergency services, counted per person in each period (the units of DOMAIN.md's mapping).
EMERGENCY = (
    ("ae_attendance", "A&E attendances"),
    ("ambulance", "Ambulance call-outs"),
    ("arrest", "Arrests"),
)


def _period_order(label: str) -> tuple[bool, str]:
    return (label != "12 months before", label)


def cohort_costs(
    today: date, rule: Rule | None, periods_of: PersonPeriods | None = None
) -> list[PeriodRow]:
    """The mean cost per person in the 12 months before support and each year after, for
    everyone whose period is complete."""
    totals: dict[str, list[Decimal]] = {}
    for periods in (period_costs(today) if periods_of is None else periods_of).values():
        for period, cost, _counts in periods:
            totals.setdefault(period.label, []).append(cost)
    out = []
    for label in sorted(totals, key=_period_order):
        values = totals[label]
        n = len(values)
        people = shown(n, rule)
        total = sum(values, Decimal("0"))
        if people is None:
            out.append(PeriodRow(label, None, None, None))
            continue
        out.append(
            PeriodRow(
                label, people, (total / n).quantize(Decimal("1")), total.quantize(Decimal("1"))
            )
        )
    return out


@dataclass(frozen=True)
class UseRow:
    label: str
    people: int | None
    per_person: dict[str, float | None]  # emergency unit -> uses per person in the period

    @property
    def values(self) -> list[tuple[str, float | None]]:
        return [(label, self.per_person[key]) for key, label in EMERGENCY]


def emergency_use(
    today: date, rule: Rule | None, periods_of: PersonPeriods | None = None
) -> list[UseRow]:
    """A&E attendances, ambulance call-outs and arrests per person, before support began
    and in each complete year after it (hidden with the count of people when small)."""
    uses: dict[str, list[dict[str, int]]] = {}
    for periods in (period_costs(today) if periods_of is None else periods_of).values():
        for period, _cost, counts in periods:
            uses.setdefault(period.label, []).append(counts)
    out = []
    for label in sorted(uses, key=_period_order):
        rows = uses[label]
        people = shown(len(rows), rule)
        out.append(
            UseRow(
                label,
                people,
                {
                    key: None
                    if people is None
                    else round(sum(c.get(key, 0) for c in rows) / len(rows), 2)
                    for key, _ in EMERGENCY
                },
            )
        )
    return out


def supported_now() -> list[int]:
    """People with a current lead worker (one-to-one support)."""
    return list(
        Allocation.objects.filter(kind=Allocation.Kind.LEAD, ended_on__isnull=True)
        .values_list("person_id", flat=True)
        .distinct()
    )
