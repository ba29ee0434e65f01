"""Keeping persons, their timelines and feed relationships in step with the record links.

Called after linking (full or incremental) and after a merge, split or undo.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils import timezone

from onestory.core.bulk import insert_rows, insert_table, select_table, update_rows, update_table
from onestory.intake.models import Source, SourceRecord
from onestory.people.models import Person, Relationship, TimelineEvent
from onestory_engine import feeds

# A partner's recent event is a current service episode for this long (rule 3).
EPISODE_DAYS = 365
# Stays that are current until an end date arrives.
OPEN_STAYS = (
    "admission", "reception", "temporary_accommodation_start", "supervision_start",
    "treatment_start",
)  # fmt: skip


def _most_common(values: Iterable[Any]) -> Any:
    counted = Counter(v for v in values if v not in ("", None))
    if not counted:
        return None
    return counted.most_common(1)[0][0]


IDENTITY_FIELDS = (
    "given_name", "family_name", "middle_names", "date_of_birth", "sex", "nhs_number",
    "pnc_id", "no_fixed_abode", "address_line", "postcode", "phone", "email",
)  # fmt: skip

# ``__in`` lists are sent in chunks of this many ids (SQLite limits query parameters).
IN_CHUNK = 20_000


def in_chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


def _identity(rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """A person's identity from their records' rows (ordered by event date): the most
    common value of each field, and place and contact details from the latest record."""
    (_, given, family, middle, dob, placeholder, sex, nhs, pnc, nfa, postcode, address,
     phone, email) = zip(*rows, strict=True)  # fmt: skip
    date_of_birth = _most_common(
        d for d, p in zip(dob, placeholder, strict=True) if not p
    ) or _most_common(dob)
    latest_place = next(
        (i for i in range(len(rows) - 1, -1, -1) if nfa[i] or postcode[i] or address[i]), None
    )
    return (
        _most_common(g.title() for g in given) or "",
        _most_common(f.title() for f in family) or "",
        _most_common(m.title() for m in middle) or "",
        date_of_birth,
        _most_common(x for x in sex if x != "U") or "U",
        _most_common(nhs) or "",
        _most_common(pnc) or "",
        nfa[latest_place] if latest_place is not None else False,
        address[latest_place].title() if latest_place is not None else "",
        postcode[latest_place] if latest_place is not None else "",
        next((p for p in reversed(phone) if p), ""),
        next((e for e in reversed(email) if e), ""),
    )


def persons_refresh(person_ids: Iterable[int], *, everyone: bool = False) -> None:
    """Set each person's identity from their records (``everyone``: every linked person)."""
    ids = sorted(set(person_ids))
    if not ids and not everyone:
        return
    columns = (
        "person_id", "given_name", "family_name", "middle_names", "date_of_birth",
        "dob_placeholder", "sex", "nhs_number", "pnc_id", "no_fixed_abode", "postcode",
        "address_line", "phone", "email",
    )  # fmt: skip
    base = (
        SourceRecord.objects.filter(person__isnull=False)
        .order_by("person_id", "event_date", "pk")
        .values_list(*columns)
    )
    types = {
        c: pa.int64() if c == "person_id" else pa.date32() if c == "date_of_birth"
        else pa.bool_() if c in ("dob_placeholder", "no_fixed_abode") else pa.string()
        for c in columns
    }  # fmt: skip
    queries = [base] if everyone else [base.filter(person_id__in=c) for c in in_chunks(ids)]
    updates = []
    for query in queries:
        table = select_table(query, columns, types)
        rows = zip(*(c.to_pylist() for c in table.columns), strict=True)
        del table
        for person_id, group in itertools.groupby(rows, key=lambda r: r[0]):
            updates.append((person_id, *_identity(list(group))))
    if not updates:
        return
    fields = ("id", *IDENTITY_FIELDS)
    person_types = {"id": pa.int64(), "date_of_birth": pa.date32(), "no_fixed_abode": pa.bool_()}
    values = list(zip(*updates, strict=True))
    update_table(
        Person,
        pa.table(
            {
                f: pa.array(list(v), person_types.get(f, pa.string()))
                for f, v in zip(fields, values, strict=True)
            }
        ),
    )


SUMMARY_COLUMNS = ("arrival_mode", "reason_category", "substance", "offence_category", "role")


def _summary(values: tuple[str | None, ...]) -> str:
    """The event's feed-specific details (arrival mode, reason...) as one short line."""
    parts = []
    for column, value in zip(SUMMARY_COLUMNS, values, strict=True):
        value = (value or "").strip()
        if value:
            parts.append(f"{column.replace('_', ' ')} {value.replace('_', ' ')}")
    return ", ".join(parts)[:300]


EVENT_FIELDS = (
    "person_id", "organisation_id", "category", "event_type", "occurred_on", "ended_on",
    "summary", "source",
)  # fmt: skip


def _records(query: Any, names: Sequence[str], ids: Sequence[int] | None, key: str) -> pa.Table:
    """Rows of ``query`` (a values_list of ``names``) as Arrow, for all or for these ids of
    ``key`` (in chunks). Ids are integers, dates dates, the rest text."""
    types = {
        n: pa.date32()
        if n.endswith(("_date", "_on"))
        else pa.int64()
        if n in ("pk", "id") or n.endswith("_id")
        else pa.string()
        for n in names
    }
    query = query.order_by()
    if ids is None:
        return select_table(query, names, types)
    chunks = list(in_chunks(ids)) or [[]]
    return pa.concat_tables(
        [select_table(query.filter(**{f"{key}__in": c}), names, types) for c in chunks]
    )


def timeline_sync(record_ids: Iterable[int] = (), *, everyone: bool = False) -> None:
    """Give every linked event record one timeline event on its person, up to date
    (``everyone``: every record). Rows that are already right are left alone; the rest are
    worked out on whole columns and written in bulk."""
    ids = sorted(set(record_ids))
    if not ids and not everyone:
        return
    sources = pa.Table.from_pylist(
        [{"source_id": s.pk, "kind": s.kind, "organisation_id": s.organisation_id,
          "source_name": s.name} for s in Source.objects.all()],
        schema=pa.schema([("source_id", pa.int64()), ("kind", pa.string()),
                          ("organisation_id", pa.int64()), ("source_name", pa.string())]),
    )  # fmt: skip
    extract = {f"raw_{c}": KT(f"raw__{c}") for c in SUMMARY_COLUMNS}
    columns = ("pk", "person_id", "source_id", "event_type", "role", "event_date", "end_date",
               *extract)  # fmt: skip
    base = (
        SourceRecord.objects.filter(person__isnull=False)
        .exclude(event_type="")
        .annotate(**extract)
        .values_list(*columns)
    )
    events = TimelineEvent.objects.filter(source_record__isnull=False).values_list(
        "source_record_id", "pk", *EVENT_FIELDS
    )
    records = _records(base, columns, None if everyone else ids, "pk")
    existing = _records(
        events, ("source_record_id", "id", *EVENT_FIELDS), None if everyone else ids,
        "source_record_id",
    )  # fmt: skip
    con = duckdb.connect()
    con.register("records", records)
    con.register("sources", sources)
    con.register("existing", existing)
    # Each distinct category and summary worked out once, by the rules' own functions.
    kinds = con.sql(
        "SELECT DISTINCT s.kind, r.event_type, r.role "
        "FROM records r JOIN sources s USING (source_id)"
    ).fetchall()
    categories = pa.Table.from_pylist(
        [{"kind": k, "event_type": e, "role": r,
          "category": feeds.event_category(k, e, r or None)} for k, e, r in kinds],
        schema=pa.schema([("kind", pa.string()), ("event_type", pa.string()),
                          ("role", pa.string()), ("category", pa.string())]),
    )  # fmt: skip
    details = ", ".join(f"coalesce({c}, '') AS {c}" for c in extract)
    summaries = pa.Table.from_pylist(
        [{**dict(zip(extract, row, strict=True)), "summary": _summary(row)}
         for row in con.sql(f"SELECT DISTINCT {details} FROM records").fetchall()],  # noqa: S608
        schema=pa.schema([*((c, pa.string()) for c in extract), ("summary", pa.string())]),
    )  # fmt: skip
    con.register("categories", categories)
    con.register("summaries", summaries)
    on_details = " AND ".join(f"coalesce(r.{c}, '') = m.{c}" for c in extract)
    con.execute(
        f"""
        CREATE TEMP TABLE wanted AS
        SELECT r.pk AS source_record_id, r.person_id, s.organisation_id, c.category,
               r.event_type, r.event_date AS occurred_on, r.end_date AS ended_on, m.summary,
               s.source_name AS source
        FROM records r
        JOIN sources s USING (source_id)
        JOIN categories c ON c.kind = s.kind AND c.event_type = r.event_type AND c.role = r.role
        JOIN summaries m ON {on_details}
        """  # noqa: S608 - column names from SUMMARY_COLUMNS
    )
    new = con.sql(
        "SELECT * FROM wanted ANTI JOIN existing USING (source_record_id) ORDER BY source_record_id"
    ).to_arrow_table()
    differs = " OR ".join(f"w.{f} IS DISTINCT FROM e.{f}" for f in EVENT_FIELDS)
    changed = con.sql(
        f"SELECT e.id, {', '.join(f'w.{f}' for f in EVENT_FIELDS)} FROM wanted w "  # noqa: S608
        f"JOIN existing e USING (source_record_id) WHERE {differs} ORDER BY e.id"
    ).to_arrow_table()
    con.close()
    insert_table(
        TimelineEvent,
        new.select(["source_record_id", *EVENT_FIELDS]),
        {"sealed": False, "created_at": timezone.now()},
    )
    update_table(TimelineEvent, changed)


def relationships_sync(
    person_ids: Iterable[int] = (), *, today: date | None = None, everyone: bool = False
) -> None:
    """A current service episode in an organisation's own feed gives it a relationship
    (rule 3): an event in the last year, an open stay, or a place on its register."""
    ids = sorted(set(person_ids))
    if not ids and not everyone:
        return
    today = today or timezone.localdate()
    since = today - timedelta(days=EPISODE_DAYS)
    episode = (
        Q(event_date__gt=since)
        | Q(event_type="")
        | Q(end_date__isnull=True, event_type__in=OPEN_STAYS)
    )
    records = SourceRecord.objects.filter(person__isnull=False).filter(episode)
    open_episodes = Relationship.objects.filter(
        kind=Relationship.Kind.SERVICE_EPISODE, ended_on__isnull=True
    )
    columns = ("person_id", "source__organisation_id", "event_date")
    names = ("person_id", "organisation_id", "event_date")
    types = {"person_id": pa.int64(), "organisation_id": pa.int64(), "event_date": pa.date32()}
    query = records.order_by().values_list(*columns)
    if everyone:
        rows = select_table(query, names, types)
        have: Iterable[tuple[int, int, int]] = open_episodes.values_list(
            "person_id", "organisation_id", "pk"
        ).iterator(20_000)
    else:
        rows = pa.concat_tables(
            [select_table(query.filter(person_id__in=c), names, types) for c in in_chunks(ids)]
        )
        have = [
            r
            for c in in_chunks(ids)
            for r in open_episodes.filter(person_id__in=c).values_list(
                "person_id", "organisation_id", "pk"
            )
        ]
    # Each person's earliest current episode with each organisation (today for a register).
    con = duckdb.connect()
    con.register("episodes", rows)
    current: dict[tuple[int, int], date] = {
        (p, o): started
        for p, o, started in con.execute(
            "SELECT person_id, organisation_id, min(coalesce(event_date, ?::DATE)) "
            "FROM episodes GROUP BY ALL",
            [today],
        ).fetchall()
    }
    con.close()
    existing = {(p, o): pk for p, o, pk in have}
    now = timezone.now()
    insert_rows(
        Relationship,
        (
            "person_id",
            "organisation_id",
            "kind",
            "started_on",
            "role_description",
            "how_to_reach",
            "created_at",
        ),
        (
            (p, o, Relationship.Kind.SERVICE_EPISODE.value, started, "", "", now)
            for (p, o), started in current.items()
            if (p, o) not in existing
        ),
    )
    update_rows(
        Relationship,
        ("id", "ended_on"),
        ((pk, today) for key, pk in existing.items() if key not in current),
    )


def index_refresh(person_ids: Iterable[int] = (), *, everyone: bool = False) -> None:
    """After records moved between persons: their identity, timelines and feed episodes
    (``everyone``: the whole index, after a full link)."""
    ids = sorted(set(person_ids))
    persons_refresh(ids, everyone=everyone)
    records = [
        pk
        for c in in_chunks(ids)
        for pk in SourceRecord.objects.filter(person_id__in=c).values_list("pk", flat=True)
    ]
    timeline_sync(records, everyone=everyone)
    relationships_sync(ids, everyone=everyone)
