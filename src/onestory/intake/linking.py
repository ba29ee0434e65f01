"""Linking records into persons: the only Django code that calls the engine's linkage.

Record ids given to the engine are SourceRecord primary keys as strings; person ids are
Person primary keys as strings, so "older" is simply the smaller key.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.core import rls
from onestory.core.bulk import delete_where, insert_table, new_rows, select_table, update_table
from onestory.intake.index import (
    SUMMARY_COLUMNS,
    in_chunks,
    index_refresh,
    per_value,
    records_table,
)
from onestory.intake.models import IdentityChange, LinkageModel, MatchPair, SourceRecord
from onestory.intake.review import merge_persons
from onestory.people.models import Person
from onestory_engine import linkage

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LinkSummary:
    records: int
    persons: int
    review: int

    @property
    def line(self) -> str:
        return f"records={self.records} persons={self.persons} review={self.review}"


def link_settings() -> linkage.LinkSettings:
    cfg: dict[str, Any] = settings.ONESTORY
    return linkage.LinkSettings(
        match_threshold=float(cfg["LINK_MATCH_THRESHOLD"]),
        review_threshold=float(cfg["LINK_REVIEW_THRESHOLD"]),
    )


def engine_dir() -> Path:
    path = Path(settings.DATA_DIR) / "engine"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _prepared_path() -> Path:
    return engine_dir() / "linkage_table.parquet"


def prepared_table(record_ids: Iterable[int] | None = None, *, records: Any = None) -> Any:
    """The standardised linkage table of the stored records (all, or these; or of
    ``records``, a ``records_table``): the raw values pulled out of the JSON by the
    database, fetched in batches into Arrow columns."""
    if records is not None:
        table = records.select(["pk", *(f"raw_{c}" for c in linkage.RAW_COLUMNS)])
        table = table.rename_columns(["record_id", *linkage.RAW_COLUMNS])
        table = table.set_column(0, "record_id", pa.compute.cast(table.column(0), pa.string()))
        return linkage.prepare(table)
    extract = {f"raw_{c}": KT(f"raw__{c}") for c in linkage.RAW_COLUMNS}
    qs = SourceRecord.objects.order_by("pk").annotate(**extract).values_list("pk", *extract)
    names = ("record_id", *linkage.RAW_COLUMNS)
    types = {"record_id": pa.int64(), **{c: pa.string() for c in linkage.RAW_COLUMNS}}
    if record_ids is None:
        table = select_table(qs, names, types)
    else:
        chunks = list(in_chunks(sorted(record_ids))) or [[]]
        table = pa.concat_tables([select_table(qs.filter(pk__in=c), names, types) for c in chunks])
    table = table.set_column(0, "record_id", pa.compute.cast(table.column(0), pa.string()))
    return linkage.prepare(table)


class _Allocator:
    """Hands the engine placeholder ids; real Person rows are created in bulk after."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self.handed: list[str] = []

    def __call__(self) -> str:
        key = f"new-{next(self._n)}"
        self.handed.append(key)
        return key


def _decisions() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    for left, right, status in MatchPair.objects.filter(
        status__in=[MatchPair.Status.CONFIRMED, MatchPair.Status.REJECTED]
    ).values_list("record_l_id", "record_r_id", "status"):
        (must if status == MatchPair.Status.CONFIRMED else cannot).append((str(left), str(right)))
    return must, cannot


@rls.system()
def link_everything(
    *, actor: Actor, engine: str = "duckdb", progress: Progress | None = None
) -> LinkSummary:
    """(Re)train the model and link every record; person ids stay stable (cli.md)."""
    say = progress or (lambda _msg: None)
    say("Preparing records")
    # Every record read once, before anything is written: the linkage table, the persons
    # records had, and (with the new links) identities, timelines and episodes after.
    records = records_table((*linkage.RAW_COLUMNS, *SUMMARY_COLUMNS))
    table = prepared_table(records=records)
    linked = records.select(["pk", "person_id"]).rename_columns(["id", "person_id"])
    linked = linked.filter(pa.compute.is_valid(linked.column("person_id")))
    previous = dict(
        zip(
            pa.compute.cast(linked.column("id"), pa.string()).to_pylist(),
            pa.compute.cast(linked.column("person_id"), pa.string()).to_pylist(),
            strict=True,
        )
    )
    del linked
    created = {p: int(p) for p in set(previous.values())}
    must, cannot = _decisions()
    allocate = _Allocator()
    say(f"Training and linking {table.num_rows:,} records on {engine}")
    backend = linkage.backend(engine, directory=engine_dir())  # type: ignore[arg-type]
    result = linkage.link_all(
        table,
        backend=backend,
        allocate=allocate,
        previous=previous,
        person_created=created,
        settings=link_settings(),
        must_link=must,
        cannot_link=cannot,
    )
    say("Saving the person index")
    with transaction.atomic():
        LinkageModel.objects.create(
            trained_at=timezone.now(),
            engine=engine,
            records=table.num_rows,
            model_json={"json": result.model.to_json()},
        )
        persons = _apply(result, actor=actor, records=records)
    del records
    pq.write_table(table, _prepared_path())
    review = MatchPair.objects.filter(status=MatchPair.Status.PENDING).count()
    audit.record(
        actor=actor,
        action="linkage.link_all",
        persons=persons,
        detail={"records": table.num_rows, "engine": engine},
    )
    n_persons = SourceRecord.objects.values("person_id").distinct().count()
    return LinkSummary(records=table.num_rows, persons=n_persons, review=review)


def current_model() -> linkage.LinkModel | None:
    row = LinkageModel.objects.first()
    return None if row is None else linkage.LinkModel.from_json(row.model_json["json"])


@rls.system()
def link_new_records(*, actor: Actor, record_ids: list[int]) -> list[int]:
    """Link new or changed records against the index with the trained model (``import``).

    Returns the ids of persons touched. Does nothing (returns []) when no model exists yet.
    """
    model = current_model()
    if model is None or not record_ids:
        return []
    new_table = prepared_table(record_ids)
    path = _prepared_path()
    if path.exists():
        existing = pq.read_table(path)
        keep = pa.compute.invert(
            pa.compute.is_in(existing.column("record_id"), value_set=new_table.column("record_id"))
        )
        existing = existing.filter(keep)
    else:
        fresh = set(record_ids)
        existing = prepared_table(
            pk for pk in SourceRecord.objects.values_list("pk", flat=True) if pk not in fresh
        )
    fresh_keys = {str(pk) for pk in record_ids}
    person_of = {
        key: str(person)
        for pk, person in SourceRecord.objects.filter(person__isnull=False)
        .values_list("pk", "person_id")
        .iterator(chunk_size=20_000)
        if (key := str(pk)) not in fresh_keys
    }
    _, cannot = _decisions()
    allocate = _Allocator()
    result = linkage.link_new(
        new_table,
        existing,
        model,
        backend=linkage.backend("duckdb"),
        person_of_existing=person_of,
        person_created={p: int(p) for p in set(person_of.values())},
        allocate=allocate,
        settings=link_settings(),
        cannot_link=cannot,
    )
    persons = _apply(result, actor=actor)
    # Records updated in place keep their person but their events and identity may change.
    kept = {
        p
        for c in in_chunks(sorted(record_ids))
        for p in SourceRecord.objects.filter(pk__in=c, person__isnull=False).values_list(
            "person_id", flat=True
        )
    } - set(persons)
    index_refresh(kept)
    persons = sorted(set(persons) | kept)
    pq.write_table(pa.concat_tables([existing, new_table.cast(existing.schema)]), path)
    return persons


def _apply(
    result: linkage.LinkResult, *, actor: Actor, records: pa.Table | None = None
) -> list[int]:
    """Write the engine's answer: persons, record assignments, merges, splits, pairs.
    ``records`` (a ``records_table`` of every record, read before) means a full link."""
    full = records is not None
    ids = result.ids
    new_keys = list(ids.new_ids)
    real = {key: str(pk) for key, pk in zip(new_keys, new_rows(Person, len(new_keys)), strict=True)}

    def resolve(person: str) -> int:
        person = real.get(person, person)
        seen = set()
        while person in ids.merged and person not in seen:
            seen.add(person)
            person = real.get(ids.merged[person], ids.merged[person])
        return int(person)

    # Every record's person and probability as columns; only the rows that change are sent.
    target = {p: resolve(p) for p in set(ids.person_of.values())}
    wanted = pa.table(
        {
            "id": pa.array([int(r) for r in ids.person_of], pa.int64()),
            "person_id": pa.array([target[p] for p in ids.person_of.values()], pa.int64()),
            "match_probability": pa.array(
                [result.match_probability.get(r) for r in ids.person_of], pa.float64()
            ),
        }
    )
    names = ("id", "person_id", "match_probability")
    types = {"id": pa.int64(), "person_id": pa.int64(), "match_probability": pa.float64()}
    current_rows = SourceRecord.objects.order_by().values_list(
        "pk", "person_id", "match_probability"
    )
    if records is not None:
        current = records.select(["pk", "person_id", "match_probability"]).rename_columns(names)
    else:
        current = pa.concat_tables(
            [
                select_table(current_rows.filter(pk__in=c), names, types)
                for c in list(in_chunks(wanted.column("id").to_pylist())) or [[]]
            ]
        )
    con = duckdb.connect()
    con.register("wanted", wanted)
    con.register("current_rows", current)
    changed = con.sql(
        """
        SELECT w.id, w.person_id, w.match_probability
        FROM wanted w LEFT JOIN current_rows c USING (id)
        WHERE w.person_id IS DISTINCT FROM c.person_id
           OR w.match_probability IS DISTINCT FROM c.match_probability
        ORDER BY w.id
        """
    ).to_arrow_table()
    moved = con.execute(
        """
        SELECT DISTINCT unnest([w.person_id, c.person_id])
        FROM wanted w LEFT JOIN current_rows c USING (id)
        WHERE w.person_id IS DISTINCT FROM c.person_id
        """
    ).fetchall()
    con.close()
    touched: set[int] = {p for (p,) in moved if p}
    update_table(SourceRecord, changed)
    merged: dict[int, int] = {}
    for retired, kept in ids.merged.items():
        old, new = int(real.get(retired, retired)), resolve(kept)
        if old != new:
            merge_persons(actor=None, keep=new, other=old, reason="linkage", system=actor.system)
            touched.update({old, new})
            merged[old] = new
    for split in ids.splits:
        for part in split.parts:
            IdentityChange.objects.create(
                kind=IdentityChange.Kind.SPLIT,
                kept_person_id=int(split.person_id),
                other_person_id=resolve(part),
                reason="linkage",
                system_actor=actor.system,
                record_ids=[int(r) for r, p in ids.person_of.items() if p == part],
            )
    _store_pairs(result, full=full)
    if records is not None:
        after = _persons_after(records, wanted, merged)
        index_refresh(records=after)
        everyone = pa.compute.unique(after.column("person_id").drop_null()).to_pylist()
        return sorted(set(everyone) | touched)
    persons = sorted(p for p in touched if p)
    index_refresh(persons)
    return persons


def _persons_after(records: pa.Table, wanted: pa.Table, merged: dict[int, int]) -> pa.Table:
    """``records`` with each record's person as the link left it (as the database now
    holds it, without reading it back): the engine's (``wanted``) where it gave one, else
    as it was, then through the merges made."""
    con = duckdb.connect()
    con.register("records", records)
    con.register("wanted", wanted.select(["id", "person_id"]))
    con.register(
        "merged",
        pa.table(
            {
                "old": pa.array(list(merged), pa.int64()),
                "new": pa.array(list(merged.values()), pa.int64()),
            }
        ),
    )
    after = con.sql(
        """
        SELECT r.* REPLACE (coalesce(m.new, w.person_id, r.person_id) AS person_id)
        FROM records r
        LEFT JOIN wanted w ON w.id = r.pk
        LEFT JOIN merged m ON m.old = coalesce(w.person_id, r.person_id)
        ORDER BY r.pk
        """
    ).to_arrow_table()
    con.close()
    return after


def _store_pairs(result: linkage.LinkResult, *, full: bool) -> None:
    """Keep each record's strongest tying pair (its evidence) and the review queue."""
    if full:
        # A plain DELETE: the ORM's cascade collector would list every pair's id in one
        # statement, past SQLite's limit on a large index.
        doomed = MatchPair.objects.filter(
            status__in=[MatchPair.Status.AUTO, MatchPair.Status.PENDING]
        )
        IdentityChange.objects.filter(pair__in=doomed).update(pair=None)
        delete_where(MatchPair, "status", [MatchPair.Status.AUTO, MatchPair.Status.PENDING])
    pairs = result.pairs
    linked = pa.compute.greater_equal(
        pairs.column("match_probability"), link_settings().match_threshold
    )
    if "needs_review" in pairs.column_names:
        linked = pa.compute.and_(
            linked, pa.compute.invert(pa.compute.fill_null(pairs.column("needs_review"), False))
        )
    labels = result.model.evidence_labels()
    # Each record's strongest linking pair, chosen in DuckDB (not as a million dicts), after
    # the review queue; pairs a data manager decided are kept as they are.
    con = duckdb.connect()
    con.register("linked", pairs.filter(linked))
    con.register("review", result.review)
    con.register(
        "decided",
        select_table(
            MatchPair.objects.order_by().values_list("record_l_id", "record_r_id"),
            ("l", "r"),
            {"l": pa.int64(), "r": pa.int64()},
        ),
    )
    chosen = con.sql(
        """
        WITH sides AS (
            SELECT record_id_l AS rec, * FROM linked
            UNION ALL
            SELECT record_id_r AS rec, * FROM linked
        ), ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY rec ORDER BY match_probability DESC, record_id_l, record_id_r
            ) AS rn
            FROM sides
        ), strongest AS (
            SELECT DISTINCT ON (record_id_l, record_id_r) * EXCLUDE (rec, rn)
            FROM ranked WHERE rn = 1
        ), candidates AS (
            SELECT 0 AS queue, row_number() OVER () AS position, * FROM review
            UNION ALL BY NAME
            SELECT 1 AS queue, row_number() OVER () AS position, * FROM strongest
        ), keyed AS (
            SELECT CAST(record_id_l AS BIGINT) AS l, CAST(record_id_r AS BIGINT) AS r, *
            FROM candidates
        )
        SELECT DISTINCT ON (l, r) * FROM keyed
        WHERE NOT EXISTS (SELECT 1 FROM decided d WHERE d.l = keyed.l AND d.r = keyed.r)
        ORDER BY l, r, queue, position
        """
    ).to_arrow_table()
    con.close()
    chosen = chosen.sort_by([("queue", "ascending"), ("position", "ascending")])
    pending = pa.compute.equal(chosen.column("queue"), 0)
    insert_table(
        MatchPair,
        pa.table(
            {
                "record_l_id": chosen.column("l"),
                "record_r_id": chosen.column("r"),
                "match_probability": chosen.column("match_probability"),
                "evidence": _evidence(chosen, labels),
                "status": pa.compute.if_else(
                    pending, MatchPair.Status.PENDING.value, MatchPair.Status.AUTO.value
                ),
            }
        ),
        {"created_at": timezone.now()},
    )


def _evidence(pairs: Any, labels: dict[str, dict[int, str]]) -> Any:
    """Each pair's evidence as JSON text, ``{"match_weight": w, "levels": {comparison:
    {"gamma": g, "label": what g means}}}``, written as json.dumps writes it; each distinct
    weight and level is written once."""
    parts: list[Any] = ['{"match_weight": ', per_value(pairs.column("match_weight"), json.dumps)]
    gammas = [c for c in pairs.column_names if c.startswith("gamma_")]
    parts.append(', "levels": {')
    for i, column in enumerate(gammas):
        name = column.removeprefix("gamma_")
        named = labels.get(name, {})

        def level(gamma: int | None, named: dict[int, str] = named) -> str:
            label = named.get(gamma if gamma is not None else -1, "")
            return json.dumps({"gamma": gamma, "label": label})

        parts.append(("" if i == 0 else ", ") + json.dumps(name) + ": ")
        parts.append(per_value(pairs.column(column), level))
    parts.append("}}")
    return pa.compute.binary_join_element_wise(*parts, "")
