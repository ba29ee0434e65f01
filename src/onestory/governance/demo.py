"""Information governance in the demo city: subject access and correction requests in each
state, two former clients past their retention date, and a manager's access reviews
(synthetic people only)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from onestory.access.models import Membership, Organisation, User
from onestory.governance.models import (
    AccessReview,
    RectificationRequest,
    RequestStatus,
    SubjectAccessRequest,
)
from onestory.governance.retention import years_after
from onestory.governance.services import months_after
from onestory.people.models import Person, TimelineEvent


def build(
    *,
    orgs: dict[str, Organisation],
    users: dict[str, User],
    people: list[Person],
    today: date,
    rng: random.Random,
) -> None:
    officer, hub = users["privacy.officer"], orgs["hub"]
    chosen = rng.sample(people, 4)
    for person, days_ago, status in [
        (chosen[0], 6, RequestStatus.OPEN),
        (chosen[1], 40, RequestStatus.OPEN),  # overdue: the tag shows on the list
        (chosen[2], 100, RequestStatus.CLOSED),
    ]:
        received = today - timedelta(days=days_ago)
        SubjectAccessRequest.objects.create(
            person=person,
            received_on=received,
            due_on=months_after(received, 1),
            requester="The person, in person at the day centre with their navigator",
            identity_checked="Known to their navigator; photo ID seen",
            status=status,
            produced_at=timezone.now() - timedelta(days=days_ago - 20)
            if status == RequestStatus.CLOSED
            else None,
            produced_by=officer if status == RequestStatus.CLOSED else None,
            sent_on=received + timedelta(days=25) if status == RequestStatus.CLOSED else None,
            recorded_by=officer,
            organisation=hub,
        )
    received = today - timedelta(days=9)
    RectificationRequest.objects.create(
        person=chosen[3],
        received_on=received,
        due_on=months_after(received, 1),
        what_is_wrong="My date of birth is wrong on the hospital's record: I was born in May.",
        where="Identity details from City Hospital",
        recorded_by=officer,
        organisation=hub,
    )
    # Two people last seen nine years ago: one with mental health entries (kept 20 years).
    long_ago = years_after(today, -9) - timedelta(days=40)
    housing = orgs["council_housing"]
    mental_health = orgs["mh_trust"]
    for given, family, with_mh in [("Wendy", "Formerly", False), ("Victor", "Longago", True)]:
        person = Person.objects.create(
            given_name=given, family_name=family, date_of_birth=date(1961, 4, 12)
        )
        TimelineEvent.objects.create(
            person=person,
            organisation=housing,
            category="homelessness",
            event_type="main_duty",
            occurred_on=long_ago,
            summary="Main housing duty accepted",
        )
        if with_mh:
            TimelineEvent.objects.create(
                person=person,
                organisation=mental_health,
                category="mental_health",
                event_type="discharge",
                occurred_on=long_ago,
                summary="Discharged from the community mental health team",
            )
    # The navigators' manager confirmed most roles last month.
    manager = users["manager.ruth"]
    for membership in Membership.objects.filter(
        organisation=manager.memberships.get().organisation
    ):
        if rng.random() < 0.7:
            review = AccessReview.objects.create(
                membership=membership, outcome=AccessReview.Outcome.KEPT, reviewed_by=manager
            )
            AccessReview.objects.filter(pk=review.pk).update(
                reviewed_at=timezone.now() - timedelta(days=rng.randint(20, 40))
            )
