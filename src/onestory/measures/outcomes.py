"""The outcomes the partnership said it would measure (DOMAIN.md), with the measures the
work itself collects. Exact for managers; through the small-number rule for analysts and
board members."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from statistics import mean
from typing import Any

from onestory.casework.models import Goal
from onestory.core.disclosure import Rule, cells, quarter_of, shown
from onestory.measures.models import Completion, Equality, IndicatorValue, StaffResponse
from onestory.people.models import Person
from onestory_engine import measures as engine
from onestory_engine.fingertips import ENGLAND


@dataclass(frozen=True)
class Change:
    """First and latest scores of everyone with at least two completions."""

    people: int | None
    first_mean: float | None
    latest_mean: float | None
    improved: int | None  # people whose score got better
    lower_is_better: bool


def _series(code: str, key: str | None = None) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    rows = Completion.objects.filter(instrument__code=code).order_by("completed_on", "pk")
    for person_id, total, subscores in rows.values_list("person_id", "total", "subscores"):
        value = total if key is None else (subscores or {}).get(key)
        if value is not None:
            out.setdefault(person_id, []).append(float(value))
    return out


def change_of(code: str, *, key: str | None, lower_is_better: bool, rule: Rule | None) -> Change:
    pairs = [(s[0], s[-1]) for s in _series(code, key).values() if len(s) >= 2]
    n = len(pairs)
    people = shown(n, rule)
    if not pairs or people is None:
        return Change(people, None, None, None, lower_is_better)
    improved = sum(
        1 for a, b in pairs if (engine.change(a, b, lower_is_better=lower_is_better) or 0) > 0
    )
    return Change(
        people=people,
        first_mean=round(mean(a for a, _ in pairs), 1),
        latest_mean=round(mean(b for _, b in pairs), 1),
        improved=shown(improved, rule),
        lower_is_better=lower_is_better,
    )


@dataclass(frozen=True)
class Goals:
    set: int | None
    achieved: int | None


def goals(rule: Rule | None) -> Goals:
    total = Goal.objects.count()
    achieved = Goal.objects.filter(status=Goal.Status.ACHIEVED).count()
    return Goals(shown(total, rule), shown(achieved, rule))


@dataclass(frozen=True)
class BreakdownRow:
    label: str
    cohort: int | None
    supported: int | None


@dataclass(frozen=True)
class Breakdown:
    title: str
    rows: list[BreakdownRow]


AGE_BANDS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))


def _age_band(dob: date | None, today: date) -> str:
    if dob is None:
        return "Not known"
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low} and over" if high == 200 else f"{low} to {high}"
    return "Under 18"


def equality_breakdowns(
    cohort: list[int], supported: list[int], today: date, rule: Rule | None
) -> tuple[list[Breakdown], float | None, float | None]:
    """The cohort and the people in one-to-one support by each characteristic the person
    chose to give; and the share of women in each (of those whose sex is recorded)."""
    people = set(cohort) | set(supported)
    records = {e.person_id: e for e in Equality.objects.filter(person_id__in=people)}
    births = dict(Person.objects.filter(pk__in=people).values_list("pk", "date_of_birth"))
    characteristics: list[tuple[str, Callable[[int], str]]] = [
        ("Age", lambda p: _age_band(births.get(p), today)),
    ]
    for field_name, title in (
        ("sex", "Sex"), ("gender_same_as_birth", "Gender the same as sex registered at birth"),
        ("ethnicity", "Ethnic group"), ("disabled", "Disabled"),
        ("sexual_orientation", "Sexual orientation"), ("religion", "Religion or belief"),
    ):  # fmt: skip
        characteristics.append((title, _label_of(records, field_name)))
    out = []
    for title, label_of in characteristics:
        in_cohort = Counter(label_of(p) for p in cohort)
        in_support = Counter(label_of(p) for p in supported)
        labels = sorted(set(in_cohort) | set(in_support), key=_order)
        cells_c = cells([in_cohort[label] for label in labels], rule)
        cells_s = cells([in_support[label] for label in labels], rule)
        out.append(
            Breakdown(
                title,
                [
                    BreakdownRow(lbl, c, s)
                    for lbl, c, s in zip(labels, cells_c, cells_s, strict=True)
                ],
            )
        )
    sex = _label_of(records, "sex")

    def women(ids: list[int]) -> float | None:
        known = [sex(p) for p in ids if sex(p) in {"Female", "Male"}]
        if not known:
            return None
        n = sum(1 for s in known if s == "Female")
        if rule is not None:
            share = rule.rate(n, len(known))
            return None if share is None else round(100 * share, 1)
        return round(100 * n / len(known), 1)

    return out, women(cohort), women(supported)


def _label_of(records: dict[int, Equality], field_name: str) -> Callable[[int], str]:
    field = Equality._meta.get_field(field_name)
    names = dict(getattr(field, "choices", None) or [])

    def label(person_id: int) -> str:
        record = records.get(person_id)
        value = getattr(record, field_name, "") if record else ""
        return str(names.get(value, "Not recorded")) if value else "Not recorded"

    return label


def _order(label: str) -> tuple[int, str]:
    return ({"Not recorded": 2, "Prefer not to say": 1, "Not known": 2}.get(label, 0), label)


def indicator_series() -> list[tuple[int, str, str, str, list[str], list[Any], list[Any]]]:
    """For each indicator and each local area in the data: the periods, and the area's and
    England's value in each (``None`` where there is none). Persons, all ages first."""
    rows = list(IndicatorValue.objects.all())
    out = []
    for indicator_id in sorted({r.indicator_id for r in rows}):
        mine = [r for r in rows if r.indicator_id == indicator_id]
        sex = "Persons" if any(r.sex == "Persons" for r in mine) else mine[0].sex
        mine = [r for r in mine if r.sex == sex]
        age = sorted({r.age for r in mine})[0]
        mine = [r for r in mine if r.age == age]
        periods = sorted({r.period for r in mine})
        england = {r.period: r for r in mine if r.area_code == ENGLAND}
        for area_code in sorted({r.area_code for r in mine if r.area_code != ENGLAND}):
            area = {r.period: r for r in mine if r.area_code == area_code}
            out.append((
                indicator_id, mine[0].indicator_name, area_code,
                next(iter(area.values())).area_name, periods,
                [area.get(p) for p in periods], [england.get(p) for p in periods],
            ))  # fmt: skip
    return out


@dataclass(frozen=True)
class QuarterValue:
    quarter: str
    people: int | None
    agree: int | None  # answering 4 or 5 (agree or strongly agree)


def staff_confidence(rule: Rule | None) -> list[QuarterValue]:
    """Staff who feel equipped and supported, quarter by quarter."""
    by_quarter: dict[str, list[float]] = {}
    for day, total in StaffResponse.objects.values_list("answered_on", "total"):
        if total is not None:
            by_quarter.setdefault(quarter_of(day), []).append(total)
    out = []
    for quarter in sorted(by_quarter)[-8:]:
        values = by_quarter[quarter]
        n, agree = len(values), sum(1 for v in values if v >= 4)
        out.append(QuarterValue(quarter, shown(n, rule), shown(agree, rule)))
    return out


def referral_to_support_days() -> float | None:
    """Median days from a referral being sent to its being accepted."""
    from statistics import median

    from onestory.referrals.models import Referral

    waits = [
        (decided.date() - created.date()).days
        for created, decided in Referral.objects.filter(
            status=Referral.Status.ACCEPTED, decided_at__isnull=False
        ).values_list("created_at", "decided_at")
        if decided is not None
    ]
    return float(median(waits)) if waits else None


def ndta_change_by(field_name: str, rule: Rule | None) -> list[BreakdownRow]:
    """People assessed at least twice, and how many improved, by one characteristic
    (``cohort`` holds the people, ``supported`` the number improved)."""
    series = {p: s for p, s in _series("ndta").items() if len(s) >= 2}
    records = {e.person_id: e for e in Equality.objects.filter(person_id__in=list(series))}
    label_of = _label_of(records, field_name)
    people: Counter[str] = Counter()
    improved: Counter[str] = Counter()
    for person_id, values in series.items():
        label = label_of(person_id)
        people[label] += 1
        improved[label] += (engine.change(values[0], values[-1], lower_is_better=True) or 0) > 0
    labels = sorted(people, key=_order)
    cells_p = cells([people[lbl] for lbl in labels], rule)
    cells_i = cells([improved[lbl] for lbl in labels], rule)
    return [BreakdownRow(lbl, p, i) for lbl, p, i in zip(labels, cells_p, cells_i, strict=True)]


def ndta_by_quarter(rule: Rule | None) -> list[tuple[str, int | None, float | None]]:
    """Each of the last 8 quarters: people assessed in it and their average NDTA total
    (the average hidden with the count when the count is a small number)."""
    by_quarter: dict[str, list[float]] = {}
    for day, total in Completion.objects.filter(
        instrument__code="ndta", total__isnull=False
    ).values_list("completed_on", "total"):
        if total is not None:
            by_quarter.setdefault(quarter_of(day), []).append(total)
    out: list[tuple[str, int | None, float | None]] = []
    for quarter in sorted(by_quarter)[-8:]:
        values = by_quarter[quarter]
        people = shown(len(values), rule)
        out.append((quarter, people, None if people is None else round(mean(values), 1)))
    return out
