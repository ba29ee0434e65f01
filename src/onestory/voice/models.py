"""The barrier log: what got in the way of someone's care, who owns it, what they did.

A barrier is about a service or a rule, not about a person. The person it happened to may
be linked (``BarrierPerson``, person data, reached only through ``access.scope``); the
board and anyone else without a relationship with that person never see who it was.
"""

from __future__ import annotations

from django.db import models

from onestory.access.models import Organisation, Service, User
from onestory.people.models import Person


class Category(models.TextChoices):
    REPEAT_STORY = "repeat_story", "Having to repeat my story"
    ELIGIBILITY = "eligibility", "Eligibility rules"
    ADDRESS_ID = "address_id", "Needs an address or ID"
    APPOINTMENTS = "appointments", "Appointment system"
    WAITING = "waiting", "Waiting time"
    DIGITAL = "digital", "Digital exclusion"
    ATTITUDES = "attitudes", "Attitudes and stigma"
    HOURS = "hours", "Opening hours"
    TRANSPORT = "transport", "Transport"
    CONFLICTING = "conflicting", "Conflicting requirements between services"
    OTHER = "other", "Other"


class BarrierGroup(models.Model):
    """Similar barriers grouped under one theme so they are worked on once."""

    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class Barrier(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "Waiting for triage"
        ASSIGNED = "assigned", "With the owning organisation"
        RESPONDED = "responded", "Response given"
        RESOLVED = "resolved", "Resolved"
        NOT_TAKEN_FORWARD = "not_taken_forward", "Not taken forward"

    class Impact(models.TextChoices):
        DELAYED = "delayed", "It delayed help"
        STOPPED = "stopped", "It stopped someone getting help"
        HARMED = "harmed", "It caused harm or distress"
        WORK = "work", "It made more work for staff"

    class Via(models.TextChoices):
        WORKER = "worker", "A worker"
        PERSON = "person", "A person we support (feedback)"
        STAFF_ANONYMOUS = "staff_anonymous", "A member of staff, anonymously"

    what_happened = models.TextField("What happened")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="barriers"
    )
    service_or_rule = models.CharField("Which service or rule", max_length=300, blank=True)
    category = models.CharField(max_length=30, choices=Category.choices)
    impact = models.CharField(max_length=20, choices=Impact.choices)
    impact_note = models.TextField("What difference it made", blank=True)
    via = models.CharField(max_length=20, choices=Via.choices, default=Via.WORKER)
    # Empty for anonymous staff and for people's own feedback.
    raised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_by_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_on = models.DateField()  # a day, never a time (ADR 0011)
    from_declined_referral = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="barriers"
    )
    group = models.ForeignKey(
        BarrierGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="barriers"
    )
    escalated_on = models.DateField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-raised_on", "-pk"]
        indexes = [models.Index(fields=["status", "owner"])]

    def __str__(self) -> str:
        return f"Barrier {self.pk}: {self.get_category_display()}"

    @property
    def open(self) -> bool:
        return self.status not in {self.Status.RESOLVED, self.Status.NOT_TAKEN_FORWARD}


class BarrierPerson(models.Model):
    """The person a barrier happened to (person data: through ``access.scope`` only)."""

    barrier = models.OneToOneField(Barrier, on_delete=models.CASCADE, related_name="affected")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Person linked to barrier {self.barrier_id}"


class BarrierUpdate(models.Model):
    """Everything that happened to a barrier, in order; never edited."""

    class Kind(models.TextChoices):
        RAISED = "raised", "Raised"
        ASSIGNED = "assigned", "Assigned"
        GROUPED = "grouped", "Grouped"
        RESPONSE = "response", "Response"
        ACTION = "action", "Action taken"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        NOT_TAKEN_FORWARD = "not_taken_forward", "Not taken forward"
        ESCALATED = "escalated", "Escalated"

    barrier = models.ForeignKey(Barrier, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    written_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on = models.DateField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.on:%d %b %Y}"
