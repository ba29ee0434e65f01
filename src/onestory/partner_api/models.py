"""API clients of partner organisations and their tokens (ADR 0019).

A client acts through a membership of its own (a service account that cannot sign in), so a
token's request has the same ``AccessContext`` as a person's and passes the same policy,
scope and audit trail. Tokens are stored only as a SHA-256 hash, found by a short prefix.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from onestory.access.models import Membership, Organisation
from onestory.access.roles import Role

User = settings.AUTH_USER_MODEL


class ApiClient(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(max_length=100)
    description = models.TextField("What it is for", blank=True)
    contact_email = models.EmailField("Who to contact about it", blank=True)
    role = models.CharField(max_length=30, choices=[(r.value, r.label) for r in Role])
    scopes = models.JSONField(default=list)
    # The service account the client acts as (unusable password, never signs in).
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_client")
    membership = models.OneToOneField(Membership, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="api_client_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.name})"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiToken(models.Model):
    """One secret of a client. ``prefix`` finds it; ``secret_hash`` proves it."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Token {self.prefix}… of {self.client.name}"

    def in_force(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())
