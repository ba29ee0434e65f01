"""Every URL × {anonymous, outsider organisation, wrong role, right role, administrator}.

The suite fails when a URL has no entry here (``test_every_url_has_an_access_test``).
Denied writes assert the database did not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver

from onestory.access.models import Membership, Organisation, Service, User
from onestory.access.roles import Role
from onestory.casework.models import Death, Review
from onestory.consent.models import DataSharingAgreement, SharingDecision
from onestory.governance.models import AccessReview, RectificationRequest, SubjectAccessRequest
from onestory.intake.models import ImportRun, MatchPair, SourceRecord
from onestory.measures.models import Completion, Equality, StaffResponse
from onestory.meetings.models import Action as MeetingAction
from onestory.meetings.models import AgendaItem, Meeting
from onestory.people.models import AboutMe, Person, Relationship, TimelineEvent
from onestory.referrals.models import Alert, Referral
from onestory.voice.models import Barrier, FeedbackLink, FeedbackResponse, PanelMeeting
from tests.conftest import World

PERSONAS = ("anonymous", "outsider", "wrong", "right", "administrator")
LOGIN = 302  # anonymous users are sent to sign in


@dataclass(frozen=True)
class Write:
    """A POST and how to tell whether it changed anything."""

    data: Callable[[World], dict[str, Any]]
    changed: Callable[[World], Any]  # a snapshot; differs after a successful write


@dataclass(frozen=True)
class Case:
    path: Callable[[World], str]
    right: str
    wrong: str
    expect: dict[str, int]
    write: Write | None = None
    # persona -> text the response must not contain (person data leaking)
    must_not_show: dict[str, str] = field(default_factory=dict)


def _count(model: type[Model]) -> Callable[[World], int]:
    return lambda w: model._default_manager.count()


def _alice(w: World) -> int:
    return w.alice.pk


def _sar(w: World) -> int:
    """A subject access request about Alice, recorded by the privacy officer."""
    officer = w.user("privacy_officer")
    sar, _ = SubjectAccessRequest.objects.get_or_create(
        person=w.alice,
        defaults={
            "received_on": date(2026, 11, 20),
            "due_on": date(2026, 12, 20),
            "requester": "Alice herself",
            "identity_checked": "Photo ID seen",
            "recorded_by": officer,
            "organisation": w.nav_org,
        },
    )
    return sar.pk


def _rectification(w: World) -> int:
    officer = w.user("privacy_officer")
    row, _ = RectificationRequest.objects.get_or_create(
        person=w.alice,
        defaults={
            "received_on": date(2026, 11, 20),
            "due_on": date(2026, 12, 20),
            "what_is_wrong": "Wrong date of birth",
            "recorded_by": officer,
            "organisation": w.nav_org,
        },
    )
    return row.pk


def _old_case(w: World) -> int:
    """Someone last in contact nine years ago: due for a retention review."""
    person = Person.objects.filter(family_name="Oldcase").first()
    if person is None:
        person = Person.objects.create(given_name="Olive", family_name="Oldcase")
        TimelineEvent.objects.create(
            person=person,
            organisation=w.housing_org,
            category="homelessness",
            event_type="main_duty",
            occurred_on=date(2015, 1, 5),
        )
    return person.pk


def _import_run(w: World) -> int:
    """An import by the navigators' organisation (the data manager persona's)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    run = ImportRun.objects.filter(source__organisation=w.nav_org).first()
    if run is None:
        from onestory.audit.services import Actor, audit_context
        from onestory.intake.services import feed_import

        path = _feed_file()
        with audit_context(Actor(system="test")):
            run = feed_import(
                actor=Actor(system="test"),
                kind="register",
                path=path,
                source_name="nav_register",
                organisation_name=w.nav_org.name,
            ).run
        assert isinstance(SimpleUploadedFile, type)
    return run.pk


def _feed_file() -> Any:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "register.csv"
    path.write_text("source_record_id,given_name,family_name\nR1,Ann,Ray\n,No,Id\n")
    return path


def _upload(w: World) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"source_record_id,given_name,family_name,date_of_birth\nN1,Jo,Bloggs,1990-01-01\n"
    return {
        "kind": "register",
        "source": "nav_list",
        "file": SimpleUploadedFile("list.csv", content, content_type="text/csv"),
    }


def _pair(w: World) -> int:
    """A pending pair between a record of the navigators' organisation and a housing one."""
    from onestory.intake.models import MatchPair

    pair = MatchPair.objects.first()
    if pair is None:
        from onestory.audit.services import Actor, audit_context
        from onestory.intake.services import feed_import

        ids = []
        for org, source in ((w.nav_org, "nav_register"), (w.housing_org, "housing_list")):
            with audit_context(Actor(system="test")):
                run = feed_import(
                    actor=Actor(system="test"),
                    kind="register",
                    path=_feed_file(),
                    source_name=source,
                    organisation_name=org.name,
                    link=False,
                ).run
            record = SourceRecord.objects.get(source__name=source, source_record_id="R1")
            record.person = w.bob if org == w.nav_org else w.alice
            record.save()
            ids.append(record.pk)
            assert run.pk
        pair = MatchPair.objects.create(
            record_l_id=ids[0], record_r_id=ids[1], match_probability=0.8, status="pending"
        )
    return pair.pk


def _identity(w: World) -> int:
    _pair(w)
    return w.bob.pk


def _decision(w: World) -> int:
    return SharingDecision.objects.filter(person=w.alice, organisation=w.nav_org).first().pk  # type: ignore[union-attr]


# --- casework fixtures, made on first use


def _allocated(w: World) -> None:
    """Alice on the navigator's caseload (the navigators' organisation supports her)."""
    from onestory.casework.models import Allocation

    if not Allocation.objects.filter(person=w.alice, ended_on__isnull=True).exists():
        Allocation.objects.create(
            person=w.alice,
            organisation=w.nav_org,
            worker=w.user("navigator"),
            kind="lead",
            started_on=date.today(),  # noqa: DTZ011
            allocated_by=w.user("manager"),
        )


def _goal(w: World) -> int:
    from onestory.casework.models import Goal

    goal = Goal.objects.filter(person=w.alice).first() or Goal.objects.create(
        person=w.alice,
        organisation=w.nav_org,
        in_their_words="A flat near my sister",
        created_by=w.user("navigator"),
    )
    return goal.pk


def _review(w: World) -> int:

    review = Review.objects.filter(person=w.alice).first() or Review.objects.create(
        person=w.alice,
        organisation=w.nav_org,
        kind="engagement",
        due_on=date.today(),  # noqa: DTZ011
        scheduled_by=w.user("navigator"),
    )
    return review.pk


def _adult_social_care(w: World) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        name="City Adult Social Care", defaults={"org_type": "adult_social_care"}
    )
    return org


def _concern(w: World) -> int:
    from onestory.casework.models import SafeguardingConcern

    concern = SafeguardingConcern.objects.filter(person=w.alice).first()
    if concern is None:
        concern = SafeguardingConcern.objects.create(
            person=w.alice,
            organisation=w.nav_org,
            kind="adult",
            concern="Financial abuse by a visitor",
            sent_to=_adult_social_care(w),
            raised_by=w.user("navigator"),
        )
    return concern.pk


def _death(w: World) -> int:

    _allocated(w)
    death = Death.objects.filter(person=w.bob).first()
    if death is None:
        from onestory.casework.models import Allocation

        Allocation.objects.create(
            person=w.bob,
            organisation=w.nav_org,
            worker=w.user("navigator"),
            kind="lead",
            started_on=date.today(),  # noqa: DTZ011
            ended_on=date.today(),  # noqa: DTZ011
            allocated_by=w.user("manager"),
        )
        death = Death.objects.create(
            person=w.bob, organisation=w.nav_org, recorded_by=w.user("manager")
        )
    return death.pk


def _migration_run(w: World) -> int:
    from onestory.casework.models import MigrationRun

    run = MigrationRun.objects.filter(organisation=w.nav_org).first() or (
        MigrationRun.objects.create(
            organisation=w.nav_org,
            file_name="old.csv",
            file_sha256="0" * 64,
            imported_by=w.user("manager"),
        )
    )
    return run.pk


def _caseload_upload(w: World) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        b"person_ref,given_name,family_name,lead_worker,contact_date,contact_method,"
        b"contact_successful\nP1,Sam,Reed,navigator_nav,2026-01-05,phone,yes\n"
    )
    return {"file": SimpleUploadedFile("caseload.csv", content, content_type="text/csv")}


def _spend_data(w: World) -> dict[str, Any]:
    from decimal import Decimal

    from onestory.casework.models import Budget

    today = date.today()  # noqa: DTZ011
    for user in (w.user("navigator"), w.user("manager")):
        Budget.objects.get_or_create(
            organisation=w.nav_org,
            worker=user,
            defaults={
                "starts_on": today,
                "ends_on": today,
                "amount": Decimal("100"),
                "set_by": w.user("manager"),
            },
        )
    return {
        "spent_on": today.isoformat(),
        "kind": "food",
        "amount": "12.50",
        "purpose": "Breakfast and a top-up",
        "approved_by": w.user("manager").pk,
    }


def _close_data(w: World) -> dict[str, Any]:
    _allocated(w)
    return {"reason": "moved_away", "closed_on": date.today().isoformat()}  # noqa: DTZ011


def _count_of(model_name: str) -> Callable[[World], int]:
    def count(w: World) -> int:
        from django.apps import apps

        return int(apps.get_model("casework", model_name)._default_manager.count())

    return count


def _referral(w: World) -> int:
    from onestory.referrals.models import Referral

    referral = Referral.objects.filter(person=w.alice).first() or Referral.objects.create(
        person=w.alice,
        from_organisation=w.nav_org,
        sent_by=w.user("navigator"),
        to_organisation=w.housing_org,
        reason="Sleeping rough again",
        what_they_want="Somewhere safe with my dog",
        respond_by=date.today(),  # noqa: DTZ011
    )
    return referral.pk


def _api_client(w: World) -> int:
    from onestory.partner_api.models import ApiClient
    from onestory.partner_api.scopes import Scope
    from tests.api_clients import make_client

    client = ApiClient.objects.filter(organisation=w.nav_org).first()
    if client is None:
        client, _ = make_client(w.nav_org, Role.PRACTITIONER, [Scope.PEOPLE_READ])
    return client.pk


def _alert(w: World) -> int:
    from onestory.people.models import TimelineEvent

    event = TimelineEvent.objects.filter(person=w.alice).first()
    assert event is not None
    alert, _ = Alert.objects.get_or_create(
        user=w.user("navigator"), event=event, defaults={"person": w.alice}
    )
    return alert.pk


def _meeting(w: World) -> int:
    from onestory.meetings.models import Meeting

    meeting = Meeting.objects.filter(host=w.nav_org).first()
    if meeting is None:
        meeting = Meeting.objects.create(
            title="Complex needs panel",
            held_on=date.today(),  # noqa: DTZ011
            host=w.nav_org,
            created_by=w.user("navigator"),
        )
        meeting.organisations.set([w.nav_org, w.housing_org])
    return meeting.pk


NDTA_ITEMS = (
    "engagement", "intentional_self_harm", "unintentional_self_harm", "risk_to_others",
    "risk_from_others", "stress_anxiety", "social_effectiveness", "alcohol_drugs",
    "impulse_control", "housing",
)  # fmt: skip


def _barrier(w: World) -> int:
    from onestory.voice.models import BarrierPerson

    barrier = Barrier.objects.filter(raised_by=w.user("navigator")).first()
    if barrier is None:
        barrier = Barrier.objects.create(
            what_happened="Turned away at the door",
            category="eligibility",
            impact="stopped",
            raised_by=w.user("navigator"),
            raised_by_organisation=w.nav_org,
            raised_on=date.today(),  # noqa: DTZ011
        )
        BarrierPerson.objects.create(barrier=barrier, person=w.alice)
    return barrier.pk


def _feedback_path(w: World) -> str:
    from onestory.audit.services import UNATTRIBUTED
    from onestory.voice.services import link_create

    _link, token = link_create(
        actor=UNATTRIBUTED, organisation_id=w.nav_org.pk, user_id=w.user("navigator").pk
    )
    return f"/f/{token}/"


def _recommendation(w: World) -> int:
    from onestory.voice.models import PanelMeeting, Recommendation

    item = Recommendation.objects.first()
    if item is None:
        meeting = PanelMeeting.objects.create(
            held_on=date.today(),  # noqa: DTZ011
            theme="First contact",
            recorded_by=w.user("board_member"),
        )
        item = Recommendation.objects.create(
            meeting=meeting, text="Book by text message", organisation=w.housing_org
        )
    return item.pk


def _story(w: World) -> int:
    from onestory.voice.models import PublicStory

    story = PublicStory.objects.first() or PublicStory.objects.create(
        you_said="Let people book appointments by text message.",
        we_did="Appointments can now be booked by text.",
        published_on=date.today(),  # noqa: DTZ011
        published_by=w.user("board_member"),
    )
    return story.pk


def _panel_meeting(w: World) -> int:
    from onestory.voice.models import Recommendation

    return Recommendation.objects.get(pk=_recommendation(w)).meeting_id


def _action(w: World) -> int:
    from onestory.meetings.models import Action

    action = Action.objects.filter(person=w.alice).first() or Action.objects.create(
        person=w.alice,
        description="Book the housing assessment",
        owner_organisation=w.nav_org,
        due_on=date.today(),  # noqa: DTZ011
        created_by=w.user("navigator"),
    )
    return action.pk


def _agenda_data(w: World) -> dict[str, Any]:
    _allocated(w)
    return {"action": "add", "add-person": w.alice.pk}


def _bob(w: World) -> int:
    """Bob: no organisation has a relationship with him (break glass and claims)."""
    return w.bob.pk


def _nav_event(w: World) -> int:
    """A timeline entry the navigators' organisation wrote about Alice (to seal)."""
    event = TimelineEvent.objects.filter(person=w.alice, organisation=w.nav_org).first()
    assert event is not None
    return event.pk


def _privacy_review(w: World) -> int:
    """A pending review for the navigators' organisation of a break glass on Bob."""
    from datetime import timedelta

    from django.utils import timezone

    from onestory.access.models import BreakGlass, PrivacyReview

    review = PrivacyReview.objects.filter(organisation=w.nav_org).first()
    if review is None:
        now = timezone.now()
        glass = BreakGlass.objects.create(
            person=w.bob, user=w.user("practitioner"), organisation=w.housing_org,
            role="practitioner", reason="vital_interests", explanation="Collapsed in the street.",
            started_at=now, expires_at=now + timedelta(hours=4),
        )  # fmt: skip
        review = PrivacyReview.objects.create(
            kind="break_glass", organisation=w.nav_org, person=w.bob, break_glass=glass,
            requested_by=w.user("practitioner"), requested_by_organisation=w.housing_org,
            reason="Their life or safety is at risk now", requested_at=now,
        )  # fmt: skip
    return review.pk


def _service(w: World) -> int:
    service, _ = Service.objects.get_or_create(
        organisation=w.nav_org,
        name="Drop-in hub",
        defaults={"description": "Breakfast, showers and a navigator", "drop_in": True},
    )
    return service.pk


CASEWORK_LIST = {
    "anonymous": LOGIN,
    "outsider": 200,
    "wrong": 403,
    "right": 200,
    "administrator": 403,
}
MANAGER_PAGE = {
    "anonymous": LOGIN,
    "outsider": 403,
    "wrong": 403,
    "right": 200,
    "administrator": 403,
}


PERSON_PAGE = {
    "anonymous": LOGIN,
    "outsider": 404,
    "wrong": 403,
    "right": 200,
    "administrator": 403,
}
ADMIN_PAGE = {"anonymous": LOGIN, "outsider": 403, "wrong": 403, "right": 200, "administrator": 200}
AUDIT_PAGE = {"anonymous": LOGIN, "outsider": 403, "wrong": 403, "right": 200, "administrator": 403}
ANY_SIGNED_IN = {
    "anonymous": LOGIN,
    "outsider": 200,
    "wrong": 200,
    "right": 200,
    "administrator": 200,
}
PUBLIC = dict.fromkeys(PERSONAS, 200)
API_PERSON = {"anonymous": 401, "outsider": 404, "wrong": 404, "right": 200, "administrator": 404}
API_ANY = {"anonymous": 401, "outsider": 200, "wrong": 200, "right": 200, "administrator": 200}

ABOUT_ME_POST = Write(
    data=lambda w: {"what_matters": "A home of my own", "based_on_version": 1},
    changed=_count(AboutMe),
)

CASES: dict[str, Case] = {
    # --- ours: people and sharing
    "home": Case(
        lambda w: "/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 302, "wrong": 200, "right": 302, "administrator": 302},
    ),
    "choose_role": Case(lambda w: "/choose-role/", "navigator", "analyst", ANY_SIGNED_IN),
    "security": Case(lambda w: "/security/", "navigator", "analyst", ANY_SIGNED_IN),
    "mfa_cannot_deactivate": Case(
        lambda w: "/accounts/2fa/totp/deactivate/", "navigator", "analyst", ANY_SIGNED_IN
    ),
    "accessibility": Case(lambda w: "/accessibility/", "navigator", "analyst", PUBLIC),
    "people:list": Case(
        lambda w: "/people/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
        must_not_show={"outsider": "Marsh"},
    ),
    "people:detail": Case(lambda w: f"/people/{_alice(w)}/", "navigator", "analyst", PERSON_PAGE),
    "people:about_me_edit": Case(
        lambda w: f"/people/{_alice(w)}/about-me/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=ABOUT_ME_POST,
    ),
    "people:about_me_history": Case(
        lambda w: f"/people/{_alice(w)}/about-me/history/", "navigator", "analyst", PERSON_PAGE
    ),
    # --- trust: break glass, claimed relationships, sealing, the privacy officer's queue
    "people:break_glass": Case(
        lambda w: f"/people/{_bob(w)}/break-glass/",
        "practitioner",
        "peer_mentor",
        CASEWORK_LIST,
        write=Write(
            data=lambda w: {"reason": "vital_interests", "explanation": "Collapsed in the street."},
            changed=lambda w: _break_glass_count(),
        ),
        must_not_show={"outsider": "Hart", "right": "Hart"},
    ),
    "people:claim": Case(
        lambda w: f"/people/{_bob(w)}/claim/",
        "navigator",
        "practitioner",
        CASEWORK_LIST,
        write=Write(
            data=lambda w: {"reason": "He came to our drop-in asking for help."},
            changed=lambda w: Relationship.objects.filter(kind="claimed").count(),
        ),
        must_not_show={"outsider": "Hart", "right": "Hart"},
    ),
    "people:entry_seal": Case(
        lambda w: f"/people/{_alice(w)}/entries/timeline/{_nav_event(w)}/seal/",
        "navigator",
        "peer_mentor",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"sealed": "yes"},
            changed=lambda w: TimelineEvent.objects.filter(sealed=True).count(),
        ),
    ),
    "privacy:reviews": Case(
        lambda w: (_privacy_review(w), "/privacy-reviews/")[1],
        "privacy_officer",
        "analyst",
        AUDIT_PAGE,
    ),
    "privacy:review": Case(
        lambda w: f"/privacy-reviews/{_privacy_review(w)}/",
        "privacy_officer",
        "analyst",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {
                "finding": "appropriate",
                "note": "Confirmed with the ambulance crew.",
                "based_on_version": 1,
            },
            changed=lambda w: (_privacy_review(w), _review_statuses())[1],
        ),
    ),
    "consent:sharing": Case(
        lambda w: f"/people/{_alice(w)}/sharing/", "navigator", "peer_mentor", PERSON_PAGE
    ),
    "consent:sharing_new": Case(
        lambda w: f"/people/{_alice(w)}/sharing/new/",
        "navigator",
        "peer_mentor",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {
                "organisations": [w.police_org.pk],
                "categories": ["criminal_justice"],
                "basis": "consent",
                "review_on": "2099-01-01",
            },
            changed=_count(SharingDecision),
        ),
    ),
    "consent:sharing_withdraw": Case(
        lambda w: f"/people/{_alice(w)}/sharing/{_decision(w)}/withdraw/",
        "navigator",
        "peer_mentor",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"reason": "The person asked us to stop."},
            changed=lambda w: SharingDecision.objects.filter(withdrawn_at__isnull=False).count(),
        ),
    ),
    # --- one-to-one support (casework)
    "casework:my_caseload": Case(
        lambda w: "/caseload/",
        "navigator",
        "analyst",
        CASEWORK_LIST,
        must_not_show={"outsider": "Marsh"},
    ),
    "casework:team_caseloads": Case(
        lambda w: "/caseload/team/", "manager", "navigator", MANAGER_PAGE
    ),
    "casework:migrate": Case(
        lambda w: "/caseload/migrate/",
        "manager",
        "navigator",
        MANAGER_PAGE,
        write=Write(data=_caseload_upload, changed=_count_of("MigrationRun")),
    ),
    "casework:migration": Case(
        lambda w: f"/caseload/migrate/{_migration_run(w)}/", "manager", "navigator", MANAGER_PAGE
    ),
    "casework:person_add": Case(
        lambda w: "/people/new/",
        "navigator",
        "analyst",
        CASEWORK_LIST,
        write=Write(
            data=lambda w: {"given_name": "Dee", "family_name": "Outreach"},
            changed=lambda w: Person.objects.count(),
        ),
    ),
    "casework:allocate": Case(
        lambda w: f"/people/{_alice(w)}/allocate/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"worker": w.user("navigator").pk, "kind": "lead"},
            changed=_count_of("Allocation"),
        ),
    ),
    "casework:contacts": Case(
        lambda w: f"/people/{_alice(w)}/contacts/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {
                "occurred_on": date.today().isoformat(),  # noqa: DTZ011
                "method": "outreach",
                "successful": "no",
            },
            changed=_count_of("Contact"),
        ),
    ),
    "casework:plan": Case(
        lambda w: f"/people/{_alice(w)}/plan/", "navigator", "analyst", PERSON_PAGE
    ),
    "casework:plan_history": Case(
        lambda w: f"/people/{_alice(w)}/plan/history/", "navigator", "analyst", PERSON_PAGE
    ),
    "casework:plan_edit": Case(
        lambda w: f"/people/{_alice(w)}/plan/edit/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"aspirations": "My own place", "based_on_version": 0},
            changed=_count_of("SupportPlan"),
        ),
    ),
    "casework:goal_new": Case(
        lambda w: f"/people/{_alice(w)}/goals/new/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(data=lambda w: {"in_their_words": "Get my ID back"}, changed=_count_of("Goal")),
    ),
    "casework:goal": Case(
        lambda w: f"/people/{_alice(w)}/goals/{_goal(w)}/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"action": "progress", "progress-text": "Birth certificate ordered"},
            changed=_count_of("ProgressNote"),
        ),
    ),
    "casework:review_new": Case(
        lambda w: f"/people/{_alice(w)}/reviews/new/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"kind": "plan", "due_on": "2030-01-01"}, changed=_count_of("Review")
        ),
    ),
    "casework:review": Case(
        lambda w: f"/people/{_alice(w)}/reviews/{_review(w)}/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {
                "held_on": date.today().isoformat(),  # noqa: DTZ011
                "organisations": [w.nav_org.pk, w.housing_org.pk],
                "notes": "Agreed to try the day centre on Tuesdays",
            },
            changed=lambda w: (_review(w), list(Review.objects.values_list("held_on", flat=True))),
        ),
    ),
    "casework:close": Case(
        lambda w: f"/people/{_alice(w)}/close/",
        "manager",
        "navigator",
        MANAGER_PAGE,
        write=Write(data=_close_data, changed=_count_of("Closure")),
    ),
    "casework:safety": Case(
        lambda w: f"/people/{_alice(w)}/safety/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"kind": "lone_working", "detail": "Meet in public places only"},
            changed=_count_of("SafetyMarker"),
        ),
    ),
    "casework:safeguarding_new": Case(
        lambda w: f"/people/{_alice(w)}/safeguarding/new/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {
                "kind": "adult",
                "concern": "Visitor taking her money",
                "sent_to": _adult_social_care(w).pk,
            },
            changed=_count_of("SafeguardingConcern"),
        ),
    ),
    "casework:spends": Case(
        lambda w: f"/people/{_alice(w)}/spends/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(data=_spend_data, changed=_count_of("Spend")),
    ),
    "casework:safeguarding_list": Case(
        lambda w: "/safeguarding/", "navigator", "analyst", CASEWORK_LIST
    ),
    "casework:safeguarding_concern": Case(
        lambda w: f"/safeguarding/{_concern(w)}/", "navigator", "analyst", PERSON_PAGE
    ),
    "casework:deaths": Case(lambda w: "/deaths/", "manager", "navigator", MANAGER_PAGE),
    "casework:death": Case(
        lambda w: f"/deaths/{_death(w)}/",
        "manager",
        "navigator",
        MANAGER_PAGE,
        write=Write(
            data=lambda w: {"status": "under_way", "learning": ""},
            changed=lambda w: (
                _death(w),
                list(Death.objects.values_list("review_status", flat=True)),
            ),
        ),
    ),
    "casework:budgets": Case(
        lambda w: "/budgets/",
        "manager",
        "navigator",
        MANAGER_PAGE,
        write=Write(
            data=lambda w: {
                "worker": w.user("navigator").pk,
                "starts_on": "2026-04-01",
                "ends_on": "2027-03-31",
                "amount": "500",
            },
            changed=_count_of("Budget"),
        ),
    ),
    # --- referrals and alerts
    "referrals:new": Case(
        lambda w: f"/people/{_alice(w)}/refer/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {
                "to_organisation": w.housing_org.pk,
                "reason": "Sleeping rough",
                "what_they_want": "A room",
            },
            changed=lambda w: Referral.objects.count(),
        ),
    ),
    "referrals:inbox": Case(lambda w: "/referrals/", "navigator", "analyst", CASEWORK_LIST),
    "referrals:detail": Case(
        lambda w: f"/referrals/{_referral(w)}/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"action": "end"},
            changed=lambda w: (_referral(w), list(Referral.objects.values_list("status"))),
        ),
    ),
    # Marking alerts read is tested in test_referrals.py (the outsider has none to mark).
    "referrals:alerts": Case(
        lambda w: (_alert(w), "/alerts/")[1],
        "navigator",
        "analyst",
        CASEWORK_LIST,
        must_not_show={"outsider": "Marsh"},
    ),
    # --- multi-agency meetings and actions
    "meetings:list": Case(
        lambda w: "/meetings/",
        "navigator",
        "analyst",
        CASEWORK_LIST,
        write=Write(
            data=lambda w: {"title": "Panel", "held_on": "2026-12-01"},
            changed=lambda w: Meeting.objects.count(),
        ),
    ),
    "meetings:detail": Case(
        lambda w: f"/meetings/{_meeting(w)}/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=_agenda_data,
            changed=lambda w: (_meeting(w), AgendaItem.objects.count()),
        ),
    ),
    "meetings:actions": Case(
        lambda w: (_action(w), "/actions/")[1],
        "navigator",
        "analyst",
        CASEWORK_LIST,
        must_not_show={"outsider": "Marsh"},
    ),
    "meetings:action": Case(
        lambda w: f"/actions/{_action(w)}/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"status": "done", "based_on_version": 1},
            changed=lambda w: (_action(w), list(MeetingAction.objects.values_list("status"))),
        ),
    ),
    # --- the service directory (no person data)
    "directory:list": Case(
        lambda w: (_service(w), "/directory/?needs=drop_in")[1],
        "navigator",
        "analyst",
        CASEWORK_LIST,
    ),
    "directory:detail": Case(
        lambda w: f"/directory/{_service(w)}/", "navigator", "analyst", CASEWORK_LIST
    ),
    "directory:new": Case(
        lambda w: "/directory/new/",
        "manager",
        "navigator",
        MANAGER_PAGE,
        write=Write(
            data=lambda w: {
                "name": "Women's breakfast",
                "women_only_space": "on",
                "is_active": "on",
            },
            changed=lambda w: Service.objects.count(),
        ),
    ),
    "directory:edit": Case(
        lambda w: f"/directory/{_service(w)}/edit/",
        "manager",
        "navigator",
        MANAGER_PAGE,
        write=Write(
            data=lambda w: {"name": "Renamed hub", "is_active": "on"},
            changed=lambda w: (_service(w), list(Service.objects.values_list("name"))),
        ),
    ),
    "people:team": Case(
        lambda w: f"/people/{_alice(w)}/team/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {
                "worker": w.user("navigator").pk,
                "role_description": "Navigator",
                "how_to_reach": "07700 900456",
            },
            changed=lambda w: Relationship.objects.filter(kind="team").count(),
        ),
    ),
    "meetings:working_together": Case(
        lambda w: "/measures/working-together/", "manager", "navigator", MANAGER_PAGE
    ),
    "referrals:event_new": Case(
        lambda w: f"/people/{_alice(w)}/events/new/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"event_type": "arrest", "occurred_on": "2026-01-02"},
            changed=lambda w: TimelineEvent.objects.count(),
        ),
    ),
    # --- the by-name list (identification basis: lead navigation organisations)
    "insight:by_name_list": Case(
        lambda w: "/by-name-list/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
    ),
    "insight:dashboard": Case(lambda w: "/insight/", "manager", "navigator", MANAGER_PAGE),
    "insight:board_report": Case(
        lambda w: "/insight/board-report.pdf", "manager", "navigator", MANAGER_PAGE
    ),
    "insight:figures_csv": Case(
        lambda w: "/insight/figures.csv", "analyst", "navigator", MANAGER_PAGE
    ),
    # --- the barrier log (voice)
    "voice:board": Case(
        lambda w: (_barrier(w), "/barriers/")[1],
        "board_member",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
        must_not_show={"right": "Alice", "outsider": "Barrier "},
    ),
    "voice:new": Case(
        lambda w: "/barriers/new/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
        write=Write(
            data=lambda w: {
                "what_happened": "Appointments by phone only",
                "category": "digital",
                "impact": "delayed",
            },
            changed=lambda w: Barrier.objects.count(),
        ),
    ),
    "voice:themes": Case(
        lambda w: "/barriers/themes/",
        "board_member",
        "navigator",
        {"anonymous": LOGIN, "outsider": 403, "wrong": 403, "right": 200, "administrator": 403},
    ),
    "voice:detail": Case(
        lambda w: f"/barriers/{_barrier(w)}/",
        "board_member",
        "practitioner",
        {"anonymous": LOGIN, "outsider": 404, "wrong": 404, "right": 200, "administrator": 403},
        must_not_show={"right": "Alice", "outsider": "Turned away"},
        write=Write(
            data=lambda w: {
                "action": "group",
                "group-new_title": "Local connection rules",
                "group-based_on_version": 1,
            },
            changed=lambda w: (
                _barrier(w),
                list(Barrier.objects.values_list("group_id", flat=True)),
            ),
        ),
    ),
    # --- feedback, staff voice, the panel and "you said, we did"
    "voice:feedback_link_new": Case(
        lambda w: "/feedback/new/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
        write=Write(data=lambda w: {}, changed=_count(FeedbackLink)),
    ),
    "voice:kiosk_start": Case(
        lambda w: "/feedback/kiosk/start/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
    ),
    "voice:feedback_results": Case(
        lambda w: "/feedback/results/", "manager", "navigator", MANAGER_PAGE
    ),
    "voice:kiosk": Case(
        lambda w: "/f/kiosk/",
        "navigator",
        "analyst",
        {"anonymous": 403, "outsider": 403, "wrong": 403, "right": 403, "administrator": 403},
    ),
    "voice:thanks": Case(lambda w: "/f/thank-you/", "navigator", "analyst", PUBLIC),
    "voice:feedback": Case(
        _feedback_path,
        "navigator",
        "analyst",
        PUBLIC,
        write=Write(
            data=lambda w: {
                "listened": "yes",
                "told_once": "yes",
                "have_a_say": "yes",
                "right_help": "yes",
            },
            changed=_count(FeedbackResponse),
        ),
    ),
    "voice:speak_up": Case(
        lambda w: "/speak-up/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 200, "right": 200, "administrator": 200},
        write=Write(
            data=lambda w: {"what_happened": "Rota gap", "category": "hours", "impact": "work"},
            changed=_count(Barrier),
        ),
    ),
    "voice:panel": Case(
        lambda w: "/panel/",
        "board_member",
        "navigator",
        MANAGER_PAGE,
        write=Write(
            data=lambda w: {"held_on": "2026-10-01", "theme": "Waiting rooms"},
            changed=_count(PanelMeeting),
        ),
    ),
    "voice:panel_meeting": Case(
        lambda w: f"/panel/{_panel_meeting(w)}/", "board_member", "navigator", MANAGER_PAGE
    ),
    "voice:recommendation": Case(
        lambda w: f"/panel/recommendations/{_recommendation(w)}/",
        "board_member",
        "navigator",
        MANAGER_PAGE,
    ),
    "voice:you_said_we_did": Case(lambda w: "/you-said-we-did/", "navigator", "analyst", PUBLIC),
    # --- measures and outcomes
    "measures:person": Case(
        lambda w: f"/people/{_alice(w)}/measures/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        must_not_show={"outsider": "Marsh"},
    ),
    "measures:completion_new": Case(
        lambda w: f"/people/{_alice(w)}/measures/ndta/new/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"completed_on": "2026-01-05"} | {f"item_{k}": "1" for k in NDTA_ITEMS},
            changed=lambda w: Completion.objects.count(),
        ),
    ),
    "measures:outcomes": Case(lambda w: "/outcomes/", "manager", "navigator", MANAGER_PAGE),
    "measures:outcomes_equality": Case(
        lambda w: "/outcomes/equality/?characteristic=ethnicity",
        "board_member",
        "navigator",
        MANAGER_PAGE,
    ),
    "measures:equality": Case(
        lambda w: f"/people/{_alice(w)}/equality/",
        "navigator",
        "analyst",
        PERSON_PAGE,
        write=Write(
            data=lambda w: {"based_on_version": "0", "sex": "prefer_not"},
            changed=lambda w: list(Equality.objects.values_list("sex", "version")),
        ),
    ),
    "measures:public_health": Case(
        lambda w: "/outcomes/public-health/", "analyst", "navigator", MANAGER_PAGE
    ),
    "measures:staff_survey": Case(
        lambda w: "/staff-survey/",
        "navigator",
        "analyst",
        {"anonymous": LOGIN, "outsider": 200, "wrong": 403, "right": 200, "administrator": 403},
        write=Write(data=lambda w: {"item_equipped": "4"}, changed=_count(StaffResponse)),
    ),
    "measures:instruments": Case(
        lambda w: "/admin-area/questionnaires/", "administrator", "navigator", ADMIN_PAGE
    ),
    "measures:evaluation_export": Case(
        lambda w: "/outcomes/evaluation-export/", "analyst", "navigator", MANAGER_PAGE
    ),
    "measures:service_costs": Case(
        lambda w: "/outcomes/service-costs/", "analyst", "navigator", MANAGER_PAGE
    ),
    # --- administration
    "admin_area:organisations": Case(
        lambda w: "/admin-area/organisations/", "administrator", "privacy_officer", ADMIN_PAGE
    ),
    "admin_area:organisation_new": Case(
        lambda w: "/admin-area/organisations/new/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
        write=Write(
            data=lambda w: {"name": "Women's Aid", "org_type": "domestic_abuse", "is_active": "on"},
            changed=_count(Organisation),
        ),
    ),
    "admin_area:organisation_edit": Case(
        lambda w: f"/admin-area/organisations/{w.police_org.pk}/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
        write=Write(
            data=lambda w: {"name": "Renamed Police", "org_type": "police", "is_active": "on"},
            changed=lambda w: Organisation.objects.get(pk=w.police_org.pk).name,
        ),
    ),
    "admin_area:service_new": Case(
        lambda w: f"/admin-area/organisations/{w.housing_org.pk}/services/new/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
        write=Write(
            data=lambda w: {"name": "Housing options", "description": "Advice"},
            changed=_count(Service),
        ),
    ),
    "admin_area:users": Case(
        lambda w: "/admin-area/users/", "administrator", "privacy_officer", ADMIN_PAGE
    ),
    "admin_area:user_new": Case(
        lambda w: "/admin-area/users/new/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
        write=Write(
            data=lambda w: {
                "username": "new_worker",
                "first_name": "New",
                "last_name": "Worker",
                "email": "new@example.org",
                "password": "a-long-Passphrase-2026",
            },
            changed=_count(User),
        ),
    ),
    "admin_area:user": Case(
        lambda w: f"/admin-area/users/{w.user('outsider').pk}/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
        write=Write(
            data=lambda w: {
                "action": "add",
                "organisation": w.housing_org.pk,
                "role": "practitioner",
            },
            changed=_count(Membership),
        ),
    ),
    "admin_area:agreements": Case(
        lambda w: "/admin-area/agreements/", "administrator", "privacy_officer", ADMIN_PAGE
    ),
    "admin_area:agreement_new": Case(
        lambda w: "/admin-area/agreements/new/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
        write=Write(
            data=lambda w: {
                "name": "Second agreement",
                "purposes": "Research",
                "parties": [w.nav_org.pk],
                "article6_basis": "6(1)(e)",
                "article9_condition": "9(2)(g)",
                "starts_on": "2026-01-01",
                "review_on": "2027-01-01",
            },
            changed=_count(DataSharingAgreement),
        ),
    ),
    "admin_area:agreement_edit": Case(
        lambda w: f"/admin-area/agreements/{DataSharingAgreement.objects.get().pk}/",
        "administrator",
        "privacy_officer",
        ADMIN_PAGE,
    ),
    # --- imports (data managers, their own organisation's feeds)
    "intake:imports": Case(
        lambda w: "/imports/",
        "data_manager",
        "navigator",
        AUDIT_PAGE,
        write=Write(data=_upload, changed=_count(SourceRecord)),
    ),
    "intake:report": Case(
        lambda w: f"/imports/{_import_run(w)}/", "data_manager", "navigator", AUDIT_PAGE
    ),
    "intake:quarantine_csv": Case(
        lambda w: f"/imports/{_import_run(w)}/quarantine.csv",
        "data_manager",
        "navigator",
        AUDIT_PAGE,
    ),
    "intake:review": Case(lambda w: "/imports/review/", "data_manager", "navigator", AUDIT_PAGE),
    "intake:review_pair": Case(
        lambda w: f"/imports/review/{_pair(w)}/",
        "data_manager",
        "navigator",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {"decision": "reject"},
            changed=lambda w: (_pair(w), list(MatchPair.objects.values_list("status", flat=True))),
        ),
    ),
    "intake:identity": Case(
        lambda w: f"/imports/identity/{_identity(w)}/", "data_manager", "navigator", AUDIT_PAGE
    ),
    # --- audit trail
    "audit:list": Case(lambda w: "/audit/", "privacy_officer", "analyst", AUDIT_PAGE),
    "audit:check": Case(lambda w: "/audit/check/", "privacy_officer", "analyst", AUDIT_PAGE),
    # --- information governance (the privacy officer's requests)
    "privacy_notice": Case(lambda w: "/privacy-notice/", "navigator", "analyst", PUBLIC),
    "governance:index": Case(lambda w: "/governance/", "privacy_officer", "analyst", AUDIT_PAGE),
    "governance:sar_new": Case(
        lambda w: f"/governance/subject-access/new/?person={_alice(w)}",
        "privacy_officer",
        "navigator",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {
                "received_on": "2026-11-20",
                "requester": "Alice herself",
                "identity_checked": "Photo ID seen",
            },
            changed=_count(SubjectAccessRequest),
        ),
    ),
    "governance:sar_detail": Case(
        lambda w: f"/governance/subject-access/{_sar(w)}/",
        "privacy_officer",
        "manager",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {"step": "extend", "months": "1", "reason": "Complex", "version": 1},
            changed=lambda w: (
                _sar(w),
                list(SubjectAccessRequest.objects.values_list("extended_to")),
            ),
        ),
        must_not_show={"wrong": "Marsh"},
    ),
    "governance:sar_download": Case(
        lambda w: f"/governance/subject-access/{_sar(w)}/record.json",
        "privacy_officer",
        "navigator",
        AUDIT_PAGE,
        must_not_show={"wrong": "Marsh", "outsider": "Marsh", "administrator": "Marsh"},
    ),
    "governance:rectification_new": Case(
        lambda w: f"/governance/rectification/new/?person={_alice(w)}",
        "privacy_officer",
        "data_manager",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {"received_on": "2026-11-20", "what_is_wrong": "Wrong date of birth"},
            changed=_count(RectificationRequest),
        ),
    ),
    "governance:rectification_detail": Case(
        lambda w: f"/governance/rectification/{_rectification(w)}/",
        "privacy_officer",
        "manager",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {"outcome": "corrected", "note": "Date corrected", "version": 1},
            changed=lambda w: (
                _rectification(w),
                list(RectificationRequest.objects.values_list("status")),
            ),
        ),
    ),
    "governance:access_review": Case(
        lambda w: "/governance/access-review/",
        "manager",
        "navigator",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {
                "membership": w.user("peer_mentor").memberships.get().pk,
                "decision": "keep",
            },
            changed=_count(AccessReview),
        ),
    ),
    "governance:retention": Case(
        lambda w: (_old_case(w), "/governance/retention/")[1],
        "privacy_officer",
        "manager",
        AUDIT_PAGE,
        must_not_show={"wrong": "Oldcase"},
    ),
    "governance:retention_review": Case(
        lambda w: f"/governance/retention/{_old_case(w)}/",
        "privacy_officer",
        "manager",
        AUDIT_PAGE,
        write=Write(
            data=lambda w: {"step": "destroy", "reason": "No contact", "confirm": "on"},
            changed=lambda w: (_old_case(w), Person.objects.count()),
        ),
    ),
    # --- API
    "api:openapi-json": Case(lambda w: "/api/v1/openapi.json", "navigator", "analyst", PUBLIC),
    "api:api-root": Case(
        lambda w: "/api/v1/", "navigator", "analyst", dict.fromkeys(PERSONAS, 404)
    ),
    "api:me": Case(lambda w: "/api/v1/me", "navigator", "analyst", API_ANY),
    "api:list_people": Case(
        lambda w: "/api/v1/people",
        "navigator",
        "analyst",
        API_ANY,
        must_not_show={"outsider": "Marsh", "wrong": "Marsh", "administrator": "Marsh"},
    ),
    "api:get_person": Case(
        lambda w: f"/api/v1/people/{_alice(w)}", "navigator", "analyst", API_PERSON
    ),
    "api:get_timeline": Case(
        lambda w: f"/api/v1/people/{_alice(w)}/timeline", "navigator", "analyst", API_PERSON
    ),
    "api:fhir_patient_everything": Case(
        lambda w: f"/api/v1/fhir/Patient/{_alice(w)}/$everything",
        "navigator",
        "analyst",
        API_PERSON,
        must_not_show={"outsider": "Marsh", "wrong": "Marsh", "administrator": "Marsh"},
    ),
    # POST only (a Bundle's JSON body): tests/test_fhir.py checks who may import.
    "api:fhir_import_bundle": Case(
        lambda w: "/api/v1/fhir/Bundle?kind=ed&source=x",
        "data_manager",
        "navigator",
        dict.fromkeys(PERSONAS, 405),
    ),
    # Partner API (ADR 0019); writes, and token clients of every scope and organisation:
    # tests/test_partner_api.py, tests/test_api_events.py.
    "api:list_referrals": Case(
        lambda w: (_referral(w), "/api/v1/referrals")[1],
        "navigator",
        "analyst",
        API_ANY,
        must_not_show={"outsider": "Marsh", "wrong": "Marsh", "administrator": "Marsh"},
    ),
    "api:send_referral": Case(lambda w: "/api/v1/referrals", "navigator", "analyst", API_ANY),
    "api:get_referral": Case(
        lambda w: f"/api/v1/referrals/{_referral(w)}", "navigator", "analyst", API_PERSON
    ),
    "api:decide_referral": Case(
        lambda w: f"/api/v1/referrals/{_referral(w)}/decision",
        "navigator",
        "analyst",
        dict.fromkeys(PERSONAS, 405),
    ),
    "api:reply_to_referral": Case(
        lambda w: f"/api/v1/referrals/{_referral(w)}/reply",
        "navigator",
        "analyst",
        dict.fromkeys(PERSONAS, 405),
    ),
    "api:push_events": Case(
        lambda w: "/api/v1/events", "data_manager", "navigator", dict.fromkeys(PERSONAS, 405)
    ),
    # Managing API clients: creating and revoking, by persona, in tests/test_partner_api_pages.py.
    "partner_api:list": Case(lambda w: "/api-clients/", "manager", "navigator", ADMIN_PAGE),
    "partner_api:new": Case(lambda w: "/api-clients/new/", "manager", "navigator", ADMIN_PAGE),
    "partner_api:detail": Case(
        lambda w: f"/api-clients/{_api_client(w)}/",
        "manager",
        "navigator",
        ADMIN_PAGE,
    ),
}

# allauth's account and MFA pages: not ours, but every URL is tested. Signed-in users are
# redirected away from the entrance pages; the rest need a signed-in user.
ENTRANCE = {"anonymous": 200, "outsider": 302, "wrong": 302, "right": 302, "administrator": 302}
ACCOUNT_PAGE = ANY_SIGNED_IN
for name, url, expect in [
    ("account_login", "/accounts/login/", ENTRANCE),
    ("account_logout", "/accounts/logout/", {"anonymous": 302, **dict.fromkeys(PERSONAS[1:], 200)}),
    ("account_inactive", "/accounts/inactive/", PUBLIC),
    ("account_signup", "/accounts/signup/", {"anonymous": 200, **dict.fromkeys(PERSONAS[1:], 302)}),
    ("account_reauthenticate", "/accounts/reauthenticate/", ACCOUNT_PAGE),
    ("account_email", "/accounts/email/", ACCOUNT_PAGE),
    ("account_email_verification_sent", "/accounts/confirm-email/", PUBLIC),
    ("account_change_password", "/accounts/password/change/", ACCOUNT_PAGE),
    (
        "account_set_password",
        "/accounts/password/set/",
        {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 302)},
    ),
    ("account_reset_password", "/accounts/password/reset/", PUBLIC),
    (
        "account_confirm_login_code",
        "/accounts/login/code/confirm/",
        {"anonymous": 302, **dict.fromkeys(PERSONAS[1:], 302)},
    ),
    ("account_confirm_email", "/accounts/confirm-email/not-a-key/", PUBLIC),
    ("account_reset_password_from_key_done", "/accounts/password/reset/key/done/", PUBLIC),
    ("account_reset_password_from_key", "/accounts/password/reset/key/1-not-a-key/", PUBLIC),
    ("account_reset_password_done", "/accounts/password/reset/done/", PUBLIC),
    ("mfa_index", "/accounts/2fa/", ACCOUNT_PAGE),
    # Single sign-on: an unknown provider is 404; a configured one: test_single_sign_on.py.
    ("openid_connect_login", "/accounts/oidc/no-such-idp/login/", dict.fromkeys(PERSONAS, 404)),
    (
        "openid_connect_callback",
        "/accounts/oidc/no-such-idp/login/callback/",
        dict.fromkeys(PERSONAS, 404),
    ),
    ("socialaccount_login_cancelled", "/accounts/3rdparty/login/cancelled/", PUBLIC),
    ("socialaccount_login_error", "/accounts/3rdparty/login/error/", dict.fromkeys(PERSONAS, 401)),
    # Sign-up through a provider is closed: back to sign in.
    ("socialaccount_signup", "/accounts/3rdparty/signup/", dict.fromkeys(PERSONAS, 302)),
    ("socialaccount_connections", "/accounts/3rdparty/", ACCOUNT_PAGE),
    (
        "mfa_authenticate",
        "/accounts/2fa/authenticate/",
        {"anonymous": 302, **dict.fromkeys(PERSONAS[1:], 302)},
    ),
    ("mfa_reauthenticate", "/accounts/2fa/reauthenticate/", ACCOUNT_PAGE),
    (
        "mfa_activate_totp",
        "/accounts/2fa/totp/activate/",
        {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 302)},
    ),
    ("mfa_deactivate_totp", "/accounts/2fa/totp/deactivate/", ACCOUNT_PAGE),
    (
        "mfa_view_recovery_codes",
        "/accounts/2fa/recovery-codes/",
        {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 404)},
    ),
    # the personas' authenticators were set up moments ago, so no password is asked again
    # (an older one is: tests/test_access_rules.py)
    ("mfa_generate_recovery_codes", "/accounts/2fa/recovery-codes/generate/", ACCOUNT_PAGE),
    (
        "mfa_download_recovery_codes",
        "/accounts/2fa/recovery-codes/download/",
        {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 404)},
    ),
]:
    CASES[name] = Case((lambda u: lambda w: u)(url), "navigator", "analyst", expect)


def _break_glass_count() -> int:
    from onestory.access.models import BreakGlass

    return BreakGlass.objects.count()


def _review_statuses() -> list[str]:
    from onestory.access.models import PrivacyReview

    return list(PrivacyReview.objects.order_by("pk").values_list("status", flat=True))


def _url_names(resolver: URLResolver, namespace: str = "") -> list[str]:
    names = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            names += _url_names(p, inner)
        elif isinstance(p, URLPattern) and p.name:
            names.append(f"{namespace}:{p.name}" if namespace else p.name)
    return names


def test_every_url_has_an_access_test() -> None:
    urls = set(_url_names(get_resolver()))
    missing = urls - set(CASES)
    assert not missing, f"URLs without an access test: {sorted(missing)}"
    stale = set(CASES) - urls
    assert not stale, f"access tests for URLs that no longer exist: {sorted(stale)}"


def _persona_user(case: Case, persona: str) -> str:
    return {
        "outsider": "outsider",
        "wrong": case.wrong,
        "right": case.right,
        "administrator": "administrator",
    }[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_get(name: str, persona: str, world: World, client_for: Any) -> None:
    case = CASES[name]
    client = client_for("anonymous" if persona == "anonymous" else _persona_user(case, persona))
    response = client.get(case.path(world))
    assert response.status_code == case.expect[persona], (
        f"{name} as {persona}: {response.status_code}, expected {case.expect[persona]}"
    )
    if persona in case.must_not_show:
        assert case.must_not_show[persona] not in response.content.decode()


WRITES = sorted(n for n, c in CASES.items() if c.write is not None)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", WRITES)
def test_post(name: str, persona: str, world: World, client_for: Any) -> None:
    case = CASES[name]
    assert case.write is not None
    client = client_for("anonymous" if persona == "anonymous" else _persona_user(case, persona))
    before = case.write.changed(world)
    response = client.post(case.path(world), case.write.data(world))
    after = case.write.changed(world)
    allowed = case.expect[persona] == 200
    if allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert after != before, f"{name} as {persona} was allowed but changed nothing"
    else:
        assert response.status_code in {302, 401, 403, 404}
        assert after == before, f"{name} as {persona} was refused but changed the database"
