"""Two years of measures for the demo city: NDTAs every quarter from the start of support,
mostly improving with setbacks, wellbeing alongside, the person's experience of support
every six months, and equality monitoring as people chose to answer (synthetic people
only)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from onestory.access.models import Organisation, User
from onestory.measures import shipped
from onestory.measures.models import Completion, Equality, Instrument, StaffResponse
from onestory.people.models import Person
from onestory_engine import measures as engine


def build(
    *,
    caseload: list[tuple[Person, User, date]],
    organisation: Organisation,
    today: date,
    rng: random.Random,
    former: list[tuple[Person, User, date]] | None = None,
) -> int:
    """Record the measures of the people supported now and of those whose support has
    closed (until it closed); returns how many completions were made."""
    from onestory.casework.models import Closure

    shipped.ensure_instruments()
    closed = dict(
        Closure.objects.filter(person__in=[p for p, _, _ in former or []]).values_list(
            "person_id", "closed_on"
        )
    )
    ndta = Instrument.objects.get(code="ndta", version=1)
    ons4 = Instrument.objects.get(code="ons4", version=1)
    experience = Instrument.objects.get(code="experience", version=1)
    ndta_def, ons4_def, experience_def = ndta.parsed, ons4.parsed, experience.parsed
    rows: list[Completion] = []
    for person, worker, started in [*caseload, *(former or [])]:
        until = closed.get(person.pk, today)
        start = max(started, today - timedelta(days=730))
        level = rng.uniform(2.6, 3.6)  # mean item level at the start (0-4)
        wellbeing = rng.uniform(2.0, 4.5)
        felt = rng.uniform(2.0, 3.4)  # how the person finds their support (1-5)
        day = start
        quarter = 0
        while day <= until:
            answers = {i.key: max(0, min(4, round(rng.gauss(level, 0.7)))) for i in ndta_def.items}
            result = engine.score(ndta_def, answers)
            rows.append(
                Completion(
                    person=person, instrument=ndta, completed_on=day, recorded_by=worker,
                    organisation=organisation, answers=answers, total=result.total,
                    subscores=result.subscores, complete=True,
                )
            )  # fmt: skip
            feel = {
                "life_satisfaction": wellbeing,
                "worthwhile": wellbeing + 0.5,
                "happy_yesterday": wellbeing,
                "anxious_yesterday": 10 - wellbeing,
            }
            well = {k: max(0, min(10, round(rng.gauss(v, 1.0)))) for k, v in feel.items()}
            scored = engine.score(ons4_def, well)
            rows.append(
                Completion(
                    person=person, instrument=ons4, completed_on=day, recorded_by=worker,
                    organisation=organisation, answers=well, total=None,
                    subscores=scored.subscores, complete=True,
                )
            )  # fmt: skip
            if quarter % 2 == 0:  # the experience questions every six months, by the person
                said = {
                    i.key: max(1, min(5, round(rng.gauss(felt, 0.8)))) for i in experience_def.items
                }
                rows.append(
                    Completion(
                        person=person, instrument=experience, completed_on=day,
                        recorded_by=worker, organisation=organisation, answers=said,
                        total=engine.score(experience_def, said).total, subscores={},
                        complete=True,
                    )
                )  # fmt: skip
                felt = min(4.8, felt + rng.uniform(-0.2, 0.6))
            # Mostly better each quarter; sometimes a setback.
            level = max(0.3, level - rng.uniform(-0.25, 0.45))
            wellbeing = min(9.0, wellbeing + rng.uniform(-0.4, 0.8))
            day += timedelta(days=91)
            quarter += 1
    Completion.objects.bulk_create(rows, batch_size=1000)
    _service_use(caseload, organisation, today, rng)
    # Equality monitoring, as people chose to answer (some prefer not to say).
    Equality.objects.bulk_create(
        [
            Equality(
                person=person,
                sex=rng.choices(["female", "male", "prefer_not"], [0.36, 0.6, 0.04])[0],
                ethnicity=rng.choices(
                    ["white", "black", "asian", "mixed", "other", "prefer_not"],
                    [0.7, 0.1, 0.08, 0.06, 0.02, 0.04],
                )[0],
                disabled=rng.choices(["yes", "no", "prefer_not"], [0.45, 0.45, 0.1])[0],
                gender_same_as_birth=rng.choices(
                    ["yes", "no", "prefer_not", ""], [0.8, 0.04, 0.08, 0.08]
                )[0],
                sexual_orientation=rng.choices(
                    ["straight", "gay_lesbian", "bisexual", "other", "prefer_not", ""],
                    [0.7, 0.06, 0.06, 0.02, 0.1, 0.06],
                )[0],
                religion=rng.choices(
                    ["none", "christian", "muslim", "hindu", "sikh", "other", "prefer_not", ""],
                    [0.45, 0.3, 0.06, 0.02, 0.02, 0.03, 0.07, 0.05],
                )[0],
                recorded_on=started,
                recorded_by=worker,
                organisation=organisation,
            )
            for person, worker, started in caseload
            if rng.random() < 0.85
        ]
    )
    # Staff confidence, quarter by quarter over two years, slowly rising.
    staff = Instrument.objects.get(code="staff_confidence", version=1)
    staff_answers: list[StaffResponse] = []
    for quarter in range(8):
        day = today - timedelta(days=91 * (7 - quarter))
        for _ in range(rng.randint(12, 25)):
            value = max(1, min(5, round(rng.gauss(2.8 + quarter * 0.18, 0.9))))
            staff_answers.append(
                StaffResponse(
                    instrument=staff, organisation=organisation, answered_on=day,
                    answers={"equipped": value}, total=float(value),
                )
            )  # fmt: skip
    StaffResponse.objects.bulk_create(staff_answers)
    return len(rows)


def _service_use(
    caseload: list[tuple[Person, User, date]],
    organisation: Organisation,
    today: date,
    rng: random.Random,
) -> None:
    """What people told their navigator of their A&E visits and arrests: many in the year
    before support (people are often found at a crisis), fewer after it, so the cost page
    has a story to tell, regression to the mean and all."""
    from onestory.people.models import TimelineEvent

    events = []
    for person, _worker, started in caseload:
        for event_type, category, summary, before, after in (
            ("attendance", "health", "Attended A&E (told to their navigator)", (3, 8), (0, 2)),
            ("arrest", "criminal_justice", "Arrested (told to their navigator)", (1, 3), (0, 1)),
        ):
            spans = [(started - timedelta(days=365), started, before)]
            year = 0
            while started + timedelta(days=365 * (year + 1)) <= today:
                spans.append(
                    (started + timedelta(days=365 * year),
                     started + timedelta(days=365 * (year + 1)), after)
                )  # fmt: skip
                year += 1
            for first, last, (low, high) in spans:
                for _ in range(rng.randint(low, high)):
                    events.append(
                        TimelineEvent(
                            person=person, organisation=organisation, category=category,
                            event_type=event_type, summary=summary,
                            occurred_on=first + timedelta(days=rng.randint(1, (last - first).days)),
                        )
                    )  # fmt: skip
    TimelineEvent.objects.bulk_create(events, batch_size=1000)


# Public health indicators for the demo: a made-up area against England (synthetic values;
# the indicator ids and names are Fingertips' own).
INDICATORS = [
    (93701, "Children in absolute low income families (under 16s)", 15.0, 0.4),
    (93203, "16 to 17 year olds not in education, employment or training (NEET)", 5.0, 0.1),
    (93759, "Fuel poverty (low income, low energy efficiency methodology)", 13.0, 0.3),
    (90282, "Gap in the employment rate for those with a long-term health condition", 10.0, 0.5),
]


def public_health(*, today: date, rng: random.Random) -> int:
    from onestory.measures.models import IndicatorValue
    from onestory_engine.fingertips import ENGLAND

    rows = []
    for indicator_id, name, england_level, drift in INDICATORS:
        area_level = england_level * rng.uniform(1.2, 1.5)
        for year in range(today.year - 6, today.year):
            england_level += rng.uniform(-drift, drift)
            area_level += rng.uniform(-2 * drift, 1.2 * drift)
            half = area_level * 0.04
            for code, area_name, value, ci in (
                (ENGLAND, "England", england_level, None),
                ("E06999999", "Trentside (synthetic)", area_level, half),
            ):
                rows.append(
                    IndicatorValue(
                        indicator_id=indicator_id, indicator_name=name, area_code=code,
                        area_name=area_name, sex="Persons", age="", period=str(year),
                        value=round(value, 1),
                        lower_ci=None if ci is None else round(value - ci, 1),
                        upper_ci=None if ci is None else round(value + ci, 1),
                    )
                )  # fmt: skip
    IndicatorValue.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
