"""Information governance: subject access and rectification requests (UK GDPR Articles 15
and 16), tracked against their one-month deadline.

Sensitive: a request names a person. Views reach them only through ``access.scope``.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

from onestory.access.models import Organisation
from onestory.people.models import Person


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    PRODUCED = "produced", "Produced, not yet sent"
    CLOSED = "closed", "Closed"


class SubjectAccessRequest(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    # One calendar month from receipt (ICO guidance), or up to two months more when the
    # request is complex or one of several, with the reason recorded.
    due_on = models.DateField()
    extended_to = models.DateField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    requester = models.CharField(max_length=200)
    identity_checked = models.TextField()
    status = models.CharField(max_length=10, choices=RequestStatus, default=RequestStatus.OPEN)
    produced_at = models.DateTimeField(null=True, blank=True)
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"Subject access request {self.pk}"

    @property
    def deadline(self) -> date:
        return self.extended_to or self.due_on


class RectificationOutcome(models.TextChoices):
    CORRECTED = "corrected", "Corrected: a correction was added to the record"
    NOT_CORRECTED = "not_corrected", "Not corrected: the person's view is noted on the record"


class RectificationRequest(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    due_on = models.DateField()
    what_is_wrong = models.TextField()
    where = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=RequestStatus, default=RequestStatus.OPEN)
    outcome = models.CharField(max_length=20, choices=RectificationOutcome, blank=True)
    outcome_note = models.TextField(blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"Rectification request {self.pk}"


class RetentionHold(models.Model):
    """A reviewed decision to keep a person's record past its retention date, for now."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    until = models.DateField()
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Retention hold on person {self.person_id} until {self.until}"


class DestructionScope(models.TextChoices):
    WHOLE = "whole", "The whole record"
    ALL_BUT_MENTAL_HEALTH = "all_but_mh", "Everything but mental health entries"


class DestructionRecord(models.Model):
    """What was destroyed, when and by whom. Holds no personal data: the person's id only
    (audit events name ids too), so the destruction can be proved without keeping what it
    destroyed."""

    person_id = models.BigIntegerField(db_index=True)
    merged_person_ids = models.JSONField(default=list)
    scope = models.CharField(max_length=12, choices=DestructionScope)
    last_contact = models.DateField()
    rows = models.JSONField(default=dict)
    reason = models.TextField()
    destroyed_at = models.DateTimeField(auto_now_add=True)
    destroyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-destroyed_at"]

    def __str__(self) -> str:
        return f"Destruction of person {self.person_id}"


class AccessReview(models.Model):
    """A manager's periodic check that someone in their organisation still needs their role
    (joiners, movers and leavers), and what they decided."""

    class Outcome(models.TextChoices):
        KEPT = "kept", "Still needs this role"
        ENDED = "ended", "Role ended"

    membership = models.ForeignKey(
        "access.Membership", on_delete=models.CASCADE, related_name="reviews"
    )
    outcome = models.CharField(max_length=10, choices=Outcome)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"Review of membership {self.membership_id}: {self.outcome}"
