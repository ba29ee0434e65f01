"""Partner API clients for tests: made through the real service, by a real manager."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.test import Client

from onestory.access.context import AccessContext
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import Role
from onestory.partner_api.models import ApiClient
from onestory.partner_api.scopes import Scope
from onestory.partner_api.services import api_client_create
from tests.conftest import make_user


def granting_actor(org: Organisation, client_role: Role) -> AccessContext:
    """A manager (case-work clients) or data manager (data manager clients) of ``org``."""
    role = Role.DATA_MANAGER if client_role == Role.DATA_MANAGER else Role.MANAGER
    membership = Membership.objects.filter(organisation=org, role=role.value).first()
    if membership is None:
        user = make_user(f"granter_{role.value}_{org.pk}", org, role)
        membership = user.memberships.get()
    user = User.objects.get(pk=membership.user_id)
    return AccessContext(user=user, membership=membership)


def make_client(
    org: Organisation,
    role: Role,
    scopes: Iterable[Scope],
    *,
    name: str | None = None,
    days: int | None = None,
) -> tuple[ApiClient, str]:
    """A client of ``org`` and its token (the secret, shown once)."""
    scopes = list(scopes)
    client, new = api_client_create(
        actor=granting_actor(org, role),
        organisation=org,
        name=name or f"{role.value} {'+'.join(s.value for s in scopes)} client",
        role=role,
        scopes=scopes,
        expires_in_days=days,
    )
    return client, new.secret


def bearer(secret: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def api_get(secret: str, path: str, params: dict[str, Any] | None = None) -> Any:
    return Client().get(path, params or {}, **bearer(secret))


def api_post(secret: str, path: str, body: Any) -> Any:
    return Client().post(path, body, content_type="application/json", **bearer(secret))
