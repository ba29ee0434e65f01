"""Casework for the demo city: realistic caseloads with contact histories, plans in people's
own words, reviews, safety markers, spends and closures (synthetic people only)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from onestory.access.models import Organisation, User
from onestory.casework.models import (
    Allocation,
    Budget,
    Closure,
    Contact,
    Death,
    Goal,
    ProgressNote,
    Review,
    SafeguardingConcern,
    SafeguardingUpdate,
    SafetyMarker,
    Spend,
    Step,
    SupportPlan,
)
from onestory.people.models import Person, Relationship

GOALS = [
    ("Get my own flat, somewhere I can keep my dog", "Housing assessment and bidding"),
    ("Stop using on my own; go to the group on Thursdays", "Referral to the recovery group"),
    ("See my kids again", "Contact centre application with the family court adviser"),
    ("Get my ID back so I can open a bank account", "Order a birth certificate"),
    ("Sort my benefits out so I'm not sanctioned again", "Universal Credit appointment"),
    ("Get my teeth fixed", "Register with a dentist"),
    ("Do a cooking course", "Enrol at the community college"),
    ("Feel safe where I sleep", "Safety plan with the IDVA"),
]
ASPIRATIONS = [
    "A place of my own, a job with my hands, and seeing my daughter at weekends.",
    "To be clean and stay out of prison. To be someone my mum is proud of.",
    "Somewhere quiet. Getting back into football.",
    "To feel safe. To stop going round in circles with services.",
]
STRENGTHS = [
    "Funny, loyal to friends, good with animals. Kept a tenancy for two years before.",
    "Determined. Knows the city inside out. Helps other people at the hostel.",
    "Honest about what is going on. Artistic.",
]
NOTES_SEEN = [
    "Coffee at the day centre. Talked about the flat and what went wrong last time.",
    "Walked to the GP together; waited with them.",
    "Met at the library. Low mood; agreed to meet again Friday.",
    "Went to the housing appointment together.",
]
PLACES = ["Day centre", "Old Market Square", "Hostel", "Library", "GP surgery", "Custody suite"]
SAFETY = [
    ("lone_working", "Do not visit alone: threats to staff at the last address."),
    ("risk_to_staff", "Can become aggressive when intoxicated. Meet in public places."),
    ("other", "Dog at the property is not always friendly; phone ahead."),
]
SPENDS = [
    ("food", "Breakfast and a food shop", "12.50"),
    ("travel", "Bus pass for appointments", "18.00"),
    ("phone", "Phone top-up so we can keep in touch", "10.00"),
    ("id_documents", "Birth certificate", "11.00"),
    ("clothing", "Warm coat", "35.00"),
]


@dataclass(frozen=True)
class CaseloadPerson:
    person: Person
    worker: User
    started: date
    team: list[Organisation]
    relationship: Relationship


def build(
    *,
    caseload: list[CaseloadPerson],
    closed: list[CaseloadPerson],
    navigation: Organisation,
    manager: User,
    peer_mentor: User,
    adult_social_care: Organisation,
    today: date,
    rng: random.Random,
) -> None:
    """Fill in the casework for people on (and formerly on) navigators' caseloads."""
    navigators = sorted({c.worker for c in caseload + closed}, key=lambda u: u.pk)
    year_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    for worker in navigators:
        Budget.objects.create(
            organisation=navigation,
            worker=worker,
            starts_on=year_start,
            ends_on=date(year_start.year + 1, 3, 31),
            amount=Decimal("600.00"),
            set_by=manager,
        )
    for i, item in enumerate(caseload):
        _allocation(item, navigation, manager, ended_on=None)
        if i % 4 == 0:
            Allocation.objects.create(
                person=item.person,
                organisation=navigation,
                worker=peer_mentor,
                kind=Allocation.Kind.CO_WORKER,
                started_on=item.started + timedelta(days=30),
                allocated_by=manager,
                relationship=item.relationship,
            )
        _contacts(item, navigation, today, rng, recent=i % 5 != 0)
        _plan(item, navigation, today, rng)
        if i % 6 == 0:
            kind, detail = SAFETY[rng.randrange(len(SAFETY))]
            SafetyMarker.objects.create(
                person=item.person,
                organisation=navigation,
                kind=kind,
                detail=detail,
                review_on=today + timedelta(days=90),
                recorded_by=item.worker,
            )
        for kind, purpose, amount in rng.sample(SPENDS, rng.randint(0, 2)):
            Spend.objects.create(
                person=item.person,
                organisation=navigation,
                worker=item.worker,
                spent_on=max(year_start, today - timedelta(days=rng.randint(1, 150))),
                kind=kind,
                amount=Decimal(amount),
                purpose=purpose,
                approved_by=manager,
            )
    if caseload:
        item = caseload[1 % len(caseload)]
        concern = SafeguardingConcern.objects.create(
            person=item.person,
            organisation=navigation,
            kind=SafeguardingConcern.Kind.ADULT,
            concern="A man staying at the flat is taking their money on benefit days.",
            sent_to=adult_social_care,
            status=SafeguardingConcern.Status.ENQUIRY,
            raised_by=item.worker,
            version=2,
        )
        SafeguardingUpdate.objects.create(
            concern=concern,
            status="sent",
            note=f"Sent to {adult_social_care}.",
            organisation=navigation,
            recorded_by=item.worker,
        )
        SafeguardingUpdate.objects.create(
            concern=concern,
            status="enquiry",
            note="Section 42 enquiry opened.",
            organisation=adult_social_care,
            recorded_by=manager,
        )
    reasons = [
        Closure.Reason.HOUSED,
        Closure.Reason.GOAL_REACHED,
        Closure.Reason.MOVED_AWAY,
        Closure.Reason.DECLINED,
        Closure.Reason.DIED,
        Closure.Reason.INSTITUTION,
    ]
    for i, item in enumerate(closed):
        reason = reasons[i % len(reasons)]
        closed_on = today - timedelta(days=rng.randint(10, 200))
        _allocation(item, navigation, manager, ended_on=closed_on)
        Relationship.objects.filter(pk=item.relationship.pk).update(ended_on=closed_on)
        _contacts(item, navigation, closed_on, rng, recent=True)
        review = None
        if reason == Closure.Reason.DECLINED:
            review = Review.objects.create(
                person=item.person,
                organisation=navigation,
                kind=Review.Kind.ENGAGEMENT,
                due_on=closed_on - timedelta(days=7),
                held_on=closed_on - timedelta(days=7),
                notes="They have told us clearly they do not want support now. The door "
                "stays open; outreach will say hello.",
                scheduled_by=item.worker,
            )
            review.organisations.set([navigation, *item.team[:2]])
        Closure.objects.create(
            person=item.person,
            organisation=navigation,
            reason=reason,
            closed_on=closed_on,
            note="",
            review=review,
            closed_by=manager,
        )
        if reason == Closure.Reason.DIED:
            Death.objects.create(
                person=item.person,
                died_on=closed_on,
                circumstances="Found unresponsive in a hostel room; suspected overdose.",
                organisation=navigation,
                recorded_by=manager,
            )


def _allocation(
    item: CaseloadPerson, navigation: Organisation, manager: User, *, ended_on: date | None
) -> None:
    Allocation.objects.create(
        person=item.person,
        organisation=navigation,
        worker=item.worker,
        kind=Allocation.Kind.LEAD,
        started_on=item.started,
        ended_on=ended_on,
        allocated_by=manager,
        relationship=item.relationship,
    )


def _contacts(
    item: CaseloadPerson, navigation: Organisation, until: date, rng: random.Random, *, recent: bool
) -> None:
    """Persistent contact: attempts and meetings every few days since allocation; for a
    few people nothing has worked for the last weeks (they show as not seen)."""
    day = item.started
    last = until - timedelta(days=1 if recent else 21)
    rows = []
    while day <= last:
        seen = rng.random() < 0.55
        method = (
            rng.choice(["in_person", "outreach", "phone", "text"])
            if not seen
            else (rng.choice(["in_person", "in_person", "phone", "via_service"]))
        )
        rows.append(
            Contact(
                person=item.person,
                organisation=navigation,
                worker=item.worker,
                occurred_on=day,
                method=method,
                successful=seen,
                where=rng.choice(PLACES) if method in {"in_person", "outreach"} else "",
                note=rng.choice(NOTES_SEEN) if seen else "",
            )
        )
        day += timedelta(days=rng.randint(2, 9))
    if not recent:
        for back in (14, 8, 3):
            rows.append(
                Contact(
                    person=item.person,
                    organisation=navigation,
                    worker=item.worker,
                    occurred_on=until - timedelta(days=back),
                    method="outreach",
                    successful=False,
                    where=rng.choice(PLACES),
                )
            )
    Contact.objects.bulk_create(rows)


def _plan(item: CaseloadPerson, navigation: Organisation, today: date, rng: random.Random) -> None:
    SupportPlan.objects.create(
        person=item.person,
        aspirations=rng.choice(ASPIRATIONS),
        strengths=rng.choice(STRENGTHS),
        updated_by=item.worker,
        updated_by_organisation=navigation,
    )
    helpers = [navigation, *item.team]
    for words, step in rng.sample(GOALS, rng.randint(1, 3)):
        status = rng.choices(
            [Goal.Status.ACTIVE, Goal.Status.ACHIEVED, Goal.Status.CHANGED], [6, 3, 1]
        )[0]
        goal = Goal.objects.create(
            person=item.person,
            organisation=navigation,
            in_their_words=words,
            target_on=today + timedelta(days=rng.randint(20, 200)),
            review_on=today + timedelta(days=rng.randint(7, 60)),
            status=status,
            created_by=item.worker,
        )
        Step.objects.create(
            goal=goal,
            description=step,
            organisation=rng.choice(helpers),
            target_on=today + timedelta(days=rng.randint(-10, 60)),
            done_on=today - timedelta(days=3) if status == Goal.Status.ACHIEVED else None,
            created_by=item.worker,
        )
        if rng.random() < 0.6:
            ProgressNote.objects.create(
                goal=goal,
                text="Went to the first appointment; next one booked.",
                organisation=navigation,
                recorded_by=item.worker,
            )
    Review.objects.create(
        person=item.person,
        organisation=navigation,
        kind=Review.Kind.PLAN,
        due_on=today + timedelta(days=rng.randint(-5, 40)),
        scheduled_by=item.worker,
    )
