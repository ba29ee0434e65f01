"""The person, the names they use, About me in their own words, their timeline and team.

Sensitive models: views never use their managers directly, only ``onestory.access.scope``
(enforced by ``tests/test_architecture.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from onestory.access.models import Organisation
from onestory.access.roles import Category
from onestory_engine import standardise


def validate_nhs_number(value: str) -> None:
    """An NHS number is 10 digits whose last is the modulus-11 check digit."""
    if value and not standardise.nhs_number_is_valid(value):
        raise ValidationError(
            "Enter a valid NHS number: 10 digits, the last a check digit", code="nhs_number"
        )


def validate_pnc_id(value: str) -> None:
    if value and not standardise.pnc_id_is_valid(value):
        raise ValidationError(
            "Enter a PNC ID in the form YY/NNNNNNNA, for example 04/1234567F", code="pnc_id"
        )


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    OTHER = "X", "Another term"
    UNKNOWN = "U", "Not known"


class Person(models.Model):
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    middle_names = models.CharField(max_length=200, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    nhs_number = models.CharField(
        "NHS number", max_length=10, blank=True, validators=[validate_nhs_number]
    )
    pnc_id = models.CharField("PNC ID", max_length=20, blank=True, validators=[validate_pnc_id])
    # contact_location category
    address_line = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    no_fixed_abode = models.BooleanField(default=False)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    # Rule 6: hides contact_location (and About me's contact parts) outside the owning team.
    restricted_location = models.BooleanField(default=False)
    restricted_owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    # Set when linkage merged this person into another: the id resolves to that one.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [models.Index(fields=["family_name", "given_name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return " ".join(p for p in (first, self.family_name) if p) or f"Person {self.pk}"


class OtherName(models.Model):
    class Kind(models.TextChoices):
        ALIAS = "alias", "Alias"
        PREVIOUS = "previous", "Previous name"
        MARRIED = "married", "Married name"
        NICKNAME = "nickname", "Known as"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="other_names")
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ALIAS)

    def __str__(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class AboutMe(models.Model):
    """One version of About me. Versions are appended, never overwritten (rule 8)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="about_me_versions")
    version = models.PositiveIntegerField()
    what_matters = models.TextField("What matters to me", blank=True)
    what_helps = models.TextField("What helps me", blank=True)
    what_to_avoid = models.TextField("What to avoid, or please don't ask me about", blank=True)
    how_to_contact = models.TextField("How to contact me", blank=True)
    important_people = models.TextField("People who are important to me", blank=True)
    person_agreed_wording = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "-version"]
        constraints = [
            # Two people saving on top of the same version cannot both win: no lost update.
            models.UniqueConstraint(fields=["person", "version"], name="about_me_unique_version")
        ]

    def __str__(self) -> str:
        return f"About me v{self.version} for person {self.person_id}"


class TimelineEvent(models.Model):
    """Something that happened to the person, recorded by one organisation."""

    # Looked up through the (person, occurred_on) index below: no index of its own.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="timeline_events", db_index=False
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=30, choices=[(c.value, c.label) for c in Category])
    event_type = models.CharField(max_length=60)
    occurred_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    sealed = models.BooleanField(default=False)
    source = models.CharField(max_length=60, default="recorded")
    # Events from partner feeds keep their record, so relinking moves them with it.
    source_record = models.OneToOneField(
        "intake.SourceRecord",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="timeline_event",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["person", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.event_type} on {self.occurred_on}"

    @property
    def event_label(self) -> str:
        return self.event_type.replace("_", " ").capitalize()


class Relationship(models.Model):
    """An organisation's legitimate relationship with a person (rule 3)."""

    class Kind(models.TextChoices):
        CASELOAD = "caseload", "On a caseload"
        TEAM = "team", "In the team around the person"
        REFERRAL = "referral", "Accepted referral"
        SERVICE_EPISODE = "service_episode", "Current service episode"
        CLAIMED = "claimed", "Claimed relationship"
        SAFEGUARDING = "safeguarding", "Safeguarding enquiry"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="relationships"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The named worker, where there is one.",
    )
    role_description = models.CharField(max_length=200, blank=True)
    how_to_reach = models.CharField(
        "How to reach them", max_length=200, blank=True, help_text="Phone, email or where."
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    # A claimed relationship's stated reason (rule 3); the privacy officer reviews it.
    claim_reason = models.TextField(blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "started_on"]
        indexes = [models.Index(fields=["organisation", "person"])]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.get_kind_display()}"
