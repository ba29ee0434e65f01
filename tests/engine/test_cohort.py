"""The SMD cohort rule of feeds.md, computed in the engine."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from onestory_engine.cohort import CohortRule, add_months, cohort

AS_OF = date(2025, 6, 30)


def _events(rows: list[tuple[Any, ...]]) -> pa.Table:
    names = ("person_id", "kind", "event_type", "role", "event_date", "reason_category")
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    types = (pa.int64(), pa.string(), pa.string(), pa.string(), pa.date32(), pa.string())
    return pa.table(
        {n: pa.array(list(c), t) for n, c, t in zip(names, columns, types, strict=True)}
    )


def _persons(rows: list[tuple[int, date | None]]) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([p for p, _ in rows], pa.int64()),
            "date_of_birth": pa.array([d for _, d in rows], pa.date32()),
        }
    )


def _by_person(table: pa.Table) -> dict[int, dict[str, Any]]:
    return {r["person_id"]: r for r in table.to_pylist()}


THREE = [
    ("housing", "relief_duty", None),
    ("substance", "treatment_start", None),
    ("police", "arrest", None),
]


def test_three_domains_in_the_window_make_the_cohort() -> None:
    events: list[tuple[Any, ...]] = [(1, k, t, r, date(2025, 1, 10), None) for k, t, r in THREE]
    events += [(1, "ed", "attendance", None, date(2025, 2, 1), "alcohol")] * 4
    out = _by_person(cohort(_events(events), _persons([(1, date(1980, 1, 1))]), CohortRule(AS_OF)))
    assert out[1] == {
        "person_id": 1,
        "domains": "criminal_justice;homelessness;substance_misuse",
        "n_domains": 3,
        "smd": 1,
        "ed_attendances": 4,
    }


def test_the_window_is_open_at_the_start_and_closed_at_the_end() -> None:
    start = add_months(AS_OF, -12)
    assert start == date(2024, 6, 30)
    events = [
        (1, "housing", "relief_duty", None, start, None),  # the day before: outside
        (1, "substance", "treatment_start", None, AS_OF, None),  # the as-of day: inside
        (1, "police", "arrest", None, date(2025, 7, 1), None),  # after: outside
        (1, "ed", "attendance", None, start, None),
    ]
    out = _by_person(cohort(_events(events), _persons([(1, None)]), CohortRule(AS_OF)))
    assert out[1]["domains"] == "substance_misuse"
    assert out[1]["ed_attendances"] == 0


def test_perpetrators_and_victims_of_crime_are_not_domains() -> None:
    events = [
        (1, "domestic_abuse", "marac_referral", "perpetrator", date(2025, 3, 1), None),
        (1, "police", "victim_report", None, date(2025, 3, 1), None),
        (2, "domestic_abuse", "marac_referral", "victim", date(2025, 3, 1), None),
    ]
    out = _by_person(cohort(_events(events), _persons([(1, None), (2, None)]), CohortRule(AS_OF)))
    assert out[1]["n_domains"] == 0
    assert out[2]["domains"] == "domestic_abuse"


def test_age_on_the_as_of_date_and_unknown_dates_of_birth() -> None:
    events = [(p, k, t, r, date(2025, 1, 10), None) for p in (1, 2, 3, 4) for k, t, r in THREE]
    persons = _persons(
        [
            (1, date(2007, 6, 30)),  # 18 on the as-of day
            (2, date(2007, 7, 1)),  # 18 the day after
            (3, None),  # not known: counted
            (4, date(1960, 2, 29)),
        ]
    )
    out = _by_person(cohort(_events(events), persons, CohortRule(AS_OF)))
    assert [out[p]["smd"] for p in (1, 2, 3, 4)] == [1, 0, 1, 1]
    assert CohortRule(date(2024, 2, 29)).born_on_or_before == date(2006, 2, 28)


def test_settings_change_the_rule_and_everyone_gets_a_row() -> None:
    events = [(1, k, t, r, date(2025, 5, 10), None) for k, t, r in THREE[:2]]
    persons = _persons([(1, None), (2, None)])
    assert _by_person(cohort(_events(events), persons, CohortRule(AS_OF)))[1]["smd"] == 0
    two = _by_person(cohort(_events(events), persons, CohortRule(AS_OF, min_domains=2)))
    assert two[1]["smd"] == 1
    assert two[2] == {
        "person_id": 2, "domains": "", "n_domains": 0, "smd": 0, "ed_attendances": 0
    }  # fmt: skip
    short = _by_person(cohort(_events(events), persons, CohortRule(AS_OF, months=1)))
    assert short[1]["n_domains"] == 0
    # An ED reason may be configured to signal a domain.
    ed = [(1, "ed", "attendance", None, date(2025, 5, 1), "self_harm")]
    out = _by_person(
        cohort(
            _events(ed),
            persons,
            CohortRule(AS_OF),
            ed_reason_domains={"self_harm": "mental_health"},
        )
    )
    assert out[1]["domains"] == "mental_health"


def test_the_by_name_list_month_by_month() -> None:
    from onestory_engine.cohort import by_name_months, functional_zero, month_ends

    months = month_ends(date(2025, 6, 30), 6)
    assert months[0] == date(2025, 1, 31) and months[-1] == date(2025, 6, 30)
    assert month_ends(date(2025, 6, 15), 2) == [date(2025, 5, 31), date(2025, 6, 15)]
    events: list[tuple[Any, ...]] = []
    events += [(1, k, t, r, date(2025, 1, 5), None) for k, t, r in THREE]  # on from January
    events += [(2, k, t, r, date(2025, 2, 10), None) for k, t, r in THREE]  # new in February
    events += [(3, k, t, r, date(2024, 2, 10), None) for k, t, r in THREE]  # ages out in Feb
    events += [(1, "police", "arrest", None, date(2025, 5, 20), None)]  # back in May
    persons = _persons([(1, None), (2, None), (3, None)])
    closures = {1: [(date(2025, 3, 12), "housed")]}
    rows = by_name_months(
        _events(events), persons, closures, months=months, rule=CohortRule(months[-1])
    )
    status = {(r["person_id"], r["month"].month): r["status"] for r in rows}
    assert status[(1, 1)] == "active" and status[(3, 1)] == "active"
    assert status[(2, 2)] == "inflow_new"
    assert status[(3, 2)] == "outflow_criteria"
    assert status[(1, 3)] == "outflow_housed"
    assert (1, 4) not in status  # housed: off the list until something new happens
    assert status[(1, 5)] == "inflow_returned"
    assert status[(2, 6)] == "active"
    assert functional_zero(1, [2, 3, 1, 2, 2, 3])
    assert not functional_zero(5, [2, 3, 1, 2, 2, 3])


def test_high_intensity_use_under_both_definitions() -> None:
    from onestory_engine.cohort import high_intensity

    events: list[tuple[Any, ...]] = []
    events += [(1, "ed", "attendance", None, date(2025, 3, d), None) for d in range(1, 7)]
    events += [(2, "ed", "attendance", None, date(2025, m, 1), None) for m in range(1, 6)]
    events += [(3, "ed", "attendance", None, date(2025, 1 + m % 6, 1 + m), None) for m in range(21)]
    events += [(4, "ed", "attendance", None, date(2025, 3, d), None) for d in range(1, 9)]
    persons = _persons([(1, None), (2, None), (3, None), (4, date(2010, 1, 1))])
    out = {
        r["person_id"]: r
        for r in high_intensity(_events(events), persons, CohortRule(AS_OF)).to_pylist()
    }
    assert (out[1]["hiu_nhs"], out[1]["hiu_brc"], out[1]["ed_most_in_a_month"]) == (True, True, 6)
    assert (out[2]["hiu_nhs"], out[2]["hiu_brc"]) == (False, True)
    assert out[3]["ed_12_months"] == 21 and out[3]["hiu_nhs"]
    assert 4 not in out  # a child


def _reference_by_name(
    events: pa.Table,
    persons: pa.Table,
    closures: dict[int, list[tuple[date, str]]],
    months: list[date],
    rule: CohortRule,
) -> list[dict[str, Any]]:
    """The by-name list's rules read literally: the cohort recomputed at every month end
    and everyone walked through each month in turn (slow; the oracle for the engine)."""
    from onestory_engine.cohort import CLOSURE_OUTFLOW

    rows: list[dict[str, Any]] = []
    ever: set[int] = set()
    previous: set[int] = set()
    gone: dict[int, date] = {}
    dates: dict[int, list[date]] = {}
    for person_id, day in zip(
        events.column("person_id").to_pylist(), events.column("event_date").to_pylist(), strict=True
    ):
        dates.setdefault(int(person_id), []).append(day)
    for index, month_end in enumerate(months):
        month_rule = CohortRule(month_end, rule.months, rule.min_domains, rule.min_age)
        meets = {
            r["person_id"] for r in cohort(events, persons, month_rule).to_pylist() if r["smd"]
        }
        month_start = months[index - 1] if index else month_end.replace(day=1) - timedelta(days=1)
        closed_now: dict[int, str] = {}
        for person_id, items in closures.items():
            for closed_on, reason in items:
                if month_start < closed_on <= month_end and reason in CLOSURE_OUTFLOW:
                    closed_now[person_id] = CLOSURE_OUTFLOW[reason]
        current: set[int] = set()
        for person_id in sorted(meets | previous):
            if person_id in previous:
                if person_id in closed_now:
                    status = closed_now[person_id]
                    gone[person_id] = month_end
                elif person_id not in meets:
                    status = "outflow_criteria"
                else:
                    status = "active"
                    current.add(person_id)
            else:
                if person_id in closed_now:
                    continue
                left = gone.get(person_id)
                if left is not None and not any(
                    left < d <= month_end for d in dates.get(person_id, [])
                ):
                    continue
                status = "inflow_returned" if person_id in ever else "inflow_new"
                if index == 0:
                    status = "active"
                current.add(person_id)
                gone.pop(person_id, None)
            rows.append({"month": month_end, "person_id": person_id, "status": status})
        ever |= current
        previous = current
    return rows


def test_the_by_name_list_agrees_with_the_rules_read_literally() -> None:
    """On a synthetic city's true events, with closures of every reason scattered over the
    people, the engine's by-name list equals the literal month-by-month reading."""
    import random

    from onestory_engine.cohort import by_name_months, month_ends
    from onestory_engine.synthetic import generate_city

    city = generate_city(400, seed=8080, as_of=date(2025, 6, 14))
    ids = {p.key: i for i, p in enumerate(city.people, start=1)}
    events = _events(
        [
            (ids[p.key], e.kind, e.event_type, e.role, e.event_date,
             dict(e.extra).get("reason_category"))
            for p in city.people
            for e in p.events
        ]
    )  # fmt: skip
    persons = _persons([(ids[p.key], p.date_of_birth) for p in city.people])
    months = month_ends(city.as_of, 18)
    pick = random.Random(3)
    reasons = ["housed", "goal_reached", "moved_away", "institution", "died", "declined"]
    closures: dict[int, list[tuple[date, str]]] = {}
    for person_id in pick.sample(sorted(ids.values()), 120):
        for _ in range(pick.choice([1, 1, 2])):
            day = months[0] + timedelta(days=pick.randrange(0, 540))
            closures.setdefault(person_id, []).append((day, pick.choice(reasons)))
    rule = CohortRule(months[-1])
    engine = by_name_months(events, persons, closures, months=months, rule=rule)
    literal = _reference_by_name(events, persons, closures, months, rule)
    assert engine == literal
    statuses = {r["status"] for r in engine}
    assert statuses == {
        "active", "inflow_new", "inflow_returned", "outflow_criteria", "outflow_housed",
        "outflow_inactive",
    }  # fmt: skip


def test_overlaps_and_service_use() -> None:
    from onestory_engine.cohort import month_ends, overlaps, service_use

    events: list[tuple[Any, ...]] = [(1, k, t, r, date(2025, 1, 10), None) for k, t, r in THREE]
    events += [(2, k, t, r, date(2025, 2, 10), None) for k, t, r in THREE]
    events += [(3, k, t, r, date(2025, 3, 10), None) for k, t, r in THREE[:2]]
    events += [(3, "mental_health", "crisis_contact", None, date(2025, 3, 11), None)]
    persons = _persons([(1, None), (2, None), (3, None), (4, None)])
    table = cohort(_events(events), persons, CohortRule(AS_OF))
    assert overlaps(table).to_pylist() == [
        {"domains": "criminal_justice;homelessness;substance_misuse", "people": 2},
        {"domains": "homelessness;mental_health;substance_misuse", "people": 1},
    ]
    use = _events(
        [
            (1, "ed", "attendance", None, date(2025, 5, 3), None),
            (1, "ed", "attendance", None, date(2025, 6, 3), None),
            (2, "ed", "attendance", None, date(2025, 6, 30), None),
            (1, "police", "custody", None, date(2025, 6, 1), None),
            (1, "police", "victim_report", None, date(2025, 6, 1), None),
            (4, "ed", "attendance", None, date(2025, 6, 3), None),  # not in the cohort
        ]
    )
    use = use.append_column(
        "arrival_mode", pa.array([None, "ambulance", "walk_in", None, None, "ambulance"])
    )
    months = month_ends(AS_OF, 2)
    assert service_use(use, [1, 2, 3], months).to_pylist() == [
        {"month": date(2025, 5, 31), "ed_attendances": 1, "ambulance_arrivals": 0,
         "police_custody": 0},
        {"month": date(2025, 6, 30), "ed_attendances": 2, "ambulance_arrivals": 1,
         "police_custody": 1},
    ]  # fmt: skip
    # Without the arrival mode there is nothing to count as ambulance arrivals.
    plain = service_use(use.drop_columns(["arrival_mode"]), [1], months).to_pylist()
    assert [r["ambulance_arrivals"] for r in plain] == [0, 0]
