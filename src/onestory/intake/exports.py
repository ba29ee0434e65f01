"""The person index as a file (cli.md `export links`)."""

from __future__ import annotations

import csv
from pathlib import Path

from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.core.exports import safe_cell
from onestory.intake.models import SourceRecord


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
