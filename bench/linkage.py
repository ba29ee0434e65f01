"""Linkage benchmark: accuracy, time and memory of OneStory's linkage against two anchors.

    python -m bench.linkage --sizes 100000 1000000

For each size a synthetic city is generated with a seed the tests never use
(:data:`SEED`) and the default corruption rates (written into the results). Each method runs
in its own process, so its peak memory (``ru_maxrss``) is its own:

* ``onestory``: :func:`onestory_engine.linkage.link_all` from raw rows: standardise, train
  by EM, score, cluster, stable ids;
* ``exact``: records with the same given name, family name and date of birth (lower-cased,
  both date formats read) are one person; a record missing any of them is on its own;
* ``raw_splink``: Splink with a plain configuration in the style of its documentation's
  example (name, date-of-birth, postcode, e-mail and NHS-number comparisons from the
  comparison library; blocking on names, family name and date of birth, NHS number) on the
  rows as sent, only lower-cased and with dates of birth read into one format;
* ``incremental``: a full OneStory run on all but 1,000 records, then those 1,000 linked
  with :func:`onestory_engine.linkage.link_new` against that index.

Pairwise precision, recall and F1 count pairs of records put together (by the method, by
the truth). Results: ``bench/results/linkage.json`` and ``bench/results/linkage.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

SEED: Final = 424242
AS_OF: Final = date(2025, 6, 30)
ROWS_PER_PERSON: Final = 6.95  # measured on generated cities, to aim at a record count
HOLDOUT: Final = 1_000
MATCH_THRESHOLD: Final = 0.95
RESULTS: Final = Path(__file__).parent / "results"
METHODS: Final = ("exact", "raw_splink", "onestory", "incremental")


# ---------------------------------------------------------------------------------------------
# Workers (one process each)
# ---------------------------------------------------------------------------------------------


def _write_clusters(path: Path, clusters: dict[str, str]) -> None:
    table = pa.table(
        {
            "record_id": pa.array(list(clusters), pa.string()),
            "cluster": pa.array(list(clusters.values()), pa.string()),
        }
    )
    pq.write_table(table, path)


def _worker_exact(work: Path, out: Path) -> dict[str, Any]:
    import duckdb

    started = time.perf_counter()
    raw = pq.read_table(work / "raw.parquet")
    con = duckdb.connect()
    con.register("raw", raw)
    clusters_table = con.sql(
        """
        WITH keyed AS (
            SELECT record_id,
                   nullif(lower(trim(given_name)), '') AS g,
                   nullif(lower(trim(family_name)), '') AS f,
                   coalesce(try_strptime(date_of_birth, '%Y-%m-%d'),
                            try_strptime(date_of_birth, '%d/%m/%Y')) AS d
            FROM raw
        )
        SELECT record_id,
               CASE WHEN g IS NULL OR f IS NULL OR d IS NULL THEN record_id
                    ELSE min(record_id) OVER (PARTITION BY g, f, d) END AS cluster
        FROM keyed
        """
    ).to_arrow_table()
    seconds = time.perf_counter() - started
    pq.write_table(clusters_table, out / "clusters.parquet")
    return {"seconds": seconds}


def _raw_splink_input(raw: Any) -> Any:
    import duckdb

    con = duckdb.connect()
    con.register("raw", raw)
    return con.sql(
        """
        SELECT record_id AS unique_id,
               nullif(lower(trim(given_name)), '') AS first_name,
               nullif(lower(trim(family_name)), '') AS surname,
               strftime(coalesce(try_strptime(date_of_birth, '%Y-%m-%d'),
                                 try_strptime(date_of_birth, '%d/%m/%Y')), '%Y-%m-%d') AS dob,
               nullif(upper(trim(postcode)), '') AS postcode,
               nullif(regexp_replace(nhs_number, '[^0-9]', '', 'g'), '') AS nhs_number,
               nullif(lower(trim(email)), '') AS email
        FROM raw
        """
    ).to_arrow_table()


def raw_splink_settings() -> Any:
    """The anchor's plain Splink configuration (comparison library defaults)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("nhs_number"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("nhs_number"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _worker_raw_splink(work: Path, out: Path) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    raw = pq.read_table(work / "raw.parquet")
    records = _raw_splink_input(raw)
    del raw
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(records), raw_splink_settings(), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"), max_pairs=2e6
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), max_pairs=2e6
    )
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=MATCH_THRESHOLD)
    predicted = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, MATCH_THRESHOLD
    )
    sql = f"SELECT * FROM {clusters.physical_name}"  # noqa: S608 - a table Splink named
    table = db_api.duckdb_con.sql(sql).to_arrow_table()
    done = time.perf_counter()
    pq.write_table(
        pa.table(
            {
                "record_id": table.column("unique_id").cast(pa.string()),
                "cluster": table.column("cluster_id").cast(pa.string()),
            }
        ),
        out / "clusters.parquet",
    )
    return {
        "seconds": done - started,
        "phases": {
            "load_and_train": trained - started,
            "predict": predicted - trained,
            "cluster": done - predicted,
        },
    }


def _allocator() -> Callable[[], str]:
    counter = iter(range(1, 1 << 40))
    return lambda: f"P{next(counter):08d}"


def _onestory_full(raw: Any, backend: Any) -> tuple[dict[str, str], dict[str, float], Any]:
    from onestory_engine.linkage import LinkSettings, link_all, prepare

    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    table = prepare(raw)
    phases["prepare"] = time.perf_counter() - t0
    result = link_all(
        table, backend=backend, allocate=_allocator(), settings=LinkSettings(seed=SEED)
    )
    phases["link"] = time.perf_counter() - t0 - phases["prepare"]
    return result.ids.person_of, phases, (table, result)


def _worker_onestory(work: Path, out: Path) -> dict[str, Any]:
    from onestory_engine.linkage import DuckDBBackend

    started = time.perf_counter()
    raw = pq.read_table(work / "raw.parquet")
    with DuckDBBackend(out / "duckdb") as backend:
        person_of, phases, (table, result) = _onestory_full(raw, backend)
    seconds = time.perf_counter() - started
    _write_clusters(out / "clusters.parquet", person_of)
    return {
        "seconds": seconds,
        "phases": phases,
        "profiles": result.model.trained_on_profiles,
        "pairs_scored_at_or_above_review": result.pairs.num_rows,
        "review_queue": result.review.num_rows,
        "prior": result.model.probability_two_random_records_match,
        "records": table.num_rows,
    }


def _worker_incremental(work: Path, out: Path) -> dict[str, Any]:
    import pyarrow.compute as pc

    from onestory_engine.linkage import DuckDBBackend, link_new, prepare

    raw = pq.read_table(work / "raw.parquet")
    holdout = pa.array(json.loads((work / "holdout.json").read_text()), pa.string())
    is_new = pc.is_in(raw.column("record_id"), value_set=holdout)
    existing_raw = raw.filter(pc.invert(is_new))
    new_raw = raw.filter(is_new)
    del raw
    with DuckDBBackend(out / "duckdb") as backend:
        t0 = time.perf_counter()
        person_of, _phases, (existing_table, result) = _onestory_full(existing_raw, backend)
        full_seconds = time.perf_counter() - t0
        # The index as an import finds it: the prepared table on disk, the ids in the database.
        pq.write_table(existing_table, out / "index.parquet")
        model_json = result.model.to_json()
        del existing_table, result
        allocate = _allocator()
        created = {person: i for i, person in enumerate(sorted(set(person_of.values())))}
        t1 = time.perf_counter()
        from onestory_engine.linkage import LinkModel

        model = LinkModel.from_json(model_json)
        index = pq.read_table(out / "index.parquet")
        new_table = prepare(new_raw)
        update = link_new(
            new_table,
            index,
            model,
            backend=backend,
            person_of_existing=person_of,
            person_created=created,
            allocate=lambda: "N" + allocate(),
        )
        incremental_seconds = time.perf_counter() - t1
    final = {r: update.ids.merged.get(p, p) for r, p in person_of.items()}
    final.update(update.ids.person_of)
    _write_clusters(out / "clusters.parquet", final)
    return {
        "seconds": incremental_seconds,
        "full_run_seconds": full_seconds,
        "share_of_full_run": incremental_seconds / full_seconds,
        "new_records": new_table.num_rows,
        "new_pairs": update.pairs.num_rows,
        "merges": len(update.ids.merged),
        "new_persons": len(update.ids.new_ids),
    }


WORKERS: Final[dict[str, Callable[[Path, Path], dict[str, Any]]]] = {
    "exact": _worker_exact,
    "raw_splink": _worker_raw_splink,
    "onestory": _worker_onestory,
    "incremental": _worker_incremental,
}


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


def _generate(size: int, seed: int, work: Path) -> dict[str, Any]:
    from onestory_engine.linkage.evaluation import city_records
    from onestory_engine.synthetic import generate_city

    persons = max(50, round(size / ROWS_PER_PERSON))
    started = time.perf_counter()
    city = generate_city(persons, seed=seed, as_of=AS_OF)
    raw, truth = city_records(city)
    corruption = dataclasses.asdict(city.corruption)
    twins = sum(1 for p in city.people if p.twin_of)
    del city
    pq.write_table(raw, work / "raw.parquet")
    pq.write_table(
        pa.table({"record_id": list(truth), "person": list(truth.values())}),
        work / "truth.parquet",
    )
    chosen = random.Random(seed).sample(range(raw.num_rows), min(HOLDOUT, raw.num_rows // 10))
    ids = raw.column("record_id").to_pylist()
    (work / "holdout.json").write_text(json.dumps([ids[i] for i in chosen]))
    return {
        "persons": persons,
        "records": raw.num_rows,
        "true_persons_with_records": len(set(truth.values())),
        "twins": twins,
        "corruption": corruption,
        "generate_seconds": time.perf_counter() - started,
    }


def _run_worker(method: str, work: Path) -> dict[str, Any]:
    out = work / method
    out.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "bench.linkage", "--worker", method, "--work", str(work)]
    load_before = os.getloadavg()[0]
    process = subprocess.Popen(command, cwd=Path(__file__).parent.parent)  # noqa: S603
    started = time.perf_counter()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    if os.waitstatus_to_exitcode(status) != 0:
        return {"error": f"worker exited with {os.waitstatus_to_exitcode(status)}"}
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["process_seconds"] = wall
    # CPU time as well as wall time: the machine may be shared, and load shows how much.
    result["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["load_average_1min"] = [round(load_before, 2), round(load_after, 2)]
    return result


def _score(work: Path, method: str) -> dict[str, Any]:
    from onestory_engine.linkage.evaluation import pairwise_scores

    truth_table = pq.read_table(work / "truth.parquet")
    truth = dict(
        zip(
            truth_table.column("record_id").to_pylist(),
            truth_table.column("person").to_pylist(),
            strict=True,
        )
    )
    clusters_table = pq.read_table(work / method / "clusters.parquet")
    clusters = dict(
        zip(
            clusters_table.column("record_id").to_pylist(),
            clusters_table.column("cluster").to_pylist(),
            strict=True,
        )
    )
    missing = len(set(truth) - set(clusters))
    scores = pairwise_scores(clusters, truth).as_dict()
    scores["records_without_cluster"] = missing
    scores["clusters"] = len(set(clusters.values()))
    return scores


def run(sizes: list[int], seed: int, methods: list[str], keep: Path | None) -> dict[str, Any]:
    """Run the benchmark; return the results (also written to ``bench/results``)."""
    report: dict[str, Any] = {
        "benchmark": "linkage",
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "match_threshold": MATCH_THRESHOLD,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sizes": [],
    }
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-linkage-", dir=keep) as tmp:
            work = Path(tmp)
            print(f"size {size:,}: generating the city", flush=True)
            entry: dict[str, Any] = {"target_records": size, "city": _generate(size, seed, work)}
            entry["methods"] = {}
            for method in methods:
                print(f"size {size:,}: {method}", flush=True)
                outcome = _run_worker(method, work)
                if "error" not in outcome:
                    outcome["scores"] = _score(work, method)
                entry["methods"][method] = outcome
                print(f"  {json.dumps(outcome)}", flush=True)
            ours = entry["methods"].get("onestory", {})
            anchor = entry["methods"].get("raw_splink", {})
            if "seconds" in ours and "seconds" in anchor:
                entry["time_vs_raw_splink"] = ours["seconds"] / anchor["seconds"]
                entry["cpu_time_vs_raw_splink"] = (
                    ours["process_cpu_seconds"] / anchor["process_cpu_seconds"]
                )
            report["sizes"].append(entry)
            _write(report)
    return report


def _write(report: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "linkage.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    (RESULTS / "linkage.md").write_text(_markdown(report))


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "–" if value is None else str(value)


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Linkage benchmark",
        "",
        f"Synthetic city, seed {report['seed']} (never used by the tests), as of "
        f"{report['as_of']}; {report['machine']['cpus']} CPUs, Python "
        f"{report['machine']['python']}. Auto-link threshold {report['match_threshold']}. "
        "Pairwise scores count pairs of records put together. Each method ran in its own "
        "process; peak memory is that process's maximum resident set.",
        "",
    ]
    for entry in report["sizes"]:
        city = entry["city"]
        lines += [
            f"## {city['records']:,} records ({city['true_persons_with_records']:,} true "
            f"persons, {city['twins']:,} twins)",
            "",
            "| method | precision | recall | F1 | seconds | CPU seconds | peak memory (MB) "
            "| load before, after |",
            "|---|---|---|---|---|---|---|---|",
        ]
        ordered = sorted(entry["methods"].items(), key=lambda item: METHODS.index(item[0]))
        for method, outcome in ordered:
            if "error" in outcome:
                lines.append(f"| {method} | {outcome['error']} | | | | |")
                continue
            s = outcome["scores"]
            load = outcome.get("load_average_1min", [None, None])
            # The incremental worker builds its index first: its CPU time and memory are the
            # whole process's, its seconds the update's alone.
            mark = "*" if method == "incremental" else ""
            lines.append(
                f"| {method} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | "
                f"{_fmt(s['f1'])} | {_fmt(outcome['seconds'], 1)} | "
                f"{_fmt(outcome['process_cpu_seconds'], 1)}{mark} | "
                f"{_fmt(outcome['peak_rss_mb'], 0)}{mark} | {load[0]}, {load[1]} |"
            )
        lines += [
            "",
            "\\* the incremental worker first runs OneStory on the index without the 1,000 "
            "records, then links them: seconds are the update's alone; CPU time and memory "
            "cover the whole process. Its scores are the index's after the update.",
            "",
        ]
        if "time_vs_raw_splink" in entry:
            lines.append(
                f"OneStory's full run took {entry['time_vs_raw_splink']:.2f}× raw Splink's time "
                f"(CPU time {entry['cpu_time_vs_raw_splink']:.2f}×, which a busy machine "
                "skews less; goal ≤ 1.5×)."
            )
        inc = entry["methods"].get("incremental")
        if inc and "error" not in inc:
            lines.append(
                f"Incremental: {inc['new_records']:,} new records against an index of "
                f"{city['records'] - inc['new_records']:,} in {inc['seconds']:.1f} s, "
                f"{100 * inc['share_of_full_run']:.1f} % of that index's full run "
                f"({inc['full_run_seconds']:.1f} s; goal < 10 %); the index after it scores "
                f"F1 {inc['scores']['f1']:.4f}."
            )
        ours = entry["methods"].get("onestory")
        if ours and "phases" in ours:
            phases = ", ".join(
                f"{k} {ours['phases'][k]:.1f} s" for k in ("prepare", "link") if k in ours["phases"]
            )
            lines.append(
                f"OneStory phases: {phases}; {ours['profiles']:,} distinct identities scored; "
                f"review queue {ours['review_queue']:,} pairs."
            )
        lines += [
            "",
            "Corruption rates (per registration unless noted; see "
            "`onestory_engine.synthetic.Corruption`): "
            + ", ".join(f"{k} {v}" for k, v in city["corruption"].items())
            + ".",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--sizes N ...``, ``--seed``, ``--methods``, ``--render`` (rewrite the
    Markdown from the JSON); ``--worker`` is internal."""
    parser = argparse.ArgumentParser(prog="python -m bench.linkage", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--keep", type=Path, default=None, help="put work files under here")
    parser.add_argument("--render", action="store_true", help="rewrite linkage.md only")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        out = args.work / args.worker
        result = WORKERS[args.worker](args.work, out)
        (out / "result.json").write_text(json.dumps(result))
        return 0
    if args.render:
        _write(json.loads((RESULTS / "linkage.json").read_text()))
        return 0
    run(args.sizes, args.seed, args.methods, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
