"""Questionnaires as data (``onestory_engine.measures``) and their completions."""

from __future__ import annotations

from typing import Any

from django.db import models

from onestory.access.models import Organisation, User
from onestory.people.models import Person
from onestory_engine import measures as engine


class Instrument(models.Model):
    """One version of a questionnaire. A new version is a new row; completions keep the
    version they were scored with."""

    code = models.CharField(max_length=50)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    definition = models.JSONField()
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version")
        ]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"

    @property
    def parsed(self) -> engine.Instrument:
        return engine.instrument_from(self.definition)


class Completion(models.Model):
    """One person's answers to one instrument on one day, with the scores they give."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="completions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    completed_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField()
    total = models.FloatField(null=True, blank=True)
    subscores = models.JSONField(default=dict)
    complete = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["completed_on", "pk"]
        indexes = [models.Index(fields=["person", "instrument"])]

    def __str__(self) -> str:
        return f"{self.instrument.code} on {self.completed_on:%d %b %Y}"

    def answer_rows(self) -> list[dict[str, Any]]:
        items = self.instrument.parsed.items
        return [
            {
                "text": i.text,
                "answer": dict(i.scale).get(self.answers.get(i.key), "Not answered")
                if self.answers.get(i.key) is not None
                else "Not answered",
            }
            for i in items
        ]


class UnitCost(models.Model):
    """A unit cost and its price year (editable data; DOMAIN.md's table by default)."""

    class Per(models.TextChoices):
        EVENT = "event", "Each time"
        NIGHT = "night", "Each night"
        YEAR = "year", "A year (counted per night)"

    key = models.CharField(max_length=50, unique=True)
    label = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    price_year = models.CharField(max_length=7)
    per = models.CharField(max_length=10, choices=Per.choices, default=Per.EVENT)
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label}: £{self.amount} ({self.price_year})"


class UpratingIndex(models.Model):
    """One financial year's value of the uprating index (editable data)."""

    year = models.CharField(max_length=7, unique=True)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    source = models.CharField(max_length=300, blank=True)
    reporting_year = models.BooleanField(default=False)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


PREFER_NOT = ("prefer_not", "Prefer not to say")


class Equality(models.Model):
    """Protected characteristics, as the person chooses to describe them (or not). One
    row per person, versioned so that two edits at once never lose one."""

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        PREFER_NOT = PREFER_NOT

    class YesNo(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        PREFER_NOT = PREFER_NOT

    class Ethnicity(models.TextChoices):
        # The five high-level groups of the 2021 Census in England and Wales.
        ASIAN = "asian", "Asian or Asian British"
        BLACK = "black", "Black, Black British, Caribbean or African"
        MIXED = "mixed", "Mixed or multiple ethnic groups"
        WHITE = "white", "White"
        OTHER = "other", "Another ethnic group"
        PREFER_NOT = PREFER_NOT

    class Orientation(models.TextChoices):
        STRAIGHT = "straight", "Straight or heterosexual"
        GAY_LESBIAN = "gay_lesbian", "Gay or lesbian"
        BISEXUAL = "bisexual", "Bisexual"
        OTHER = "other", "Another sexual orientation"
        PREFER_NOT = PREFER_NOT

    class Religion(models.TextChoices):
        NONE = "none", "No religion"
        CHRISTIAN = "christian", "Christian"
        MUSLIM = "muslim", "Muslim"
        HINDU = "hindu", "Hindu"
        SIKH = "sikh", "Sikh"
        JEWISH = "jewish", "Jewish"
        BUDDHIST = "buddhist", "Buddhist"
        OTHER = "other", "Another religion"
        PREFER_NOT = PREFER_NOT

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="equality")
    sex = models.CharField(max_length=20, choices=Sex.choices, blank=True)
    gender_same_as_birth = models.CharField(
        "Is your gender the same as the sex you were registered at birth?",
        max_length=20, choices=YesNo.choices, blank=True,
    )  # fmt: skip
    ethnicity = models.CharField(max_length=20, choices=Ethnicity.choices, blank=True)
    disabled = models.CharField(
        "Do you consider yourself disabled?", max_length=20, choices=YesNo.choices, blank=True
    )
    sexual_orientation = models.CharField(max_length=20, choices=Orientation.choices, blank=True)
    religion = models.CharField(max_length=20, choices=Religion.choices, blank=True)
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"Equality monitoring for person {self.person_id}"


class IndicatorValue(models.Model):
    """One value of a Public Health Outcomes Framework indicator (Fingertips export)."""

    indicator_id = models.PositiveIntegerField()
    indicator_name = models.CharField(max_length=300)
    area_code = models.CharField(max_length=20)
    area_name = models.CharField(max_length=200)
    sex = models.CharField(max_length=30)
    age = models.CharField(max_length=60, blank=True)
    period = models.CharField(max_length=30)
    value = models.FloatField(null=True, blank=True)
    lower_ci = models.FloatField(null=True, blank=True)
    upper_ci = models.FloatField(null=True, blank=True)
    count = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_id", "area_code", "sex", "age", "period"],
                name="indicator_value_unique",
            )
        ]
        ordering = ["indicator_id", "area_code", "period"]

    def __str__(self) -> str:
        return f"{self.indicator_name}, {self.area_name}, {self.period}"


class StaffResponse(models.Model):
    """A member of staff's answers to a staff survey: kept with their organisation and the
    day, never their name."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    answered_on = models.DateField()
    answers = models.JSONField()
    total = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Staff response {self.pk}"
