"""Writes for subject access and rectification requests. Each takes ``actor=`` and audits."""

from __future__ import annotations

import calendar
from datetime import date

from django.db import transaction
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.audit import services as audit
from onestory.governance.models import (
    RectificationOutcome,
    RectificationRequest,
    RequestStatus,
    SubjectAccessRequest,
)
from onestory.people.models import Person

BASIS = "subject_access"


class GovernanceError(Exception):
    """A request that cannot be carried out, with a sentence saying why."""


class StaleRequest(GovernanceError):
    pass


def months_after(day: date, months: int) -> date:
    """The corresponding calendar date ``months`` later, or that month's last day if it has
    none (ICO: a request received on 31 January is due on 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _bump[R: (SubjectAccessRequest, RectificationRequest)](
    model: type[R], pk: int, version: int, **changes: object
) -> R:
    """Apply ``changes`` only if nobody changed the request since ``version`` was read."""
    updated = model._default_manager.filter(pk=pk, version=version).update(
        version=version + 1, **changes
    )
    if not updated:
        raise StaleRequest(
            "Someone else changed this request while you were looking at it. "
            "Check what it says now and try again."
        )
    return model._default_manager.get(pk=pk)


def sar_record(
    *,
    actor: AccessContext,
    person: Person,
    received_on: date,
    requester: str,
    identity_checked: str,
) -> SubjectAccessRequest:
    """Record a subject access request; it is due one calendar month after receipt."""
    if received_on > timezone.localdate():
        raise GovernanceError("The date received must be today or in the past")
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.create(
            person=person,
            received_on=received_on,
            due_on=months_after(received_on, 1),
            requester=requester,
            identity_checked=identity_checked,
            recorded_by=actor.user,
            organisation=actor.organisation,
        )
        audit.record(
            actor=actor.actor,
            action="subject_access.record",
            persons=[person.pk],
            basis=BASIS,
            detail={"request": sar.pk},
        )
    return sar


def sar_extend(
    *, actor: AccessContext, sar: SubjectAccessRequest, version: int, months: int, reason: str
) -> SubjectAccessRequest:
    """Extend by one or two further months (complex or numerous requests), with the reason."""
    if sar.status == RequestStatus.CLOSED:
        raise GovernanceError("This request is closed")
    if months not in (1, 2) or sar.extended_to is not None:
        raise GovernanceError("A request can be extended once, by one or two months")
    with transaction.atomic():
        sar = _bump(
            SubjectAccessRequest,
            sar.pk,
            version,
            extended_to=months_after(sar.due_on, months),
            extension_reason=reason,
        )
        audit.record(
            actor=actor.actor,
            action="subject_access.extend",
            persons=[sar.person_id],
            basis=BASIS,
            detail={"request": sar.pk, "months": months},
        )
    return sar


def sar_produced(*, actor: AccessContext, sar: SubjectAccessRequest) -> None:
    """Note that the record was produced (each download is audited by the scope)."""
    if sar.status == RequestStatus.OPEN:
        SubjectAccessRequest.objects.filter(pk=sar.pk, status=RequestStatus.OPEN).update(
            status=RequestStatus.PRODUCED,
            produced_at=timezone.now(),
            produced_by=actor.user,
            version=sar.version + 1,
        )


def sar_close(
    *, actor: AccessContext, sar: SubjectAccessRequest, version: int, sent_on: date
) -> SubjectAccessRequest:
    """Record that the response was sent; the privacy officer's access to the record ends."""
    if sar.status != RequestStatus.PRODUCED:
        raise GovernanceError("Produce the record before recording that it was sent")
    if sent_on > timezone.localdate() or sent_on < sar.received_on:
        raise GovernanceError("The date sent must be between the date received and today")
    with transaction.atomic():
        sar = _bump(
            SubjectAccessRequest, sar.pk, version, status=RequestStatus.CLOSED, sent_on=sent_on
        )
        audit.record(
            actor=actor.actor,
            action="subject_access.close",
            persons=[sar.person_id],
            basis=BASIS,
            detail={"request": sar.pk, "late": sent_on > sar.deadline},
        )
    return sar


def rectification_record(
    *, actor: AccessContext, person: Person, received_on: date, what_is_wrong: str, where: str
) -> RectificationRequest:
    """Record a request to correct information (UK GDPR Art. 16); due in one month."""
    if received_on > timezone.localdate():
        raise GovernanceError("The date received must be today or in the past")
    with transaction.atomic():
        request = RectificationRequest.objects.create(
            person=person,
            received_on=received_on,
            due_on=months_after(received_on, 1),
            what_is_wrong=what_is_wrong,
            where=where,
            recorded_by=actor.user,
            organisation=actor.organisation,
        )
        audit.record(
            actor=actor.actor,
            action="rectification.record",
            persons=[person.pk],
            basis=BASIS,
            detail={"request": request.pk},
        )
    return request


def rectification_decide(
    *,
    actor: AccessContext,
    request: RectificationRequest,
    version: int,
    outcome: str,
    note: str,
) -> RectificationRequest:
    """Record what was decided. Corrections themselves are appended by the organisation that
    wrote the entry (never overwritten); a refusal keeps the person's view with the request."""
    if request.status == RequestStatus.CLOSED:
        raise GovernanceError("This request has already been decided")
    if outcome not in RectificationOutcome.values:
        raise GovernanceError("Choose what was decided")
    with transaction.atomic():
        request = _bump(
            RectificationRequest,
            request.pk,
            version,
            status=RequestStatus.CLOSED,
            outcome=outcome,
            outcome_note=note,
            decided_on=timezone.localdate(),
            decided_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="rectification.decide",
            persons=[request.person_id],
            basis=BASIS,
            detail={"request": request.pk, "outcome": outcome},
        )
    return request
