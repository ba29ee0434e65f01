"""Importing partner feeds: validate in the engine, store in bulk in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from onestory.access.models import Organisation, OrganisationType, User
from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.core import rls
from onestory.core.bulk import insert_rows, insert_table, select_table, update_table
from onestory.intake.models import (
    DestroyedRecord,
    ImportRun,
    LinkageModel,
    QuarantinedRow,
    Source,
    SourceRecord,
)
from onestory_engine.intake import (
    BadRow,
    FeedRefused,
    ParsedFeed,
    limit_chars,
    read_feed,
    read_rows,
)

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
# Free-text identity fields are cut to their stored length; the engine keeps what was sent.
STORED_LENGTHS = {
    "given_name": 200, "family_name": 200, "middle_names": 200, "address_line": 300,
    "phone": 60, "email": 200,
}  # fmt: skip


@dataclass(frozen=True)
class ImportResult:
    run: ImportRun
    parsed: ParsedFeed
    changed_record_ids: list[int]
    # The row numbers of the good rows that were new, and of those that changed a record
    # (every other good row left its record as it was).
    new_rows: pa.Array
    updated_rows: pa.Array

    @property
    def summary(self) -> str:
        return self.run.summary


def _stored(good: pa.Table) -> pa.Table:
    """The good rows' stored columns (``RECORD_FIELDS``), free text cut to its length."""
    table = good.select(["source_record_id", *RECORD_FIELDS])
    for name, length in STORED_LENGTHS.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, limit_chars(table.column(name), length))
    return table


def _sorted_out(good: pa.Table, existing: pa.Table) -> tuple[pa.Table, pa.Table, int]:
    """The rows to insert, the rows to update (with their record id first), and how many
    are unchanged: by ``source_record_id`` within the source, then by ``row_hash``."""
    con = duckdb.connect()
    con.register("good", good)
    con.register("existing", existing)
    new = con.sql(
        "SELECT good.* FROM good ANTI JOIN existing USING (source_record_id) ORDER BY row_number"
    ).to_arrow_table()
    changed = con.sql(
        "SELECT existing.id, good.* FROM good JOIN existing USING (source_record_id) "
        "WHERE good.row_hash <> existing.row_hash ORDER BY row_number"
    ).to_arrow_table()
    unchanged = con.execute(
        "SELECT count(*) FROM good JOIN existing USING (source_record_id) "
        "WHERE good.row_hash = existing.row_hash"
    ).fetchall()[0][0]
    con.close()
    return new, changed, int(unchanged)


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
    return feed_store(
        actor=actor,
        parsed=read_feed(path, kind),
        source_name=source_name or kind,
        organisation_name=organisation_name,
        file_name=file_name or path.name,
        imported_by=imported_by,
        allowed_organisation=allowed_organisation,
        link=link,
    )


def feed_rows_import(
    *,
    actor: Actor,
    kind: str,
    rows: list[dict[str, str]],
    source_name: str,
    organisation: Organisation,
    label: str,
    imported_by: User | None = None,
) -> ImportResult:
    """Import rows sent through the partner API exactly as a file of them would be: the
    same validation, quarantine, idempotence by ``source_record_id`` and incremental
    linking, in one transaction, into a source of ``organisation``'s own (created on first
    use). Row numbers count from 1. Raises ``FeedRefused`` when the rows cannot be used."""
    return feed_store(
        actor=actor,
        parsed=read_rows(rows, kind),
        source_name=source_name,
        organisation_name=organisation.name,
        file_name=label,
        imported_by=imported_by,
        allowed_organisation=organisation,
    )


def destroyed_key(source_id: int, source_record_id: str) -> str:
    """The keyed hash a destroyed record is remembered by (the audit key: it never changes)."""
    return salted_hmac(
        "onestory.destroyed-record",
        f"{source_id}:{source_record_id}",
        secret=settings.AUDIT_HMAC_KEY,
        algorithm="sha256",
    ).hexdigest()


def _leave_out_destroyed(parsed: ParsedFeed, source: Source) -> None:
    """Rows whose record was destroyed under the retention schedule are quarantined, not
    stored again (the partner's extract may still hold them)."""
    destroyed = dict(
        DestroyedRecord.objects.filter(source=source).values_list("record_key", "destroyed_on")
    )
    if not destroyed or parsed.good.num_rows == 0:
        return
    ids = parsed.good.column("source_record_id").to_pylist()
    keys = [destroyed_key(source.pk, str(i)) for i in ids]
    hit = [k in destroyed for k in keys]
    if not any(hit):
        return
    rows = parsed.good.filter(pa.array(hit)).to_pylist()
    for row, key in zip(rows, (k for k, h in zip(keys, hit, strict=True) if h), strict=True):
        raw = row.get("raw")
        parsed.bad.append(
            BadRow(
                int(row["row_number"]),
                str(row["source_record_id"]),
                f"row {row['row_number']}: source_record_id {row['source_record_id']} was "
                f"destroyed under the retention schedule on {destroyed[key]:%-d %B %Y}, so it "
                "is not imported again; remove it from the extract",
                json.loads(raw) if isinstance(raw, str) else {},
                "source_record_id",
            )
        )
    parsed.bad.sort(key=lambda b: b.row_number)
    parsed.good = parsed.good.filter(pa.array([not h for h in hit]))


def remember_destroyed(records: Iterable[tuple[int, str]], on: date) -> int:
    """Tombstones for feed records about to be destroyed (source id, source record id)."""
    made = [
        DestroyedRecord(source_id=source_id, record_key=destroyed_key(source_id, rid),
                        destroyed_on=on)
        for source_id, rid in records
    ]  # fmt: skip
    DestroyedRecord.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def feed_store(
    *,
    actor: Actor,
    parsed: ParsedFeed,
    source_name: str,
    organisation_name: str | None,
    file_name: str,
    imported_by: User | None = None,
    allowed_organisation: Organisation | None = None,
    link: bool = True,
) -> ImportResult:
    """Store one validated feed (a file's or the API's rows) as one import run, in one
    transaction: the one code path behind ``feed_import`` and ``feed_rows_import``."""
    kind = parsed.kind
    name = source_name
    # Storing and linking a feed is the system's work, whoever asked (ADR 0022).
    with transaction.atomic(), rls.system():
        source = source_for(kind=kind, source_name=name, organisation_name=organisation_name)
        if allowed_organisation is not None and source.organisation_id != allowed_organisation.pk:
            raise FeedRefused(
                f"source '{name}' belongs to {source.organisation.name}; you can import only "
                f"your own organisation's feeds"
            )
        run = ImportRun.objects.create(
            source=source,
            file_name=file_name[:300],
            file_sha256=parsed.sha256,
            file_encoding=parsed.encoding,
            imported_by=imported_by,
            system_actor=actor.system,
            started_at=timezone.now(),
        )
        existing = select_table(
            SourceRecord.objects.filter(source=source).values_list(
                "pk", "source_record_id", "row_hash"
            ),
            ("id", "source_record_id", "row_hash"),
            {"id": pa.int64(), "source_record_id": pa.string(), "row_hash": pa.string()},
        )
        _leave_out_destroyed(parsed, source)
        new, changed, unchanged = _sorted_out(parsed.good, existing)
        insert_table(
            SourceRecord,
            _stored(new),
            {"source_id": source.pk, "first_import_id": run.pk, "last_import_id": run.pk},
        )
        changed_stored = _stored(changed)
        update_table(
            SourceRecord,
            pa.table(
                {"id": changed.column("id"), **{f: changed_stored.column(f) for f in RECORD_FIELDS}}
            ),
            {"last_import_id": run.pk},
        )
        insert_rows(
            QuarantinedRow,
            ("import_run_id", "row_number", "source_record_id", "reason", "raw"),
            (
                (run.pk, b.row_number, b.source_record_id[:200], b.reason[:500], b.raw)
                for b in parsed.bad
            ),
        )
        run.accepted = new.num_rows
        run.updated = changed.num_rows
        run.unchanged = unchanged
        run.quarantined = len(parsed.bad)
        run.warnings = parsed.warnings
        run.finished_at = timezone.now()
        run.save()
        created_ids = list(
            SourceRecord.objects.filter(first_import=run).values_list("pk", flat=True)
        )
        changed_ids = created_ids + changed.column("id").to_pylist()
        persons: list[int] = []
        if link and changed_ids and LinkageModel.objects.exists():
            # Once a model exists, new records are linked within the import (so alerts can
            # fire at once); otherwise they wait for `onestory link`. Imported here: the
            # linkage engine (Splink) takes a second to load, which a first import never needs.
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
    return ImportResult(
        run=run,
        parsed=parsed,
        changed_record_ids=changed_ids,
        new_rows=new.column("row_number").combine_chunks(),
        updated_rows=changed.column("row_number").combine_chunks(),
    )
