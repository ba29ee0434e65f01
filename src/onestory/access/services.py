"""Administration of organisations, services, users and memberships (no person data);
and the trust services: break glass, claimed relationships and the privacy officer's
review of both (SECURITY.md rules 3 and 7, ADR 0018)."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import (
    BreakGlass,
    Membership,
    Organisation,
    PrivacyReview,
    Service,
    User,
)
from onestory.access.roles import Role
from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.people.models import Person, Relationship

logger = logging.getLogger(__name__)


class AdminError(ValueError):
    pass


def organisation_save(*, actor: Actor, organisation: Organisation) -> Organisation:
    created = organisation.pk is None
    organisation.save()
    audit.record(
        actor=actor,
        action="organisation.create" if created else "organisation.update",
        detail={"organisation": organisation.pk},
    )
    return organisation


def service_save(*, actor: Actor, service: Service) -> Service:
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError as exc:
        raise AdminError("This organisation already has a service with that name") from exc
    audit.record(actor=actor, action="service.save", detail={"service": service.pk})
    return service


def user_create(
    *, actor: Actor, username: str, first_name: str, last_name: str, email: str, password: str
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise AdminError("That username is already taken")
    user = User.objects.create_user(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        password=password,
    )
    audit.record(actor=actor, action="user.create", detail={"user": user.pk})
    return user


def user_set_active(*, actor: Actor, user: User, active: bool) -> User:
    """Disabling a user also ends their sessions at their next request (``is_active``)."""
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        actor=actor, action="user.enable" if active else "user.disable", detail={"user": user.pk}
    )
    return user


def membership_add(
    *, actor: Actor, user: User, organisation: Organisation, role: str
) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, role=role, defaults={"is_active": True}
    )
    if not created and membership.is_active:
        raise AdminError("This user already has that role in that organisation")
    if not created:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    audit.record(
        actor=actor,
        action="membership.add",
        detail={"user": user.pk, "organisation": organisation.pk, "role": role},
    )
    return membership


def membership_end(*, actor: Actor, membership: Membership) -> Membership:
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    audit.record(actor=actor, action="membership.end", detail={"membership": membership.pk})
    return membership


# --- Break glass and claimed relationships (rules 3 and 7)


class TrustError(ValueError):
    """A refused break glass, claim or review; the message says why."""


class StaleReview(TrustError):
    """Someone else recorded this review first."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TrustError(message)


def break_glass_hours() -> float:
    cfg: dict[str, Any] = settings.ONESTORY
    return float(cfg["BREAK_GLASS_HOURS"])


def affected_organisations(person: Person, acting_organisation_id: int) -> list[int]:
    """The organisations whose privacy officers are told: the one acting, every
    organisation with a relationship in force, and the holder of a restricted location."""
    today = timezone.localdate()
    ids = set(
        Relationship.objects.filter(person=person, started_on__lte=today)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
        .values_list("organisation_id", flat=True)
    )
    ids.add(acting_organisation_id)
    if person.restricted_owner_id:
        ids.add(person.restricted_owner_id)
    return sorted(ids)


def _open_reviews(
    *,
    actor: AccessContext,
    person: Person,
    kind: str,
    reason: str,
    explanation: str,
    break_glass: BreakGlass | None = None,
    relationship: Relationship | None = None,
) -> list[PrivacyReview]:
    now = timezone.now()
    return [
        PrivacyReview.objects.create(
            kind=kind,
            organisation_id=org_id,
            person=person,
            break_glass=break_glass,
            relationship=relationship,
            requested_by=actor.user,
            requested_by_organisation=actor.organisation,
            reason=reason[:200],
            explanation=explanation,
            requested_at=now,
        )
        for org_id in affected_organisations(person, actor.organisation_id)
    ]


def _email_privacy_officers(reviews: list[PrivacyReview], what: str) -> None:
    """Tell each affected organisation's privacy officers, by email, that a review is
    waiting. No personal data: neither the person nor the reason, only where to look."""
    for review in reviews:
        officers = User.objects.filter(
            memberships__organisation_id=review.organisation_id,
            memberships__role=Role.PRIVACY_OFFICER.value,
            memberships__is_active=True,
            is_active=True,
        ).exclude(email="")
        for officer in officers.distinct():
            try:
                send_mail(
                    subject=f"OneStory: a {what} needs your review",
                    message=(
                        f"Someone at {review.requested_by_organisation} used {what} in "
                        f"OneStory on {timezone.localtime(review.requested_at):%d %B %Y at %H:%M}"
                        ". As a privacy officer for your organisation, please review it: "
                        f"sign in and open {reverse('privacy:review', args=[review.pk])}"
                    ),
                    from_email=None,
                    recipient_list=[officer.email],
                )
            except (OSError, smtplib.SMTPException):
                # The review waits in the queue either way; a mail server being down must
                # not stop someone breaking glass in an emergency.
                logger.warning("could not email privacy officer %s", officer.pk)


def break_glass_start(
    *, actor: AccessContext, person: Person, reason: str, explanation: str
) -> BreakGlass:
    """Open a record this user cannot otherwise see, read-only, until it expires (by
    default 4 hours); every affected organisation's privacy officer must review it."""
    _require(
        policy.may_break_glass(role=actor.role),
        "Only navigators and practitioners can break glass.",
    )
    _require(reason in BreakGlass.Reason.values, "Choose why you need to break glass.")
    explanation = explanation.strip()
    _require(len(explanation) >= 10, "Say in a sentence or two why you need the record now.")
    now = timezone.now()
    with transaction.atomic():
        glass = BreakGlass.objects.create(
            person=person,
            user=actor.user,
            organisation=actor.organisation,
            role=actor.role.value,
            reason=reason,
            explanation=explanation,
            started_at=now,
            expires_at=now + timedelta(hours=break_glass_hours()),
        )
        reviews = _open_reviews(
            actor=actor,
            person=person,
            kind=PrivacyReview.Kind.BREAK_GLASS,
            reason=glass.get_reason_display(),
            explanation=explanation,
            break_glass=glass,
        )
        audit.record(
            actor=actor.actor,
            action="break_glass.start",
            persons=[person.pk],
            basis="break_glass",
            detail={
                "break_glass": glass.pk,
                "reason": reason,
                "expires_at": glass.expires_at.isoformat(),
                "alerted_organisations": [r.organisation_id for r in reviews],
            },
        )
        transaction.on_commit(lambda: _email_privacy_officers(reviews, "break glass"))
    return glass


def relationship_claim(*, actor: AccessContext, person: Person, reason: str) -> Relationship:
    """A navigator claims a relationship their organisation does not have yet; it gives
    the relationship at once, and the privacy officers of the affected organisations
    review it (an inappropriate finding ends it)."""
    today = timezone.localdate()
    related = (
        Relationship.objects.filter(
            person=person, organisation_id=actor.organisation_id, started_on__lte=today
        )
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
        .exists()
    )
    _require(
        policy.may_claim_relationship(role=actor.role, has_relationship=related),
        "Only a navigator can claim a relationship, and only one your organisation does "
        "not have already.",
    )
    reason = reason.strip()
    _require(len(reason) >= 10, "Say in a sentence or two why you are working with this person.")
    with transaction.atomic():
        relationship = Relationship.objects.create(
            person=person,
            organisation=actor.organisation,
            kind=Relationship.Kind.CLAIMED,
            worker=actor.user,
            claim_reason=reason,
            started_on=today,
        )
        reviews = _open_reviews(
            actor=actor,
            person=person,
            kind=PrivacyReview.Kind.CLAIMED,
            reason="Claimed relationship",
            explanation=reason,
            relationship=relationship,
        )
        audit.record(
            actor=actor.actor,
            action="relationship.claim",
            persons=[person.pk],
            basis="claimed_relationship",
            detail={
                "relationship": relationship.pk,
                "alerted_organisations": [r.organisation_id for r in reviews],
            },
        )
        transaction.on_commit(lambda: _email_privacy_officers(reviews, "claimed relationship"))
    return relationship


def privacy_review_record(
    *,
    actor: AccessContext,
    review: PrivacyReview,
    finding: str,
    note: str,
    based_on_version: int,
) -> PrivacyReview:
    """Record a privacy officer's finding on a break glass or a claim, once. Two reviews
    at once record one: the second finds the version moved and is refused. Finding it
    inappropriate ends a break glass still in force, and ends a claimed relationship."""
    _require(
        policy.may_review_privacy(
            role=actor.role, affected=review.organisation_id == actor.organisation_id
        ),
        "Only a privacy officer of an affected organisation can review this.",
    )
    _require(
        finding in {PrivacyReview.Status.APPROPRIATE, PrivacyReview.Status.INAPPROPRIATE},
        "Choose whether it was appropriate.",
    )
    note = note.strip()
    _require(bool(note), "Write a note saying what you checked and found.")
    now = timezone.now()
    with transaction.atomic():
        done = PrivacyReview.objects.filter(
            pk=review.pk, version=based_on_version, status=PrivacyReview.Status.PENDING
        ).update(
            status=finding,
            note=note,
            reviewed_by=actor.user,
            reviewed_at=now,
            version=F("version") + 1,
        )
        if not done:
            raise StaleReview("Someone else reviewed this first. Reload the page to see it.")
        ended = False
        if finding == PrivacyReview.Status.INAPPROPRIATE:
            if review.break_glass_id is not None:
                ended = bool(
                    BreakGlass.objects.filter(
                        pk=review.break_glass_id, ended_at__isnull=True, expires_at__gt=now
                    ).update(ended_at=now)
                )
            if review.relationship_id is not None:
                ended = bool(
                    Relationship.objects.filter(
                        pk=review.relationship_id, ended_on__isnull=True
                    ).update(ended_on=timezone.localdate())
                )
        audit.record(
            actor=actor.actor,
            action="privacy_review.record",
            persons=[review.person_id],
            basis="privacy_review",
            detail={
                "review": review.pk,
                "kind": review.kind,
                "finding": finding,
                "ended_access": ended,
            },
        )
    review.refresh_from_db()
    return review
