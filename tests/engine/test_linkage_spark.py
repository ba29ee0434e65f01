"""The same linkage on Spark (local mode): with the model trained on DuckDB, Spark finds the
same pairs, with the same probabilities, and so the same persons."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from onestory_engine.linkage import (
    DuckDBBackend,
    SparkBackend,
    cluster,
    link_incremental,
    predict,
    prepare,
    train,
)
from onestory_engine.linkage.evaluation import city_records, pairwise_scores
from onestory_engine.synthetic import generate_city

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="Spark needs Java",
)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkBackend]:
    backend = SparkBackend()
    try:
        yield backend
    finally:
        backend.close()


def test_spark_gives_the_same_clusters_as_duckdb(spark: SparkBackend) -> None:
    city = generate_city(200, seed=3141, as_of=date(2025, 6, 30))
    raw, truth = city_records(city)
    table = prepare(raw)
    duck = DuckDBBackend()
    try:
        model = train(table, backend=duck, seed=11)
        on_duckdb = predict(table, model, backend=duck)
        held = table.slice(table.num_rows - 40)
        rest = table.slice(0, table.num_rows - 40)
        incremental_duckdb = link_incremental(held, rest, model, backend=duck)
    finally:
        duck.close()
    on_spark = predict(table, model, backend=spark)

    def scored(pairs: object) -> dict[tuple[str, str], float]:
        rows = pairs.to_pylist()  # type: ignore[attr-defined]
        return {(r["record_id_l"], r["record_id_r"]): r["match_probability"] for r in rows}

    duck_pairs, spark_pairs = scored(on_duckdb), scored(on_spark)
    assert duck_pairs.keys() == spark_pairs.keys()
    for key, probability in duck_pairs.items():
        assert spark_pairs[key] == pytest.approx(probability, abs=1e-9)
    ids = table.column("record_id")
    clusters_duckdb = cluster(ids, on_duckdb, threshold=0.95)
    assert cluster(ids, on_spark, threshold=0.95) == clusters_duckdb
    assert pairwise_scores(clusters_duckdb, truth).f1 >= 0.95
    # Incremental linking too.
    incremental_spark = link_incremental(held, rest, model, backend=spark)
    assert scored(incremental_spark).keys() == scored(incremental_duckdb).keys()


def test_spark_gives_the_same_cohort_and_by_name_list(spark: SparkBackend) -> None:
    """The cohort and the by-name list's months, on DuckDB and on Spark, from the same
    synthetic city's true people and events: identical rows."""
    import pyarrow as pa

    from onestory_engine import feeds
    from onestory_engine.cohort import CohortRule, by_name_months, cohort, cohort_spark, month_ends

    city = generate_city(120, seed=99, as_of=date(2025, 6, 30))
    ids = {p.key: i for i, p in enumerate(city.people, start=1)}
    rows = [
        (
            ids[p.key],
            e.kind,
            e.event_type,
            e.role,
            e.event_date,
            dict(e.extra).get("reason_category"),
        )
        for p in city.people
        for e in p.events
    ]
    names = ("person_id", "kind", "event_type", "role", "event_date", "reason_category")
    types = (pa.int64(), pa.string(), pa.string(), pa.string(), pa.date32(), pa.string())
    events = pa.table(
        {
            n: pa.array([r[i] for r in rows], t)
            for i, (n, t) in enumerate(zip(names, types, strict=True))
        }
    )
    persons = pa.table(
        {
            "person_id": pa.array([ids[p.key] for p in city.people], pa.int64()),
            "date_of_birth": pa.array([p.date_of_birth for p in city.people], pa.date32()),
        }
    )
    rule = CohortRule(date(2025, 6, 30))
    on_duckdb = cohort(events, persons, rule).to_pylist()
    on_spark = cohort_spark(events, persons, rule, spark=spark.spark).to_pylist()
    assert on_duckdb == on_spark
    assert sum(r["smd"] for r in on_duckdb) > 0
    assert set(feeds.DOMAINS) >= {d for r in on_duckdb for d in r["domains"].split(";") if d}
    months = month_ends(rule.as_of, 3)
    closures = {1: [(date(2025, 5, 10), "housed")]}
    assert by_name_months(events, persons, closures, months=months, rule=rule) == (
        by_name_months(events, persons, closures, months=months, rule=rule, spark=spark.spark)
    )


def test_spark_reads_extracts_from_paths_and_writes_the_index_back(
    spark: SparkBackend, tmp_path: Path
) -> None:
    """A regional run reads partner extracts from object storage (``s3a://`` in
    docs/scale.md) and writes the index back; here the same calls on ``file://`` URIs."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from onestory_engine.linkage import link_all

    city = generate_city(60, seed=2718, as_of=date(2025, 6, 30))
    raw, truth = city_records(city)
    # Two areas' extracts as Parquet, a third as CSV (with an NHS number's leading digits).
    half = raw.num_rows // 2
    (tmp_path / "area_a").mkdir()
    pq.write_table(raw.slice(0, half), tmp_path / "area_a" / "part-0.parquet")
    pq.write_table(raw.slice(half), tmp_path / "area_b.parquet")
    pcsv.write_csv(raw.slice(0, 5), tmp_path / "area_c.csv")
    uris = [(tmp_path / "area_a").as_uri(), (tmp_path / "area_b.parquet").as_uri()]

    read = spark.read_records(uris)
    order = pc.sort_indices(read, [("record_id", "ascending")])
    expected = raw.take(pc.sort_indices(raw, [("record_id", "ascending")]))
    assert read.take(order).to_pylist() == expected.to_pylist()
    from_csv = spark.read_records([(tmp_path / "area_c.csv").as_uri()], file_format="csv")
    assert sorted(from_csv.column("nhs_number").to_pylist(), key=str) == sorted(
        raw.slice(0, 5).column("nhs_number").to_pylist(), key=str
    )

    counter = iter(range(1, 10_000))
    result = link_all(prepare(read), backend=spark, allocate=lambda: f"P{next(counter)}")
    index = pa.table(
        {
            "record_id": list(result.ids.person_of),
            "person_id": list(result.ids.person_of.values()),
        }
    )
    out = (tmp_path / "index").as_uri()
    spark.write_table(index, out)
    written = pq.read_table(tmp_path / "index")
    assert written.num_rows == raw.num_rows
    assert dict(zip(written.column("record_id").to_pylist(),
                    written.column("person_id").to_pylist(), strict=True)) == dict(
        result.ids.person_of
    )  # fmt: skip
    # 60 true people: the index finds about that many persons.
    assert 54 <= len(set(result.ids.person_of.values())) <= 66
    assert len(truth) == raw.num_rows
    with pytest.raises(ValueError, match="no extracts"):
        spark.read_records([])
