"""Insight benchmark: the SMD cohort, its domain overlap and 24 months of the by-name list.

    python -m bench.insight --people 1000000 --events 20000000

Two parts, both written to ``bench/results/insight.json`` and ``insight.md``:

* **Speed.** A synthetic population (seed :data:`SEED`, never used by the tests) of people
  and their feed events, and 1 % of them with a support closure, is built in DuckDB. The
  engine (:func:`onestory_engine.cohort.cohort`, :func:`~onestory_engine.cohort.overlaps`,
  :func:`~onestory_engine.cohort.by_name_table` over 24 month ends) runs beside one
  hand-written DuckDB SQL script computing the same. The script hard-codes feeds.md's
  default domain mapping, finds each month's cohort with a range join of each person's
  distinct (domain, date) events to the month windows, and walks the months with a recursive
  CTE. Each runs in its own process from the same Parquet files, so time and peak memory
  (``ru_maxrss``) are its own; the two results must be identical.
* **Accuracy.** A synthetic city (seed :data:`ACCURACY_SEED`, never used by the tests) is
  read through the feed reader, linked by the engine into persons, and the cohort computed
  on that index; each person stands for the true person most of their records belong to.
  Precision and recall of the cohort against the generator's true cohort (truth taken from
  its true events), goal >= 0.99 each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

SEED: Final = 31_337
ACCURACY_SEED: Final = 60_606
AS_OF: Final = date(2025, 6, 30)
MONTHS: Final = 24
RESULTS: Final = Path(__file__).parent / "results"
METHODS: Final = ("engine", "hand_sql")
GOAL_RATIO: Final = 1.5
GOAL_SECONDS: Final = 10.0

# Share of people by number of SMD domains (0..5), as in the synthetic city.
DOMAIN_COUNT_SHARE: Final = (0.40, 0.24, 0.15, 0.11, 0.07, 0.03)
KINDS: Final = ("housing", "substance", "mental_health", "domestic_abuse", "police")
EVENT_TYPES: Final = {
    "housing": ["homelessness_approach", "relief_duty", "main_duty", "rough_sleeping_verified"],
    "substance": ["treatment_referral", "treatment_start", "treatment_exit"],
    "mental_health": ["referral", "crisis_contact", "admission", "discharge"],
    "domestic_abuse": ["marac_referral", "idva_referral"],
    "police": ["arrest", "custody", "victim_report"],
}


# ---------------------------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------------------------


def generate(people: int, events: int, seed: int, work: Path) -> dict[str, Any]:
    """Write ``persons.parquet``, ``events.parquet`` and ``closures.parquet`` to ``work``.

    Each person faces 0-5 domains (:data:`DOMAIN_COUNT_SHARE`); their events are spread
    over those domains (criminal justice through police, probation or prison; domestic abuse
    as victim or perpetrator) and A&E attendances, dated over the 36 months to
    :data:`AS_OF`; people facing more domains have more events."""
    started = time.perf_counter()
    pick = random.Random(seed)
    cumulative = [sum(DOMAIN_COUNT_SHARE[: i + 1]) for i in range(len(DOMAIN_COUNT_SHARE))]
    domain_lists: list[list[int]] = []
    for _ in range(people):
        draw = pick.random()
        k = next(i for i, c in enumerate(cumulative) if draw <= c + 1e-12)
        domain_lists.append(pick.sample(range(5), k))
    weight = sum(4 + 10 * len(d) + 3.5 for d in domain_lists)
    scale = events / weight
    con = duckdb.connect()
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})").fetchall()
    con.register(
        "drawn",
        pa.table(
            {
                "person_id": pa.array(range(1, people + 1), pa.int64()),
                "doms": pa.array(domain_lists, pa.list_(pa.int8())),
            }
        ),
    )
    con.execute(
        """
        CREATE TABLE persons AS
        SELECT person_id, doms,
               CASE WHEN random() < 0.04 THEN NULL
                    ELSE DATE '1945-01-01' + CAST(floor(random() * 25000) AS INTEGER) END
                   AS date_of_birth
        FROM drawn
        """
    )
    kinds = "[" + ", ".join(f"'{k}'" for k in KINDS) + "]"
    types = "\n".join(
        f"WHEN '{k}' THEN {v}[1 + CAST(floor(r1 * {len(v)}) AS INTEGER)]"
        for k, v in EVENT_TYPES.items()
    )
    con.execute(
        f"""
        CREATE TABLE events AS
        WITH slots AS (
            SELECT person_id, doms,
                   unnest(range(CAST(round($scale * (4 + 10 * len(doms) + 7 * random()))
                                     AS INTEGER))) AS n
            FROM persons
        ), drawn AS (
            SELECT person_id,
                   CAST(floor(random() * (len(doms) + 1)) AS INTEGER) AS slot,
                   doms, random() AS r1, random() AS r2, random() AS r3, random() AS r4
            FROM slots
        ), kinded AS (
            SELECT person_id, r1, r2, r3, r4,
                   CASE WHEN slot >= len(doms) THEN 'ed'
                        WHEN doms[slot + 1] = 4 AND r4 < 0.35 THEN 'probation'
                        WHEN doms[slot + 1] = 4 AND r4 < 0.45 THEN 'prison'
                        ELSE {kinds}[doms[slot + 1] + 1] END AS kind
            FROM drawn
        )
        SELECT person_id, kind,
               CASE kind
                   WHEN 'ed' THEN 'attendance'
                   WHEN 'probation' THEN ['supervision_start', 'supervision_end', 'breach']
                                         [1 + CAST(floor(r1 * 3) AS INTEGER)]
                   WHEN 'prison' THEN ['reception', 'release'][1 + CAST(floor(r1 * 2) AS INTEGER)]
                   {types}
               END AS event_type,
               CASE WHEN kind = 'domestic_abuse'
                    THEN CASE WHEN r2 < 0.8 THEN 'victim' ELSE 'perpetrator' END END AS role,
               DATE '{AS_OF.isoformat()}' - CAST(floor(r3 * 1095) AS INTEGER) AS event_date,
               CASE WHEN kind = 'ed'
                    THEN ['alcohol', 'drugs', 'self_harm', 'mental_health', 'assault',
                          'injury', 'other'][1 + CAST(floor(r2 * 7) AS INTEGER)] END
                   AS reason_category,
               CASE WHEN kind = 'ed' THEN CASE WHEN r4 < 0.3 THEN 'ambulance' ELSE 'walk_in' END
                   END AS arrival_mode
        FROM kinded
        """,  # noqa: S608 - constants and settings, no input
        {"scale": scale},
    )
    con.execute(
        f"""
        CREATE TABLE closures AS
        SELECT person_id,
               DATE '{AS_OF.isoformat()}' - CAST(floor(random() * 730) AS INTEGER) AS closed_on,
               ['housed', 'goal_reached', 'moved_away', 'institution', 'died', 'declined']
                   [1 + CAST(floor(random() * 6) AS INTEGER)] AS reason
        FROM persons
        WHERE len(doms) >= 3 AND random() < 0.05
        """  # noqa: S608 - constants and settings, no input
    )
    for name, sql in (
        ("persons", "SELECT person_id, date_of_birth FROM persons ORDER BY person_id"),
        ("events", "SELECT * FROM events"),
        ("closures", "SELECT * FROM closures ORDER BY person_id, closed_on"),
    ):
        pq.write_table(con.sql(sql).to_arrow_table(), work / f"{name}.parquet")
    counts = {
        "people": people,
        "events": con.sql("SELECT count(*) FROM events").fetchall()[0][0],
        "closures": con.sql("SELECT count(*) FROM closures").fetchall()[0][0],
        "generate_seconds": round(time.perf_counter() - started, 1),
    }
    con.close()
    return counts


def _inputs(work: Path) -> tuple[pa.Table, pa.Table, dict[int, list[tuple[date, str]]]]:
    events = pq.read_table(work / "events.parquet")
    persons = pq.read_table(work / "persons.parquet")
    closures: dict[int, list[tuple[date, str]]] = {}
    for row in pq.read_table(work / "closures.parquet").to_pylist():
        closures.setdefault(row["person_id"], []).append((row["closed_on"], row["reason"]))
    return events, persons, closures


# ---------------------------------------------------------------------------------------------
# The two methods (one process each)
# ---------------------------------------------------------------------------------------------


def _worker_engine(work: Path) -> dict[str, Any]:
    from onestory_engine import cohort as engine

    events, persons, closures = _inputs(work)
    months = engine.month_ends(AS_OF, MONTHS)
    rule = engine.CohortRule(AS_OF)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    now = engine.cohort(events, persons, rule)
    phases["cohort"] = time.perf_counter() - started
    combos = engine.overlaps(now)
    phases["overlap"] = time.perf_counter() - started - phases["cohort"]
    flows = engine.by_name_table(events, persons, closures, months=months, rule=rule)
    seconds = time.perf_counter() - started
    phases["by_name_list"] = seconds - phases["cohort"] - phases["overlap"]
    _write_outputs(work / "engine", now, combos, flows)
    return {"seconds": seconds, "phases": phases}


HAND_SQL: Final = """
-- feeds.md's default mapping, written out.
CREATE TEMP TABLE dom AS
SELECT DISTINCT person_id, event_date,
       CASE kind WHEN 'housing' THEN 'homelessness'
                 WHEN 'substance' THEN 'substance_misuse'
                 WHEN 'mental_health' THEN 'mental_health'
                 WHEN 'domestic_abuse' THEN
                      CASE WHEN coalesce(role, 'victim') = 'victim' THEN 'domestic_abuse' END
                 WHEN 'police' THEN
                      CASE WHEN event_type <> 'victim_report' THEN 'criminal_justice' END
                 WHEN 'probation' THEN 'criminal_justice'
                 WHEN 'prison' THEN 'criminal_justice' END AS domain
FROM events;

-- The cohort on the as-of date, and its overlap.
CREATE TEMP TABLE cohort_now AS
WITH per_person AS (
    SELECT d.person_id,
           list_sort(list_distinct(list(d.domain) FILTER (WHERE d.domain IS NOT NULL))) AS ds
    FROM dom d
    WHERE d.event_date > $start AND d.event_date <= $as_of
    GROUP BY d.person_id
), ed AS (
    SELECT person_id, count(*) AS n FROM events
    WHERE kind = 'ed' AND event_type = 'attendance'
      AND event_date > $start AND event_date <= $as_of
    GROUP BY person_id
)
SELECT p.person_id,
       coalesce(array_to_string(w.ds, ';'), '') AS domains,
       coalesce(len(w.ds), 0)::INTEGER AS n_domains,
       (coalesce(len(w.ds), 0) >= 3
        AND (p.date_of_birth IS NULL OR p.date_of_birth <= $born_by))::INTEGER AS smd,
       coalesce(ed.n, 0)::INTEGER AS ed_attendances
FROM persons p
LEFT JOIN per_person w ON w.person_id = p.person_id
LEFT JOIN ed ON ed.person_id = p.person_id
ORDER BY p.person_id;

CREATE TEMP TABLE overlap AS
SELECT domains, count(*)::INTEGER AS people FROM cohort_now WHERE smd = 1
GROUP BY domains ORDER BY people DESC, domains;

-- The by-name list, 24 month ends: who meets the rule each month, then the months walked.
CREATE TEMP TABLE by_name AS
WITH RECURSIVE meets AS (
    SELECT m.i, d.person_id
    FROM dom d
    JOIN calendar m ON d.event_date > m.window_start AND d.event_date <= m.month_end
    WHERE d.domain IS NOT NULL
    GROUP BY m.i, d.person_id
    HAVING count(DISTINCT d.domain) >= 3
), adult AS (
    SELECT x.i, x.person_id
    FROM meets x
    JOIN persons p ON p.person_id = x.person_id
    JOIN calendar m ON m.i = x.i
    WHERE p.date_of_birth IS NULL OR p.date_of_birth <= m.born_by
), candidates AS (
    SELECT DISTINCT person_id FROM adult
), closed AS (
    SELECT c.person_id, m.i,
           arg_max(CASE c.reason WHEN 'housed' THEN 'outflow_housed'
                                 WHEN 'goal_reached' THEN 'outflow_housed'
                                 ELSE 'outflow_inactive' END, c.seq) AS outflow
    FROM closures c
    JOIN calendar m ON c.closed_on > m.previous_end AND c.closed_on <= m.month_end
    WHERE c.reason IN ('housed', 'goal_reached', 'moved_away', 'institution', 'died')
    GROUP BY c.person_id, m.i
), seen AS (
    SELECT DISTINCT e.person_id, m.i
    FROM events e
    SEMI JOIN candidates c ON c.person_id = e.person_id
    JOIN calendar m ON e.event_date > m.previous_end AND e.event_date <= m.month_end
), grid AS (
    SELECT c.person_id, m.i, a.person_id IS NOT NULL AS meets, cl.outflow,
           coalesce(max(CASE WHEN s.person_id IS NOT NULL THEN m.i END)
               OVER (PARTITION BY c.person_id ORDER BY m.i), -1) AS last_seen
    FROM candidates c
    CROSS JOIN calendar m
    LEFT JOIN adult a ON a.person_id = c.person_id AND a.i = m.i
    LEFT JOIN closed cl ON cl.person_id = c.person_id AND cl.i = m.i
    LEFT JOIN seen s ON s.person_id = c.person_id AND s.i = m.i
), walk(i, person_id, on_list, ever, gone, status) AS (
    SELECT i, person_id, meets AND outflow IS NULL, meets AND outflow IS NULL, -1,
           CASE WHEN meets AND outflow IS NULL THEN 'active' END
    FROM grid WHERE i = 0
    UNION ALL
    SELECT g.i, g.person_id, x.on_now, w.ever OR x.on_now,
           CASE WHEN w.on_list AND g.outflow IS NOT NULL THEN g.i
                WHEN x.arrives THEN -1 ELSE w.gone END,
           CASE WHEN w.on_list AND g.outflow IS NOT NULL THEN g.outflow
                WHEN w.on_list AND NOT g.meets THEN 'outflow_criteria'
                WHEN w.on_list THEN 'active'
                WHEN x.arrives AND w.ever THEN 'inflow_returned'
                WHEN x.arrives THEN 'inflow_new' END
    FROM walk w
    JOIN grid g ON g.person_id = w.person_id AND g.i = w.i + 1,
    LATERAL (
        SELECT NOT w.on_list AND g.meets AND g.outflow IS NULL
               AND (w.gone < 0 OR g.last_seen > w.gone) AS arrives,
               (w.on_list AND g.meets AND g.outflow IS NULL)
               OR (NOT w.on_list AND g.meets AND g.outflow IS NULL
                   AND (w.gone < 0 OR g.last_seen > w.gone)) AS on_now
    ) x
)
SELECT m.month_end AS month, w.person_id, w.status
FROM walk w JOIN calendar m ON m.i = w.i
WHERE w.status IS NOT NULL
ORDER BY month, person_id;
"""


def _worker_hand_sql(work: Path) -> dict[str, Any]:
    from onestory_engine import cohort as engine

    events = pq.read_table(work / "events.parquet")
    persons = pq.read_table(work / "persons.parquet")
    closures = pq.read_table(work / "closures.parquet")
    months = engine.month_ends(AS_OF, MONTHS)
    rule = engine.CohortRule(AS_OF)
    calendar = pa.table(
        {
            "i": pa.array(range(len(months)), pa.int32()),
            "month_end": pa.array(months, pa.date32()),
            "previous_end": pa.array(
                [months[0].replace(day=1) - timedelta(days=1), *months[:-1]], pa.date32()
            ),
            "window_start": pa.array([engine.add_months(m, -12) for m in months], pa.date32()),
            "born_by": pa.array(
                [engine.CohortRule(m).born_on_or_before for m in months], pa.date32()
            ),
        }
    )
    closures = closures.append_column("seq", pa.array(range(closures.num_rows), pa.int64()))
    started = time.perf_counter()
    con = duckdb.connect()
    for name, table in (
        ("events", events),
        ("persons", persons),
        ("closures", closures),
        ("calendar", calendar),
    ):
        con.register(name, table)
    params = {"start": rule.window_start, "as_of": AS_OF, "born_by": rule.born_on_or_before}
    for statement in HAND_SQL.split(";\n"):
        if statement.strip():
            used = {k: v for k, v in params.items() if f"${k}" in statement}
            con.execute(statement, used)
    now = con.sql("SELECT * FROM cohort_now").to_arrow_table()
    combos = con.sql("SELECT * FROM overlap").to_arrow_table()
    flows = con.sql("SELECT * FROM by_name").to_arrow_table()
    seconds = time.perf_counter() - started
    con.close()
    _write_outputs(work / "hand_sql", now, combos, flows)
    return {"seconds": seconds}


def _write_outputs(out: Path, now: pa.Table, combos: pa.Table, flows: pa.Table) -> None:
    out.mkdir(exist_ok=True)
    pq.write_table(now, out / "cohort.parquet")
    pq.write_table(combos, out / "overlap.parquet")
    pq.write_table(flows, out / "by_name.parquet")


WORKERS: Final = {"engine": _worker_engine, "hand_sql": _worker_hand_sql}


def _run_worker(method: str, work: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.insight", "--worker", method, "--work", str(work)]
    process = subprocess.Popen(command, cwd=Path(__file__).parent.parent)  # noqa: S603
    started = time.perf_counter()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the {method} worker failed")
    result: dict[str, Any] = json.loads((work / f"{method}.json").read_text())
    result["process_seconds"] = wall
    result["peak_memory_mb"] = usage.ru_maxrss / 1024
    return result


def _same(work: Path) -> dict[str, bool]:
    """Whether the two methods' outputs are identical, table by table."""
    same = {}
    for name in ("cohort", "overlap", "by_name"):
        ours = pq.read_table(work / "engine" / f"{name}.parquet")
        theirs = pq.read_table(work / "hand_sql" / f"{name}.parquet")
        same[name] = ours.to_pylist() == theirs.cast(ours.schema).to_pylist()
    return same


# ---------------------------------------------------------------------------------------------
# Accuracy on a linked synthetic city
# ---------------------------------------------------------------------------------------------


def accuracy(persons: int, seed: int) -> dict[str, Any]:
    """Link a synthetic city's feeds with the engine and compare the cohort on that index
    with the generator's true cohort."""
    from onestory_engine import cohort as engine
    from onestory_engine.intake import read_feed
    from onestory_engine.linkage import DuckDBBackend, LinkSettings, link_all, prepare
    from onestory_engine.linkage.evaluation import city_records, record_id_for
    from onestory_engine.synthetic import generate_city, true_cohort, write_feeds

    started = time.perf_counter()
    city = generate_city(persons, seed=seed, as_of=AS_OF)
    raw, truth = city_records(city)
    with tempfile.TemporaryDirectory(prefix="onestory-insight-") as tmp:
        files = write_feeds(city, Path(tmp) / "feeds")
        with DuckDBBackend(Path(tmp) / "duckdb") as backend:
            counter = iter(range(1, 1 << 40))
            linked = link_all(
                prepare(raw),
                backend=backend,
                allocate=lambda: f"P{next(counter):08d}",
                settings=LinkSettings(seed=seed),
            )
        person_of = linked.ids.person_of
        numbers = {p: i for i, p in enumerate(sorted(set(person_of.values())), start=1)}
        rows: dict[str, list[Any]] = {
            "person_id": [], "kind": [], "event_type": [], "role": [], "event_date": [],
            "reason_category": [],
        }  # fmt: skip
        births: dict[int, Counter[date]] = {}
        for f in files:
            for good in read_feed(f.path, f.kind).good.to_pylist():
                person = numbers[person_of[record_id_for(f.source, good["source_record_id"])]]
                if good["date_of_birth"] and not good["dob_placeholder"]:
                    births.setdefault(person, Counter())[good["date_of_birth"]] += 1
                if f.kind == "register" or good["event_date"] is None:
                    continue
                rows["person_id"].append(person)
                rows["kind"].append(f.kind)
                rows["event_type"].append(good["event_type"])
                rows["role"].append(good["role"] or None)
                rows["event_date"].append(good["event_date"])
                reason = json.loads(good["raw"]).get("reason_category")
                rows["reason_category"].append((reason or "").strip().lower() or None)
    events = pa.table(
        {
            "person_id": pa.array(rows["person_id"], pa.int64()),
            "kind": pa.array(rows["kind"], pa.string()),
            "event_type": pa.array(rows["event_type"], pa.string()),
            "role": pa.array(rows["role"], pa.string()),
            "event_date": pa.array(rows["event_date"], pa.date32()),
            "reason_category": pa.array(rows["reason_category"], pa.string()),
        }
    )
    ids = sorted(numbers.values())
    index = pa.table(
        {
            "person_id": pa.array(ids, pa.int64()),
            "date_of_birth": pa.array(
                [births[i].most_common(1)[0][0] if i in births else None for i in ids],
                pa.date32(),
            ),
        }
    )
    found = engine.cohort(events, index, engine.CohortRule(AS_OF)).to_pylist()
    votes: dict[int, Counter[str]] = {}
    for record_id, cluster in person_of.items():
        votes.setdefault(numbers[cluster], Counter())[truth[record_id]] += 1
    ours = [votes[r["person_id"]].most_common(1)[0][0] for r in found if r["smd"] == 1]
    true = true_cohort(city)
    right = len(set(ours) & true)
    return {
        "seed": seed,
        "true_people": persons,
        "records": raw.num_rows,
        "persons_in_index": len(numbers),
        "true_cohort": len(true),
        "cohort_on_index": len(ours),
        "duplicates_in_cohort": len(ours) - len(set(ours)),
        "precision": right / len(ours) if ours else 0.0,
        "recall": right / len(true) if true else 0.0,
        "seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


def run(people: int, events: int, accuracy_people: int) -> dict[str, Any]:
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "goals": {
            "ratio_to_hand_sql": GOAL_RATIO,
            "seconds": GOAL_SECONDS,
            "precision": 0.99,
            "recall": 0.99,
        },
        "months": MONTHS,
        "as_of": AS_OF.isoformat(),
    }
    with tempfile.TemporaryDirectory(prefix="onestory-insight-") as tmp:
        work = Path(tmp)
        print(f"generating {people:,} people and about {events:,} events", flush=True)
        report["population"] = generate(people, events, SEED, work)
        report["population"]["seed"] = SEED
        for method in METHODS:
            print(f"running {method}", flush=True)
            report[method] = _run_worker(method, work)
        report["identical"] = _same(work)
        flows = pq.read_table(work / "engine" / "by_name.parquet")
        report["by_name_rows"] = flows.num_rows
        report["cohort_now"] = (
            pq.read_table(work / "engine" / "cohort.parquet").column("smd").to_pylist().count(1)
        )
    report["ratio"] = report["engine"]["seconds"] / report["hand_sql"]["seconds"]
    print(f"linking a city of {accuracy_people:,} people for the cohort's accuracy", flush=True)
    report["accuracy"] = accuracy(accuracy_people, ACCURACY_SEED)
    return report


def _markdown(report: dict[str, Any]) -> str:
    pop, eng, hand, acc = (
        report["population"], report["engine"], report["hand_sql"], report["accuracy"]
    )  # fmt: skip
    ok = all(report["identical"].values())
    lines = [
        "# Insight benchmark",
        "",
        f"Written by `python -m bench.insight`; {report['machine']['cpus']} CPUs, Python "
        f"{report['machine']['python']}, DuckDB {report['machine']['duckdb']}.",
        "",
        f"## Speed: {pop['people']:,} people, {pop['events']:,} events, "
        f"{pop['closures']:,} closures (seed {pop['seed']})",
        "",
        f"Cohort on {report['as_of']}, its domain overlap, and {report['months']} months of "
        f"the by-name list ({report['by_name_rows']:,} rows; {report['cohort_now']:,} people "
        "in the cohort now).",
        "",
        "| method | seconds | peak memory (MB) |",
        "|---|---:|---:|",
        f"| engine (cohort, overlaps, by_name_table) | {eng['seconds']:.2f} | "
        f"{eng['peak_memory_mb']:,.0f} |",
        f"| hand-written DuckDB SQL | {hand['seconds']:.2f} | {hand['peak_memory_mb']:,.0f} |",
        "",
        f"Engine phases: cohort {eng['phases']['cohort']:.2f} s, overlap "
        f"{eng['phases']['overlap']:.2f} s, by-name list {eng['phases']['by_name_list']:.2f} s.",
        "",
        f"Engine / hand-written SQL: **{report['ratio']:.2f}x** (goal within "
        f"{GOAL_RATIO}x; under {GOAL_SECONDS:.0f} s: "
        f"{'met' if eng['seconds'] < GOAL_SECONDS else 'not met'}). Identical results: "
        f"{'yes' if ok else 'NO ' + json.dumps(report['identical'])}.",
        "",
        f"## Accuracy: the cohort on a linked index (seed {acc['seed']})",
        "",
        f"{acc['true_people']:,} true people, {acc['records']:,} feed records linked into "
        f"{acc['persons_in_index']:,} persons. True cohort {acc['true_cohort']:,}; cohort on "
        f"the index {acc['cohort_on_index']:,} ({acc['duplicates_in_cohort']} people counted "
        "twice).",
        "",
        f"Precision **{acc['precision']:.4f}**, recall **{acc['recall']:.4f}** (goal >= 0.99 "
        f"each); {acc['seconds']:.0f} s including linkage.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insight", description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--accuracy-people", type=int, default=10_000)
    parser.add_argument("--render", action="store_true", help="rewrite insight.md only")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)
    if args.worker:
        result = WORKERS[args.worker](args.work)
        (args.work / f"{args.worker}.json").write_text(json.dumps(result))
        return 0
    RESULTS.mkdir(exist_ok=True)
    if args.render:
        report = json.loads((RESULTS / "insight.json").read_text())
    else:
        report = run(args.people, args.events, args.accuracy_people)
        (RESULTS / "insight.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (RESULTS / "insight.md").write_text(_markdown(report))
    print(_markdown(report))
    ok = all(report["identical"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
