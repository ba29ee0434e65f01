"""Writes for multi-agency meetings and actions; each takes ``actor=`` and is audited."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import CASEWORK_ROLES
from onestory.access.scope import PersonView
from onestory.audit import services as audit
from onestory.meetings.models import Action, AgendaItem, AgendaItemVersion, Meeting


class MeetingError(ValueError):
    """A refused step; the message says why in plain English."""


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise MeetingError(message)


def meeting_create(
    *, actor: AccessContext, title: str, held_on: date, organisations: list[Organisation]
) -> Meeting:
    _require(policy.may_run_meetings(role=actor.role), "Your role cannot arrange meetings.")
    with transaction.atomic():
        meeting = Meeting.objects.create(
            title=title, held_on=held_on, host=actor.organisation, created_by=actor.user
        )
        meeting.organisations.set({*organisations, actor.organisation})
        audit.record(actor=actor.actor, action="meeting.create", detail={"meeting": meeting.pk})
    return meeting


def agenda_add(*, actor: AccessContext, meeting: Meeting, view: PersonView) -> AgendaItem:
    """Put a person the host organisation works with on the agenda."""
    _require(meeting.host_id == actor.organisation_id, "Only the host adds people to the agenda.")
    _require(
        not AgendaItem.objects.filter(meeting=meeting, person=view.person).exists(),
        f"{view.person.display_name} is already on the agenda.",
    )
    with transaction.atomic():
        item = AgendaItem.objects.create(meeting=meeting, person=view.person, added_by=actor.user)
        audit.record(
            actor=actor.actor,
            action="meeting.agenda_add",
            persons=[view.id],
            detail={"meeting": meeting.pk, "item": item.pk},
        )
    return item


def agenda_record(
    *,
    actor: AccessContext,
    item: AgendaItem,
    view: PersonView,
    discussion: str,
    decisions: str,
    based_on_version: int,
) -> AgendaItem:
    """Record what was said and decided as a new version that supersedes the last (the
    earlier ones are kept, rule 8); a concurrent edit is refused, not lost."""
    _require(
        item.meeting.host_id == actor.organisation_id and view.can_see("case_notes"),
        "Only the host records the discussion.",
    )
    with transaction.atomic():
        done = AgendaItem.objects.filter(pk=item.pk, version=based_on_version).update(
            discussion=discussion, decisions=decisions, version=F("version") + 1
        )
        if not done:
            raise MeetingError("Someone else saved this item first. Reload the page.")
        item.refresh_from_db()
        AgendaItemVersion.objects.create(
            item=item,
            version=item.version,
            discussion=discussion,
            decisions=decisions,
            recorded_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="meeting.agenda_record",
            persons=[view.id],
            detail={"item": item.pk},
        )
    return item


def action_create(
    *,
    actor: AccessContext,
    view: PersonView,
    description: str,
    owner_organisation: Organisation,
    owner: User | None,
    due_on: date,
    item: AgendaItem | None = None,
) -> Action:
    _require(policy.may_run_meetings(role=actor.role), "Your role cannot set actions.")
    if owner is not None:
        _require(
            Membership.objects.filter(
                user=owner,
                organisation=owner_organisation,
                role__in=[r.value for r in CASEWORK_ROLES],
            ).exists(),
            f"{owner} does not work for {owner_organisation}.",
        )
    with transaction.atomic():
        action = Action.objects.create(
            person=view.person,
            item=item,
            description=description,
            owner_organisation=owner_organisation,
            owner=owner,
            due_on=due_on,
            created_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="action.create",
            persons=[view.id],
            detail={"action": action.pk, "owner": owner_organisation.pk},
        )
    return action


def action_set_status(
    *, actor: AccessContext, action: Action, status: str, based_on_version: int
) -> Action:
    """The owning organisation marks its action done (or no longer needed)."""
    _require(
        action.owner_organisation_id == actor.organisation_id,
        "Only the organisation that owns an action can update it.",
    )
    _require(status in Action.Status.values, "Choose how the action stands.")
    with transaction.atomic():
        done = Action.objects.filter(pk=action.pk, version=based_on_version).update(
            status=status,
            completed_on=timezone.localdate() if status == Action.Status.DONE else None,
            version=F("version") + 1,
        )
        if not done:
            raise MeetingError("Someone else updated this action first. Reload the page.")
        action.refresh_from_db()
        audit.record(
            actor=actor.actor,
            action="action.status",
            persons=[action.person_id],
            detail={"action": action.pk, "status": status},
        )
    return action


def agenda_review(*, actor: AccessContext, item: AgendaItem, view: PersonView) -> None:
    """Hold the casework engagement review here: the meeting's organisations took part and
    its decisions are the review's notes (needed before closing support as declined)."""
    from onestory.casework.models import Review

    meeting = item.meeting
    _require(meeting.host_id == actor.organisation_id, "Only the host records the review.")
    _require(bool(item.decisions.strip()), "Record what was decided first.")
    with transaction.atomic():
        review = Review.objects.create(
            person=view.person,
            organisation=actor.organisation,
            kind=Review.Kind.ENGAGEMENT,
            due_on=meeting.held_on,
            held_on=meeting.held_on,
            notes=item.decisions,
            scheduled_by=actor.user,
        )
        review.organisations.set(meeting.organisations.all())
        audit.record(
            actor=actor.actor,
            action="meeting.review",
            persons=[view.id],
            detail={"item": item.pk, "review": review.pk},
        )
