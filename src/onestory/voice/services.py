"""The barrier log's writes. Each takes ``actor=`` and is audited explicitly; a step on a
barrier names the version it was based on, so two people acting at once never overwrite
each other (the second is told and nothing changes)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import Organisation, Service
from onestory.access.scope import PersonView
from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.referrals.models import Referral
from onestory.voice.models import (
    Barrier,
    BarrierGroup,
    BarrierPerson,
    BarrierUpdate,
    Category,
    FeedbackLink,
    FeedbackResponse,
    PanelMeeting,
    PublicStory,
    Recommendation,
)


class BarrierError(ValueError):
    """A refused step; the message says why in plain English."""


class Conflict(BarrierError):
    """Someone else changed the barrier first."""


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise BarrierError(message)


def escalate_after() -> int:
    cfg: dict[str, Any] = settings.ONESTORY
    return int(cfg.get("BARRIER_ESCALATE_DAYS", 90))


def is_overdue(barrier: Barrier, today: date | None = None) -> bool:
    """Open and older than the escalation period."""
    today = today or timezone.localdate()
    return barrier.open and barrier.raised_on <= today - timedelta(days=escalate_after())


def barrier_raise(
    *,
    actor: AccessContext,
    what_happened: str,
    category: str,
    impact: str,
    service: Service | None = None,
    service_or_rule: str = "",
    impact_note: str = "",
    person: PersonView | None = None,
    referral: Referral | None = None,
) -> Barrier:
    """Log a barrier raised by a worker (named), optionally about a person they work with
    and the declined referral that prompted it."""
    _require(policy.may_raise_barrier(role=actor.role), "Your role cannot log barriers.")
    _require(bool(what_happened.strip()), "Say what happened.")
    _require(category in Category.values, "Choose what kind of barrier it was.")
    _require(impact in Barrier.Impact.values, "Choose what difference it made.")
    if person is not None:
        _require(person.has_relationship, "You can only name someone you work with.")
    if referral is not None:
        _require(
            referral.from_organisation_id == actor.organisation_id
            and referral.status == Referral.Status.DECLINED,
            "Only a declined referral your organisation sent can prompt a barrier.",
        )
    today = timezone.localdate()
    with transaction.atomic():
        barrier = Barrier.objects.create(
            what_happened=what_happened.strip(),
            service=service,
            service_or_rule=service_or_rule.strip(),
            category=category,
            impact=impact,
            impact_note=impact_note.strip(),
            via=Barrier.Via.WORKER,
            raised_by=actor.user,
            raised_by_organisation=actor.organisation,
            raised_on=today,
            from_declined_referral=referral is not None,
        )
        person_id = person.id if person is not None else (referral.person_id if referral else None)
        if person_id is not None:
            BarrierPerson.objects.create(barrier=barrier, person_id=person_id, referral=referral)
        BarrierUpdate.objects.create(
            barrier=barrier,
            kind=BarrierUpdate.Kind.RAISED,
            organisation=actor.organisation,
            written_by=actor.user,
            on=today,
        )
        audit.record(
            actor=actor.actor,
            action="barrier.raise",
            persons=[person_id] if person_id is not None else [],
            detail={"barrier": barrier.pk, "referral": referral.pk if referral else None},
        )
    return barrier


def _step(
    *,
    actor: AccessContext,
    barrier: Barrier,
    based_on_version: int,
    kind: str,
    text: str = "",
    changes: dict[str, Any] | None = None,
) -> Barrier:
    today = timezone.localdate()
    with transaction.atomic():
        won = Barrier.objects.filter(pk=barrier.pk, version=based_on_version).update(
            version=F("version") + 1, **(changes or {})
        )
        if not won:
            raise Conflict(
                "Someone else has changed this barrier since you opened it. Nothing was "
                "changed: read the latest and try again."
            )
        BarrierUpdate.objects.create(
            barrier=barrier,
            kind=kind,
            text=text.strip(),
            organisation=actor.organisation,
            written_by=actor.user,
            on=today,
        )
        audit.record(actor=actor.actor, action=f"barrier.{kind}", detail={"barrier": barrier.pk})
    barrier.refresh_from_db()
    return barrier


def _board(actor: AccessContext) -> None:
    _require(
        policy.may_triage_barriers(role=actor.role),
        "Only the partnership board triages barriers.",
    )


def barrier_assign(
    *, actor: AccessContext, barrier: Barrier, owner: Organisation, note: str, based_on_version: int
) -> Barrier:
    """The board gives the barrier to the organisation that owns the service or rule."""
    _board(actor)
    _require(barrier.open, "This barrier is closed. Reopen it first.")
    return _step(
        actor=actor,
        barrier=barrier,
        based_on_version=based_on_version,
        kind=BarrierUpdate.Kind.ASSIGNED,
        text=f"Assigned to {owner}. {note}".strip(),
        changes={"owner": owner, "status": Barrier.Status.ASSIGNED},
    )


def barrier_group(
    *,
    actor: AccessContext,
    barrier: Barrier,
    group: BarrierGroup | None,
    new_title: str,
    based_on_version: int,
) -> Barrier:
    """Put the barrier with similar ones (an existing group or a new one)."""
    _board(actor)
    if group is None:
        _require(bool(new_title.strip()), "Choose a group or give a new one a title.")
        group = BarrierGroup.objects.create(title=new_title.strip(), created_by=actor.user)
    return _step(
        actor=actor,
        barrier=barrier,
        based_on_version=based_on_version,
        kind=BarrierUpdate.Kind.GROUPED,
        text=f"Grouped with similar barriers: {group.title}",
        changes={"group": group},
    )


def barrier_not_taken_forward(
    *, actor: AccessContext, barrier: Barrier, reason: str, based_on_version: int
) -> Barrier:
    _board(actor)
    _require(bool(reason.strip()), "Say why it is not being taken forward.")
    return _step(
        actor=actor,
        barrier=barrier,
        based_on_version=based_on_version,
        kind=BarrierUpdate.Kind.NOT_TAKEN_FORWARD,
        text=reason,
        changes={"status": Barrier.Status.NOT_TAKEN_FORWARD},
    )


def barrier_reopen(
    *, actor: AccessContext, barrier: Barrier, reason: str, based_on_version: int
) -> Barrier:
    _board(actor)
    _require(not barrier.open, "This barrier is already open.")
    _require(bool(reason.strip()), "Say why it is being reopened.")
    return _step(
        actor=actor,
        barrier=barrier,
        based_on_version=based_on_version,
        kind=BarrierUpdate.Kind.REOPENED,
        text=reason,
        changes={
            "status": Barrier.Status.ASSIGNED if barrier.owner_id else Barrier.Status.NEW,
            "resolved_on": None,
        },
    )


def barrier_escalate(
    *, actor: AccessContext, barrier: Barrier, note: str, based_on_version: int
) -> Barrier:
    """The board escalates an old unresolved barrier to the owning organisation's leaders."""
    _board(actor)
    _require(barrier.open, "Only an open barrier can be escalated.")
    return _step(
        actor=actor,
        barrier=barrier,
        based_on_version=based_on_version,
        kind=BarrierUpdate.Kind.ESCALATED,
        text=note,
        changes={"escalated_on": timezone.localdate()},
    )


def _owner(actor: AccessContext, barrier: Barrier) -> None:
    _require(
        policy.may_respond_to_barrier(
            role=actor.role, owns=barrier.owner_id == actor.organisation_id
        ),
        "Only a manager of the organisation the barrier is assigned to can answer it.",
    )
    _require(barrier.open, "This barrier is closed.")


def barrier_respond(
    *, actor: AccessContext, barrier: Barrier, kind: str, text: str, based_on_version: int
) -> Barrier:
    """The owning organisation's response, an action it took, or that it is resolved."""
    _owner(actor, barrier)
    _require(
        kind
        in {BarrierUpdate.Kind.RESPONSE, BarrierUpdate.Kind.ACTION, BarrierUpdate.Kind.RESOLVED},
        "Choose what you are recording.",
    )
    _require(bool(text.strip()), "Say what you did or will do.")
    changes: dict[str, Any] = {}
    if kind == BarrierUpdate.Kind.RESOLVED:
        changes = {"status": Barrier.Status.RESOLVED, "resolved_on": timezone.localdate()}
    elif barrier.status == Barrier.Status.ASSIGNED:
        changes = {"status": Barrier.Status.RESPONDED}
    return _step(
        actor=actor,
        barrier=barrier,
        based_on_version=based_on_version,
        kind=kind,
        text=text,
        changes=changes,
    )


# --- Voice without an account: people's feedback and staff speaking up anonymously.

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
LINK_DAYS = 14


class FeedbackLinkError(BarrierError):
    """A feedback link that cannot be used; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_create(
    *, actor: Actor, organisation_id: int, user_id: int, kiosk: bool = False
) -> tuple[FeedbackLink, str]:
    """A new one-time feedback link for ``organisation_id``; returns it and its token (the
    token is shown once and only its hash is kept)."""
    token = secrets.token_urlsafe(24)
    today = timezone.localdate()
    link = FeedbackLink.objects.create(
        token_hash=_token_hash(token),
        organisation_id=organisation_id,
        created_by_id=user_id,
        created_on=today,
        expires_on=today if kiosk else today + timedelta(days=LINK_DAYS),
        kiosk=kiosk,
    )
    audit.record(actor=actor, action="feedback.link", detail={"kiosk": kiosk})
    return link, token


def link_check(token: str) -> FeedbackLink:
    """The usable link for ``token``, or ``FeedbackLinkError`` saying why not."""
    if not TOKEN_PATTERN.match(token or ""):
        raise FeedbackLinkError(
            "This feedback link is not right. Check you typed all of it, or ask for a new one.",
            404,
        )
    link = FeedbackLink.objects.filter(token_hash=_token_hash(token)).first()
    if link is None:
        raise FeedbackLinkError(
            "This feedback link is not right. Check you typed all of it, or ask for a new one.",
            404,
        )
    if link.used:
        raise FeedbackLinkError(
            "This feedback link has already been used. Thank you if that was you. Each link "
            "works once, so ask for a new one if you want to tell us more.",
            410,
        )
    if link.expires_on < timezone.localdate():
        raise FeedbackLinkError(
            "This feedback link has run out. Ask the person who gave it to you for a new one.",
            410,
        )
    return link


def feedback_submit(*, token: str, answers: dict[str, str]) -> tuple[FeedbackResponse, bool]:
    """Store someone's feedback and spend the link, exactly once even when sent twice at
    the same moment. A barrier they describe joins the barrier log with no identity.
    Returns the response and whether the link came from a kiosk."""
    link = link_check(token)
    today = timezone.localdate()
    with transaction.atomic():
        spent = FeedbackLink.objects.filter(pk=link.pk, used=False).update(used=True)
        if not spent:
            raise FeedbackLinkError(
                "This feedback link has already been used. Thank you if that was you.", 410
            )
        response = FeedbackResponse.objects.create(
            organisation_id=link.organisation_id,
            submitted_on=today,
            listened=answers["listened"],
            told_once=answers["told_once"],
            have_a_say=answers["have_a_say"],
            right_help=answers["right_help"],
            better=answers.get("better", "").strip(),
            get_in_touch=answers.get("get_in_touch", "").strip(),
        )
        barrier_text = answers.get("barrier", "").strip()
        if barrier_text:
            barrier = Barrier.objects.create(
                what_happened=barrier_text,
                category=Category.OTHER,
                impact=Barrier.Impact.DELAYED,
                via=Barrier.Via.PERSON,
                raised_on=today,
            )
            BarrierUpdate.objects.create(barrier=barrier, kind=BarrierUpdate.Kind.RAISED, on=today)
        audit.record(actor=audit.UNATTRIBUTED, action="feedback.submit")
    return response, link.kiosk


def staff_speak_up(
    *, what_happened: str, category: str, impact: str, service_or_rule: str = ""
) -> Barrier:
    """A barrier or suggestion from a member of staff who chose to stay anonymous: nothing
    about who wrote it is stored, here or in the audit trail (ADR 0012)."""
    _require(bool(what_happened.strip()), "Say what happened.")
    _require(category in Category.values, "Choose what kind of barrier it was.")
    _require(impact in Barrier.Impact.values, "Choose what difference it made.")
    today = timezone.localdate()
    with transaction.atomic():
        barrier = Barrier.objects.create(
            what_happened=what_happened.strip(),
            service_or_rule=service_or_rule.strip(),
            category=category,
            impact=impact,
            via=Barrier.Via.STAFF_ANONYMOUS,
            raised_on=today,
        )
        BarrierUpdate.objects.create(barrier=barrier, kind=BarrierUpdate.Kind.RAISED, on=today)
        audit.record(actor=audit.UNATTRIBUTED, action="barrier.raise.anonymous")
    return barrier


# --- The lived experience panel and "you said, we did".


def panel_meeting_record(
    *,
    actor: AccessContext,
    held_on: date,
    theme: str,
    summary: str,
    recommendations: list[tuple[str, Organisation]],
) -> PanelMeeting:
    _require(
        policy.may_run_panel(role=actor.role), "Only the board or a manager records the panel."
    )
    _require(bool(theme.strip()), "Say what the panel looked at.")
    with transaction.atomic():
        meeting = PanelMeeting.objects.create(
            held_on=held_on, theme=theme.strip(), summary=summary.strip(), recorded_by=actor.user
        )
        for text, organisation in recommendations:
            Recommendation.objects.create(meeting=meeting, text=text, organisation=organisation)
        audit.record(actor=actor.actor, action="panel.meeting", detail={"meeting": meeting.pk})
    return meeting


def recommendation_add(
    *, actor: AccessContext, meeting: PanelMeeting, text: str, organisation: Organisation
) -> Recommendation:
    _require(
        policy.may_run_panel(role=actor.role), "Only the board or a manager records the panel."
    )
    _require(bool(text.strip()), "Say what the panel recommends.")
    recommendation = Recommendation.objects.create(
        meeting=meeting, text=text.strip(), organisation=organisation
    )
    audit.record(actor=actor.actor, action="panel.recommendation", detail={"id": recommendation.pk})
    return recommendation


def recommendation_respond(
    *,
    actor: AccessContext,
    recommendation: Recommendation,
    status: str,
    response: str,
    what_changed: str,
    based_on_version: int,
) -> Recommendation:
    _require(
        policy.may_respond_to_barrier(
            role=actor.role, owns=recommendation.organisation_id == actor.organisation_id
        ),
        "Only a manager of the organisation it was made to can answer it.",
    )
    _require(status in Recommendation.Status.values and status != "waiting", "Choose an answer.")
    _require(bool(response.strip()), "Give your response.")
    with transaction.atomic():
        won = Recommendation.objects.filter(pk=recommendation.pk, version=based_on_version).update(
            status=status,
            response=response.strip(),
            what_changed=what_changed.strip(),
            responded_on=timezone.localdate(),
            version=F("version") + 1,
        )
        if not won:
            raise Conflict(
                "Someone else has answered this recommendation since you opened it. Nothing "
                "was changed: read the latest and try again."
            )
        audit.record(actor=actor.actor, action="panel.respond", detail={"id": recommendation.pk})
    recommendation.refresh_from_db()
    return recommendation


def story_publish(
    *,
    actor: AccessContext,
    you_said: str,
    we_did: str,
    barrier: Barrier | None = None,
    recommendation: Recommendation | None = None,
) -> PublicStory:
    """Put a resolved barrier or an answered recommendation on the public page, in words
    the board has checked carry no personal data."""
    _board(actor)
    _require(
        bool(you_said.strip()) and bool(we_did.strip()), "Fill in both 'You said' and 'We did'."
    )
    if barrier is not None:
        _require(barrier.status == Barrier.Status.RESOLVED, "Only a resolved barrier is published.")
        _require(not PublicStory.objects.filter(barrier=barrier).exists(), "Already published.")
    if recommendation is not None:
        _require(
            recommendation.status != Recommendation.Status.WAITING,
            "Publish a recommendation once the organisation has answered it.",
        )
        _require(
            not PublicStory.objects.filter(recommendation=recommendation).exists(),
            "Already published.",
        )
    story = PublicStory.objects.create(
        you_said=you_said.strip(),
        we_did=we_did.strip(),
        barrier=barrier,
        recommendation=recommendation,
        published_on=timezone.localdate(),
        published_by=actor.user,
    )
    audit.record(actor=actor.actor, action="story.publish", detail={"story": story.pk})
    return story
