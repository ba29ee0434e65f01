"""Clustering scored pairs and keeping person ids stable (``spec/cli.md``): pure Python, so
the rules are checked exhaustively with Hypothesis."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from onestory_engine.linkage import (
    assign_stable_ids,
    attach_new_records,
    cluster,
    review_pairs,
    strongest_links,
)


def pairs_table(*rows: tuple[str, str, float] | tuple[str, str, float, bool]) -> pa.Table:
    return pa.table(
        {
            "record_id_l": [r[0] for r in rows],
            "record_id_r": [r[1] for r in rows],
            "match_probability": pa.array([r[2] for r in rows], pa.float64()),
            "needs_review": [bool(r[3]) if len(r) > 3 else False for r in rows],
        }
    )


def allocator(prefix: str = "N") -> Callable[[], str]:
    numbers = iter(range(1, 10**9))
    return lambda: f"{prefix}{next(numbers):04d}"


# --- clustering --------------------------------------------------------------------------------


def test_connected_components_at_the_threshold() -> None:
    pairs = pairs_table(("a", "b", 0.99), ("b", "c", 0.97), ("c", "d", 0.6), ("e", "f", 0.96))
    clusters = cluster(["a", "b", "c", "d", "e", "f", "g"], pairs, threshold=0.95)
    assert clusters == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e", "f": "e", "g": "g"}


def test_review_decisions_and_the_household_guard() -> None:
    pairs = pairs_table(("a", "b", 0.99), ("c", "d", 0.7), ("e", "f", 0.999, True))
    ids = ["a", "b", "c", "d", "e", "f"]
    plain = cluster(ids, pairs, threshold=0.95)
    assert plain["e"] != plain["f"], "a pair marked needs_review never links by itself"
    decided = cluster(ids, pairs, threshold=0.95, must_link=[("c", "d")], cannot_link=[("b", "a")])
    assert decided["c"] == decided["d"]
    assert decided["a"] != decided["b"]
    queue = review_pairs(plain, pairs, low=0.5, high=0.95)
    assert sorted(zip(queue["record_id_l"].to_pylist(), queue["record_id_r"].to_pylist(),
                      strict=True)) == [("c", "d"), ("e", "f")]  # fmt: skip
    assert review_pairs(decided, pairs, low=0.5, high=0.95).num_rows == 1


def test_strongest_link_within_a_person() -> None:
    pairs = pairs_table(("a", "b", 0.96), ("b", "c", 0.99), ("a", "z", 0.7))
    clusters = cluster(["a", "b", "c", "z"], pairs, threshold=0.95)
    assert strongest_links(clusters, pairs) == {"a": 0.96, "b": 0.99, "c": 0.99}


# --- stable ids: the rules of cli.md, by example -------------------------------------------------


def test_a_merge_keeps_the_older_id() -> None:
    result = assign_stable_ids(
        {"r1": "k", "r2": "k", "r3": "k"},
        {"r1": "P2", "r2": "P1", "r3": "P1"},
        {"P1": 2, "P2": 1},  # P2 is older
        allocator(),
    )
    assert set(result.person_of.values()) == {"P2"}
    assert result.merged == {"P1": "P2"}
    assert not result.new_ids


def test_a_split_keeps_the_id_with_the_larger_part() -> None:
    result = assign_stable_ids(
        {"r1": "x", "r2": "y", "r3": "y"},
        {"r1": "P1", "r2": "P1", "r3": "P1"},
        {"P1": 1},
        allocator(),
    )
    assert result.person_of == {"r1": "N0001", "r2": "P1", "r3": "P1"}
    assert result.new_ids == ["N0001"]
    assert [(s.person_id, s.parts) for s in result.splits] == [("P1", ("N0001",))]


def test_new_records_get_new_ids_and_old_ones_keep_theirs() -> None:
    result = assign_stable_ids(
        {"r1": "x", "r2": "x", "r3": "z"}, {"r1": "P7"}, {"P7": 0}, allocator()
    )
    assert result.person_of == {"r1": "P7", "r2": "P7", "r3": "N0001"}


def test_ids_of_records_that_are_gone_are_retired() -> None:
    result = assign_stable_ids({"r1": "x"}, {"r1": "P1", "gone": "P2"}, {}, allocator())
    assert result.retired == ["P2"]


# --- stable ids: properties ----------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    n = draw(st.integers(min_value=1, max_value=25))
    records = [f"r{i:02d}" for i in range(n)]
    n_clusters = draw(st.integers(min_value=1, max_value=n))
    clusters = {r: f"c{draw(st.integers(0, n_clusters - 1))}" for r in records}
    n_persons = draw(st.integers(min_value=1, max_value=8))
    previous: dict[str, str] = {}
    for r in records:
        if draw(st.booleans()):
            previous[r] = f"P{draw(st.integers(0, n_persons - 1))}"
    created = {f"P{i}": draw(st.integers(0, 5)) for i in range(n_persons)}
    return clusters, previous, created


def age(created: dict[str, int], person: str) -> tuple[int, str]:
    return (created[person], person)


@given(scenarios())
@settings(max_examples=300, deadline=None)
def test_stable_id_rules_hold(
    scenario: tuple[dict[str, str], dict[str, str], dict[str, int]],
) -> None:
    clusters, previous, created = scenario
    result = assign_stable_ids(clusters, previous, created, allocator())
    person_of = result.person_of
    # One id per cluster, a different one for each cluster.
    ids_by_cluster: dict[str, set[str]] = defaultdict(set)
    for record, key in clusters.items():
        ids_by_cluster[key].add(person_of[record])
    assert all(len(ids) == 1 for ids in ids_by_cluster.values())
    assert len({next(iter(ids)) for ids in ids_by_cluster.values()}) == len(ids_by_cluster)
    cluster_of_id = {next(iter(ids)): key for key, ids in ids_by_cluster.items()}
    old_ids = set(previous.values())
    # Every id is an old one or newly allocated; new ids only for clusters that need one.
    for person in cluster_of_id:
        assert person in old_ids or person in result.new_ids
    assert len(result.new_ids) == len(set(result.new_ids))
    parts: dict[str, Counter[str]] = defaultdict(Counter)
    for record, person in previous.items():
        parts[person][clusters[record]] += 1
    for person, counts in parts.items():
        biggest = max(counts.values())
        if person in cluster_of_id:
            # A kept id stays with (one of) its largest parts ...
            assert counts[cluster_of_id[person]] == biggest
            assert person not in result.merged
        else:
            # ... and an id that is not kept was merged into the id of its largest part's
            # cluster, which is older (or equal age with a smaller id).
            kept = result.merged[person]
            assert kept in cluster_of_id
            assert counts[cluster_of_id[kept]] == biggest
            assert age(created, kept) < age(created, person)
        assert (len(counts) > 1) == any(s.person_id == person for s in result.splits)
    # A cluster that is home to old ids never holds a new one.
    for person, kept in result.merged.items():
        assert kept in old_ids
        assert person in old_ids


@given(scenarios())
@settings(max_examples=200, deadline=None)
def test_relinking_an_unchanged_index_changes_nothing(
    scenario: tuple[dict[str, str], dict[str, str], dict[str, int]],
) -> None:
    clusters, previous, created = scenario
    first = assign_stable_ids(clusters, previous, created, allocator())
    # The next run finds the same persons: every record keeps its id.
    again = assign_stable_ids(
        dict(first.person_of),
        first.person_of,
        {**created, **dict.fromkeys(first.new_ids, 99)},
        allocator("M"),
    )
    assert again.person_of == first.person_of
    assert not again.new_ids and not again.merged and not again.splits


@given(scenarios())
@settings(max_examples=100, deadline=None)
def test_same_inputs_same_ids(
    scenario: tuple[dict[str, str], dict[str, str], dict[str, int]],
) -> None:
    clusters, previous, created = scenario
    assert assign_stable_ids(clusters, previous, created, allocator()) == assign_stable_ids(
        dict(reversed(list(clusters.items()))), previous, created, allocator()
    )


# --- incremental attachment ----------------------------------------------------------------------


def test_a_new_record_joining_two_persons_merges_them_into_the_older() -> None:
    pairs = pairs_table(("e1", "new", 0.99), ("e2", "new", 0.98))
    result = attach_new_records(
        ["new"], pairs, {"e1": "P5", "e2": "P3"}, {"P5": 1, "P3": 2}, allocator(), threshold=0.95
    )
    assert result.person_of == {"new": "P5"}
    assert result.merged == {"P3": "P5"}


def test_new_records_that_reach_nobody_form_new_persons() -> None:
    pairs = pairs_table(("n1", "n2", 0.99), ("e1", "n3", 0.6), ("e1", "n4", 0.99, True))
    result = attach_new_records(
        ["n1", "n2", "n3", "n4"], pairs, {"e1": "P1"}, {"P1": 1}, allocator(), threshold=0.95
    )
    assert result.person_of["n1"] == result.person_of["n2"] == "N0001"
    assert result.person_of["n3"] == "N0002"
    assert result.person_of["n4"] == "N0003"
    assert result.new_ids == ["N0001", "N0002", "N0003"]
    assert not result.merged


def test_pairs_between_existing_records_are_ignored() -> None:
    pairs = pairs_table(("e1", "e2", 0.99))
    result = attach_new_records([], pairs, {"e1": "P1", "e2": "P2"}, {}, allocator(), threshold=0.9)
    assert result.person_of == {} and result.merged == {}
