"""Administration of organisations, services, users and memberships. No person data here."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from onestory.access.models import Membership, Organisation, Service, User
from onestory.audit import services as audit
from onestory.audit.services import Actor


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
