"""Creating, rotating and revoking partner API clients, and checking their tokens.

Each write takes ``actor=`` (the person managing the client) and is audited explicitly. A
token is shown once, when it is made; only its SHA-256 hash is kept (ADR 0019).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from onestory.access.context import AccessContext
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import Role
from onestory.audit import services as audit
from onestory.partner_api import scopes as rules
from onestory.partner_api.models import ApiClient, ApiToken
from onestory.partner_api.scopes import Scope

TOKEN_START = "os_"  # noqa: S105 (the start every token has, not a secret)


class ApiClientError(ValueError):
    """A refused step; the message says why in plain English."""


class TokenRefused(Exception):
    """The token is not one OneStory knows, or no longer works (the API answers 401)."""


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def _config(name: str) -> int:
    return int(settings.ONESTORY[name])


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise ApiClientError(message)


def _expiry_days(days: int | None) -> int:
    days = _config("API_TOKEN_DAYS") if days is None else days
    limit = _config("API_TOKEN_MAX_DAYS")
    _require(1 <= days <= limit, f"A token must expire within 1 to {limit} days.")
    return days


def _token_make(*, client: ApiClient, created_by: User, days: int) -> NewToken:
    """A high-entropy secret: ``os_`` + a 12-character lookup prefix + 43 characters
    (256 bits) of randomness. The prefix is stored in the clear to find the row."""
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        client=client,
        prefix=prefix,
        secret_hash=_hash(secret),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return NewToken(token=token, secret=secret)


def api_client_create(
    *,
    actor: AccessContext,
    organisation: Organisation,
    name: str,
    role: Role,
    scopes: Iterable[Scope],
    description: str = "",
    contact_email: str = "",
    expires_in_days: int | None = None,
) -> tuple[ApiClient, NewToken]:
    """A new client of ``organisation`` acting in ``role`` with ``scopes``, and its first
    token. The client acts through a service account of its own that cannot sign in."""
    own = organisation.pk == actor.organisation_id
    _require(
        rules.may_manage(role=actor.role, own_organisation=own, client_role=role),
        f"You cannot create a client acting as a {role.label.lower()}"
        + ("" if own or actor.role == Role.ADMINISTRATOR else f" for {organisation}")
        + ".",
    )
    wanted = sorted({Scope(s) for s in scopes})
    _require(bool(wanted), "Choose at least one thing the client may do.")
    allowed = rules.ROLE_SCOPES[role]
    refused = [s for s in wanted if s not in allowed]
    _require(
        not refused,
        f"A client acting as a {role.label.lower()} cannot have "
        + ", ".join(s.value for s in refused)
        + ".",
    )
    name = name.strip()
    _require(bool(name), "Enter a name for the client.")
    _require(
        not ApiClient.objects.filter(organisation=organisation, name__iexact=name).exists(),
        f"{organisation} already has a client called {name}.",
    )
    days = _expiry_days(expires_in_days)
    with transaction.atomic():
        user = User(
            username=f"{slugify(name)[:40] or 'client'}.api-{secrets.token_hex(3)}",
            first_name=name[:150],
            last_name="(API client)",
        )
        user.set_unusable_password()
        user.save()
        membership = Membership.objects.create(
            user=user, organisation=organisation, role=role.value
        )
        client = ApiClient.objects.create(
            organisation=organisation,
            name=name,
            description=description,
            contact_email=contact_email,
            role=role.value,
            scopes=[s.value for s in wanted],
            user=user,
            membership=membership,
            created_by=actor.user,
        )
        new = _token_make(client=client, created_by=actor.user, days=days)
        audit.record(
            actor=actor.actor,
            action="api_client.create",
            detail={
                "api_client": client.pk,
                "organisation": organisation.pk,
                "role": role.value,
                "scopes": client.scopes,
                "token": new.token.prefix,
            },
        )
    return client, new


def api_token_rotate(
    *,
    actor: AccessContext,
    client: ApiClient,
    revoke_old_now: bool = False,
    expires_in_days: int | None = None,
) -> NewToken:
    """A new token for the client. The tokens in force keep working for the overlap
    (``ONESTORY_API_TOKEN_OVERLAP_HOURS``, so the partner can deploy the new one), or stop
    at once with ``revoke_old_now`` (when a token may have leaked)."""
    own = client.organisation_id == actor.organisation_id
    _require(client.is_active, "This client has been revoked; create a new one.")
    _require(
        rules.may_manage(role=actor.role, own_organisation=own, client_role=client.role_enum),
        "You cannot make tokens for this client.",
    )
    days = _expiry_days(expires_in_days)
    now = timezone.now()
    with transaction.atomic():
        old = ApiToken.objects.select_for_update().filter(
            client=client, revoked_at__isnull=True, expires_at__gt=now
        )
        old_prefixes = list(old.values_list("prefix", flat=True))
        if revoke_old_now:
            old.update(revoked_at=now)
        else:
            until = now + timedelta(hours=_config("API_TOKEN_OVERLAP_HOURS"))
            old.filter(expires_at__gt=until).update(expires_at=until)
        new = _token_make(client=client, created_by=actor.user, days=days)
        audit.record(
            actor=actor.actor,
            action="api_client.rotate",
            detail={
                "api_client": client.pk,
                "token": new.token.prefix,
                "old_tokens": old_prefixes,
                "old_revoked_now": revoke_old_now,
            },
        )
    return new


def api_client_revoke(*, actor: AccessContext, client: ApiClient) -> ApiClient:
    """Stop the client at once: every token is revoked and its role ended."""
    own = client.organisation_id == actor.organisation_id
    _require(client.is_active, "This client has already been revoked.")
    _require(
        rules.may_revoke(role=actor.role, own_organisation=own, client_role=client.role_enum),
        "You cannot revoke this client.",
    )
    now = timezone.now()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(revoked_at=now, revoked_by=actor.user)
        ApiToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
        Membership.objects.filter(pk=client.membership_id).update(is_active=False)
        client.refresh_from_db()
        audit.record(
            actor=actor.actor, action="api_client.revoke", detail={"api_client": client.pk}
        )
    return client


def token_check(secret: str) -> ApiToken:
    """The token in force that ``secret`` is, with its client, or ``TokenRefused``. The
    same refusal for unknown, wrong, expired and revoked tokens, so a caller learns
    nothing about which tokens exist."""
    refused = TokenRefused("The token is not valid: it may be mistyped, expired or revoked.")
    parts = secret.split("_")
    if not secret.startswith(TOKEN_START) or len(parts) < 3 or len(secret) > 200:
        raise refused
    token = (
        ApiToken.objects.select_related(
            "client__organisation", "client__user", "client__membership__organisation"
        )
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        raise refused
    client = token.client
    now = timezone.now()
    if (
        not token.in_force(now)
        or not client.is_active
        or not client.membership.is_active
        or not client.user.is_active
        or not client.organisation.is_active
    ):
        raise refused
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # When a token was last used (shown on the client's page, and the access review's
        # "last signed in"), written at most once a minute.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        User.objects.filter(pk=client.user_id).update(last_login=now)
    return token
