"""Joiners, movers and leavers: each manager reviews who holds a role in their organisation.

Holds no person data (only staff accounts), so it needs no scope; every decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.access.models import Membership
from onestory.access.roles import Role
from onestory.access.services import membership_end, user_set_active
from onestory.audit import services as audit
from onestory.governance.models import AccessReview
from onestory.governance.services import months_after


class AccessReviewError(Exception):
    pass


@dataclass(frozen=True)
class Row:
    membership: Membership
    last_login: datetime | None
    last_review: AccessReview | None
    elsewhere: list[Membership]  # their active roles in other organisations (movers)
    joiner: bool
    dormant: bool
    review_due: bool


def rows(organisation_id: int, today: date) -> list[Row]:
    """Everyone with an active role in the organisation, with what a reviewer should notice."""
    members = list(
        Membership.objects.filter(
            organisation_id=organisation_id, is_active=True, user__is_active=True
        )
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "role")
    )
    user_ids = [m.user_id for m in members]
    others: dict[int, list[Membership]] = {}
    for m in (
        Membership.objects.filter(user_id__in=user_ids, is_active=True)
        .exclude(organisation_id=organisation_id)
        .select_related("organisation")
    ):
        others.setdefault(m.user_id, []).append(m)
    latest: dict[int, AccessReview] = {}
    for review in AccessReview.objects.filter(membership__in=members).order_by("reviewed_at"):
        latest[review.membership_id] = review
    dormant_since = today - timedelta(days=settings.ONESTORY["DORMANT_DAYS"])
    months = settings.ONESTORY["ACCESS_REVIEW_MONTHS"]
    out = []
    for m in members:
        last = latest.get(m.pk)
        checked = timezone.localtime(last.reviewed_at).date() if last else None
        since = checked or timezone.localtime(m.created_at).date()
        login = m.user.last_login
        out.append(
            Row(
                membership=m,
                last_login=login,
                last_review=last,
                elsewhere=others.get(m.user_id, []),
                joiner=timezone.localtime(m.created_at).date() > today - timedelta(days=30),
                dormant=(login is None or timezone.localtime(login).date() < dormant_since)
                and timezone.localtime(m.created_at).date() < dormant_since,
                review_due=months_after(since, months) <= today,
            )
        )
    return out


def decide(*, actor: AccessContext, membership_id: int, keep: bool) -> AccessReview:
    """Record that a role is still needed, or end it. Ending someone's last role also
    disables their account, which ends their sessions at their next request."""
    if actor.role != Role.MANAGER:
        raise AccessReviewError("Only a manager reviews their organisation's roles")
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .filter(pk=membership_id, organisation_id=actor.organisation_id, is_active=True)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise AccessReviewError("This role has already ended, or is not in your organisation")
        if membership.user_id == actor.user.pk and not keep:
            raise AccessReviewError("You cannot end your own role: ask another manager")
        review = AccessReview.objects.create(
            membership=membership,
            outcome=AccessReview.Outcome.KEPT if keep else AccessReview.Outcome.ENDED,
            reviewed_by=actor.user,
        )
        if keep:
            audit.record(
                actor=actor.actor,
                action="access_review.keep",
                detail={"membership": membership.pk},
            )
        else:
            membership_end(actor=actor.actor, membership=membership)
            if not Membership.objects.filter(user=membership.user, is_active=True).exists():
                user_set_active(actor=actor.actor, user=membership.user, active=False)
    return review
