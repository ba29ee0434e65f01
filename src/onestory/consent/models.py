"""The person's sharing decisions and the partnership's data-sharing agreements (rule 4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from onestory.access.models import Organisation
from onestory.people.models import Person


class SharingBasis(models.TextChoices):
    CONSENT = "consent", "The person's decision"
    SAFEGUARDING = "safeguarding", "Safeguarding override"
    VITAL_INTERESTS = "vital_interests", "Vital interests override"
    LEGAL_DUTY = "legal_duty", "Legal duty override"


class SharingDecision(models.Model):
    """Which categories of a person's record one organisation may see, and on what basis.

    Rows are never edited in place except to record withdrawal; a change of mind is a new row.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sharing_decisions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    categories = models.JSONField(default=list)
    basis = models.CharField(max_length=20, choices=SharingBasis.choices)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    review_on = models.DateField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["person", "organisation"])]

    def __str__(self) -> str:
        return f"Sharing with {self.organisation} ({self.get_basis_display()})"


class LawfulBasis(models.TextChoices):
    PUBLIC_TASK = "6(1)(e)", "Article 6(1)(e) public task"
    LEGAL_OBLIGATION = "6(1)(c)", "Article 6(1)(c) legal obligation"
    VITAL_INTERESTS = "6(1)(d)", "Article 6(1)(d) vital interests"
    LEGITIMATE_INTERESTS = "6(1)(f)", "Article 6(1)(f) legitimate interests"
    CONSENT = "6(1)(a)", "Article 6(1)(a) consent"


class SpecialCategoryCondition(models.TextChoices):
    HEALTH_SOCIAL_CARE = "9(2)(h)", "Article 9(2)(h) health or social care (Sch. 1 para 2)"
    SUBSTANTIAL_PUBLIC_INTEREST = (
        "9(2)(g)",
        "Article 9(2)(g) substantial public interest (Sch. 1 Part 2)",
    )
    SAFEGUARDING = "sch1-18", "Schedule 1 para 18 safeguarding of children and individuals at risk"
    VITAL_INTERESTS = "9(2)(c)", "Article 9(2)(c) vital interests"
    EXPLICIT_CONSENT = "9(2)(a)", "Article 9(2)(a) explicit consent"
    CRIMINAL_OFFENCE = "art10-sch1", "Article 10 criminal offence data (Sch. 1 Part 1-3)"


class DataSharingAgreement(models.Model):
    name = models.CharField(max_length=200, unique=True)
    purposes = models.TextField()
    parties = models.ManyToManyField(Organisation, related_name="agreements")
    lead_navigation_organisations = models.ManyToManyField(
        Organisation, related_name="lead_navigation_agreements", blank=True
    )
    article6_basis = models.CharField(
        "UK GDPR Article 6 basis", max_length=20, choices=LawfulBasis.choices
    )
    article9_condition = models.CharField(
        "Article 9 / DPA 2018 Schedule 1 condition",
        max_length=20,
        choices=SpecialCategoryCondition.choices,
    )
    starts_on = models.DateField()
    review_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
