"""One-to-one support: the caseload cap, persistence, the closing rule, safeguarding
routing, plans, budgets, migration, and every access rule on these records."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.access.models import Membership, Organisation
from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.audit.services import audited_command
from onestory.casework import services
from onestory.casework.models import (
    Allocation,
    Budget,
    Closure,
    Contact,
    Death,
    Goal,
    MigrationQuarantine,
    MigrationRun,
    Review,
    SafeguardingConcern,
    SafetyMarker,
    Spend,
    Step,
    SupportPlan,
)
from onestory.consent.models import SharingDecision
from onestory.people.models import Person, Relationship, TimelineEvent
from tests.conftest import World, make_user, relate, share, signed_in_client

TODAY = timezone.localdate


def ctx(world: World, name: str) -> AccessContext:
    user = world.user(name)
    membership = user.memberships.select_related("organisation").first()
    assert membership is not None
    return AccessContext(user=user, membership=membership)


def person_in_caseload(world: World, n: int) -> list[Person]:
    """``n`` people the navigators' organisation may open (relationship and sharing)."""
    people = []
    for i in range(n):
        person = Person.objects.create(given_name=f"Case{i}", family_name="Person")
        relate(person, world.nav_org, kind="service_episode")
        share(person, world.nav_org, world.user("navigator"))
        people.append(person)
    return people


def allocate(world: World, person: Person, worker: str = "navigator", **kw: Any) -> Allocation:
    with audited_command("test"):
        return services.allocation_create(
            actor=ctx(world, kw.pop("by", worker)),
            person=person,
            worker=world.user(worker),
            kind=kw.pop("kind", "lead"),
            **kw,
        )


# --- caseload cap and allocation


def test_the_cap_needs_a_managers_agreement(world: World, settings: Any) -> None:
    settings.ONESTORY = {**settings.ONESTORY, "CASELOAD_CAP": 3}
    people = person_in_caseload(world, 4)
    for person in people[:3]:
        allocate(world, person)
    # A navigator cannot take a fourth person...
    navigator = signed_in_client(world.user("navigator"))
    before = Allocation.objects.count()
    response = navigator.post(
        f"/people/{people[3].pk}/allocate/",
        {"worker": world.user("navigator").pk, "kind": "lead"},
    )
    assert response.status_code == 200
    assert "the cap is 3" in response.content.decode()
    assert Allocation.objects.count() == before
    # ...nor can a manager without saying they agree...
    with pytest.raises(services.OverCap):
        allocate(world, people[3], by="manager")
    # ...but a manager's agreement allows it, and is recorded.
    manager = signed_in_client(world.user("manager"))
    response = manager.post(
        f"/people/{people[3].pk}/allocate/",
        {"worker": world.user("navigator").pk, "kind": "lead", "agree_over_cap": "on"},
    )
    assert response.status_code == 302
    over = Allocation.objects.get(person=people[3])
    assert over.over_cap_agreed_by == world.user("manager")
    assert services.caseload_size(world.user("navigator"), world.nav_org.pk) == 4


def test_a_navigator_allocates_only_themself(world: World) -> None:
    (person,) = person_in_caseload(world, 1)
    with pytest.raises(services.CaseworkError, match="Only a manager"):
        allocate(world, person, worker="peer_mentor", by="navigator")
    assert not Allocation.objects.exists()


def test_reallocation_keeps_history_and_a_handover_note(world: World) -> None:
    (person,) = person_in_caseload(world, 1)
    first = allocate(world, person, by="manager")
    second = make_user("second_nav", world.nav_org, Role.NAVIGATOR)
    with audited_command("test"):
        services.allocation_create(
            actor=ctx(world, "manager"),
            person=person,
            worker=second,
            kind="lead",
            handover_note="Likes to meet at the library; avoid Mondays.",
        )
    first.refresh_from_db()
    assert first.ended_on == TODAY()
    assert first.handover_note.startswith("Likes to meet")
    current = Allocation.objects.get(person=person, ended_on__isnull=True)
    assert current.worker == second
    # Allocation created the caseload relationship, now naming the new lead.
    relationship = Relationship.objects.get(person=person, kind="caseload")
    assert relationship.worker == second
    assert Allocation.objects.filter(person=person).count() == 2


def test_allocation_creates_the_relationship_that_opens_the_record(world: World) -> None:
    client = signed_in_client(world.user("navigator"))
    response = client.post("/people/new/", {"given_name": "Dee", "family_name": "Outreach"})
    person = Person.objects.get(family_name="Outreach")
    assert response["Location"] == f"/people/{person.pk}/sharing/new/"
    assert Relationship.objects.filter(person=person, organisation=world.nav_org).exists()
    # With the relationship the navigator can record the person's sharing decision.
    assert client.get(f"/people/{person.pk}/sharing/new/").status_code == 200


# --- persistence


def test_persistence_flags_people_not_seen(world: World, settings: Any) -> None:
    settings.ONESTORY = {**settings.ONESTORY, "NOT_SEEN_DAYS": 14}
    seen, unseen, never = person_in_caseload(world, 3)
    for person in (seen, unseen, never):
        allocate(world, person)
    client = signed_in_client(world.user("navigator"))

    def contact(person: Person, days_ago: int, ok: bool) -> None:
        response = client.post(
            f"/people/{person.pk}/contacts/",
            {
                "occurred_on": (TODAY() - timedelta(days=days_ago)).isoformat(),
                "method": "in_person" if ok else "outreach",
                "successful": "yes" if ok else "no",
                "where": "Day centre",
            },
        )
        assert response.status_code == 302

    contact(seen, 2, True)
    contact(unseen, 20, True)
    contact(unseen, 10, False)
    contact(unseen, 5, False)
    contact(never, 3, False)
    from onestory.casework.selectors import persistence

    facts = persistence([seen.pk, unseen.pk, never.pk])
    assert not facts[seen.pk].flagged
    assert facts[unseen.pk].flagged
    assert facts[unseen.pk].attempts_since == 2
    assert facts[unseen.pk].days_since == 20
    assert facts[never.pk].flagged
    assert facts[never.pk].last_contact is None
    page = client.get("/caseload/").content.decode()
    assert page.count("Not seen for 14+ days") == 2
    # Flagged people come first.
    assert page.index("Case1") < page.index("Case0")
    assert "2 attempts since" in page


def test_a_contact_cannot_be_in_the_future(world: World) -> None:
    client = signed_in_client(world.user("navigator"))
    response = client.post(
        f"/people/{world.alice.pk}/contacts/",
        {
            "occurred_on": (TODAY() + timedelta(days=1)).isoformat(),
            "method": "phone",
            "successful": "yes",
        },
    )
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not Contact.objects.exists()


# --- closing support


def _close(client: Client, person: Person, reason: str) -> Any:
    return client.post(
        f"/people/{person.pk}/close/", {"reason": reason, "closed_on": TODAY().isoformat()}
    )


def test_not_engaging_alone_never_closes_support(world: World) -> None:
    allocate(world, world.alice)
    manager = signed_in_client(world.user("manager"))
    for reason in ("not_engaging", "declined_after_review"):
        response = _close(manager, world.alice, reason)
        assert response.status_code == 200
        assert "Record a review" in response.content.decode()
    assert not Closure.objects.exists()
    assert Allocation.objects.filter(person=world.alice, ended_on__isnull=True).exists()
    # A review with the organisations that took part makes "declined" possible.
    review = Review.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        kind="engagement",
        due_on=TODAY(),
        scheduled_by=world.user("navigator"),
    )
    navigator = signed_in_client(world.user("navigator"))
    response = navigator.post(
        f"/people/{world.alice.pk}/reviews/{review.pk}/",
        {"held_on": TODAY().isoformat(), "notes": "Agreed to pause; door stays open"},
    )
    assert response.status_code == 200  # no organisations: refused
    response = navigator.post(
        f"/people/{world.alice.pk}/reviews/{review.pk}/",
        {
            "held_on": TODAY().isoformat(),
            "organisations": [world.nav_org.pk, world.housing_org.pk],
            "notes": "Agreed to pause; door stays open",
        },
    )
    assert response.status_code == 302
    response = _close(manager, world.alice, "declined_after_review")
    assert response.status_code == 302
    closure = Closure.objects.get()
    assert closure.review == review
    assert not Allocation.objects.filter(person=world.alice, ended_on__isnull=True).exists()
    assert not Relationship.objects.filter(
        person=world.alice, organisation=world.nav_org, kind="caseload", ended_on__isnull=True
    ).exists()


def test_an_old_review_is_not_enough(world: World) -> None:
    allocate(world, world.alice)
    review = Review.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        kind="engagement",
        due_on=TODAY() - timedelta(days=200),
        held_on=TODAY() - timedelta(days=200),
        scheduled_by=world.user("navigator"),
    )
    review.organisations.set([world.nav_org])
    response = _close(signed_in_client(world.user("manager")), world.alice, "declined_after_review")
    assert response.status_code == 200
    assert not Closure.objects.exists()


def test_a_death_is_recorded_for_review(world: World) -> None:
    allocate(world, world.alice)
    manager = signed_in_client(world.user("manager"))
    response = manager.post(
        f"/people/{world.alice.pk}/close/",
        {"reason": "died", "closed_on": TODAY().isoformat(), "died_on": TODAY().isoformat()},
    )
    assert response.status_code == 302
    death = Death.objects.get(person=world.alice)
    assert death.review_status == "not_started"
    assert "Alice" in manager.get("/deaths/").content.decode()
    response = manager.post(
        f"/deaths/{death.pk}/", {"status": "complete", "learning": "Earlier ED follow-up."}
    )
    assert response.status_code == 302
    death.refresh_from_db()
    assert death.review_status == "complete"
    # The person page says so to anyone who may still open it (housing, in her team);
    # closing ended the navigators' own caseload relationship.
    page = signed_in_client(world.user("practitioner")).get(f"/people/{world.alice.pk}/")
    assert "died on" in page.content.decode()
    navigator = signed_in_client(world.user("navigator"))
    assert navigator.get(f"/people/{world.alice.pk}/").status_code == 404


def test_review_records_and_death_reviews_are_appended_never_overwritten(world: World) -> None:
    """Rule 8: recording a review again, or updating a death review, adds a version; every
    earlier one stays, with who recorded it, and shows on the entry's page."""
    from onestory.casework.models import EntryRevision

    allocate(world, world.alice)
    review = Review.objects.create(person=world.alice, organisation=world.nav_org, kind="plan",
                                   due_on=TODAY(), scheduled_by=world.user("navigator"))  # fmt: skip
    navigator = signed_in_client(world.user("navigator"))
    for notes in ("First: agreed a GP visit", "Corrected: agreed a dentist visit"):
        response = navigator.post(
            f"/people/{world.alice.pk}/reviews/{review.pk}/",
            {"held_on": TODAY().isoformat(), "organisations": [world.nav_org.pk], "notes": notes},
        )
        assert response.status_code == 302
    review.refresh_from_db()
    assert review.notes == "Corrected: agreed a dentist visit"
    versions = EntryRevision.objects.filter(kind="review", entry_id=review.pk)
    assert [v.number for v in versions] == [2, 1]
    assert [v.values["What was agreed"] for v in versions] == [
        "Corrected: agreed a dentist visit",
        "First: agreed a GP visit",
    ]
    page = navigator.get(f"/people/{world.alice.pk}/reviews/{review.pk}/").content.decode()
    assert "First: agreed a GP visit" in page and "Version 2 (latest)" in page

    manager = signed_in_client(world.user("manager"))
    manager.post(f"/people/{world.alice.pk}/close/",
                 {"reason": "died", "closed_on": TODAY().isoformat(),
                  "died_on": TODAY().isoformat()})  # fmt: skip
    death = Death.objects.get(person=world.alice)
    for status, learning in (("under_way", "Talking to the GP"), ("complete", "Earlier follow-up")):
        response = manager.post(f"/deaths/{death.pk}/", {"status": status, "learning": learning})
        assert response.status_code == 302
    kept = EntryRevision.objects.filter(kind="death_review", entry_id=death.pk)
    assert [v.values["What we learnt"] for v in kept] == ["Earlier follow-up", "Talking to the GP"]
    assert {v.recorded_by for v in kept} == {world.user("manager")}
    page = manager.get(f"/deaths/{death.pk}/").content.decode()
    assert "Talking to the GP" in page and "Review under way" in page


def test_only_a_manager_closes_support(world: World) -> None:
    allocate(world, world.alice)
    response = _close(signed_in_client(world.user("navigator")), world.alice, "housed")
    assert response.status_code == 403
    assert not Closure.objects.exists()


# --- safeguarding


def _raise(world: World, client: Client, kind: str, **extra: Any) -> Any:
    return client.post(
        f"/people/{world.alice.pk}/safeguarding/new/",
        {"kind": kind, "concern": "Someone is taking her benefits", **extra},
    )


def test_safeguarding_goes_to_the_organisation_that_handles_it(world: World) -> None:
    navigator = signed_in_client(world.user("navigator"))
    # Nobody handles it yet: a clear message, nothing stored.
    response = _raise(world, navigator, "adult")
    assert "No organisation in OneStory takes adult at risk" in response.content.decode()
    assert not SafeguardingConcern.objects.exists()
    adults = Organisation.objects.create(
        name="City Adult Social Care", org_type="adult_social_care"
    )
    children = Organisation.objects.create(
        name="City Children's Services", org_type="childrens_services"
    )
    assert _raise(world, navigator, "adult").status_code == 302
    assert _raise(world, navigator, "child").status_code == 302
    adult, child = SafeguardingConcern.objects.order_by("pk")
    assert adult.sent_to == adults
    assert child.sent_to == children
    # An adult concern cannot be sent to children's services.
    response = _raise(world, navigator, "adult", sent_to=children.pk)
    assert "does not take this kind of concern" in response.content.decode()
    assert SafeguardingConcern.objects.count() == 2
    # Two organisations take adult concerns: the raiser must choose.
    Organisation.objects.create(name="County Adult Social Care", org_type="adult_social_care")
    response = _raise(world, navigator, "adult")
    assert "Choose which organisation" in response.content.decode()
    # The receiving organisation sees the concern and, under the safeguarding override,
    # the person's contact, About me and safety information; nothing else.
    social_worker = make_user("social_worker", adults, Role.PRACTITIONER)
    receiver = signed_in_client(social_worker)
    listing = receiver.get("/safeguarding/").content.decode()
    assert "Alice Marsh" in listing
    override = SharingDecision.objects.get(organisation=adults)
    assert override.basis == "safeguarding"
    page = receiver.get(f"/people/{world.alice.pk}/").content.decode()
    assert "12 Forest Road" in page
    assert "arrest" not in page.lower()
    response = receiver.post(
        f"/safeguarding/{adult.pk}/",
        {"status": "enquiry", "note": "Section 42 enquiry opened", "based_on_version": 1},
    )
    assert response.status_code == 302
    adult.refresh_from_db()
    assert adult.status == "enquiry"
    # A stale form (someone else updated first) is refused, not lost.
    response = receiver.post(
        f"/safeguarding/{adult.pk}/",
        {"status": "closed", "note": "late", "based_on_version": 1},
    )
    assert "Someone else updated" in response.content.decode()
    adult.refresh_from_db()
    assert adult.status == "enquiry"
    # The raiser can follow it, but not update it.
    assert navigator.get(f"/safeguarding/{adult.pk}/").status_code == 200
    response = navigator.post(
        f"/safeguarding/{adult.pk}/", {"status": "closed", "based_on_version": 2}
    )
    assert response.status_code == 403
    # Closing it ends the safeguarding relationship.
    receiver.post(f"/safeguarding/{adult.pk}/", {"status": "closed", "based_on_version": 2})
    assert not Relationship.objects.filter(
        organisation=adults, kind="safeguarding", ended_on__isnull=True
    ).exists()


def test_peer_mentors_can_raise_a_concern(world: World) -> None:
    Organisation.objects.create(name="City Adult Social Care", org_type="adult_social_care")
    response = _raise(world, signed_in_client(world.user("peer_mentor")), "adult")
    assert response.status_code == 302
    assert SafeguardingConcern.objects.get().raised_by == world.user("peer_mentor")


# --- support plan


def test_a_plan_in_their_words_with_steps_for_the_team(world: World) -> None:
    client = signed_in_client(world.user("navigator"))
    response = client.post(
        f"/people/{world.alice.pk}/plan/edit/",
        {"aspirations": "A flat with room for Pepper", "strengths": "Loyal", "based_on_version": 0},
    )
    assert response.status_code == 302
    response = client.post(
        f"/people/{world.alice.pk}/goals/new/",
        {"in_their_words": "Get my own flat", "target_on": "2027-06-01"},
    )
    goal = Goal.objects.get()
    assert response["Location"] == f"/people/{world.alice.pk}/goals/{goal.pk}/"
    for organisation, text in ((world.nav_org, "Bidding support"), (world.housing_org, "Assess")):
        response = client.post(
            f"/people/{world.alice.pk}/goals/{goal.pk}/",
            {"action": "step", "step-description": text, "step-organisation": organisation.pk},
        )
        assert response.status_code == 302
    assert set(Step.objects.values_list("organisation__name", flat=True)) == {
        world.nav_org.name,
        world.housing_org.name,
    }
    # A step cannot go to an organisation outside the team around the person.
    response = client.post(
        f"/people/{world.alice.pk}/goals/{goal.pk}/",
        {"action": "step", "step-description": "Bail", "step-organisation": world.police_org.pk},
    )
    assert response.status_code == 200
    assert Step.objects.count() == 2
    # The housing practitioner sees the steps given to them on their caseload's open actions.
    step = Step.objects.get(organisation=world.housing_org)
    response = client.post(
        f"/people/{world.alice.pk}/goals/{goal.pk}/",
        {"action": "done", "step": step.pk},
    )
    step.refresh_from_db()
    assert step.done_on == TODAY()
    response = client.post(
        f"/people/{world.alice.pk}/goals/{goal.pk}/",
        {"action": "status", "status-status": "achieved", "status-based_on_version": 1},
    )
    goal.refresh_from_db()
    assert goal.status == "achieved"


def test_concurrent_plan_edits_never_lose_an_update(world: World) -> None:
    client = signed_in_client(world.user("navigator"))
    client.post(
        f"/people/{world.alice.pk}/plan/edit/",
        {"aspirations": "First", "based_on_version": 0},
    )
    client.post(
        f"/people/{world.alice.pk}/plan/edit/",
        {"aspirations": "Second, on top of the first", "based_on_version": 1},
    )
    response = client.post(
        f"/people/{world.alice.pk}/plan/edit/",
        {"aspirations": "Third, from a stale page", "based_on_version": 1},
    )
    assert response.status_code == 200
    assert "Someone else changed the plan" in response.content.decode()
    plan = SupportPlan.objects.get()
    assert plan.aspirations == "Second, on top of the first"
    assert plan.version == 2


# --- access rules on these records


def _casework_for_alice(world: World) -> None:
    allocate(world, world.alice)
    with audited_command("test"):
        from onestory.access.scope import person_get

        view = person_get(ctx(world, "navigator"), world.alice.pk)
        services.contact_record(
            actor=ctx(world, "navigator"),
            view=view,
            occurred_on=TODAY(),
            method="in_person",
            successful=True,
            note="Talked about her dad's funeral",
        )
        services.safety_marker_add(
            actor=ctx(world, "navigator"), view=view, kind="lone_working", detail="Two workers"
        )
        services.plan_save(
            actor=ctx(world, "navigator"),
            view=view,
            aspirations="Work with dogs",
            strengths="Patient",
            based_on_version=0,
        )


def test_a_co_worker_elsewhere_sees_only_what_is_shared(world: World) -> None:
    """The housing practitioner's organisation has homelessness, About me and contact
    details shared: no case notes (contacts, spends), no plan, no safety."""
    _casework_for_alice(world)
    housing = signed_in_client(world.user("practitioner"))
    contacts = housing.get(f"/people/{world.alice.pk}/contacts/").content.decode()
    assert "funeral" not in contacts
    assert "has not agreed to share case notes" in contacts
    plan = housing.get(f"/people/{world.alice.pk}/plan/").content.decode()
    assert "Work with dogs" not in plan
    safety = housing.get(f"/people/{world.alice.pk}/safety/").content.decode()
    assert "Two workers" not in safety
    page = housing.get(f"/people/{world.alice.pk}/").content.decode()
    assert "Two workers" not in page
    # Writing what they cannot see is refused and changes nothing.
    before = SafetyMarker.objects.count()
    response = housing.post(f"/people/{world.alice.pk}/safety/", {"kind": "other", "detail": "x"})
    assert response.status_code == 403
    assert SafetyMarker.objects.count() == before


def test_a_peer_mentor_sees_no_case_notes_justice_or_health(world: World) -> None:
    _casework_for_alice(world)
    peer = signed_in_client(world.user("peer_mentor"))
    page = peer.get(f"/people/{world.alice.pk}/").content.decode()
    assert "Two workers" in page  # safety markers before a visit
    for hidden in ("Arrest", "Attendance", "Crisis contact"):
        assert hidden not in page
    assert "funeral" not in peer.get(f"/people/{world.alice.pk}/contacts/").content.decode()
    assert "Work with dogs" in peer.get(f"/people/{world.alice.pk}/plan/").content.decode()
    # They may record a contact (they see the persistence, not the log).
    response = peer.post(
        f"/people/{world.alice.pk}/contacts/",
        {"occurred_on": TODAY().isoformat(), "method": "text", "successful": "no"},
    )
    assert response.status_code == 302


def test_every_read_is_audited(world: World) -> None:
    _casework_for_alice(world)
    client = signed_in_client(world.user("navigator"))
    for path in ("contacts", "plan", "safety", "spends"):
        before = AuditEvent.objects.count()
        assert client.get(f"/people/{world.alice.pk}/{path}/").status_code == 200
        event = AuditEvent.objects.order_by("-seq").first()
        assert event is not None
        assert AuditEvent.objects.count() == before + 1
        assert world.alice.pk in event.person_ids, path
    before = AuditEvent.objects.count()
    client.get("/caseload/")
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and world.alice.pk in event.person_ids


def test_an_outsider_gets_404_for_every_person_page(world: World) -> None:
    _casework_for_alice(world)
    outsider = signed_in_client(world.user("outsider"))
    for path in ("contacts", "plan", "safety", "spends", "allocate"):
        assert outsider.get(f"/people/{world.alice.pk}/{path}/").status_code == 404


def test_my_caseload_shows_what_needs_attention(world: World) -> None:
    _casework_for_alice(world)
    TimelineEvent.objects.create(
        person=world.alice,
        organisation=world.housing_org,
        category="health",
        event_type="attendance",
        occurred_on=TODAY(),
    )
    review = Review.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        due_on=TODAY() - timedelta(days=1),
        scheduled_by=world.user("navigator"),
    )
    page = signed_in_client(world.user("navigator")).get("/caseload/").content.decode()
    assert "Do not visit alone" in page
    assert "New: Attendance" in page
    assert "Overdue" in page
    assert review.due_on.strftime("%-d %b %Y") in page
    # Opening the person marks the events as seen.
    signed_in_client(world.user("navigator")).get(f"/people/{world.alice.pk}/")
    page = signed_in_client(world.user("navigator")).get("/caseload/").content.decode()
    assert "New: Attendance" not in page


def test_caseload_news_hides_sealed_entries_and_shows_the_newest_five(world: World) -> None:
    _casework_for_alice(world)
    for days in range(7):
        TimelineEvent.objects.create(
            person=world.alice,
            organisation=world.housing_org,
            category="health",
            event_type="attendance",
            occurred_on=TODAY() - timedelta(days=days),
        )
    TimelineEvent.objects.create(
        person=world.alice,
        organisation=world.housing_org,
        category="health",
        event_type="admission",
        occurred_on=TODAY(),
        sealed=True,
    )
    page = signed_in_client(world.user("navigator")).get("/caseload/").content.decode()
    assert page.count("New: Attendance") == 5
    assert (TODAY() - timedelta(days=4)).strftime("%-d %b") in page
    assert f"New: Attendance on {(TODAY() - timedelta(days=5)).strftime('%-d %b')}" not in page
    assert "New: Admission" not in page  # sealed by another organisation


# --- flexible personal budget


def test_spends_stay_within_budget_and_need_a_managers_approval(world: World) -> None:
    client = signed_in_client(world.user("navigator"))

    def spend(amount: str, approver: str = "manager") -> Any:
        return client.post(
            f"/people/{world.alice.pk}/spends/",
            {
                "spent_on": TODAY().isoformat(),
                "kind": "travel",
                "amount": amount,
                "purpose": "Bus pass",
                "approved_by": world.user(approver).pk,
            },
        )

    assert "no personal budget" in spend("5").content.decode()
    Budget.objects.create(
        organisation=world.nav_org,
        worker=world.user("navigator"),
        starts_on=TODAY() - timedelta(days=30),
        ends_on=TODAY() + timedelta(days=30),
        amount=Decimal("50"),
        set_by=world.user("manager"),
    )
    assert spend("30").status_code == 302
    assert "more than your budget has left" in spend("25").content.decode()
    assert spend("20").status_code == 302
    assert Spend.objects.count() == 2
    report = signed_in_client(world.user("manager")).get("/budgets/").content.decode()
    assert "50.00" in report and "Travel" in report
    assert "Alice" not in report  # the report is totals, not people


# --- caseload migration


TEMPLATE = """person_ref,given_name,family_name,date_of_birth,nhs_number,lead_worker,consent_recorded_on,what_matters,goal,contact_date,contact_method,contact_successful,contact_note
P1,Alice,Marsh,1984-03-09,9434765919,navigator_nav,2025-01-10,My dog,Own flat,2025-12-01,in_person,yes,At the hostel
P1,,,,,,,,,2025-12-08,phone,no,No answer
P2,Carl,New,02/05/1990,,navigator_nav,2025-02-01,Music,Get a job,2025-11-01,outreach,yes,
P3,Bad,Date,31/02/1990,,navigator_nav,,,,,,,
P4,Who,Knows,,,nobody_here,,,,,,,
,No,Ref,,,,,,,,,,
P5,Odd,Method,,,navigator_nav,,,,2025-11-01,carrier pigeon,yes,
"""


def test_a_caseload_migrates_with_its_history(world: World) -> None:
    manager = signed_in_client(world.user("manager"))
    upload = SimpleUploadedFile("caseload.csv", TEMPLATE.encode(), content_type="text/csv")
    response = manager.post("/caseload/migrate/", {"file": upload})
    assert response.status_code == 302
    run = MigrationRun.objects.get()
    assert (run.people_created, run.people_matched) == (1, 1)  # Alice matched by NHS number
    assert run.allocations == 2
    assert run.goals == 2
    assert run.contacts == 3
    reasons = dict(MigrationQuarantine.objects.values_list("row_number", "reason"))
    assert set(reasons) == {5, 6, 7, 8}
    assert "date_of_birth" in reasons[5]
    assert "nobody_here" in reasons[6]
    assert "missing person_ref" in reasons[7]
    assert "contact_method" in reasons[8]
    carl = Person.objects.get(family_name="New")
    assert carl.date_of_birth == date(1990, 5, 2)
    assert Allocation.objects.get(person=carl).worker == world.user("navigator")
    assert SharingDecision.objects.filter(person=carl, organisation=world.nav_org).exists()
    # The report names each bad row.
    page = manager.get(f"/caseload/migrate/{run.pk}/").content.decode()
    assert "nobody_here" in page
    # The same file twice changes nothing.
    counts = (Person.objects.count(), Contact.objects.count(), Goal.objects.count())
    upload = SimpleUploadedFile("caseload.csv", TEMPLATE.encode(), content_type="text/csv")
    response = manager.post("/caseload/migrate/", {"file": upload})
    assert response.status_code == 200
    assert "already imported" in response.content.decode()
    assert (Person.objects.count(), Contact.objects.count(), Goal.objects.count()) == counts
    assert MigrationRun.objects.count() == 1


def test_migration_refuses_a_file_without_person_ref(world: World) -> None:
    manager = signed_in_client(world.user("manager"))
    upload = SimpleUploadedFile("x.csv", b"name,dob\nA,B\n", content_type="text/csv")
    response = manager.post("/caseload/migrate/", {"file": upload})
    assert "no person_ref column" in response.content.decode()
    assert not MigrationRun.objects.exists()


def test_memberships_outside_casework_cannot_be_allocated(world: World) -> None:
    (person,) = person_in_caseload(world, 1)
    analyst = world.user("analyst")
    assert Membership.objects.filter(user=analyst, role="analyst").exists()
    with pytest.raises(services.CaseworkError, match="does not do casework"):
        allocate(world, person, worker="analyst", by="manager")


def test_the_timeline_shows_fifty_events_a_page_newest_first(world: World) -> None:
    """Someone with years of A&E attendances has hundreds of events: the page shows the
    newest 50, says how many there are, and links to older ones (keeping the filter)."""
    today = timezone.localdate()
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            person=world.alice,
            organisation=world.nav_org,
            category="health",
            event_type="attendance",
            occurred_on=today - timedelta(days=20 + n),
            summary=f"attendance-{n:02d}",
        )
        for n in range(60)
    )
    client = signed_in_client(world.users["navigator"])
    first = client.get(f"/people/{world.alice.pk}/").content.decode()
    assert "65 events, newest first: showing 1 to 50" in first
    assert "attendance-00" in first and "attendance-44" in first
    assert "attendance-45" not in first  # the 5 events of the world are newer
    assert 'href="?page=2#timeline-heading" rel="next"' in first
    second = client.get(f"/people/{world.alice.pk}/?page=2").content.decode()
    assert "showing 51 to 65" in second
    assert "attendance-45" in second and "attendance-59" in second
    assert "attendance-44" not in second
    filtered = client.get(f"/people/{world.alice.pk}/?category=health").content.decode()
    assert "61 events in this category, newest first: showing 1 to 50" in filtered
    assert 'href="?page=2&amp;category=health#timeline-heading" rel="next"' in filtered
    # Out of range: the last page, not an error.
    assert "showing 51 to 65" in client.get(f"/people/{world.alice.pk}/?page=9").content.decode()


def test_opening_a_record_remembers_the_visit_once_per_person(world: World) -> None:
    from onestory.casework.models import PersonVisit

    navigator = world.users["navigator"]
    client = signed_in_client(navigator)
    assert client.get(f"/people/{world.alice.pk}/").status_code == 200
    first = PersonVisit.objects.get(user=navigator, person=world.alice).seen_at
    assert client.get(f"/people/{world.alice.pk}/").status_code == 200
    visits = PersonVisit.objects.filter(user=navigator, person=world.alice)
    assert visits.count() == 1
    assert visits.get().seen_at >= first
