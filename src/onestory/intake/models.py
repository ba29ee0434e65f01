"""Partner sources, their imported records, each import's report and quarantine, and the
links between records (the person index)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from onestory.access.models import Organisation
from onestory.people.models import Person


class Source(models.Model):
    """A partner's feed: ids are unique within it (feeds.md)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=30)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sources")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    file_encoding = models.CharField(max_length=20, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system_actor = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    accepted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    linked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} import {self.pk}"

    @property
    def summary(self) -> str:
        return (
            f"accepted={self.accepted} updated={self.updated} "
            f"unchanged={self.unchanged} quarantined={self.quarantined}"
        )


class QuarantinedRow(models.Model):
    import_run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="quarantine")
    row_number = models.PositiveIntegerField()
    source_record_id = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=500)
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["import_run", "row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"


class DestroyedRecord(models.Model):
    """A feed record destroyed under the retention schedule, so that the partner sending it
    again does not bring it back. Holds no identifier: a keyed hash of the record's id within
    its source (``intake.services.destroyed_key``), and the day."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    record_key = models.CharField(max_length=64)
    destroyed_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "record_key"], name="one_tombstone_per_record"
            )
        ]

    def __str__(self) -> str:
        return f"Destroyed record of source {self.source_id}"


class SourceRecord(models.Model):
    """One row of a partner feed, as last received, with its standardised identity."""

    # Looked up through the (source, source_record_id) constraint's index: none of its own.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="records", db_index=False
    )
    source_record_id = models.CharField(max_length=200)
    raw = models.JSONField(default=dict)
    row_hash = models.CharField(max_length=64)
    given_name = models.CharField(max_length=200, blank=True)
    family_name = models.CharField(max_length=200, blank=True)
    middle_names = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    dob_placeholder = models.BooleanField(default=False)
    sex = models.CharField(max_length=1, default="U")
    nhs_number = models.CharField(max_length=10, blank=True)
    nhs_number_invalid = models.BooleanField(default=False)
    pnc_id = models.CharField(max_length=20, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    no_fixed_abode = models.BooleanField(default=False)
    phone = models.CharField(max_length=60, blank=True)
    email = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=60, blank=True)
    event_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    role = models.CharField(max_length=20, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_records"
    )
    match_probability = models.FloatField(null=True, blank=True)
    first_import = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="+")
    last_import = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_record_id"], name="record_unique_in_source"
            )
        ]
        # (The person foreign key has its index; a second one here only slowed every write.)

    def __str__(self) -> str:
        return f"{self.source.name}:{self.source_record_id}"

    @property
    def record_key(self) -> str:
        return f"{self.source_id}|{self.source_record_id}"


class LinkageModel(models.Model):
    """A trained Splink model (its saved JSON); the newest is used for incremental linking."""

    trained_at = models.DateTimeField()
    engine = models.CharField(max_length=20, default="duckdb")
    records = models.PositiveIntegerField()
    model_json = models.JSONField()

    class Meta:
        ordering = ["-trained_at"]

    def __str__(self) -> str:
        return f"linkage model of {self.trained_at:%Y-%m-%d %H:%M}"


class MatchPair(models.Model):
    """A scored pair of records: its probability and the evidence for it (rule 10)."""

    class Status(models.TextChoices):
        AUTO = "auto", "Linked automatically"
        PENDING = "pending", "Waiting for review"
        CONFIRMED = "confirmed", "Confirmed by a data manager"
        REJECTED = "rejected", "Rejected by a data manager"

    # Looked up through the (record_l, record_r) constraint's index: none of its own.
    record_l = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    record_r = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    match_probability = models.FloatField()
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_l", "record_r"], name="pair_unique"),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.record_l_id}~{self.record_r_id} {self.match_probability:.3f}"


class IdentityChange(models.Model):
    """A merge or split of persons, kept so it can be undone."""

    class Kind(models.TextChoices):
        MERGE = "merge", "Merge"
        SPLIT = "split", "Split"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    kept_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    other_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    record_ids = models.JSONField(default=list)  # the records that moved
    moved = models.JSONField(default=dict)  # other rows that moved, by table, for undo
    pair = models.ForeignKey(
        "MatchPair", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system_actor = models.CharField(max_length=200, blank=True)
    made_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-made_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.kept_person_id}/{self.other_person_id}"
