"""The barrier log's writes. Each takes ``actor=`` and is audited explicitly; a step on a
barrier names the version it was based on, so two people acting at once never overwrite
each other (the second is told and nothing changes)."""

from __future__ import annotations

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
from onestory.referrals.models import Referral
from onestory.voice.models import Barrier, BarrierGroup, BarrierPerson, BarrierUpdate, Category


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
