"""Multi-agency meetings: who came, the people discussed, what was decided, and actions
with an owner and a due date.

Sensitive models: views reach them through ``access.scope``. What was said about a person
is shown only to users who may open that person (rules 3-5); the rest of the meeting (date,
organisations, the count of people) is visible to the organisations that took part.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from onestory.access.models import Organisation
from onestory.access.roles import Category
from onestory.people.models import Person

User = settings.AUTH_USER_MODEL


class Meeting(models.Model):
    title = models.CharField(max_length=200)
    held_on = models.DateField()
    host = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    organisations = models.ManyToManyField(Organisation, related_name="meetings")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.title} on {self.held_on}"


class AgendaItem(models.Model):
    """One person discussed: what was said and decided (category ``case_notes``)."""

    category = Category.CASE_NOTES
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    discussion = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="agenda_person_once")
        ]

    def __str__(self) -> str:
        return f"Person {self.person_id} at {self.meeting}"


class AgendaItemVersion(models.Model):
    """Each saved record of what was said and decided about a person at a meeting: a
    change appends a version that supersedes the last; earlier ones are kept (rule 8)."""

    category = Category.CASE_NOTES
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    discussion = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="agenda_unique_version")
        ]

    def __str__(self) -> str:
        return f"Agenda item {self.item_id} v{self.version}"


class Action(models.Model):
    """Something an organisation (and a named person there) will do for someone."""

    class Status(models.TextChoices):
        OPEN = "open", "To do"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "No longer needed"

    category = Category.CASE_NOTES
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="actions")
    item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    description = models.CharField(max_length=300)
    owner_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="actions"
    )
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    completed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["status", "due_on", "id"]
        indexes = [models.Index(fields=["owner_organisation", "status"])]

    def __str__(self) -> str:
        return self.description
