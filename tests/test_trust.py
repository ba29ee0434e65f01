"""Break glass (rule 7), claimed relationships (rule 3), the privacy officer's review queue,
sealed entries (rule 6) and corrections appended rather than overwritten (rule 8)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.access.models import BreakGlass, PrivacyReview
from onestory.access.services import StaleReview, privacy_review_record
from onestory.audit.models import AuditEvent
from onestory.audit.services import Actor, audit_context
from onestory.casework.models import Contact, SupportPlan, SupportPlanVersion
from onestory.people.models import Relationship, TimelineEvent
from tests.conftest import World, make_user, visible

REASON = {"reason": "vital_interests", "explanation": "Found unconscious at the bus station."}


def _ctx(world: World, name: str) -> AccessContext:
    user = world.user(name)
    return AccessContext(user=user, membership=user.memberships.get())


def _events_for(person_id: int, action: str) -> list[AuditEvent]:
    return [e for e in AuditEvent.objects.order_by("seq") if action in e.action.split(",")
            and person_id in e.person_ids]  # fmt: skip


@pytest.fixture
def officers(world: World) -> dict[str, Any]:
    """A privacy officer with an email address in the navigators' and housing
    organisations (the conftest one has none)."""
    nav = world.user("privacy_officer")
    nav.email = "privacy@nav.example.org"
    nav.save()
    housing = make_user("privacy_housing", world.housing_org, _role("privacy_officer"))
    housing.email = "privacy@housing.example.org"
    housing.save()
    return {"nav": nav, "housing": housing}


def _role(value: str) -> Any:
    from onestory.access.roles import Role

    return Role(value)


# --- Break glass


def test_break_glass_opens_the_record_read_only_and_tells_privacy_officers(
    world: World, client_for: Any, officers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # Bob has a relationship with housing only; the navigators' organisation cannot see him.
    Relationship.objects.create(
        person=world.bob, organisation=world.housing_org, kind="team",
        started_on=timezone.localdate() - timedelta(days=5),
    )  # fmt: skip
    client = client_for("navigator")
    page = f"/people/{world.bob.pk}/"
    refused = client.get(page)
    assert refused.status_code == 404
    assert f"/people/{world.bob.pk}/break-glass/" in refused.content.decode()

    form = client.get(f"/people/{world.bob.pk}/break-glass/")
    assert form.status_code == 200 and "Hart" not in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/people/{world.bob.pk}/break-glass/", REASON)
    assert response.status_code == 302 and response["Location"] == page

    glass = BreakGlass.objects.get()
    assert glass.user == world.user("navigator") and glass.reason == "vital_interests"
    hours = (glass.expires_at - glass.started_at).total_seconds() / 3600
    assert hours == pytest.approx(4)
    # Both affected organisations (the one acting and the one working with Bob) review it.
    reviews = PrivacyReview.objects.filter(break_glass=glass)
    assert {r.organisation for r in reviews} == {world.nav_org, world.housing_org}
    assert all(r.status == "pending" for r in reviews)
    # Each privacy officer is emailed, with no personal data in the message.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "privacy@housing.example.org",
        "privacy@nav.example.org",
    ]
    for message in mail.outbox:
        text = f"{message.subject} {message.body}"
        for personal in ("Bob", "Hart", "1979", f"/people/{world.bob.pk}/", "unconscious"):
            assert personal not in text

    opened = client.get(page)
    body = opened.content.decode()
    assert opened.status_code == 200
    assert "You are seeing this record by break glass, read-only, until" in body
    assert timezone.localtime(glass.expires_at).strftime("%H:%M") in body
    assert "Edit About me" not in body and "Make a referral" not in body

    # Every read is audited with its basis.
    start = _events_for(world.bob.pk, "break_glass.start")
    assert len(start) == 1 and "break_glass" in start[0].basis
    view = _events_for(world.bob.pk, "person.view")[-1]
    assert view.basis == "break_glass" and view.detail["break_glass"] == glass.pk


def test_break_glass_is_read_only(world: World, client_for: Any) -> None:
    client = client_for("navigator")
    client.post(f"/people/{world.bob.pk}/break-glass/", REASON)
    assert client.get(f"/people/{world.bob.pk}/").status_code == 200
    assert client.get(f"/people/{world.bob.pk}/plan/").status_code == 200
    assert client.get(f"/api/v1/people/{world.bob.pk}").status_code == 200
    assert client.get(f"/api/v1/people/{world.bob.pk}/timeline").status_code == 200
    for path in ("about-me/", "plan/edit/", "contacts/", "sharing/new/", "team/", "refer/"):
        assert client.get(f"/people/{world.bob.pk}/{path}").status_code == 404, path
    before = TimelineEvent.objects.count(), Contact.objects.count()
    assert (
        client.post(
            f"/people/{world.bob.pk}/contacts/",
            {
                "occurred_on": timezone.localdate().isoformat(),
                "method": "phone",
                "successful": "yes",
            },
        ).status_code
        == 404
    )
    assert (
        client.post(f"/people/{world.bob.pk}/about-me/", {"based_on_version": 0}).status_code == 404
    )
    assert (TimelineEvent.objects.count(), Contact.objects.count()) == before
    # The list of my people is not widened by break glass.
    assert "Hart" not in visible(client.get("/people/").content)


def test_break_glass_expires_and_never_opens_sealed_entries(world: World, client_for: Any) -> None:
    sealed_here = TimelineEvent.objects.create(
        person=world.bob, organisation=world.nav_org, category="health",
        event_type="attendance", occurred_on=timezone.localdate(), summary="OWN SEALED", sealed=True,
    )  # fmt: skip
    TimelineEvent.objects.create(
        person=world.bob, organisation=world.housing_org, category="health",
        event_type="attendance", occurred_on=timezone.localdate(), summary="OTHER SEALED",
        sealed=True,
    )  # fmt: skip
    TimelineEvent.objects.create(
        person=world.bob, organisation=world.housing_org, category="health",
        event_type="attendance", occurred_on=timezone.localdate(), summary="OPEN ENTRY",
    )  # fmt: skip
    client = client_for("navigator")
    client.post(f"/people/{world.bob.pk}/break-glass/", REASON)
    body = client.get(f"/people/{world.bob.pk}/").content.decode()
    assert "OPEN ENTRY" in body
    assert "OTHER SEALED" not in body
    assert "OWN SEALED" not in body  # not even the organisation's own, through break glass
    assert (
        client.get(f"/people/{world.bob.pk}/entries/timeline/{sealed_here.pk}/seal/").status_code
        == 404
    )
    BreakGlass.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/people/{world.bob.pk}/").status_code == 404


@pytest.mark.parametrize("persona", ["peer_mentor", "manager", "analyst", "privacy_officer"])
def test_only_navigators_and_practitioners_break_glass(
    world: World, client_for: Any, persona: str
) -> None:
    response = client_for(persona).post(f"/people/{world.bob.pk}/break-glass/", REASON)
    assert response.status_code == 403
    assert not BreakGlass.objects.exists() and not PrivacyReview.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "curious", "explanation": "Just wanted to look."}, "Select a valid choice"),
        ({"reason": "vital_interests", "explanation": "urgent"}, "a sentence or two"),
        ({"reason": "vital_interests", "explanation": ""}, "This field is required"),
    ],
)
def test_break_glass_needs_a_listed_reason_and_words(
    world: World, client_for: Any, data: dict[str, str], message: str
) -> None:
    response = client_for("practitioner").post(f"/people/{world.bob.pk}/break-glass/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not BreakGlass.objects.exists()


def test_break_glass_for_someone_missing_is_404_and_for_someone_already_open_is_not_needed(
    world: World, client_for: Any
) -> None:
    client = client_for("navigator")
    assert client.post("/people/999999/break-glass/", REASON).status_code == 404
    response = client.post(f"/people/{world.alice.pk}/break-glass/", REASON)
    assert response.status_code == 302 and not BreakGlass.objects.exists()


def test_break_glass_hours_is_a_setting(world: World, client_for: Any, settings: Any) -> None:
    settings.ONESTORY = {**settings.ONESTORY, "BREAK_GLASS_HOURS": 1}
    client_for("practitioner").post(f"/people/{world.bob.pk}/break-glass/", REASON)
    glass = BreakGlass.objects.get()
    assert glass.expires_at - glass.started_at == timedelta(hours=1)


# --- The review queue


def test_privacy_officer_reviews_break_glass_once(
    world: World, client_for: Any, officers: dict[str, Any]
) -> None:
    client_for("navigator").post(f"/people/{world.bob.pk}/break-glass/", REASON)
    review = PrivacyReview.objects.get(organisation=world.nav_org)
    officer = client_for("privacy_officer")
    queue = officer.get("/privacy-reviews/").content.decode()
    assert "Break glass" in queue and "Their life or safety is at risk now" in queue
    page = officer.get(f"/privacy-reviews/{review.pk}/")
    assert page.status_code == 200 and "Found unconscious" in page.content.decode()
    data = {"finding": "appropriate", "note": "Confirmed with the ambulance crew.",
            "based_on_version": review.version}  # fmt: skip
    assert officer.post(f"/privacy-reviews/{review.pk}/", data).status_code == 302
    again = officer.post(f"/privacy-reviews/{review.pk}/", data)
    assert again.status_code == 200 and "Someone else reviewed this first" in again.content.decode()
    review.refresh_from_db()
    assert review.status == "appropriate" and review.reviewed_by == world.user("privacy_officer")
    assert review.version == 2
    recorded = _events_for(world.bob.pk, "privacy_review.record")
    assert len(recorded) == 1 and recorded[0].basis == "privacy_review"
    # The break glass stays in force.
    assert client_for("navigator").get(f"/people/{world.bob.pk}/").status_code == 200


def test_an_inappropriate_finding_ends_the_break_glass(world: World, client_for: Any) -> None:
    navigator = client_for("navigator")
    navigator.post(f"/people/{world.bob.pk}/break-glass/", REASON)
    review = PrivacyReview.objects.get(organisation=world.nav_org)
    client_for("privacy_officer").post(
        f"/privacy-reviews/{review.pk}/",
        {"finding": "inappropriate", "note": "No emergency.", "based_on_version": 1},
    )
    assert BreakGlass.objects.get().ended_at is not None
    assert navigator.get(f"/people/{world.bob.pk}/").status_code == 404


def test_a_review_needs_a_note_and_the_right_officer(world: World, client_for: Any) -> None:
    client_for("practitioner").post(f"/people/{world.bob.pk}/break-glass/", REASON)
    housing_review = PrivacyReview.objects.get(organisation=world.housing_org)
    # The navigators' privacy officer is not affected by housing's own review: 404.
    officer = client_for("privacy_officer")
    assert officer.get(f"/privacy-reviews/{housing_review.pk}/").status_code == 404
    data = {"finding": "appropriate", "note": "ok", "based_on_version": 1}
    assert officer.post(f"/privacy-reviews/{housing_review.pk}/", data).status_code == 404
    housing_officer = make_user("privacy_h2", world.housing_org, _role("privacy_officer"))
    from tests.conftest import signed_in_client

    client = signed_in_client(housing_officer)
    blank = client.post(
        f"/privacy-reviews/{housing_review.pk}/", {"finding": "appropriate", "note": "",
                                                    "based_on_version": 1},
    )  # fmt: skip
    assert blank.status_code == 200 and "This field is required" in blank.content.decode()
    housing_review.refresh_from_db()
    assert housing_review.status == "pending"


@pytest.mark.django_db(transaction=True)
def test_two_reviews_at_once_record_one(world: World) -> None:
    """Two privacy officers review the same break glass at the same moment, on two real
    connections: exactly one review is recorded (version check)."""
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("needs two real connections (PostgreSQL, or SQLite on disk)")
    from onestory.access.services import break_glass_start

    with audit_context(Actor(system="test")):
        break_glass_start(
            actor=_ctx(world, "navigator"), person=world.bob, reason="vital_interests",
            explanation="Found unconscious at the bus station.",
        )  # fmt: skip
    review = PrivacyReview.objects.get(organisation=world.nav_org)
    second = make_user("privacy_two", world.nav_org, _role("privacy_officer"))
    actors = [_ctx(world, "privacy_officer"),
              AccessContext(user=second, membership=second.memberships.get())]  # fmt: skip
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def review_it(actor: AccessContext, finding: str) -> None:
        try:
            barrier.wait()
            with audit_context(Actor(system="test")):
                privacy_review_record(
                    actor=actor, review=PrivacyReview.objects.get(pk=review.pk),
                    finding=finding, note=f"Finding: {finding}", based_on_version=1,
                )  # fmt: skip
            outcomes.append("recorded")
        except StaleReview:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=review_it, args=(actors[0], "appropriate")),
        threading.Thread(target=review_it, args=(actors[1], "inappropriate")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["recorded", "stale"]
    review.refresh_from_db()
    assert review.version == 2 and review.status in {"appropriate", "inappropriate"}
    assert review.note == f"Finding: {review.status}"


# --- Claimed relationships


def test_a_navigator_claims_a_relationship_and_an_inappropriate_finding_ends_it(
    world: World, client_for: Any, officers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for("navigator")
    assert client.get(f"/people/{world.bob.pk}/claim/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/people/{world.bob.pk}/claim/", {"reason": "He came to our drop-in asking for help."}
        )
    assert response.status_code == 302
    assert response["Location"] == f"/people/{world.bob.pk}/sharing/new/"
    claimed = Relationship.objects.get(person=world.bob, kind="claimed")
    assert claimed.organisation == world.nav_org and claimed.worker == world.user("navigator")
    assert claimed.claim_reason.startswith("He came")
    assert [m.to[0] for m in mail.outbox] == ["privacy@nav.example.org"]
    # The relationship lets the navigator record Bob's sharing decision (rule 4 next).
    assert client.get(f"/people/{world.bob.pk}/sharing/new/").status_code == 200
    assert _events_for(world.bob.pk, "relationship.claim")[0].basis == "claimed_relationship"
    # Claiming again is refused: the organisation has the relationship now.
    assert (
        client.post(
            f"/people/{world.bob.pk}/claim/", {"reason": "Claiming a second time over."}
        ).status_code
        == 404
    )

    review = PrivacyReview.objects.get(relationship=claimed)
    officer = client_for("privacy_officer")
    assert "Claimed relationship" in officer.get("/privacy-reviews/").content.decode()
    officer.post(
        f"/privacy-reviews/{review.pk}/",
        {"finding": "inappropriate", "note": "No record of a drop-in visit.",
         "based_on_version": 1},
    )  # fmt: skip
    claimed.refresh_from_db()
    assert claimed.ended_on == timezone.localdate()
    assert client.get(f"/people/{world.bob.pk}/sharing/new/").status_code == 404


@pytest.mark.parametrize("persona", ["practitioner", "manager", "peer_mentor"])
def test_only_navigators_claim(world: World, client_for: Any, persona: str) -> None:
    response = client_for(persona).post(
        f"/people/{world.bob.pk}/claim/", {"reason": "He came to our drop-in asking for help."}
    )
    assert response.status_code == 403
    assert not Relationship.objects.filter(kind="claimed").exists()


# --- Sealed entries


def test_a_sealed_entry_is_seen_only_by_the_organisation_that_wrote_it(
    world: World, client_for: Any
) -> None:
    event = TimelineEvent.objects.get(person=world.alice, category="homelessness")
    assert event.organisation == world.housing_org
    # Housing shares homelessness with the navigators' organisation too.
    navigator = client_for("navigator")
    assert (
        "rough_sleeping_verified note"
        in navigator.get(f"/people/{world.alice.pk}/").content.decode()
    )
    # The navigators cannot seal housing's entry.
    refused = navigator.post(
        f"/people/{world.alice.pk}/entries/timeline/{event.pk}/seal/", {"sealed": "yes"}
    )
    assert refused.status_code == 404
    event.refresh_from_db()
    assert not event.sealed

    practitioner = client_for("practitioner")
    page = practitioner.get(f"/people/{world.alice.pk}/entries/timeline/{event.pk}/seal/")
    assert page.status_code == 200
    done = practitioner.post(
        f"/people/{world.alice.pk}/entries/timeline/{event.pk}/seal/", {"sealed": "yes"}
    )
    assert done.status_code == 302
    event.refresh_from_db()
    assert event.sealed
    assert _events_for(world.alice.pk, "entry.seal")
    assert (
        "rough_sleeping_verified note"
        in practitioner.get(f"/people/{world.alice.pk}/").content.decode()
    )
    assert (
        "rough_sleeping_verified note"
        not in navigator.get(f"/people/{world.alice.pk}/").content.decode()
    )
    assert (
        "rough_sleeping_verified"
        not in navigator.get(f"/api/v1/people/{world.alice.pk}/timeline").content.decode()
    )


def test_a_sealed_contact_is_seen_only_by_its_organisation(world: World, client_for: Any) -> None:
    contact = Contact.objects.create(
        person=world.alice, organisation=world.nav_org, worker=world.user("navigator"),
        occurred_on=timezone.localdate(), method="phone", successful=True, note="SEALED NOTE",
    )  # fmt: skip
    world.alice.sharing_decisions.filter(organisation=world.housing_org).update(
        categories=["homelessness", "about_me", "contact_location", "case_notes"]
    )
    practitioner = client_for("practitioner")
    assert "SEALED NOTE" in practitioner.get(f"/people/{world.alice.pk}/contacts/").content.decode()
    navigator = client_for("navigator")
    response = navigator.post(
        f"/people/{world.alice.pk}/entries/contact/{contact.pk}/seal/", {"sealed": "yes"}
    )
    assert response.status_code == 302
    assert (
        "SEALED NOTE"
        not in practitioner.get(f"/people/{world.alice.pk}/contacts/").content.decode()
    )
    assert "SEALED NOTE" in navigator.get(f"/people/{world.alice.pk}/contacts/").content.decode()
    # Unsealing puts it back.
    navigator.post(f"/people/{world.alice.pk}/entries/contact/{contact.pk}/seal/", {"sealed": "no"})
    assert "SEALED NOTE" in practitioner.get(f"/people/{world.alice.pk}/contacts/").content.decode()


def test_sealed_entries_are_left_out_of_analysts_figures(world: World) -> None:
    from onestory.measures.costs import _events

    events = TimelineEvent.objects.filter(person=world.alice)
    before = len(_events([world.alice.pk]))
    assert before == events.count()
    events.filter(category="health").update(sealed=True)
    assert len(_events([world.alice.pk])) == before - 1


# --- Corrections appended, never overwritten


def test_plan_changes_are_appended_and_the_history_kept(world: World, client_for: Any) -> None:
    client = client_for("navigator")
    url = f"/people/{world.alice.pk}/plan/edit/"
    first = {"aspirations": "A flat of my own", "strengths": "Kind", "based_on_version": 0}
    assert client.post(url, first).status_code == 302
    second = {"aspirations": "A flat near my sister", "strengths": "Kind", "based_on_version": 1}
    assert client.post(url, second).status_code == 302
    stale = client.post(url, {**second, "aspirations": "Lost update?"})
    assert stale.status_code == 200 and "Someone else changed the plan" in stale.content.decode()
    plan = SupportPlan.objects.get(person=world.alice)
    assert plan.version == 2 and plan.aspirations == "A flat near my sister"
    versions = list(SupportPlanVersion.objects.filter(plan=plan).order_by("version"))
    assert [v.aspirations for v in versions] == ["A flat of my own", "A flat near my sister"]
    history = client.get(f"/people/{world.alice.pk}/plan/history/").content.decode()
    assert "A flat of my own" in history and "(superseded)" in history
    assert "A flat near my sister" in history and "(current)" in history
    assert "Lost update?" not in history


def test_a_meetings_record_is_appended_and_the_history_kept(world: World) -> None:
    from onestory.meetings.models import AgendaItem, AgendaItemVersion
    from tests.conftest import signed_in_client
    from tests.test_meetings import _setup

    meeting, _probation, officer = _setup(world)
    navigator = signed_in_client(world.user("navigator"))
    navigator.post(f"/meetings/{meeting.pk}/", {"action": "add", "add-person": world.alice.pk})
    item = AgendaItem.objects.get()

    def record(discussion: str, version: int) -> Any:
        return navigator.post(
            f"/meetings/{meeting.pk}/",
            {"action": "record", "item": item.pk, f"item{item.pk}-discussion": discussion,
             f"item{item.pk}-decisions": "", f"item{item.pk}-based_on_version": version},
        )  # fmt: skip

    assert record("Missed two appointments", 1).status_code == 302
    assert record("Missed two appointments after the eviction", 2).status_code == 302
    stale = record("A lost update", 2)
    assert "Someone else saved this item first" in stale.content.decode()
    item.refresh_from_db()
    assert item.discussion == "Missed two appointments after the eviction"
    assert [
        v.discussion for v in AgendaItemVersion.objects.filter(item=item).order_by("version")
    ] == [
        "Missed two appointments",
        "Missed two appointments after the eviction",
    ]
    # Another organisation at the meeting that may see case notes sees every version.
    page = signed_in_client(officer).get(f"/meetings/{meeting.pk}/").content.decode()  # type: ignore[arg-type]
    assert "Every version of what was recorded (2)" in page
    assert "(superseded)" in page and "Discussed: Missed two appointments<br>" in page
