"""Who is asking: the signed-in user acting as one membership."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import Role
from onestory.audit.services import Actor


@dataclass(frozen=True)
class AccessContext:
    user: User
    membership: Membership

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    @property
    def organisation(self) -> Organisation:
        return self.membership.organisation

    @property
    def organisation_id(self) -> int:
        return self.membership.organisation_id

    @property
    def actor(self) -> Actor:
        return actor_for(self.user, self.membership)


def actor_for(user: User | None, membership: Membership | None) -> Actor:
    if user is None or not user.is_authenticated:
        return Actor()
    if membership is None:
        return Actor(user_id=user.pk, username=user.username)
    return Actor(
        user_id=user.pk,
        username=user.username,
        role=membership.role,
        organisation_id=membership.organisation_id,
        organisation=membership.organisation.name,
    )


def request_access(request: HttpRequest) -> AccessContext:
    """The acting user's context, set on every signed-in request by the middleware."""
    access: AccessContext = request.access  # type: ignore[attr-defined]
    return access
