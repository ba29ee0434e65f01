"""Referrals between partner organisations, and alerts to lead workers.

Sensitive models: views reach them through ``access.scope`` (rule 1). A referral carries its
own reason and what the person wants; the receiving organisation sees the person's record
only once it accepts (the accepted referral is its relationship, rule 3).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from onestory.access.models import Organisation, Service
from onestory.people.models import Person, Relationship, TimelineEvent

User = settings.AUTH_USER_MODEL


class Referral(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", "Waiting for a reply"
        MORE_INFO = "more_info", "More information asked for"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        CLOSED = "closed", "Closed"

    class DeclineReason(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible", "Does not meet our eligibility criteria"
        NO_CAPACITY = "no_capacity", "No capacity at the moment"
        WRONG_SERVICE = "wrong_service", "Another service is better placed"
        OUT_OF_AREA = "out_of_area", "Outside our area"
        PERSON_DECLINED = "person_declined", "The person did not want it"
        RISK = "risk", "Risk we cannot manage"
        OTHER = "other", "Other"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="referrals")
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    to_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals_received"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("Why you are referring")
    what_they_want = models.TextField("What the person wants, in their words")
    duty_to_refer = models.BooleanField(
        "Duty to Refer (Housing Act 1996, section 213B)", default=False
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SENT)
    respond_by = models.DateField()
    decline_reason = models.CharField(max_length=30, choices=DeclineReason.choices, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    relationship = models.ForeignKey(
        Relationship, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["to_organisation", "status"])]

    def __str__(self) -> str:
        return f"Referral {self.pk} to {self.to_organisation}"

    @property
    def open(self) -> bool:
        return self.status in {self.Status.SENT, self.Status.MORE_INFO}


class ReferralMessage(models.Model):
    """The conversation on a referral: questions asked and answers given."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="messages")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    written_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Alert(models.Model):
    """Something happened to a person a worker leads on (A&E, arrest, release...)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="alerts")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(TimelineEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="alert_once_per_event")
        ]

    def __str__(self) -> str:
        return f"Alert for {self.user} about person {self.person_id}"
