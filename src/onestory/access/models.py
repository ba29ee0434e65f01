"""Organisations, their services, the people who use OneStory and their memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from onestory.access.roles import Role


class OrganisationType(models.TextChoices):
    NHS_TRUST = "nhs_trust", "NHS trust"
    PRIMARY_CARE = "primary_care", "GP or primary care"
    COUNCIL_HOUSING = "council_housing", "Council housing"
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    CHILDRENS_SERVICES = "childrens_services", "Children's services"
    POLICE = "police", "Police"
    PROBATION = "probation", "Probation"
    DRUG_ALCOHOL = "drug_alcohol", "Drug and alcohol service"
    MENTAL_HEALTH = "mental_health", "Mental health service"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse service"
    CHARITY = "charity", "Charity or voluntary sector"
    OTHER = "other", "Other"


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    org_type = models.CharField("type", max_length=40, choices=OrganisationType.choices)
    ods_code = models.CharField("ODS or other code", max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=200)
    description = models.TextField("What it offers", blank=True)
    eligibility = models.TextField("Who it is for", blank=True)
    how_to_access = models.TextField(
        "How to get help", blank=True, help_text="Drop-in times, self-referral, phone."
    )
    hours = models.CharField("Opening hours", max_length=200, blank=True)
    location = models.CharField(max_length=300, blank=True)
    referral_route = models.TextField("How to refer", blank=True)
    drop_in = models.BooleanField("Drop-in: no appointment needed", default=False)
    self_referral = models.BooleanField("People can refer themselves", default=False)
    no_id_needed = models.BooleanField("No ID needed", default=False)
    no_fixed_address_ok = models.BooleanField("No fixed address needed", default=False)
    accepts_dogs = models.BooleanField("Dogs welcome", default=False)
    women_only_space = models.BooleanField("Women-only space", default=False)
    step_free = models.BooleanField("Step-free access", default=False)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    # The flexibility a directory search can filter on (DOMAIN.md: services that bend).
    FLEXIBILITY = (
        "drop_in", "self_referral", "no_id_needed", "no_fixed_address_ok", "accepts_dogs",
        "women_only_space", "step_free",
    )  # fmt: skip

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="service_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.name})"

    @classmethod
    def flexibility_label(cls, name: str) -> str:
        field = cls._meta.get_field(name)
        assert isinstance(field, models.Field)
        return str(field.verbose_name)

    @property
    def flexibility(self) -> list[str]:
        """What this service offers of the flexibility a directory search filters on."""
        return [self.flexibility_label(f) for f in self.FLEXIBILITY if getattr(self, f)]


class User(AbstractUser):
    """A member of staff. Person data is never reached through the user, only its membership."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Membership(models.Model):
    """A user acting as one role in one organisation (SECURITY.md: chosen at sign-in)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=[(r.value, r.label) for r in Role])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{Role(self.role).label}, {self.organisation.name}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class BreakGlass(models.Model):
    """A navigator or practitioner opening a record without a relationship, for a stated
    reason, read-only and for a few hours (SECURITY.md rule 7, ADR 0018)."""

    class Reason(models.TextChoices):
        VITAL_INTERESTS = "vital_interests", "Their life or safety is at risk now"
        SAFEGUARDING = "safeguarding", "An urgent safeguarding concern"
        EMERGENCY_CARE = "emergency_care", "Emergency care or treatment"
        MISSING = "missing", "They are missing and we need to find them"
        LEGAL_DUTY = "legal_duty", "A legal duty to act now"

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30, choices=[(r.value, r.label) for r in Role])
    reason = models.CharField(max_length=30, choices=Reason.choices)
    explanation = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Set when a privacy officer finds it inappropriate while it is still in force.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "person", "expires_at"])]

    def __str__(self) -> str:
        return f"Break glass {self.pk} by {self.user} for person {self.person_id}"


class PrivacyReview(models.Model):
    """One affected organisation's privacy officer's review of a break glass or a claimed
    relationship. Reviewed once: a version check makes two reviews at once record one."""

    class Kind(models.TextChoices):
        BREAK_GLASS = "break_glass", "Break glass"
        CLAIMED = "claimed_relationship", "Claimed relationship"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROPRIATE = "appropriate", "Appropriate"
        INAPPROPRIATE = "inappropriate", "Inappropriate"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    break_glass = models.ForeignKey(
        BreakGlass, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    relationship = models.ForeignKey(
        "people.Relationship",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    # Who acted, and why (copied so the queue reads without opening the record).
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200)
    explanation = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["status", "-requested_at", "-id"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} review {self.pk} ({self.get_status_display()})"
