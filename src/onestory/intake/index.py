"""Keeping persons, their timelines and feed relationships in step with the record links.

Called after linking (full or incremental) and after a merge, split or undo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from django.db.models import Q, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from onestory.core.bulk import insert_table, select_table, update_rows, update_table
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


IDENTITY_FIELDS = (
    "given_name", "family_name", "middle_names", "date_of_birth", "sex", "nhs_number",
    "pnc_id", "no_fixed_abode", "address_line", "postcode", "phone", "email",
)  # fmt: skip

# ``__in`` lists are sent in chunks of this many ids (SQLite limits query parameters).
IN_CHUNK = 20_000


def in_chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


# Every stored record at once, for a full link (``records_table``): the plain columns the
# index is worked out from, then ``raw_<key>`` for each key of the raw row read here.
SNAPSHOT_TYPES: dict[str, pa.DataType] = {
    "pk": pa.int64(), "person_id": pa.int64(), "match_probability": pa.float64(),
    "source_id": pa.int64(), "given_name": pa.string(), "family_name": pa.string(),
    "middle_names": pa.string(), "date_of_birth": pa.date32(), "dob_placeholder": pa.bool_(),
    "sex": pa.string(), "nhs_number": pa.string(), "pnc_id": pa.string(),
    "no_fixed_abode": pa.bool_(), "postcode": pa.string(), "address_line": pa.string(),
    "phone": pa.string(), "email": pa.string(), "event_type": pa.string(),
    "event_date": pa.date32(), "end_date": pa.date32(), "role": pa.string(),
}  # fmt: skip


def records_table(raw_keys: Sequence[str]) -> pa.Table:
    """Every stored record as one Arrow table, in id order: ``SNAPSHOT_TYPES``' columns and
    ``raw_<key>`` (text, null where absent) for each of ``raw_keys``. One read of the table
    serves the whole of a full link (the linkage table, identities, timelines, episodes);
    the raw rows come as JSON text and are taken apart by DuckDB, not by the database."""
    names = (*SNAPSHOT_TYPES, "raw")
    query = (
        SourceRecord.objects.order_by()
        .annotate(raw_text=Cast("raw", TextField()))
        .values_list(*SNAPSHOT_TYPES, "raw_text")
    )
    table = select_table(query, names, {**SNAPSHOT_TYPES, "raw": pa.string()})
    con = duckdb.connect()
    con.register("stored", table)
    keys = ", ".join(
        f"json_extract_string(raw, '$.\"{k}\"') AS raw_{k}" for k in dict.fromkeys(raw_keys)
    )
    out = con.sql(f"SELECT * EXCLUDE (raw), {keys} FROM stored ORDER BY pk").to_arrow_table()  # noqa: S608
    con.close()
    return out


def _with_person(records: pa.Table) -> pa.Table:
    """The records that belong to a person."""
    return records.filter(pc.is_valid(records.column("person_id")))


RECORD_IDENTITY = (
    "person_id", "pk", "event_date", "given_name", "family_name", "middle_names",
    "date_of_birth", "dob_placeholder", "sex", "nhs_number", "pnc_id", "no_fixed_abode",
    "postcode", "address_line", "phone", "email",
)  # fmt: skip


def per_value(column: Any, fn: Callable[[Any], Any]) -> Any:
    """``fn`` once per distinct value of ``column`` (nulls included, as ``None``), aligned
    with its rows: for rules that stay plain Python on columns that repeat their values."""
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return mapped.take(encoded.indices)


def _title(value: str | None) -> str | None:
    return None if value is None else value.title()


def _most_common_sql(value: str, where: str) -> str:
    """Each person's most common non-empty ``value`` among the rows matching ``where``;
    a tie goes to the value seen first in record order (as ``Counter.most_common`` does)."""
    return f"""
        SELECT person_id, arg_max(v, n * 10000000000 - first) AS v FROM (
            SELECT person_id, {value} AS v, count(*) AS n, min(pos) AS first FROM ordered
            WHERE {value} IS NOT NULL AND CAST({value} AS VARCHAR) <> '' AND ({where})
            GROUP BY ALL
        ) GROUP BY person_id
    """  # noqa: S608 - column names from this module


def identities(records: pa.Table) -> pa.Table:
    """Each person's identity from their records (``RECORD_IDENTITY`` columns): the most
    common value of each field (names title-cased first; a date of birth that is not a
    1 January placeholder before one that is; a known sex before "U"), and place and
    contact details from the latest record that has them. Records are taken in order of
    event date (undated first), then id. One row per person, ``id`` then IDENTITY_FIELDS."""
    for name in ("given_name", "family_name", "middle_names", "address_line"):
        i = records.schema.get_field_index(name)
        records = records.set_column(i, name, per_value(records.column(name), _title))
    con = duckdb.connect()
    con.register("records", records)
    con.execute(
        "CREATE TEMP TABLE ordered AS SELECT *, row_number() OVER "
        "(ORDER BY person_id, event_date NULLS FIRST, pk) AS pos FROM records"
    )
    modes = {
        "given_name": _most_common_sql("given_name", "true"),
        "family_name": _most_common_sql("family_name", "true"),
        "middle_names": _most_common_sql("middle_names", "true"),
        "dob_real": _most_common_sql("date_of_birth", "NOT dob_placeholder"),
        "dob_any": _most_common_sql("date_of_birth", "true"),
        "sex": _most_common_sql("sex", "sex <> 'U'"),
        "nhs_number": _most_common_sql("nhs_number", "true"),
        "pnc_id": _most_common_sql("pnc_id", "true"),
    }
    ctes = ",\n".join(f"m_{name} AS ({sql})" for name, sql in modes.items())
    joins = "\n".join(f"LEFT JOIN m_{name} USING (person_id)" for name in modes)
    table = con.sql(
        f"""
        WITH persons AS (SELECT DISTINCT person_id FROM ordered),
        {ctes},
        place AS (
            SELECT person_id, arg_max({{'nfa': no_fixed_abode, 'address': address_line,
                                        'postcode': postcode}}, pos) AS p
            FROM ordered WHERE no_fixed_abode OR postcode <> '' OR address_line <> ''
            GROUP BY person_id
        ),
        phone AS (SELECT person_id, arg_max(phone, pos) AS v FROM ordered
                  WHERE phone <> '' GROUP BY person_id),
        email AS (SELECT person_id, arg_max(email, pos) AS v FROM ordered
                  WHERE email <> '' GROUP BY person_id)
        SELECT person_id AS id,
            coalesce(m_given_name.v, '') AS given_name,
            coalesce(m_family_name.v, '') AS family_name,
            coalesce(m_middle_names.v, '') AS middle_names,
            coalesce(m_dob_real.v, m_dob_any.v) AS date_of_birth,
            coalesce(m_sex.v, 'U') AS sex,
            coalesce(m_nhs_number.v, '') AS nhs_number,
            coalesce(m_pnc_id.v, '') AS pnc_id,
            coalesce(place.p.nfa, false) AS no_fixed_abode,
            coalesce(place.p.address, '') AS address_line,
            coalesce(place.p.postcode, '') AS postcode,
            coalesce(phone.v, '') AS phone,
            coalesce(email.v, '') AS email
        FROM persons
        {joins}
        LEFT JOIN place USING (person_id)
        LEFT JOIN phone USING (person_id)
        LEFT JOIN email USING (person_id)
        ORDER BY id
        """  # noqa: S608 - names from this module
    ).to_arrow_table()
    con.close()
    return table


def persons_refresh(
    person_ids: Iterable[int], *, everyone: bool = False, records: pa.Table | None = None
) -> None:
    """Set each person's identity from their records (``everyone``: every linked person,
    from ``records`` when given, a ``records_table`` as the index now stands)."""
    if records is not None:
        update_table(Person, identities(_with_person(records).select(RECORD_IDENTITY)))
        return
    ids = sorted(set(person_ids))
    if not ids and not everyone:
        return
    base = (
        SourceRecord.objects.filter(person__isnull=False).order_by().values_list(*RECORD_IDENTITY)
    )
    types = {
        c: pa.int64() if c in ("person_id", "pk") else pa.date32() if c.endswith(("_date",
        "_birth")) else pa.bool_() if c in ("dob_placeholder", "no_fixed_abode")
        else pa.string()
        for c in RECORD_IDENTITY
    }  # fmt: skip
    queries = [base] if everyone else [base.filter(person_id__in=c) for c in in_chunks(ids)]
    records = pa.concat_tables([select_table(q, RECORD_IDENTITY, types) for q in queries])
    if records.num_rows == 0:
        return
    update_table(Person, identities(records))


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


def timeline_sync(
    record_ids: Iterable[int] = (), *, everyone: bool = False, records: pa.Table | None = None
) -> None:
    """Give every linked event record one timeline event on its person, up to date
    (``everyone``: every record, from ``records`` when given). Rows that are already right
    are left alone; the rest are worked out on whole columns and written in bulk."""
    ids = sorted(set(record_ids))
    if not ids and not everyone and records is None:
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
    everyone = everyone or records is not None
    if records is None:
        records = _records(base, columns, None if everyone else ids, "pk")
    else:
        linked = _with_person(records)
        records = linked.filter(pc.not_equal(linked.column("event_type"), "")).select(columns)
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
    person_ids: Iterable[int] = (),
    *,
    today: date | None = None,
    everyone: bool = False,
    records: pa.Table | None = None,
) -> None:
    """A current service episode in an organisation's own feed gives it a relationship
    (rule 3): an event in the last year, an open stay, or a place on its register
    (``everyone``: for every person, from ``records`` when given)."""
    ids = sorted(set(person_ids))
    everyone = everyone or records is not None
    if not ids and not everyone:
        return
    today = today or timezone.localdate()
    since = today - timedelta(days=EPISODE_DAYS)
    episode = (
        Q(event_date__gt=since)
        | Q(event_type="")
        | Q(end_date__isnull=True, event_type__in=OPEN_STAYS)
    )
    stored = SourceRecord.objects.filter(person__isnull=False).filter(episode)
    open_episodes = Relationship.objects.filter(
        kind=Relationship.Kind.SERVICE_EPISODE, ended_on__isnull=True
    )
    columns = ("person_id", "source__organisation_id", "event_date")
    names = ("person_id", "organisation_id", "event_date")
    types = {"person_id": pa.int64(), "organisation_id": pa.int64(), "event_date": pa.date32()}
    query = stored.order_by().values_list(*columns)
    if everyone:
        rows = select_table(query, names, types) if records is None else _episodes(records, since)
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
    fresh = [(p, o, started) for (p, o), started in current.items() if (p, o) not in existing]
    insert_table(
        Relationship,
        pa.table(
            {
                "person_id": pa.array([p for p, _, _ in fresh], pa.int64()),
                "organisation_id": pa.array([o for _, o, _ in fresh], pa.int64()),
                "started_on": pa.array([d for _, _, d in fresh], pa.date32()),
            }
        ),
        {
            "kind": Relationship.Kind.SERVICE_EPISODE.value,
            "role_description": "",
            "how_to_reach": "",
            "created_at": timezone.now(),
        },
    )
    update_rows(
        Relationship,
        ("id", "ended_on"),
        ((pk, today) for key, pk in existing.items() if key not in current),
    )


def _episodes(records: pa.Table, since: date) -> pa.Table:
    """The linked records that are current service episodes (as ``relationships_sync``'s
    query selects them), with their source's organisation."""
    pairs = list(Source.objects.values_list("pk", "organisation_id"))
    organisations = pa.table(
        {
            "source_id": pa.array([s for s, _ in pairs], pa.int64()),
            "organisation_id": pa.array([o for _, o in pairs], pa.int64()),
        }
    )
    con = duckdb.connect()
    con.register("records", records)
    con.register("organisations", organisations)
    rows = con.sql(
        "SELECT r.person_id, o.organisation_id, r.event_date FROM records r "
        "JOIN organisations o USING (source_id) WHERE r.person_id IS NOT NULL AND ("
        "r.event_date > ? OR r.event_type = '' "
        "OR (r.end_date IS NULL AND list_contains(?, r.event_type)))",
        params=[since, list(OPEN_STAYS)],
    ).to_arrow_table()
    con.close()
    return rows


def index_refresh(
    person_ids: Iterable[int] = (), *, everyone: bool = False, records: pa.Table | None = None
) -> None:
    """After records moved between persons: their identity, timelines and feed episodes
    (``everyone``: the whole index, after a full link; ``records``: a ``records_table``
    with every record's person as the index now stands, read once for the three)."""
    if records is not None:
        persons_refresh((), records=records)
        timeline_sync(records=records)
        relationships_sync(records=records)
        return
    ids = sorted(set(person_ids))
    persons_refresh(ids, everyone=everyone)
    records = [
        pk
        for c in in_chunks(ids)
        for pk in SourceRecord.objects.filter(person_id__in=c).values_list("pk", flat=True)
    ]
    timeline_sync(records, everyone=everyone)
    relationships_sync(ids, everyone=everyone)
