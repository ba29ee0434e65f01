"""Importing partner feeds: validate in the engine, store in bulk in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from onestory.access.models import Organisation, OrganisationType, User
from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.core.bulk import insert_rows, update_rows
from onestory.intake.models import ImportRun, QuarantinedRow, Source, SourceRecord
from onestory_engine.intake import FeedRefused, GoodRow, ParsedFeed, read_feed

# The organisation type a new partner gets when its first feed arrives (editable after).
KIND_ORGANISATION_TYPE = {
    "ed": OrganisationType.NHS_TRUST,
    "housing": OrganisationType.COUNCIL_HOUSING,
    "substance": OrganisationType.DRUG_ALCOHOL,
    "mental_health": OrganisationType.MENTAL_HEALTH,
    "domestic_abuse": OrganisationType.DOMESTIC_ABUSE,
    "police": OrganisationType.POLICE,
    "probation": OrganisationType.PROBATION,
    "prison": OrganisationType.OTHER,
    "register": OrganisationType.CHARITY,
}

RECORD_FIELDS = (
    "raw", "row_hash", "given_name", "family_name", "middle_names", "date_of_birth",
    "dob_placeholder", "sex", "nhs_number", "nhs_number_invalid", "pnc_id", "postcode",
    "address_line", "no_fixed_abode", "phone", "email", "event_type", "event_date",
    "end_date", "role",
)  # fmt: skip


@dataclass(frozen=True)
class ImportResult:
    run: ImportRun
    parsed: ParsedFeed
    changed_record_ids: list[int]

    @property
    def summary(self) -> str:
        return self.run.summary


def _values(row: GoodRow) -> tuple[Any, ...]:
    """A good row's stored values, in the order of ``RECORD_FIELDS``."""
    return (
        row.raw,
        row.row_hash,
        row.given_name[:200],
        row.family_name[:200],
        row.middle_names[:200],
        row.date_of_birth,
        row.dob_placeholder,
        row.sex,
        row.nhs_number or "",
        row.nhs_number_invalid,
        row.pnc_id or "",
        row.postcode or "",
        row.address_line[:300],
        row.no_fixed_abode,
        row.phone[:60],
        row.email[:200],
        row.event_type,
        row.event_date,
        row.end_date,
        row.role or "",
    )


def source_for(*, kind: str, source_name: str, organisation_name: str | None) -> Source:
    """The named source, created (with its organisation) on first use; refuses a mismatch."""
    source = Source.objects.select_related("organisation").filter(name=source_name).first()
    if source is not None:
        if source.kind != kind:
            raise FeedRefused(f"source '{source_name}' holds {source.kind} feeds, not {kind}")
        if organisation_name and source.organisation.name != organisation_name:
            raise FeedRefused(
                f"source '{source_name}' belongs to {source.organisation.name}, "
                f"not {organisation_name}"
            )
        return source
    org, _ = Organisation.objects.get_or_create(
        name=organisation_name or source_name,
        defaults={"org_type": KIND_ORGANISATION_TYPE.get(kind, OrganisationType.OTHER)},
    )
    return Source.objects.create(name=source_name, kind=kind, organisation=org)


def feed_import(
    *,
    actor: Actor,
    kind: str,
    path: Path,
    source_name: str | None = None,
    organisation_name: str | None = None,
    file_name: str | None = None,
    imported_by: User | None = None,
    allowed_organisation: Organisation | None = None,
    link: bool = True,
) -> ImportResult:
    """Import one feed file as one transaction.

    Raises ``FeedRefused`` (nothing stored) when the file cannot be used at all. Otherwise
    good rows are inserted or, by ``source_record_id`` within the source, updated; rows that
    did not change are left alone; bad rows are quarantined with their row number and reason.
    """
    parsed = read_feed(path, kind)
    name = source_name or kind
    with transaction.atomic():
        source = source_for(kind=kind, source_name=name, organisation_name=organisation_name)
        if allowed_organisation is not None and source.organisation_id != allowed_organisation.pk:
            raise FeedRefused(
                f"source '{name}' belongs to {source.organisation.name}; you can import only "
                f"your own organisation's feeds"
            )
        run = ImportRun.objects.create(
            source=source,
            file_name=(file_name or path.name)[:300],
            file_sha256=parsed.sha256,
            file_encoding=parsed.encoding,
            imported_by=imported_by,
            system_actor=actor.system,
            started_at=timezone.now(),
        )
        existing = {
            sid: (pk, row_hash)
            for pk, sid, row_hash in SourceRecord.objects.filter(source=source).values_list(
                "pk", "source_record_id", "row_hash"
            )
        }
        new: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        unchanged = 0
        for row in parsed.good:
            known = existing.get(row.source_record_id)
            if known is None:
                new.append((source.pk, row.source_record_id, run.pk, run.pk, *_values(row)))
            elif known[1] == row.row_hash:
                unchanged += 1
            else:
                changed.append((known[0], run.pk, *_values(row)))
        insert_rows(
            SourceRecord,
            ("source_id", "source_record_id", "first_import_id", "last_import_id", *RECORD_FIELDS),
            new,
        )
        update_rows(SourceRecord, ("id", "last_import_id", *RECORD_FIELDS), changed)
        insert_rows(
            QuarantinedRow,
            ("import_run_id", "row_number", "source_record_id", "reason", "raw"),
            (
                (run.pk, b.row_number, b.source_record_id[:200], b.reason[:500], b.raw)
                for b in parsed.bad
            ),
        )
        run.accepted = len(new)
        run.updated = len(changed)
        run.unchanged = unchanged
        run.quarantined = len(parsed.bad)
        run.warnings = sum(1 for g in parsed.good if g.warnings)
        run.finished_at = timezone.now()
        run.save()
        created_ids = list(
            SourceRecord.objects.filter(first_import=run).values_list("pk", flat=True)
        )
        changed_ids = created_ids + [c[0] for c in changed]
        persons: list[int] = []
        if link and changed_ids:
            # Once a model exists, new records are linked within the import (so alerts can
            # fire at once); otherwise they wait for `onestory link`.
            from onestory.intake.linking import link_new_records

            persons = link_new_records(actor=actor, record_ids=changed_ids)
            run.linked = bool(persons)
            run.save(update_fields=["linked"])
            # Lead workers hear about A&E, arrests, releases... by the end of the import.
            from onestory.referrals.services import alerts_raise

            alerts_raise(actor=actor, record_ids=changed_ids)
        audit.record(
            actor=actor,
            action="feed.import",
            persons=persons,
            detail={
                "import": run.pk,
                "source": source.name,
                "file": run.file_name,
                "sha256": parsed.sha256,
                "summary": run.summary,
            },
        )
    return ImportResult(run=run, parsed=parsed, changed_record_ids=changed_ids)
