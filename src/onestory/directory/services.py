"""Maintaining directory entries: each organisation's managers keep their own up to date."""

from __future__ import annotations

from django.db import transaction

from onestory.access.context import AccessContext
from onestory.access.models import Service
from onestory.access.roles import Role
from onestory.audit import services as audit


class DirectoryError(ValueError):
    pass


def service_save(*, actor: AccessContext, service: Service) -> Service:
    """Create or update one of the actor's organisation's services."""
    if actor.role != Role.MANAGER or service.organisation_id != actor.organisation_id:
        raise DirectoryError("Only a manager of the organisation can change its entries.")
    with transaction.atomic():
        created = service.pk is None
        service.save()
        audit.record(
            actor=actor.actor,
            action="directory.create" if created else "directory.update",
            detail={"service": service.pk},
        )
    return service
