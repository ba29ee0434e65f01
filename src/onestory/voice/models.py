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


class PublicStory(models.Model):
    """One "you said, we did" entry on the public page, written for the public by the
    board from a resolved barrier or a panel recommendation: no personal data."""

    you_said = models.TextField("You said")
    we_did = models.TextField("We did")
    barrier = models.OneToOneField(
        Barrier, null=True, blank=True, on_delete=models.SET_NULL, related_name="story"
    )
    recommendation = models.OneToOneField(
        "voice.Recommendation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="story",
    )
    published_on = models.DateField()
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-published_on", "-pk"]

    def __str__(self) -> str:
        return self.you_said[:60]


class PanelMeeting(models.Model):
    """A meeting of the lived experience panel."""

    held_on = models.DateField("Date of the meeting")
    theme = models.CharField("What the panel looked at", max_length=200)
    summary = models.TextField("What the panel said", blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.theme} ({self.held_on:%d %b %Y})"


class Recommendation(models.Model):
    """What the panel asked an organisation to change, and that organisation's answer."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for a response"
        ACCEPTED = "accepted", "Accepted"
        CHANGED = "changed", "Changed"
        NOT_ACCEPTED = "not_accepted", "Not accepted, with reasons"

    meeting = models.ForeignKey(
        PanelMeeting, on_delete=models.CASCADE, related_name="recommendations"
    )
    text = models.TextField("The panel's recommendation")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    response = models.TextField("The organisation's response", blank=True)
    what_changed = models.TextField("What changed", blank=True)
    responded_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class FeedbackLink(models.Model):
    """A one-time link (or QR code) a worker hands to someone, or that a kiosk makes for
    the next person. Only a hash of its token is kept; it names no person."""

    token_hash = models.CharField(max_length=64, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField()
    expires_on = models.DateField()
    kiosk = models.BooleanField(default=False)
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Feedback link {self.pk}"


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    A_BIT = "a_bit", "A bit"
    NO = "no", "No"
    SKIP = "skip", "I'd rather not say"


class FeedbackResponse(models.Model):
    """What someone told us. Tied to the organisation that asked and the day, never to the
    link or to a person (unless they chose to leave a way to reach them)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    submitted_on = models.DateField()
    listened = models.CharField(max_length=10, choices=Answer.choices)
    told_once = models.CharField(max_length=10, choices=Answer.choices)
    have_a_say = models.CharField(max_length=10, choices=Answer.choices)
    right_help = models.CharField(max_length=10, choices=Answer.choices)
    better = models.TextField(blank=True)
    get_in_touch = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Feedback {self.pk}"
