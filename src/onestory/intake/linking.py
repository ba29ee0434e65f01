"""Linking records into persons: the only Django code that calls the engine's linkage.

Record ids given to the engine are SourceRecord primary keys as strings; person ids are
Person primary keys as strings, so "older" is simply the smaller key.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
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
from onestory.core.bulk import delete_where, insert_rows, update_rows
from onestory.intake.index import in_chunks, index_refresh
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


# Rows are read in batches into Arrow columns (the JSON keys extracted by the database), so
# a million records never sit in memory as Python dictionaries.
BATCH = 100_000


def _raw_table(rows: Iterable[tuple[Any, ...]]) -> Any:
    columns = ("record_id", *linkage.RAW_COLUMNS)
    batches = []
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, BATCH)):
        values = list(zip(*chunk, strict=True))
        arrays = [pa.array([str(pk) for pk in values[0]], pa.string())]
        arrays += [pa.array(v, pa.string()) for v in values[1:]]
        batches.append(pa.table(dict(zip(columns, arrays, strict=True))))
        del chunk, values
    if not batches:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return pa.concat_tables(batches)


def prepared_table(record_ids: Iterable[int] | None = None) -> Any:
    """The standardised linkage table of the stored records (all, or these)."""
    extract = {f"raw_{c}": KT(f"raw__{c}") for c in linkage.RAW_COLUMNS}
    qs = SourceRecord.objects.order_by("pk").annotate(**extract).values_list("pk", *extract)
    if record_ids is None:
        rows: Iterable[tuple[Any, ...]] = qs.iterator(chunk_size=20_000)
    else:
        rows = (row for c in in_chunks(sorted(record_ids)) for row in qs.filter(pk__in=c))
    return linkage.prepare(_raw_table(rows))


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


def link_everything(
    *, actor: Actor, engine: str = "duckdb", progress: Progress | None = None
) -> LinkSummary:
    """(Re)train the model and link every record; person ids stay stable (cli.md)."""
    say = progress or (lambda _msg: None)
    say("Preparing records")
    table = prepared_table()
    previous = {
        str(pk): str(person)
        for pk, person in SourceRecord.objects.filter(person__isnull=False).values_list(
            "pk", "person_id"
        )
    }
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
        persons = _apply(result, actor=actor, full=True)
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
    persons = _apply(result, actor=actor, full=False)
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


def _apply(result: linkage.LinkResult, *, actor: Actor, full: bool) -> list[int]:
    """Write the engine's answer: persons, record assignments, merges, splits, pairs."""
    ids = result.ids
    new_keys = list(ids.new_ids)
    made = Person.objects.bulk_create([Person() for _ in new_keys], batch_size=1000)
    if any(p.pk is None for p in made):  # backends without RETURNING
        last = Person.objects.order_by("-pk").values_list("pk", flat=True)[: len(made)]
        made = [Person(pk=pk) for pk in sorted(last)]
    real = {key: str(p.pk) for key, p in zip(new_keys, made, strict=True)}

    def resolve(person: str) -> int:
        person = real.get(person, person)
        seen = set()
        while person in ids.merged and person not in seen:
            seen.add(person)
            person = real.get(ids.merged[person], ids.merged[person])
        return int(person)

    touched: set[int] = set()
    current_rows = SourceRecord.objects.values_list("pk", "person_id", "match_probability")
    if full:
        current = {pk: (p, m) for pk, p, m in current_rows.iterator(chunk_size=20_000)}
    else:
        wanted = [int(r) for r in ids.person_of]
        current = {
            pk: (p, m) for c in in_chunks(wanted) for pk, p, m in current_rows.filter(pk__in=c)
        }
    changed: list[tuple[int, int, float | None]] = []
    for record_id, person in ids.person_of.items():
        pk, target = int(record_id), resolve(person)
        probability = result.match_probability.get(record_id)
        before_person, before_probability = current.get(pk, (None, None))
        if before_person != target:
            touched.add(target)
            if before_person:
                touched.add(before_person)
        if before_person != target or before_probability != probability:
            changed.append((pk, target, probability))
    update_rows(SourceRecord, ("id", "person_id", "match_probability"), changed)
    for retired, kept in ids.merged.items():
        old, new = int(real.get(retired, retired)), resolve(kept)
        if old != new:
            merge_persons(actor=None, keep=new, other=old, reason="linkage", system=actor.system)
            touched.update({old, new})
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
    if full:
        index_refresh(everyone=True)
        everyone = SourceRecord.objects.exclude(person=None).values_list("person_id", flat=True)
        return sorted(set(everyone.distinct()) | touched)
    persons = sorted(p for p in touched if p)
    index_refresh(persons)
    return persons


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
    decided = set(MatchPair.objects.values_list("record_l_id", "record_r_id"))
    pairs = result.pairs
    linked = pa.compute.greater_equal(
        pairs.column("match_probability"), link_settings().match_threshold
    )
    if "needs_review" in pairs.column_names:
        linked = pa.compute.and_(
            linked, pa.compute.invert(pa.compute.fill_null(pairs.column("needs_review"), False))
        )
    labels = result.model.evidence_labels()
    review = {(r["record_id_l"], r["record_id_r"]): r for r in result.review.to_pylist()}
    # Each record's strongest linking pair, chosen in DuckDB (not as a million dicts).
    con = duckdb.connect()
    con.register("linked", pairs.filter(linked))
    keep = con.sql(
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
        )
        SELECT DISTINCT ON (record_id_l, record_id_r) * EXCLUDE (rec, rn)
        FROM ranked WHERE rn = 1
        """
    ).to_arrow_table()
    con.close()

    def evidence(row: dict[str, Any]) -> dict[str, Any]:
        gammas = {k.removeprefix("gamma_"): v for k, v in row.items() if k.startswith("gamma_")}
        return {
            "match_weight": row.get("match_weight"),
            "levels": {
                k: {"gamma": v, "label": labels.get(k, {}).get(v if v is not None else -1, "")}
                for k, v in gammas.items()
            },
        }

    now = timezone.now()

    def rows() -> Iterator[tuple[Any, ...]]:
        seen = set(decided)
        batches = (batch.to_pylist() for batch in keep.to_batches(max_chunksize=50_000))
        for row in itertools.chain([*review.values()], itertools.chain.from_iterable(batches)):
            key = (int(row["record_id_l"]), int(row["record_id_r"]))
            if key in seen:
                continue
            seen.add(key)
            pending = (row["record_id_l"], row["record_id_r"]) in review
            status = MatchPair.Status.PENDING if pending else MatchPair.Status.AUTO
            yield (*key, row["match_probability"], evidence(row), status.value, now)

    insert_rows(
        MatchPair,
        ("record_l_id", "record_r_id", "match_probability", "evidence", "status", "created_at"),
        rows(),
    )
