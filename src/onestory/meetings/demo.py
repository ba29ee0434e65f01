"""Partnership working for the demo city: directory entries, referrals in every state, a
multi-agency meeting with actions (synthetic people only)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from onestory.access.models import Organisation, Service, User
from onestory.consent.models import SharingDecision
from onestory.meetings.models import Action, AgendaItem, Meeting
from onestory.people.models import Person, Relationship
from onestory.referrals.models import Referral

SERVICES = [
    ("navigator_register", "Navigator drop-in", "Breakfast, showers, a phone charger and a "
     "navigator to talk to. No appointment, no ID.", {"drop_in": True, "no_id_needed": True,
     "no_fixed_address_ok": True, "accepts_dogs": True, "step_free": True}),
    ("council_housing", "Housing options", "Advice and assessment for anyone homeless or at "
     "risk. Duty to Refer referrals come here.", {"self_referral": True,
     "no_fixed_address_ok": True, "step_free": True}),
    ("recovery_service", "Open access recovery hub", "Drug and alcohol assessment, needle "
     "exchange, naloxone.", {"drop_in": True, "self_referral": True, "no_id_needed": True}),
    ("idva_service", "Women's safe space", "IDVA support and a women-only drop-in.",
     {"women_only_space": True, "drop_in": True}),
    ("mh_trust", "Crisis café", "Evening mental health crisis support.", {"drop_in": True}),
]  # fmt: skip


def build(
    *,
    orgs: dict[str, Organisation],
    users: dict[str, User],
    people: list[Person],
    today: date,
    rng: random.Random,
) -> None:
    for key, name, description, flags in SERVICES:
        if key in orgs:
            Service.objects.get_or_create(
                organisation=orgs[key],
                name=name,
                defaults={
                    "description": description,
                    "hours": "Monday to Friday, 9am to 4pm",
                    "location": "Trentside city centre",
                    **flags,
                },
            )
    nav = orgs["navigator_register"]
    navigator = users["nav.amira"]
    targets = [
        (orgs["council_housing"], users["housing.tom"]),
        (orgs["recovery_service"], users["recovery.worker"]),
        (orgs["mh_trust"], users["mh.nurse"]),
    ]
    statuses = ["accepted", "sent", "declined", "more_info", "accepted", "sent"]
    for i, person in enumerate(people[:6]):
        org, worker = targets[i % len(targets)]
        shares = SharingDecision.objects.filter(person=person, organisation=org).exists()
        if not shares:
            SharingDecision.objects.create(
                person=person,
                organisation=org,
                categories=["about_me", "homelessness", "substance_misuse", "mental_health"],
                basis="consent",
                recorded_by=navigator,
                recorded_by_organisation=nav,
                review_on=today + timedelta(days=180),
            )
        status = statuses[i]
        created = timezone.now() - timedelta(days=rng.randint(1, 20))
        referral = Referral.objects.create(
            person=person,
            from_organisation=nav,
            sent_by=navigator,
            to_organisation=org,
            reason="Sleeping rough since the eviction; using more.",
            what_they_want="Somewhere safe, and help to cut down.",
            duty_to_refer=org.org_type == "council_housing",
            respond_by=today + timedelta(days=rng.randint(-3, 5)),
            status=status,
            decline_reason="no_capacity" if status == "declined" else "",
            decided_by=worker if status in {"accepted", "declined"} else None,
            decided_at=created + timedelta(days=2) if status in {"accepted", "declined"} else None,
        )
        Referral.objects.filter(pk=referral.pk).update(created_at=created)
        if status == "accepted":
            relationship = Relationship.objects.create(
                person=person,
                organisation=org,
                kind=Relationship.Kind.REFERRAL,
                worker=worker,
                started_on=today - timedelta(days=1),
            )
            Referral.objects.filter(pk=referral.pk).update(relationship=relationship)
    if people:
        meeting = Meeting.objects.create(
            title="Complex needs panel",
            held_on=today - timedelta(days=7),
            host=nav,
            created_by=users["manager.ruth"],
        )
        meeting.organisations.set([nav, *[o for o, _ in targets], orgs["probation"]])
        for person in people[:3]:
            item = AgendaItem.objects.create(
                meeting=meeting,
                person=person,
                discussion="Missed appointments since the eviction; wants to stay in the city.",
                decisions="Joint visit this week; housing to assess.",
                added_by=users["manager.ruth"],
            )
            Action.objects.create(
                person=person,
                item=item,
                description="Joint visit with the navigator",
                owner_organisation=targets[0][0],
                owner=targets[0][1],
                due_on=today + timedelta(days=rng.randint(-3, 10)),
                created_by=users["manager.ruth"],
            )
