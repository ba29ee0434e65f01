"""The audit trail: one hash-chained event per request or command (SECURITY.md rule 11)."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    request_id = models.CharField(max_length=36, db_index=True)
    # Actor: a user acting in a role and organisation, or a named system actor (the CLI).
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=30, blank=True)
    actor_organisation_id = models.BigIntegerField(null=True, blank=True)
    actor_organisation = models.CharField(max_length=200, blank=True)
    system_actor = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=200)
    basis = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, default="ok")
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    person_ids = models.JSONField(default=list)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.action}"


class AuditPersonAccess(models.Model):
    """Index from a person to the events that touched them, for their access log.

    A convenience copy: the hashed ``AuditEvent.person_ids`` is the authority.
    """

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="person_rows")
    person_id = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"person {self.person_id} in event {self.event_id}"


class AuditChainHead(models.Model):
    """The last event of the chain: a deleted tail shows as a mismatch against it.

    Also the row every writer locks, so events are numbered one at a time.
    """

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain head at {self.last_seq}"
