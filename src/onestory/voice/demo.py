"""Barriers for the demo city: logged by navigators, some from declined referrals, in
every state from waiting for triage to resolved (synthetic people only)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from onestory.access.models import Organisation, User
from onestory.people.models import Person
from onestory.voice.models import (
    Answer,
    Barrier,
    BarrierGroup,
    BarrierPerson,
    BarrierUpdate,
    FeedbackResponse,
    PanelMeeting,
    PublicStory,
    Recommendation,
)

# (days ago, category, impact, owner key or "", status, what happened, service or rule, answer)
BARRIERS = [
    (200, "address_id", "stopped", "council_housing", "resolved",
     "Could not register with the housing register without photo ID; his was stolen.",
     "Housing register: photo ID at registration",
     "Register now accepts a navigator's letter of identity for people sleeping rough."),
    (150, "repeat_story", "harmed", "mh_trust", "resolved",
     "Asked to tell her history again at a third assessment in a month.",
     "Crisis team assessment",
     "Assessors read the OneStory summary first and only ask what is missing."),
    (120, "appointments", "delayed", "recovery_service", "responded",
     "Missed two morning appointments while sleeping rough; discharged for non-attendance.",
     "Recovery service: discharge after two missed appointments",
     "We are piloting afternoon drop-in slots and no discharge without a call to the navigator."),
    (100, "eligibility", "stopped", "council_housing", "assigned",
     "Turned away from the housing register: no two years' local connection.",
     "Housing register: local connection rule", ""),
    (60, "digital", "delayed", "", "new",
     "Benefit claim only online; no phone and the library was closed.",
     "Universal Credit claim", ""),
    (40, "hours", "delayed", "mh_trust", "assigned",
     "Crisis café closed on Sunday evenings, when he most needs it.",
     "Crisis café opening hours", ""),
    (25, "attitudes", "harmed", "", "new",
     "Receptionist told her to come back when she was sober.",
     "GP surgery reception", ""),
    (10, "conflicting", "work", "", "new",
     "Probation appointment and methadone pick-up at the same time across the city.",
     "Probation and pharmacy times", ""),
]  # fmt: skip


def build(
    *,
    orgs: dict[str, Organisation],
    users: dict[str, User],
    people: list[Person],
    today: date,
    rng: random.Random,
) -> None:
    navigator = users["nav.amira"]
    membership = navigator.memberships.select_related("organisation").first()
    assert membership is not None
    organisation = membership.organisation
    group = BarrierGroup.objects.create(
        title="Rules that need an address, ID or a fixed routine", created_by=users["board.chair"]
    )
    for days, category, impact, owner_key, status, what, rule, answer in BARRIERS:
        raised = today - timedelta(days=days)
        owner = orgs.get(owner_key) if owner_key else None
        barrier = Barrier.objects.create(
            what_happened=what,
            service_or_rule=rule,
            category=category,
            impact=impact,
            raised_by=navigator,
            raised_by_organisation=organisation,
            raised_on=raised,
            status=status,
            owner=owner,
            group=group if category in {"address_id", "appointments", "eligibility"} else None,
            resolved_on=raised + timedelta(days=60) if status == "resolved" else None,
        )
        if people:
            BarrierPerson.objects.create(barrier=barrier, person=rng.choice(people))
        history: list[tuple[str, str, Organisation | None, User | None, date]] = [
            (BarrierUpdate.Kind.RAISED, "", organisation, navigator, raised)
        ]
        if owner is not None:
            history.append(
                (BarrierUpdate.Kind.ASSIGNED, f"Assigned to {owner}.", None, users["board.chair"],
                 raised + timedelta(days=7))
            )  # fmt: skip
        if status in {"responded", "resolved"}:
            history.append(
                (BarrierUpdate.Kind.RESPONSE, answer, owner, None, raised + timedelta(days=30))
            )
        if status == "resolved":
            history.append(
                (BarrierUpdate.Kind.RESOLVED, answer, owner, None, raised + timedelta(days=60))
            )
        for kind, text, org, by, on in history:
            BarrierUpdate.objects.create(
                barrier=barrier, kind=kind, text=text, organisation=org, written_by=by, on=on
            )

    _panel_and_feedback(orgs=orgs, users=users, today=today, rng=rng, navigation=organisation)


def _panel_and_feedback(
    *,
    orgs: dict[str, Organisation],
    users: dict[str, User],
    today: date,
    rng: random.Random,
    navigation: Organisation,
) -> None:
    chair = users["board.chair"]
    meeting = PanelMeeting.objects.create(
        held_on=today - timedelta(days=45),
        theme="First contact with services",
        summary="Panel members talked about the first time they asked for help: long waits, "
        "being asked for ID they did not have, and having to explain everything again.",
        recorded_by=chair,
    )
    answered = Recommendation.objects.create(
        meeting=meeting,
        text="Let people book and move appointments by text message.",
        organisation=orgs["recovery_service"],
        status=Recommendation.Status.CHANGED,
        response="Agreed. We have set up a text line staffed every weekday.",
        what_changed="Appointments can now be booked and moved by text.",
        responded_on=today - timedelta(days=20),
    )
    Recommendation.objects.create(
        meeting=meeting,
        text="Have a peer mentor at the housing options front desk on Mondays.",
        organisation=orgs["council_housing"],
    )
    PublicStory.objects.create(
        you_said=answered.text,
        we_did=answered.what_changed,
        recommendation=answered,
        published_on=today - timedelta(days=15),
        published_by=chair,
    )
    resolved = Barrier.objects.filter(status=Barrier.Status.RESOLVED).order_by("pk")
    for barrier in resolved[:2]:
        last = barrier.updates.filter(kind=BarrierUpdate.Kind.RESOLVED).last()
        PublicStory.objects.create(
            you_said=barrier.service_or_rule + ": " + barrier.get_category_display().lower(),
            we_did=last.text if last else "",
            barrier=barrier,
            published_on=(barrier.resolved_on or today),
            published_by=chair,
        )
    answers = [Answer.YES, Answer.YES, Answer.A_BIT, Answer.NO, Answer.SKIP]
    for _ in range(40):
        FeedbackResponse.objects.create(
            organisation=navigation,
            submitted_on=today - timedelta(days=rng.randrange(0, 80)),
            listened=rng.choice(answers),
            told_once=rng.choice(answers),
            have_a_say=rng.choice(answers),
            right_help=rng.choice(answers),
            better=rng.choice(["", "", "Ring back when you say you will.", "More evening hours."]),
        )
