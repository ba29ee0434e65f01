"""A whole linkage run, full or incremental: what ``onestory link`` and ``import`` call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onestory_engine.linkage.backends import Backend
from onestory_engine.linkage.clusters import (
    StableIds,
    assign_stable_ids,
    attach_new_records,
    cluster,
    review_pairs,
    strongest_links,
)
from onestory_engine.linkage.model import LinkModel
from onestory_engine.linkage.pipeline import (
    PAIR_SCHEMA,
    link_incremental,
    predict_profiles,
    profiles,
    train_profiles,
)


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Thresholds and training knobs. Pairs at or above ``match_threshold`` link
    automatically; pairs from ``review_threshold`` up to it wait for a data manager."""

    match_threshold: float = 0.95
    review_threshold: float = 0.5
    seed: int = 20240
    u_max_pairs: float = 2e6
    em_max_pairs: float = 5e5

    def __post_init__(self) -> None:
        if not 0.0 < self.review_threshold <= self.match_threshold <= 1.0:
            raise ValueError("need 0 < review_threshold <= match_threshold <= 1")


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome of a run."""

    model: LinkModel
    pairs: Any
    """Scored pairs at or above the review threshold (``PAIR_SCHEMA``): the evidence."""
    ids: StableIds
    """Person id of every record (of the new records, for an incremental run), with merges
    and splits."""
    match_probability: dict[str, float]
    """Per record: the strongest pair tying it into its person (absent for singletons)."""
    review: Any
    """Pairs in the uncertain band joining two different persons."""


def link_all(
    table: Any,
    *,
    backend: Backend,
    allocate: Callable[[], str],
    previous: Mapping[str, str] | None = None,
    person_created: Mapping[str, Any] | None = None,
    model: LinkModel | None = None,
    settings: LinkSettings | None = None,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> LinkResult:
    """Train (unless ``model`` is given), score and cluster every record of ``table`` (from
    :func:`prepare`), then give persons stable ids against ``previous`` (record -> person
    id; ``person_created`` orders ids by age). ``must_link`` / ``cannot_link`` are a data
    manager's decisions on reviewed pairs. Raises ``NotEnoughData`` when there is nothing to
    train on (a handful of records, none alike): leave the records unlinked until more come."""
    settings = settings or LinkSettings()
    grouped = profiles(table)
    if model is None:
        model = train_profiles(
            grouped,
            backend=backend,
            seed=settings.seed,
            u_max_pairs=settings.u_max_pairs,
            em_max_pairs=settings.em_max_pairs,
        )
    if table.num_rows == 0:
        pairs = PAIR_SCHEMA.empty_table()
    else:
        pairs = predict_profiles(
            grouped, model, backend=backend, threshold=settings.review_threshold
        )
    clusters = cluster(
        table.column("record_id"),
        pairs,
        threshold=settings.match_threshold,
        must_link=must_link,
        cannot_link=cannot_link,
    )
    ids = assign_stable_ids(clusters, previous or {}, person_created or {}, allocate)
    return LinkResult(
        model=model,
        pairs=pairs,
        ids=ids,
        match_probability=strongest_links(ids.person_of, pairs),
        review=review_pairs(
            clusters, pairs, low=settings.review_threshold, high=settings.match_threshold
        ),
    )


def link_new(
    new_table: Any,
    existing_table: Any,
    model: LinkModel,
    *,
    backend: Backend,
    person_of_existing: Mapping[str, str],
    person_created: Mapping[str, Any],
    allocate: Callable[[], str],
    settings: LinkSettings | None = None,
    cannot_link: Iterable[tuple[str, str]] = (),
) -> LinkResult:
    """Link new records against the existing index with a trained model (``import``).

    ``person_of_existing`` maps existing records to their person ids (only those that new
    records pair with are read). Returns ids for the new records, merges of existing persons
    that new records join, and the new pairs' evidence and review queue. Probabilities in
    ``match_probability`` cover the new records and any existing record a new pair ties more
    strongly than before (callers keep the larger of old and new)."""
    settings = settings or LinkSettings()
    pairs = link_incremental(
        new_table, existing_table, model, backend=backend, threshold=settings.review_threshold
    )
    new_ids = new_table.column("record_id").to_pylist()
    ids = attach_new_records(
        new_ids,
        pairs,
        person_of_existing,
        person_created,
        allocate,
        threshold=settings.match_threshold,
        cannot_link=cannot_link,
    )
    involved = set(pairs.column("record_id_l").to_pylist()) | set(
        pairs.column("record_id_r").to_pylist()
    )
    scope: dict[str, str] = {}
    for record_id in involved:
        person = ids.person_of.get(record_id) or person_of_existing.get(record_id)
        if person is not None:
            scope[record_id] = ids.merged.get(person, person)
    return LinkResult(
        model=model,
        pairs=pairs,
        ids=ids,
        match_probability=strongest_links(scope, pairs),
        review=review_pairs(
            scope, pairs, low=settings.review_threshold, high=settings.match_threshold
        ),
    )
