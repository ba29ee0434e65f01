"""Recording and withdrawing sharing decisions; the register of data-sharing agreements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.access.models import Organisation, User
from onestory.access.roles import SHAREABLE_CATEGORIES, Category
from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.consent.models import DataSharingAgreement, SharingDecision
from onestory.people.models import Person


class SharingError(ValueError):
    pass


def sharing_record(
    *,
    actor: AccessContext | Actor,
    person: Person,
    organisations: Iterable[Organisation],
    categories: Iterable[str],
    basis: str,
    review_on: date,
    notes: str = "",
    recorded_by_user: User | None = None,
    recorded_by_organisation: Organisation | None = None,
) -> list[SharingDecision]:
    """Record the person's decision to share these categories with these organisations."""
    cats = sorted({Category(c).value for c in categories})
    if not cats:
        raise SharingError("Choose at least one kind of information to share")
    allowed = {c.value for c in SHAREABLE_CATEGORIES}
    if set(cats) - allowed:
        raise SharingError("Identity is always shared with any other category")
    orgs = list(organisations)
    if not orgs:
        raise SharingError("Choose at least one organisation")
    if review_on <= timezone.localdate():
        raise SharingError("The review date must be in the future")
    if isinstance(actor, AccessContext):
        user, org, audit_actor = actor.user, actor.organisation, actor.actor
    elif recorded_by_user is not None and recorded_by_organisation is not None:
        user, org, audit_actor = recorded_by_user, recorded_by_organisation, actor
    else:
        raise SharingError("A sharing decision needs the user and organisation recording it")
    with transaction.atomic():
        decisions = [
            SharingDecision.objects.create(
                person=person,
                organisation=o,
                categories=cats,
                basis=basis,
                notes=notes,
                recorded_by=user,
                recorded_by_organisation=org,
                review_on=review_on,
            )
            for o in orgs
        ]
        audit.record(
            actor=audit_actor,
            action="sharing.record",
            persons=[person.pk],
            basis=basis,
            detail={"organisations": [o.pk for o in orgs], "categories": cats},
        )
    return decisions


def sharing_withdraw(
    *, actor: AccessContext, decision: SharingDecision, reason: str
) -> SharingDecision:
    """Withdraw a decision; it stops counting on the very next request."""
    with transaction.atomic():
        locked = SharingDecision.objects.select_for_update().get(pk=decision.pk)
        if locked.withdrawn_at is not None:
            raise SharingError("This decision was already withdrawn")
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor.user
        locked.withdrawal_reason = reason
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit.record(
            actor=actor.actor,
            action="sharing.withdraw",
            persons=[decision.person_id],
            detail={"decision": decision.pk},
        )
    return locked


def agreement_save(
    *,
    actor: Actor,
    agreement: DataSharingAgreement,
    parties: Iterable[Organisation],
    lead_navigation: Iterable[Organisation],
    expected_version: int | None,
) -> DataSharingAgreement:
    """Create or update an agreement, refusing to overwrite someone else's newer save."""
    with transaction.atomic():
        if agreement.pk is not None:
            updated = DataSharingAgreement.objects.filter(
                pk=agreement.pk, version=expected_version or 0
            ).update(version=(expected_version or 0) + 1)
            if updated != 1:
                raise SharingError(
                    "Someone else changed this agreement while you were editing it. "
                    "Reload the page to see their changes."
                )
            agreement.version = (expected_version or 0) + 1
        agreement.save()
        agreement.parties.set(parties)
        agreement.lead_navigation_organisations.set(lead_navigation)
        audit.record(actor=actor, action="agreement.save", detail={"agreement": agreement.pk})
    return agreement
