"""From scored pairs to persons: connected components, and person ids that stay put.

Pure Python: clustering is a union-find over the pairs at or above the threshold, and stable
ids follow ``spec/cli.md`` exactly: a merge keeps the older id (the other resolves to it); a
split keeps the id with the larger part; anything else gets a new id from the caller.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def _linked_pairs(pairs: Any, threshold: float) -> Any:
    """The pairs that link automatically: at or above ``threshold`` and not marked
    ``needs_review``."""
    auto = pc.greater_equal(pairs.column("match_probability"), threshold)
    if "needs_review" in pairs.column_names:
        auto = pc.and_(auto, pc.invert(pairs.column("needs_review")))
    return pairs.filter(auto)


def _edges(pairs: Any, threshold: float) -> tuple[list[str], list[str]]:
    linked = _linked_pairs(pairs, threshold)
    return linked.column("record_id_l").to_pylist(), linked.column("record_id_r").to_pylist()


def cluster(
    record_ids: Iterable[str] | Any,
    pairs: Any,
    *,
    threshold: float,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """Each record's cluster key: the smallest ``record_id`` of its connected component over
    the pairs (a ``pyarrow.Table`` with ``record_id_l``, ``record_id_r``,
    ``match_probability``) whose probability is at least ``threshold`` and which are not
    marked ``needs_review``.

    ``must_link`` pairs (accepted by a data manager) are joined whatever their score;
    ``cannot_link`` pairs (rejected) are never used as links, though their records may still
    meet through other pairs. Records that appear in no pair are clusters of their own; ids in
    pairs but not in ``record_ids`` are ignored.
    """
    if isinstance(record_ids, pa.ChunkedArray):
        ids_array = record_ids.combine_chunks()
    elif isinstance(record_ids, pa.Array):
        ids_array = record_ids
    else:
        ids_array = pa.array(list(record_ids), pa.string())
    # Number the records in id order, so the smallest number in a component is its key.
    ids_array = pc.take(ids_array, pc.sort_indices(ids_array))
    ids: list[str] = ids_array.to_pylist()
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra < rb:
            parent[rb] = ra
        elif rb < ra:
            parent[ra] = rb

    linked = _linked_pairs(pairs, threshold)
    rejected = {_ordered(a, b) for a, b in cannot_link}
    if rejected:
        keep = [
            _ordered(a, b) not in rejected
            for a, b in zip(
                linked.column("record_id_l").to_pylist(),
                linked.column("record_id_r").to_pylist(),
                strict=True,
            )
        ]
        linked = linked.filter(pa.array(keep, pa.bool_()))
    lefts = pc.index_in(linked.column("record_id_l"), value_set=ids_array).to_pylist()
    rights = pc.index_in(linked.column("record_id_r"), value_set=ids_array).to_pylist()
    for a, b in zip(lefts, rights, strict=True):
        if a is not None and b is not None:
            union(a, b)
    position = {record_id: i for i, record_id in enumerate(ids)} if must_link else {}
    for a, b in must_link:
        ia, ib = position.get(a), position.get(b)
        if ia is not None and ib is not None:
            union(ia, ib)
    return {record_id: ids[find(i)] for i, record_id in enumerate(ids)}


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def strongest_links(clusters: Mapping[str, str], pairs: Any) -> dict[str, float]:
    """For each record tied into a cluster by at least one pair, the highest probability of a
    pair joining it to another record of the same cluster (``export links``'
    ``match_probability``). Records with no such pair (singletons) are absent."""
    if pairs.num_rows == 0 or not clusters:
        return {}
    ids = pa.array(list(clusters.keys()), pa.string())
    keys = pa.array(list(clusters.values()), pa.string())
    left = pairs.column("record_id_l")
    right = pairs.column("record_id_r")
    same = pc.equal(
        pc.take(keys, pc.index_in(left, value_set=ids)),
        pc.take(keys, pc.index_in(right, value_set=ids)),
    )
    inside = pairs.filter(pc.fill_null(same, False))
    probability = inside.column("match_probability")
    ends = pa.concat_tables(
        [
            pa.table({"record_id": inside.column("record_id_l"), "p": probability}),
            pa.table({"record_id": inside.column("record_id_r"), "p": probability}),
        ]
    )
    best = ends.group_by("record_id").aggregate([("p", "max")])
    return dict(
        zip(best.column("record_id").to_pylist(), best.column("p_max").to_pylist(), strict=True)
    )


def review_pairs(clusters: Mapping[str, str], pairs: Any, *, low: float, high: float) -> Any:
    """Pairs waiting for a data manager: in the uncertain band ``low <= p < high``, or at
    ``low`` or above and marked ``needs_review``; only those whose records are in different
    clusters (a pair already inside one person needs no decision)."""
    probability = pairs.column("match_probability")
    uncertain = pc.less(probability, high)
    if "needs_review" in pairs.column_names:
        uncertain = pc.or_(uncertain, pairs.column("needs_review"))
    band = pairs.filter(pc.and_(pc.greater_equal(probability, low), uncertain))
    lefts = band.column("record_id_l").to_pylist()
    rights = band.column("record_id_r").to_pylist()
    keep = [clusters.get(a) != clusters.get(b) for a, b in zip(lefts, rights, strict=True)]
    return band.filter(pa.array(keep, type=pa.bool_()))


# ---------------------------------------------------------------------------------------------
# Stable person ids
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Split:
    """A previous person whose records now form several persons: ``kept_by`` holds the id's
    largest part; ``parts`` lists the ids now held by the other parts."""

    person_id: str
    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StableIds:
    """The outcome of :func:`assign_stable_ids`."""

    person_of: dict[str, str]
    """Every record's person id."""
    merged: dict[str, str] = field(default_factory=dict)
    """Retired id -> the id it now resolves to (a merge kept the older one)."""
    splits: list[Split] = field(default_factory=list)
    """Previous persons split into several."""
    new_ids: list[str] = field(default_factory=list)
    """Ids the allocator handed out, in the order asked for."""
    retired: list[str] = field(default_factory=list)
    """Previous ids none of whose records remain (nothing resolves them)."""


def assign_stable_ids[K: Hashable](
    new_clusters: Mapping[str, K],
    previous: Mapping[str, str],
    person_created: Mapping[str, Any],
    allocate: Callable[[], str],
) -> StableIds:
    """Give each new cluster a person id, keeping the ids people already have.

    ``new_clusters`` maps every record to its cluster key; ``previous`` maps records linked
    before to their person id; ``person_created`` orders person ids by age (anything
    sortable, e.g. creation time or a sequence number; ids missing from it count as newest,
    ties go to the smaller id); ``allocate`` returns a fresh, unused person id.

    Each previous id stays with the cluster holding the largest part of its records (ties:
    the part whose smallest record id is smallest). A cluster that is home to several
    previous ids keeps the oldest, and the others resolve to it (a merge). A cluster that is
    home to none gets a new id (a new person, or a smaller part split off).
    """
    members: dict[K, list[str]] = defaultdict(list)
    for record_id, key in new_clusters.items():
        members[key].append(record_id)
    # Where each previous person's records are now, part by part.
    parts: dict[str, Counter[K]] = defaultdict(Counter)
    smallest: dict[tuple[str, K], str] = {}
    for record_id, person in previous.items():
        if record_id not in new_clusters:
            continue
        key = new_clusters[record_id]
        parts[person][key] += 1
        slot = (person, key)
        if slot not in smallest or record_id < smallest[slot]:
            smallest[slot] = record_id
    home: dict[str, K] = {}
    for person, counts in parts.items():
        home[person] = min(counts, key=lambda k: (-counts[k], smallest[(person, k)]))
    homed: dict[K, list[str]] = defaultdict(list)
    for person, key in home.items():
        homed[key].append(person)

    def age(person: str) -> tuple[int, Any, str]:
        created = person_created.get(person)
        return (0, created, person) if created is not None else (1, 0, person)

    person_of_cluster: dict[K, str] = {}
    merged: dict[str, str] = {}
    new_ids: list[str] = []
    # Clusters in order of their smallest record, so ids are handed out reproducibly.
    for key in sorted(members, key=lambda k: min(members[k])):
        candidates = homed.get(key)
        if candidates:
            kept, *others = sorted(candidates, key=age)
            for other in others:
                merged[other] = kept
        else:
            kept = allocate()
            new_ids.append(kept)
        person_of_cluster[key] = kept

    splits: list[Split] = []
    for person, counts in sorted(parts.items()):
        if len(counts) > 1:
            own = home[person]
            others = sorted(
                (person_of_cluster[k] for k in counts if k != own),
            )
            splits.append(Split(person_id=person, parts=tuple(others)))
    known = set(previous.values())
    retired = sorted(known - set(parts))
    person_of = {record_id: person_of_cluster[key] for record_id, key in new_clusters.items()}
    return StableIds(
        person_of=person_of, merged=merged, splits=splits, new_ids=new_ids, retired=retired
    )


def attach_new_records(
    new_record_ids: Iterable[str],
    pairs: Any,
    person_of_existing: Mapping[str, str],
    person_created: Mapping[str, Any],
    allocate: Callable[[], str],
    *,
    threshold: float,
    cannot_link: Iterable[tuple[str, str]] = (),
) -> StableIds:
    """Person ids for new records linked incrementally (pairs from ``link_incremental``).

    Existing persons are taken as they are; a new record joins the person(s) its pairs at or
    above ``threshold`` reach. When new records join several existing persons into one, the
    oldest id is kept and the others resolve to it (``merged``), as in a full run. New records
    that reach no existing person form new persons. ``person_of_existing`` needs (at least)
    the existing records that appear in ``pairs``. ``person_of`` holds the new records only.
    """
    new_ids = list(dict.fromkeys(new_record_ids))
    new_set = set(new_ids)
    # Nodes: the new records, and one node per existing person ("\0" cannot start an id).
    parent: dict[str, str] = {record_id: record_id for record_id in new_ids}

    def node(record_id: str) -> str | None:
        if record_id in new_set:
            return record_id
        person = person_of_existing.get(record_id)
        if person is None:
            return None
        key = "\0" + person
        parent.setdefault(key, key)
        return key

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rejected = {_ordered(a, b) for a, b in cannot_link}
    lefts, rights = _edges(pairs, threshold)
    for a, b in zip(lefts, rights, strict=True):
        if a not in new_set and b not in new_set:
            continue
        if rejected and _ordered(a, b) in rejected:
            continue
        na, nb = node(a), node(b)
        if na is None or nb is None:
            continue
        ra, rb = find(na), find(nb)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    components: dict[str, list[str]] = defaultdict(list)
    for x in parent:
        components[find(x)].append(x)

    def age(person: str) -> tuple[int, Any, str]:
        created = person_created.get(person)
        return (0, created, person) if created is not None else (1, 0, person)

    person_of: dict[str, str] = {}
    merged: dict[str, str] = {}
    allocated: list[str] = []
    for root in sorted(components, key=lambda r: min(components[r])):
        nodes = components[root]
        persons = sorted((n[1:] for n in nodes if n.startswith("\0")), key=age)
        records = [n for n in nodes if not n.startswith("\0")]
        if persons:
            kept = persons[0]
            for other in persons[1:]:
                merged[other] = kept
        elif records:
            kept = allocate()
            allocated.append(kept)
        else:
            continue
        for record_id in records:
            person_of[record_id] = kept
    return StableIds(person_of=person_of, merged=merged, new_ids=allocated)
