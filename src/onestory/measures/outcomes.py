"""The outcomes the partnership said it would measure (DOMAIN.md), with the measures the
work itself collects. Exact for managers; through the small-number rule for analysts and
board members."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import mean
from typing import Any

from onestory.casework.models import Allocation, Goal
from onestory.core.disclosure import Rule, cells, quarter_of, secondary, shown
from onestory.measures import shipped
from onestory.measures.models import (
    Completion,
    Equality,
    IndicatorValue,
    Instrument,
    StaffResponse,
)
from onestory.meetings.models import Action
from onestory.people.models import Person
from onestory.referrals.models import Referral
from onestory.voice.models import Barrier
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
    labels = characteristic_labels(set(cohort) | set(supported), today)
    characteristics = [(title, labels[key]) for key, title in CHARACTERISTICS]
    out = []
    for title, label_of in characteristics:
        in_cohort = Counter(label_of(p) for p in cohort)
        in_support = Counter(label_of(p) for p in supported)
        groups = sorted(set(in_cohort) | set(in_support), key=group_order)
        cells_c = cells([in_cohort[label] for label in groups], rule)
        cells_s = cells([in_support[label] for label in groups], rule)
        out.append(
            Breakdown(
                title,
                [
                    BreakdownRow(lbl, c, s)
                    for lbl, c, s in zip(groups, cells_c, cells_s, strict=True)
                ],
            )
        )
    sex = labels["sex"]

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


def group_order(label: str) -> tuple[int, str]:
    """Groups in order, with "Prefer not to say" and "Not recorded" last."""
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


# --- Every outcome by each protected characteristic -------------------------------------

CHARACTERISTICS: tuple[tuple[str, str], ...] = (
    ("age", "Age"),
    ("sex", "Sex"),
    ("gender_same_as_birth", "Gender the same as sex registered at birth"),
    ("ethnicity", "Ethnic group"),
    ("disabled", "Disabled"),
    ("sexual_orientation", "Sexual orientation"),
    ("religion", "Religion or belief"),
)


def characteristic_labels(people: Iterable[int], today: date) -> dict[str, Callable[[int], str]]:
    """For each characteristic, the answer each person chose to give ("Prefer not to say"
    is an answer of its own; "Not recorded" when they have not been asked)."""
    ids = list(people)
    records = {e.person_id: e for e in Equality.objects.filter(person_id__in=ids)}
    births = dict(Person.objects.filter(pk__in=ids).values_list("pk", "date_of_birth"))
    out: dict[str, Callable[[int], str]] = {"age": lambda p: _age_band(births.get(p), today)}
    for field_name, _title in CHARACTERISTICS[1:]:
        out[field_name] = _label_of(records, field_name)
    return out


@dataclass(frozen=True)
class PersonOutcome:
    """One person's measure at the start and now, and whether it got better."""

    first: float
    latest: float
    better: bool


@dataclass(frozen=True)
class Measure:
    """An outcome as a table heads it."""

    key: str
    title: str
    people: str  # who is counted
    better: str  # who got better
    first: str  # the average at the start
    latest: str  # the average now
    money: bool = False


MEASURES: tuple[Measure, ...] = (
    Measure("ndta", "NDTA change (0 to 48, lower is better)", "Assessed twice or more",
            "Improved", "First (average)", "Latest (average)"),
    Measure("life_satisfaction", "Life satisfaction (ONS4, 0 to 10)", "Asked twice or more",
            "Better", "First (average)", "Latest (average)"),
    Measure("worthwhile", "Feeling things are worthwhile (ONS4, 0 to 10)",
            "Asked twice or more", "Better", "First (average)", "Latest (average)"),
    Measure("happy_yesterday", "Happiness yesterday (ONS4, 0 to 10)", "Asked twice or more",
            "Better", "First (average)", "Latest (average)"),
    Measure("anxious_yesterday", "Anxiety yesterday (ONS4, 0 to 10, lower is better)",
            "Asked twice or more", "Better", "First (average)", "Latest (average)"),
    Measure("experience", "Experience of support (3 to 15, higher is better)",
            "Answered twice or more", "Better", "First (average)", "Latest (average)"),
    Measure("cost", "Cost of services used, 12 months before support and the first year",
            "With a complete first year", "Cost fell", "Before (average)",
            "First year (average)", money=True),
    Measure("goals", "Own goals achieved", "With their own goals",
            "Achieved at least one", "Goals set (average)", "Achieved (average)"),
)  # fmt: skip
MEASURE = {m.key: m for m in MEASURES}
WELLBEING = (
    ("Life satisfaction", "life_satisfaction"),
    ("Feeling things are worthwhile", "worthwhile"),
    ("Happiness yesterday", "happy_yesterday"),
    ("Anxiety yesterday", "anxious_yesterday"),
)
ONS4_KEYS = ("life_satisfaction", "worthwhile", "happy_yesterday", "anxious_yesterday")


def _changes(code: str, key: str | None, *, lower_is_better: bool) -> dict[int, PersonOutcome]:
    return {
        p: PersonOutcome(
            s[0], s[-1], (engine.change(s[0], s[-1], lower_is_better=lower_is_better) or 0) > 0
        )
        for p, s in _series(code, key).items()
        if len(s) >= 2
    }


def person_outcomes(key: str, today: date) -> dict[int, PersonOutcome]:
    """Each person's value of one measure (``MEASURES``), for everyone it applies to."""
    if key == "ndta":
        return _changes("ndta", None, lower_is_better=True)
    if key in ONS4_KEYS:
        return _changes("ons4", key, lower_is_better=key == "anxious_yesterday")
    if key == "experience":
        return _changes("experience", None, lower_is_better=False)
    if key == "cost":
        from onestory.measures import costs

        out = {}
        for person_id, periods in costs.period_costs(today).items():
            by_label = {period.label: cost for period, cost, _ in periods}
            before, after = by_label.get("12 months before"), by_label.get("Year 1 of support")
            if before is not None and after is not None:
                out[person_id] = PersonOutcome(float(before), float(after), after < before)
        return out
    if key == "goals":
        counts: dict[int, tuple[int, int]] = {}
        for person_id, status in Goal.objects.values_list("person_id", "status"):
            n, done = counts.get(person_id, (0, 0))
            counts[person_id] = (n + 1, done + (status == Goal.Status.ACHIEVED))
        return {p: PersonOutcome(n, done, done > 0) for p, (n, done) in counts.items()}
    raise KeyError(key)


@dataclass(frozen=True)
class GroupRow:
    label: str
    people: int | None
    better: int | None
    first_mean: float | None
    latest_mean: float | None


def breakdown(
    outcomes: dict[int, PersonOutcome], label_of: Callable[[int], str], rule: Rule | None
) -> list[GroupRow]:
    """One measure by one characteristic. With a rule: the people in each group through
    the small-number rule with secondary suppression (the groups add up to a published
    total); those who got better hidden too when they, or those who did not, are a small
    number; and a group's averages only alongside its count of people."""
    groups: dict[str, list[PersonOutcome]] = {}
    for person_id, outcome in outcomes.items():
        groups.setdefault(label_of(person_id), []).append(outcome)
    labels = sorted(groups, key=group_order)
    people_raw = [len(groups[lbl]) for lbl in labels]
    better_raw = [sum(o.better for o in groups[lbl]) for lbl in labels]
    people = cells(people_raw, rule)
    better: list[int | None] = list(better_raw)
    if rule is not None:
        primary = [
            None if p is None or rule.rate(b, n) is None else rule.count(b)
            for p, b, n in zip(people, better_raw, people_raw, strict=True)
        ]
        better = secondary(primary, better_raw)
    return [
        GroupRow(
            lbl,
            p,
            b,
            None if p is None else round(mean(o.first for o in groups[lbl]), 1),
            None if p is None else round(mean(o.latest for o in groups[lbl]), 1),
        )
        for lbl, p, b in zip(labels, people, better, strict=True)
    ]


@dataclass(frozen=True)
class EqualityTable:
    measure: Measure
    characteristic: str  # its title
    rows: list[GroupRow]


def outcome_equality(
    today: date,
    rule: Rule | None,
    *,
    characteristics: Iterable[str] | None = None,
    measures: Iterable[str] | None = None,
) -> list[EqualityTable]:
    """Every outcome (or those asked for) by every characteristic (or those asked for)."""
    wanted = [m for m in MEASURES if measures is None or m.key in set(measures)]
    values = {m.key: person_outcomes(m.key, today) for m in wanted}
    labels = characteristic_labels({p for v in values.values() for p in v}, today)
    titles = dict(CHARACTERISTICS)
    chosen = [c for c, _ in CHARACTERISTICS if characteristics is None or c in set(characteristics)]
    return [
        EqualityTable(m, titles[c], breakdown(values[m.key], labels[c], rule))
        for c in chosen
        for m in wanted
    ]


def ndta_change_by(field_name: str, rule: Rule | None, today: date) -> list[GroupRow]:
    """People assessed at least twice, and how many improved, by one characteristic."""
    values = person_outcomes("ndta", today)
    return breakdown(values, characteristic_labels(values, today)[field_name], rule)


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


# --- The dashboard's other measures ---------------------------------------------------


def quarters(today: date, n: int = 8) -> list[tuple[str, date, date]]:
    """The last ``n`` calendar quarters up to ``today``: label, first day, last day."""
    out = []
    year, q = today.year, (today.month - 1) // 3
    for _ in range(n):
        first = date(year, 3 * q + 1, 1)
        last = date(year + (q == 3), 1 if q == 3 else 3 * q + 4, 1) - timedelta(days=1)
        out.append((quarter_of(first), first, min(last, today)))
        year, q = (year - 1, 3) if q == 0 else (year, q - 1)
    return out[::-1]


@dataclass(frozen=True)
class ItemShare:
    text: str
    people: int | None
    agree: int | None
    share: float | None  # % agreeing


def experience_items(rule: Rule | None) -> list[ItemShare]:
    """Each experience statement: people's latest answer, and how many agree (4 or 5)."""
    latest: dict[int, dict[str, Any]] = {}
    for person_id, answers in (
        Completion.objects.filter(instrument__code="experience")
        .order_by("completed_on", "pk")
        .values_list("person_id", "answers")
    ):
        latest[person_id] = answers or {}
    shipped.ensure_instruments()
    instrument = Instrument.objects.filter(code="experience").order_by("-version").first()
    out = []
    for item in instrument.parsed.items if instrument else []:
        values = [int(v) for a in latest.values() if (v := a.get(item.key)) is not None]
        agree = sum(1 for v in values if v >= 4)
        rate = (
            (agree / len(values) if values else None)
            if rule is None
            else rule.rate(agree, len(values))
        )
        people = shown(len(values), rule)
        out.append(
            ItemShare(
                item.text,
                people,
                None if people is None or rate is None else shown(agree, rule),
                None if rate is None else round(100 * rate),
            )
        )
    return out


def supported_by_quarter(today: date, rule: Rule | None) -> list[tuple[str, int | None]]:
    """People with a named lead worker (one-to-one support) at the end of each quarter."""
    rows = list(
        Allocation.objects.filter(kind=Allocation.Kind.LEAD).values_list(
            "person_id", "started_on", "ended_on"
        )
    )
    return [
        (
            label,
            shown(len({p for p, s, e in rows if s <= last and (e is None or e > last)}), rule),
        )
        for label, _first, last in quarters(today)
    ]


@dataclass(frozen=True)
class BarrierQuarter:
    quarter: str
    raised: int | None
    resolved: int | None


def barriers_by_quarter(today: date, rule: Rule | None) -> list[BarrierQuarter]:
    """Barriers to care raised and resolved in each quarter."""
    rows = list(Barrier.objects.values_list("raised_on", "resolved_on"))
    return [
        BarrierQuarter(
            label,
            shown(sum(1 for r, _ in rows if first <= r <= last), rule),
            shown(sum(1 for _, d in rows if d is not None and first <= d <= last), rule),
        )
        for label, first, last in quarters(today)
    ]


@dataclass(frozen=True)
class WorkingQuarter:
    quarter: str
    referrals: int | None
    accepted_share: float | None  # % of those decided
    actions_due: int | None
    on_time_share: float | None  # % of actions due done by their date
    any_decided: bool = True  # False: no share to give (rather than a hidden one)
    any_due: bool = True


def working_by_quarter(today: date, rule: Rule | None) -> list[WorkingQuarter]:
    """Cross-organisational working each quarter: referrals between organisations and how
    many were accepted, and the actions from multi-agency meetings done on time."""
    referrals = list(Referral.objects.values_list("created_at", "status"))
    actions = list(Action.objects.values_list("due_on", "status", "completed_on"))
    accepted_states = {Referral.Status.ACCEPTED, Referral.Status.CLOSED}
    out = []
    for label, first, last in quarters(today, 4):
        sent = [s for c, s in referrals if first <= c.date() <= last]
        decided = [s for s in sent if s in accepted_states or s == Referral.Status.DECLINED]
        accepted = sum(1 for s in decided if s in accepted_states)
        due = [(s, done, d) for d, s, done in actions if first <= d <= min(last, today)]
        on_time = sum(1 for s, done, d in due if s == "done" and done is not None and done <= d)
        out.append(
            WorkingQuarter(
                label,
                shown(len(sent), rule),
                _percent(accepted, len(decided), rule),
                shown(len(due), rule),
                _percent(on_time, len(due), rule),
                bool(decided),
                bool(due),
            )
        )
    return out


def _percent(n: int, of: int, rule: Rule | None) -> float | None:
    if rule is not None:
        rate = rule.rate(n, of)
        return None if rate is None else round(100 * rate)
    return round(100 * n / of) if of else None


def share(n: int, of: int, rule: Rule | None) -> float | None:
    """``n`` of ``of`` as a whole-number percentage, hidden when either part is small."""
    return _percent(n, of, rule)


@dataclass(frozen=True)
class IndicatorLatest:
    indicator_id: int
    name: str
    area_name: str
    period: str
    value: float | None
    lower_ci: float | None
    upper_ci: float | None
    england: float | None

    @property
    def comparison(self) -> str:
        """Against England, by the area's 95% confidence interval (Fingertips' method)."""
        if self.value is None or self.england is None:
            return "No England value to compare"
        if self.lower_ci is not None and self.upper_ci is not None:
            if self.lower_ci <= self.england <= self.upper_ci:
                return "Similar to England"
            return "Higher than England" if self.lower_ci > self.england else "Lower than England"
        return "Higher than England" if self.value > self.england else "Lower than England"


def indicators_latest() -> list[IndicatorLatest]:
    """Each indicator's latest period for the area, against England."""
    out = []
    for indicator_id, name, _code, area_name, periods, area, england in indicator_series():
        for period, a, e in reversed(list(zip(periods, area, england, strict=True))):
            if a is not None and a.value is not None:
                out.append(
                    IndicatorLatest(
                        indicator_id, name, area_name, period, a.value, a.lower_ci, a.upper_ci,
                        None if e is None else e.value,
                    )
                )  # fmt: skip
                break
    return out


@dataclass(frozen=True)
class SharedData:
    sources: int
    organisations: int
    records: int | None
    persons: int | None


def shared_data(rule: Rule | None) -> SharedData:
    """The linked index: partner feeds, their records, and the people they link into."""
    from onestory.intake.models import Source, SourceRecord

    linked = SourceRecord.objects.exclude(person=None).values("person_id").distinct()
    return SharedData(
        Source.objects.count(),
        Source.objects.values("organisation_id").distinct().count(),
        shown(SourceRecord.objects.count(), rule),
        shown(linked.count(), rule),
    )


@dataclass(frozen=True)
class Identification:
    """From first appearing on the by-name list to one-to-one support."""

    months: int  # how far back the by-name list was followed
    supported: int | None  # people identified in that time who then got a lead worker
    median_days: float | None  # their middle time to support
    waiting: int | None  # people identified in that time still without one


def identification_to_support(*, months: int = 24, rule: Rule | None) -> Identification:
    """Time from identification (the end of the month a person first appeared on the
    by-name list, in the last ``months``) to their first lead allocation after it."""
    from statistics import median

    from onestory.casework.models import Closure
    from onestory.insight.selectors import current_rule
    from onestory.intake.exports import cohort_inputs
    from onestory_engine import cohort as cohort_engine

    cohort_rule = current_rule()
    events, persons = cohort_inputs()
    closures: dict[int, list[tuple[date, str]]] = {}
    for person_id, closed_on, reason in Closure.objects.values_list(
        "person_id", "closed_on", "reason"
    ):
        closures.setdefault(person_id, []).append((closed_on, reason))
    ends = cohort_engine.month_ends(cohort_rule.as_of, months)
    first_on: dict[int, date] = {}
    on_list = {cohort_engine.ACTIVE, cohort_engine.INFLOW_NEW, cohort_engine.INFLOW_RETURNED}
    for row in cohort_engine.by_name_months(
        events, persons, closures, months=ends, rule=cohort_rule
    ):
        if row["status"] in on_list:
            person_id = int(row["person_id"])
            if person_id not in first_on or row["month"] < first_on[person_id]:
                first_on[person_id] = row["month"]
    # Someone on the list from the first month may have been identified before it.
    first_on = {p: d for p, d in first_on.items() if d > ends[0]}
    starts: dict[int, list[date]] = {}
    for person_id, started in Allocation.objects.filter(
        kind=Allocation.Kind.LEAD, person_id__in=list(first_on)
    ).values_list("person_id", "started_on"):
        starts.setdefault(person_id, []).append(started)
    waits = []
    waiting = 0
    for person_id, identified in first_on.items():
        dates = starts.get(person_id, [])
        if not dates:
            waiting += 1
        elif max(dates) >= identified - timedelta(days=31):  # supported since then
            waits.append(max(0, (min(d for d in dates if d >= identified - timedelta(days=31))
                                 - identified).days))  # fmt: skip
    supported = shown(len(waits), rule)
    return Identification(
        months,
        supported,
        None if not waits or supported is None else float(median(waits)),
        shown(waiting, rule),
    )
