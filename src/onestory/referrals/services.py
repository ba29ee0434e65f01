"""Referrals between organisations, and alerts to lead workers. Each write takes
``actor=`` and is audited explicitly."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import Organisation, OrganisationType, Service
from onestory.access.scope import PersonView, active_sharing
from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.casework.models import Allocation
from onestory.intake.index import in_chunks
from onestory.people.models import Relationship, TimelineEvent
from onestory.referrals.models import Alert, Referral, ReferralMessage

logger = logging.getLogger(__name__)

# Events a lead worker hears about at once (issue: alerts).
ALERT_EVENTS = ("attendance", "arrest", "custody", "release", "eviction", "crisis_contact")


class ReferralError(ValueError):
    """A refused step; the message says why in plain English."""


class AlreadyDecided(ReferralError):
    """Someone else answered the referral first."""


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise ReferralError(message)


def working_days_after(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def referral_send(
    *,
    actor: AccessContext,
    view: PersonView,
    to_organisation: Organisation,
    service: Service | None,
    reason: str,
    what_they_want: str,
    duty_to_refer: bool = False,
) -> Referral:
    """Refer the person to another organisation, which must have a sharing basis."""
    _require(policy.may_refer(role=actor.role), "Your role cannot make referrals.")
    _require(
        to_organisation.pk != actor.organisation_id, "You cannot refer to your own organisation."
    )
    _require(
        service is None or service.organisation_id == to_organisation.pk,
        f"{service} is not one of {to_organisation}'s services.",
    )
    _require(
        active_sharing(to_organisation.pk).filter(person_id=view.id).exists(),
        f"{view.person.display_name} has not agreed to share anything with {to_organisation}. "
        f"Record their sharing decision first, then refer.",
    )
    if duty_to_refer:
        _require(
            to_organisation.org_type == OrganisationType.COUNCIL_HOUSING,
            "A Duty to Refer goes to the council's housing service.",
        )
    _require(
        not Referral.objects.filter(
            person=view.person,
            to_organisation=to_organisation,
            status__in=[Referral.Status.SENT, Referral.Status.MORE_INFO],
        ).exists(),
        f"There is already an open referral to {to_organisation}.",
    )
    days = int(settings.ONESTORY["REFERRAL_RESPONSE_DAYS"])
    with transaction.atomic():
        referral = Referral.objects.create(
            person=view.person,
            from_organisation=actor.organisation,
            sent_by=actor.user,
            to_organisation=to_organisation,
            service=service,
            reason=reason,
            what_they_want=what_they_want,
            duty_to_refer=duty_to_refer,
            respond_by=working_days_after(timezone.localdate(), days),
        )
        audit.record(
            actor=actor.actor,
            action="referral.send",
            persons=[view.id],
            detail={"referral": referral.pk, "to": to_organisation.pk, "duty": duty_to_refer},
        )
    return referral


def _receiver(actor: AccessContext, referral: Referral) -> None:
    _require(
        referral.to_organisation_id == actor.organisation_id
        and policy.may_answer_referral(role=actor.role),
        "Only the organisation the referral was sent to can answer it.",
    )


def referral_decide(
    *,
    actor: AccessContext,
    referral: Referral,
    decision: str,
    based_on_version: int,
    decline_reason: str = "",
    note: str = "",
) -> Referral:
    """Accept, decline or ask for more. Exactly one answer wins when two people answer at
    once; the other gets ``AlreadyDecided``. Accepting creates the relationship (the
    service joins the team); declining leaves the organisation without access."""
    _receiver(actor, referral)
    _require(decision in {"accept", "decline", "more_info"}, "Choose an answer.")
    if decision == "decline":
        _require(bool(decline_reason), "Choose why you are declining.")
    if decision == "more_info":
        _require(bool(note.strip()), "Say what you need to know.")
    status = {
        "accept": Referral.Status.ACCEPTED,
        "decline": Referral.Status.DECLINED,
        "more_info": Referral.Status.MORE_INFO,
    }[decision]
    now = timezone.now()
    with transaction.atomic():
        won = Referral.objects.filter(
            pk=referral.pk,
            version=based_on_version,
            status__in=[Referral.Status.SENT, Referral.Status.MORE_INFO],
        ).update(
            status=status,
            version=F("version") + 1,
            decline_reason=decline_reason if decision == "decline" else "",
            decision_note=note,
            decided_by=actor.user if decision != "more_info" else None,
            decided_at=now if decision != "more_info" else None,
        )
        if not won:
            current = Referral.objects.get(pk=referral.pk)
            raise AlreadyDecided(
                f"Someone else has already answered this referral "
                f"({current.get_status_display().lower()}). Nothing was changed."
            )
        if decision == "accept":
            relationship = Relationship.objects.create(
                person_id=referral.person_id,
                organisation_id=referral.to_organisation_id,
                kind=Relationship.Kind.REFERRAL,
                worker=actor.user,
                role_description=referral.service.name if referral.service else "",
                started_on=timezone.localdate(),
            )
            Referral.objects.filter(pk=referral.pk).update(relationship=relationship)
        if decision == "more_info" or note.strip():
            ReferralMessage.objects.create(
                referral=referral, organisation=actor.organisation, written_by=actor.user, text=note
            )
        referral.refresh_from_db()
        audit.record(
            actor=actor.actor,
            action=f"referral.{decision}",
            persons=[referral.person_id],
            detail={"referral": referral.pk, "decline_reason": decline_reason},
        )
    return referral


def referral_reply(*, actor: AccessContext, referral: Referral, text: str) -> Referral:
    """The referrer answers a question; the referral goes back to waiting for a reply."""
    _require(
        referral.from_organisation_id == actor.organisation_id,
        "Only the organisation that sent the referral can reply.",
    )
    _require(referral.open, "This referral has been answered.")
    _require(bool(text.strip()), "Write your reply.")
    with transaction.atomic():
        ReferralMessage.objects.create(
            referral=referral, organisation=actor.organisation, written_by=actor.user, text=text
        )
        Referral.objects.filter(pk=referral.pk, status=Referral.Status.MORE_INFO).update(
            status=Referral.Status.SENT, version=F("version") + 1
        )
        referral.refresh_from_db()
        audit.record(
            actor=actor.actor,
            action="referral.reply",
            persons=[referral.person_id],
            detail={"referral": referral.pk},
        )
    return referral


def referral_end(*, actor: AccessContext, referral: Referral, note: str = "") -> Referral:
    """Withdraw an open referral (the sender), or close an accepted one (either side):
    the receiving organisation's relationship from it ends."""
    sender = referral.from_organisation_id == actor.organisation_id
    receiver = referral.to_organisation_id == actor.organisation_id
    _require(sender or receiver, "This referral is not yours.")
    if referral.open:
        _require(sender, "Only the sender can withdraw a referral.")
        status = Referral.Status.WITHDRAWN
    else:
        _require(referral.status == Referral.Status.ACCEPTED, "This referral has ended.")
        status = Referral.Status.CLOSED
    with transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(
            status=status, version=F("version") + 1, decision_note=note or referral.decision_note
        )
        if referral.relationship_id:
            Relationship.objects.filter(pk=referral.relationship_id, ended_on__isnull=True).update(
                ended_on=timezone.localdate()
            )
        referral.refresh_from_db()
        audit.record(
            actor=actor.actor,
            action=f"referral.{status}",
            persons=[referral.person_id],
            detail={"referral": referral.pk},
        )
    return referral


def alerts_raise(*, actor: Actor, record_ids: Iterable[int]) -> list[Alert]:
    """Alert each lead worker about new notable events from these feed records (called at
    the end of an import). The email says only that there is news: no special-category
    data leaves OneStory by email."""
    ids = list(record_ids)
    if not ids:
        return []
    events = _events_in_chunks(ids)
    return alerts_for_events(actor=actor, events=events)


def alerts_for_events(
    *, actor: Actor, events: list[tuple[int, int]], except_user_id: int | None = None
) -> list[Alert]:
    """Alert the lead workers of these ``(event_id, person_id)`` events (not the worker who
    recorded them)."""
    if not events:
        return []
    leads: dict[int, list[Any]] = {}
    for allocation in Allocation.objects.filter(
        person_id__in={p for _, p in events}, kind=Allocation.Kind.LEAD, ended_on__isnull=True
    ).select_related("worker"):
        leads.setdefault(allocation.person_id, []).append(allocation.worker)
    made = []
    with transaction.atomic():
        for event_id, person_id in events:
            for worker in leads.get(person_id, []):
                if worker.pk == except_user_id:
                    continue
                alert, created = Alert.objects.get_or_create(
                    user=worker, event_id=event_id, defaults={"person_id": person_id}
                )
                if created:
                    made.append(alert)
        if made:
            audit.record(
                actor=actor,
                action="alerts.raise",
                persons=sorted({a.person_id for a in made}),
                detail={"alerts": len(made)},
            )
    for worker in {a.user for a in made}:
        if worker.email:
            count = sum(1 for a in made if a.user_id == worker.pk)
            try:
                sent = send_mail(
                    subject="OneStory: news about someone you support",
                    message=(
                        f"There {'is' if count == 1 else 'are'} {count} new "
                        f"event{'' if count == 1 else 's'} for people you are the lead worker "
                        "for. Sign in to OneStory to see them under Alerts."
                    ),
                    from_email=None,
                    recipient_list=[worker.email],
                )
            except (OSError, smtplib.SMTPException):
                # The alert is in the app either way; a mail server being down must not
                # undo an import.
                logger.warning("could not email an alert to user %s", worker.pk)
                sent = 0
            if sent:
                Alert.objects.filter(pk__in=[a.pk for a in made if a.user_id == worker.pk]).update(
                    emailed=True
                )
    return made


def _events_in_chunks(ids: list[int]) -> list[tuple[int, int]]:
    """The notable events of these records, as ``(event_id, person_id)``."""
    notable = TimelineEvent.objects.filter(event_type__in=ALERT_EVENTS)
    return [
        row
        for chunk in in_chunks(ids)
        for row in notable.filter(source_record_id__in=chunk).values_list("pk", "person_id")
    ]


def alerts_read(*, actor: AccessContext, alert_ids: Iterable[int]) -> int:
    with transaction.atomic():
        alerts = Alert.objects.filter(pk__in=list(alert_ids), user=actor.user, read_at=None)
        persons = sorted(set(alerts.values_list("person_id", flat=True)))
        count = alerts.update(read_at=timezone.now())
        audit.record(actor=actor.actor, action="alerts.read", persons=persons)
    return count


# What a worker may record happened, and the category each belongs to (SECURITY.md).
RECORDABLE_EVENTS = {
    "attendance": ("health", "A&E attendance"),
    "arrest": ("criminal_justice", "Arrest"),
    "custody": ("criminal_justice", "In police custody"),
    "release": ("criminal_justice", "Released from prison"),
    "eviction": ("homelessness", "Eviction"),
    "crisis_contact": ("mental_health", "Mental health crisis"),
}


def event_record(
    *, actor: AccessContext, view: PersonView, event_type: str, occurred_on: date, summary: str
) -> TimelineEvent:
    """A worker records something that happened (an A&E visit, an arrest...) on the
    person's timeline; their lead worker is alerted at once."""
    _require(event_type in RECORDABLE_EVENTS, "Choose what happened.")
    category = RECORDABLE_EVENTS[event_type][0]
    _require(
        policy.may_record_event(role=actor.role) and view.can_see(category),
        "You cannot record this kind of event for this person.",
    )
    _require(occurred_on <= timezone.localdate(), "The date cannot be in the future.")
    with transaction.atomic():
        event = TimelineEvent.objects.create(
            person=view.person,
            organisation=actor.organisation,
            category=category,
            event_type=event_type,
            occurred_on=occurred_on,
            summary=summary[:300],
            source="recorded",
        )
        audit.record(
            actor=actor.actor,
            action="event.record",
            persons=[view.id],
            detail={"event": event.pk, "type": event_type},
        )
        alerts_for_events(
            actor=actor.actor, events=[(event.pk, view.id)], except_user_id=actor.user.pk
        )
    return event
