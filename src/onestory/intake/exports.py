"""The person index and the SMD cohort as files (cli.md `export links`, `export cohort`)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.db.models.fields.json import KT

from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.core.exports import safe_cell
from onestory.intake.models import SourceRecord
from onestory.people.models import Person
from onestory_engine import cohort


def links_write(path: Path, *, actor: Actor) -> int:
    """Write one row for every stored record, singletons too; returns the row count."""
    n = 0
    persons: set[int] = set()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_name", "source_record_id", "person_id", "match_probability"])
        rows = SourceRecord.objects.order_by("source__name", "source_record_id").values_list(
            "source__name", "source_record_id", "person_id", "match_probability"
        )
        for source, sid, person, probability in rows.iterator(chunk_size=10000):
            writer.writerow(
                [
                    safe_cell(source),
                    safe_cell(sid),
                    "" if person is None else person,
                    "" if probability is None else f"{probability:.6f}",
                ]
            )
            if person is not None:
                persons.add(person)
            n += 1
    audit.record(
        actor=actor,
        action="export.links",
        persons=sorted(persons),
        detail={"file": path.name, "records": n},
    )
    return n


def cohort_table(*, rule: cohort.CohortRule) -> Any:
    """The SMD cohort of the person index as it stands (pending review pairs unmerged)."""
    events, persons = cohort_inputs()
    return cohort.cohort(events, persons, rule)


def cohort_inputs() -> tuple[Any, Any]:
    """The engine's inputs: every linked feed event (with the A&E arrival mode), and every
    person with their date of birth (pending review pairs are not merged)."""
    records = (
        SourceRecord.objects.filter(person__isnull=False)
        .exclude(event_type="")
        .annotate(reason=KT("raw__reason_category"), arrival=KT("raw__arrival_mode"))
        .values_list(
            "person_id", "source__kind", "event_type", "role", "event_date", "reason", "arrival"
        )
    )
    columns: dict[str, list[Any]] = {c: [] for c in (*cohort.EVENT_COLUMNS, "arrival_mode")}
    for person_id, kind, event_type, role, event_date, reason, arrival in records.iterator(20_000):
        columns["person_id"].append(person_id)
        columns["kind"].append(kind)
        columns["event_type"].append(event_type)
        columns["role"].append(role or None)
        columns["event_date"].append(event_date)
        columns["reason_category"].append((reason or "").strip().lower() or None)
        columns["arrival_mode"].append((arrival or "").strip().lower() or None)
    events = pa.table(
        {
            "person_id": pa.array(columns["person_id"], pa.int64()),
            "kind": pa.array(columns["kind"], pa.string()),
            "event_type": pa.array(columns["event_type"], pa.string()),
            "role": pa.array(columns["role"], pa.string()),
            "event_date": pa.array(columns["event_date"], pa.date32()),
            "reason_category": pa.array(columns["reason_category"], pa.string()),
            "arrival_mode": pa.array(columns["arrival_mode"], pa.string()),
        }
    )
    people = list(
        Person.objects.filter(merged_into__isnull=True).values_list("pk", "date_of_birth")
    )
    persons = pa.table(
        {
            "person_id": pa.array([p for p, _ in people], pa.int64()),
            "date_of_birth": pa.array([d for _, d in people], pa.date32()),
        }
    )
    return events, persons


def cohort_write(path: Path, *, actor: Actor, rule: cohort.CohortRule) -> tuple[int, int]:
    """Write cli.md's cohort export (one row per person); returns (rows, people in SMD)."""
    table = cohort_table(rule=rule)
    rows = table.to_pylist()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["person_id", "domains", "n_domains", "smd", "ed_attendances"])
        for r in rows:
            writer.writerow(
                [r["person_id"], r["domains"], r["n_domains"], r["smd"], r["ed_attendances"]]
            )
    smd = sum(r["smd"] for r in rows)
    audit.record(
        actor=actor,
        action="export.cohort",
        persons=[r["person_id"] for r in rows],
        detail={
            "file": path.name,
            "as_of": rule.as_of.isoformat(),
            "months": rule.months,
            "min_domains": rule.min_domains,
            "rows": len(rows),
            "smd": smd,
        },
    )
    return len(rows), smd
