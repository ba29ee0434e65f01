"""Every outcome broken down by each protected characteristic (issue 8): NDTA, wellbeing,
cost before and after support, own goals and experience, by what people chose to say
("prefer not to say" its own answer); exact for managers, and for analysts and board
members through the small-number rule with secondary suppression."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from onestory.casework.models import Allocation, Goal
from onestory.core.disclosure import Rule
from onestory.measures import outcomes, shipped
from onestory.measures.models import Completion, Equality, Instrument
from onestory.measures.outcomes import PersonOutcome
from onestory.people.models import Person, TimelineEvent
from tests.conftest import World, signed_in_client


def test_a_breakdown_hides_small_groups_and_what_could_be_worked_out() -> None:
    groups = {"A": (12, 9), "B": (20, 10), "C": (3, 1), "Prefer not to say": (9, 0)}
    values: dict[int, PersonOutcome] = {}
    label: dict[int, str] = {}
    for name, (n, better) in groups.items():
        for i in range(n):
            pid = len(values)
            values[pid] = PersonOutcome(10.0, 5.0 if i < better else 12.0, i < better)
            label[pid] = name
    exact = outcomes.breakdown(values, label.__getitem__, None)
    assert [(r.label, r.people, r.better) for r in exact] == [
        ("A", 12, 9), ("B", 20, 10), ("C", 3, 1), ("Prefer not to say", 9, 0)
    ]  # fmt: skip
    assert exact[0].first_mean == 10.0 and exact[0].latest_mean == round((9 * 5 + 3 * 12) / 12, 1)
    rows = outcomes.breakdown(values, label.__getitem__, Rule(7, 5))
    # C (3 people) is a small number; alone it could be worked out from the total, so the
    # next smallest group (9) is hidden too. In A, the 3 who did not improve are a small
    # number, so A's improved is hidden (and C's with its group).
    assert [(r.label, r.people, r.better) for r in rows] == [
        ("A", 10, None), ("B", 20, 10), ("C", None, None), ("Prefer not to say", None, None)
    ]  # fmt: skip
    assert [r.first_mean is None for r in rows] == [False, False, True, True]


def _people(world: World) -> list[Person]:
    """10 women (NDTA 30 -> 20, improving) and 10 men (30 -> 35), 3 who prefer not to
    say; all in support for 400 days, each arrested once before it; ONS4 and experience
    twice; two own goals each, achieved by the women."""
    shipped.ensure_instruments()
    ndta, ons4, experience = (
        Instrument.objects.get(code=c, version=1) for c in ("ndta", "ons4", "experience")
    )
    worker, org = world.user("navigator"), world.nav_org
    today = timezone.localdate()
    start = today - timedelta(days=400)
    people = []
    for i in range(23):
        sex = "female" if i < 10 else "male" if i < 20 else "prefer_not"
        person = Person.objects.create(given_name=f"E{i}", family_name="Equal")
        people.append(person)
        Equality.objects.create(
            person=person, sex=sex, recorded_on=start, recorded_by=worker, organisation=org
        )
        Allocation.objects.create(
            person=person, organisation=org, worker=worker, kind="lead", started_on=start,
            allocated_by=world.user("manager"),
        )  # fmt: skip
        TimelineEvent.objects.create(
            person=person, organisation=world.police_org, category="criminal_justice",
            event_type="arrest", occurred_on=start - timedelta(days=30),
        )  # fmt: skip
        for day, ndta_total, life, exp in (
            (start, 30.0, 3, 9.0),
            (start + timedelta(days=200), 20.0 if sex == "female" else 35.0, 6, 12.0),
        ):
            for instrument, total, subscores in (
                (ndta, ndta_total, {}),
                (ons4, None, {"life_satisfaction": life, "worthwhile": 5,
                              "happy_yesterday": 5, "anxious_yesterday": 5}),
                (experience, exp, {}),
            ):  # fmt: skip
                Completion.objects.create(
                    person=person, instrument=instrument, completed_on=day, recorded_by=worker,
                    organisation=org, answers={}, total=total, subscores=subscores,
                )  # fmt: skip
        for k in range(2):
            Goal.objects.create(
                person=person, organisation=org, in_their_words=f"Goal {k}", created_by=worker,
                status="achieved" if sex == "female" and k == 0 else "active",
            )  # fmt: skip
    return people


def _table(page: str, title: str) -> list[list[str]]:
    part = page.split(title)[1].split("</table>")[0]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', part)
    ]


def test_every_outcome_by_sex_exact_for_a_manager(world: World) -> None:
    _people(world)
    page = signed_in_client(world.user("manager")).get("/outcomes/equality/").content.decode()
    assert "Outcomes by sex" in page
    assert _table(page, "NDTA change (0 to 48")[1:] == [
        ["Female", "10", "10", "30.0", "20.0"],
        ["Male", "10", "0", "30.0", "35.0"],
        ["Prefer not to say", "3", "0", "30.0", "35.0"],
    ]
    assert _table(page, "Life satisfaction (ONS4")[1] == ["Female", "10", "10", "3.0", "6.0"]
    assert _table(page, "Experience of support")[2] == ["Male", "10", "10", "9.0", "12.0"]
    # An arrest (£979.98 in the reporting year's prices) before, nothing in the first year.
    assert _table(page, "Cost of services used")[1] == ["Female", "10", "10", "£980", "£0"]
    assert _table(page, "Own goals achieved")[1:3] == [
        ["Female", "10", "10", "2.0", "1.0"],
        ["Male", "10", "0", "2.0", "0.0"],
    ]
    # Another characteristic: nobody has answered, so everyone is "Not recorded".
    page = (
        signed_in_client(world.user("manager"))
        .get("/outcomes/equality/?characteristic=religion")
        .content.decode()
    )
    assert _table(page, "NDTA change (0 to 48")[1] == ["Not recorded", "23", "10", "30.0", "28.5"]
    assert "Outcomes by religion or belief" in page


def test_the_board_sees_every_outcome_through_the_small_number_rule(world: World) -> None:
    _people(world)
    board = signed_in_client(world.user("board_member"))
    page = board.get("/outcomes/equality/?characteristic=sex").content.decode()
    assert "Figures from 1 to 7 people are not shown" in page
    for title in ("NDTA change (0 to 48", "Life satisfaction (ONS4", "Experience of support",
                  "Cost of services used", "Own goals achieved"):  # fmt: skip
        rows = _table(page, title)[1:]
        people = [r[1] for r in rows]
        # 3 people who prefer not to say are hidden, and another group with them.
        assert people.count("*") == 2, (title, rows)
        assert rows[2][0] == "Prefer not to say" and rows[2][1:] == ["*"] * 4
        for row in rows:
            for cell in row[1:3]:
                assert cell == "*" or int(cell) == 0 or (int(cell) > 7 and int(cell) % 5 == 0)
    bad = board.get("/outcomes/equality/?characteristic=shoe_size").content.decode()
    assert "Choose a characteristic from the list" in bad and "Outcomes by sex" in bad
    assert signed_in_client(world.user("navigator")).get("/outcomes/equality/").status_code == 403


def test_time_from_identification_to_support(world: World) -> None:
    """Ten people appear on the by-name list in the same month; eight get a lead worker
    3, 5, ... 17 days after that month's end; two are still waiting."""
    from onestory.intake.models import ImportRun, Source, SourceRecord
    from onestory_engine.cohort import month_ends

    today = timezone.localdate()
    seen = today - timedelta(days=100)
    identified = next(m for m in month_ends(today, 24) if m >= seen)
    for i in range(10):
        person = Person.objects.create(given_name=f"I{i}", family_name="Found")
        for kind, event_type in (("housing", "relief_duty"), ("substance", "treatment_start"),
                                 ("police", "arrest")):  # fmt: skip
            source, _ = Source.objects.get_or_create(
                name=f"{kind}_feed", defaults={"kind": kind, "organisation": world.housing_org}
            )
            run = ImportRun.objects.create(
                source=source, file_name="f.csv", started_at=timezone.now()
            )
            SourceRecord.objects.create(
                source=source, source_record_id=f"{kind}-{i}", raw={}, row_hash="x",
                event_type=event_type, event_date=seen, person=person, first_import=run,
                last_import=run,
            )  # fmt: skip
        if i < 8:
            Allocation.objects.create(
                person=person, organisation=world.nav_org, worker=world.user("navigator"),
                kind="lead", started_on=identified + timedelta(days=3 + 2 * i),
                allocated_by=world.user("manager"),
            )  # fmt: skip
    exact = outcomes.identification_to_support(rule=None)
    assert (exact.supported, exact.median_days, exact.waiting) == (8, 10.0, 2)  # 3..17: 9, 11
    hidden = outcomes.identification_to_support(rule=Rule(7, 5))
    assert (hidden.supported, hidden.median_days, hidden.waiting) == (10, 10.0, None)
    page = signed_in_client(world.user("manager")).get("/outcomes/").content.decode()
    assert "10 days, for 8 people first on the by-name list in the last 24 months; 2 still" in page
