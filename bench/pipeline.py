"""End-to-end benchmark: partner feed files in, person index out, through the product.

    python -m bench.pipeline --sizes 100000 1000000

For each size a synthetic city is generated with the linkage benchmark's seed (never used
by the tests) and written as one CSV per partner source. Then, in a fresh data directory
on the embedded SQLite database, exactly what a partnership runs:

* ``onestory init``;
* ``onestory import KIND FILE --source S --organisation O`` for every feed (parse, validate,
  standardise, quarantine, store in one transaction);
* ``onestory link`` (train by EM, score, cluster, stable ids, and write the index: record
  assignments, persons' identities, timelines, service-episode relationships, evidence and
  the review queue);
* ``onestory export links`` to score the stored index against the truth.

Then, on SQLite, the floor the goal meets (``_floor``): the OneStory engine alone on the
same records in memory (``bench.linkage``'s worker), pyarrow reading the feed files into
columns, and bare ``sqlite3`` writing the rows the index holds, copied from the stored
database into a fresh one with the same schema (indexes, checks, foreign keys), from
ready tuples: no validation, no Django, no Python per value. What the product does beyond
that floor is the part that could still be cut; the floor itself moves only with the data
model (fewer or narrower rows) or a faster engine.

Each command is its own process; the table gives each phase's wall and CPU time and the
largest peak memory of any of its processes. The anchor, raw Splink with a plain
configuration (``bench.linkage``), runs in the same session on the same records. Results:
``bench/results/pipeline.json`` and ``bench/results/pipeline.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from bench.linkage import AS_OF, ROWS_PER_PERSON, SEED, _run_worker, _score

RESULTS: Final = Path(__file__).parent / "results"
ROOT: Final = Path(__file__).parent.parent


def _generate(size: int, seed: int, work: Path) -> dict[str, Any]:
    from onestory_engine.linkage.evaluation import city_records
    from onestory_engine.synthetic import generate_city, write_feeds

    started = time.perf_counter()
    city = generate_city(max(50, round(size / ROWS_PER_PERSON)), seed=seed, as_of=AS_OF)
    files = write_feeds(city, work / "feeds")
    raw, truth = city_records(city)
    pq.write_table(raw, work / "raw.parquet")
    pq.write_table(
        pa.table({"record_id": list(truth), "person": list(truth.values())}),
        work / "truth.parquet",
    )
    (work / "feeds.json").write_text(
        json.dumps(
            [
                {"kind": f.kind, "path": str(f.path), "source": f.source,
                 "organisation": f.organisation_name, "rows": f.rows}
                for f in files
            ]
        )
    )  # fmt: skip
    return {
        "records": raw.num_rows,
        "feeds": len(files),
        "feed_megabytes": round(sum(f.path.stat().st_size for f in files) / 1e6, 1),
        "generate_seconds": round(time.perf_counter() - started, 1),
    }


def _compile_bytecode() -> float:
    """Compile every module ahead, as an installed deployment has it (``uv sync
    --compile-bytecode``, a Debian package, a container image). Where
    ``PYTHONDONTWRITEBYTECODE`` is set and nothing was compiled, each command would
    otherwise compile its ~1,000 modules again: about 3 seconds per process here."""
    started = time.perf_counter()
    paths = [sysconfig.get_paths()["purelib"], str(ROOT / "src"), str(ROOT / "bench")]
    subprocess.run(  # noqa: S603 - the running interpreter's own compileall
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *paths],
        check=False,
        capture_output=True,
    )
    return time.perf_counter() - started


def _command(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one ``onestory`` command; its wall and CPU time and peak memory."""
    command = [sys.executable, "-m", "onestory.cli", *args]
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own command, our own arguments
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"onestory {' '.join(args)} exited with {code}")
    return {
        "seconds": time.perf_counter() - started,
        "load_after": round(os.getloadavg()[0], 2),
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "last_line": output.strip().splitlines()[-1] if output.strip() else "",
    }


def _phase(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seconds": sum(r["seconds"] for r in results),
        "cpu_seconds": sum(r["cpu_seconds"] for r in results),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "commands": len(results),
    }


def _pipeline(work: Path, database_url: str | None) -> dict[str, Any]:
    from onestory_engine.linkage.evaluation import record_id_for

    env = {**os.environ, "ONESTORY_DATA_DIR": str(work / "data")}
    env.pop("DATABASE_URL", None)
    if database_url:
        from bench.load import _recreate

        _recreate(database_url)  # a fresh, empty database for each size
        env["DATABASE_URL"] = database_url
    feeds = json.loads((work / "feeds.json").read_text())
    load_before = round(os.getloadavg()[0], 2)
    init = _command(["init"], env)
    imports = []
    for feed in feeds:
        print(f"  import {feed['source']} ({feed['rows']:,} rows)", flush=True)
        imports.append(
            _command(
                ["import", feed["kind"], feed["path"], "--source", feed["source"],
                 "--organisation", feed["organisation"]],
                env,
            )
        )  # fmt: skip
    print("  link", flush=True)
    link = _command(["link"], env)
    links_csv = work / "links.csv"
    export = _command(["export", "links", str(links_csv)], env)
    clusters: dict[str, str] = {}
    with links_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = record_id_for(row["source_name"], row["source_record_id"])
            clusters[key] = row["person_id"]
    out = work / "pipeline"
    out.mkdir(exist_ok=True)
    pq.write_table(
        pa.table({"record_id": list(clusters), "cluster": list(clusters.values())}),
        out / "clusters.parquet",
    )
    phases = {"init": _phase([init]), "import": _phase(imports), "link": _phase([link])}
    total = _phase([init, *imports, link])
    return {
        "phases": phases,
        "seconds": total["seconds"],
        "cpu_seconds": total["cpu_seconds"],
        "peak_rss_mb": total["peak_rss_mb"],
        "link_line": link["last_line"],
        "load_average_1min": [load_before, round(os.getloadavg()[0], 2)],
        "export_seconds": export["seconds"],
        "scores": _score(work, "pipeline"),
    }


# The tables a linked index holds rows in (parents before children), with what the spec
# asks of each.
FLOOR_TABLES: Final = (
    ("people_person", "the persons"),
    ("intake_sourcerecord", "every record with its raw values (import)"),
    ("intake_matchpair", "each linked record's strongest pair, with evidence; the review queue"),
    ("people_timelineevent", "timeline events from the feeds"),
    ("people_relationship", "service-episode relationships (rule 3)"),
    ("audit_auditpersonaccess", "the audit trail's person rows"),
)  # fmt: skip
FLOOR_BATCH: Final = 50_000


def _copy_rows(
    source: sqlite3.Connection, target: sqlite3.Connection, table: str
) -> dict[str, Any]:
    """Write every row of ``table`` from ``source`` into ``target`` in one transaction;
    how many rows, and the seconds writing took (reading them out is not counted)."""
    columns = len(source.execute(f'PRAGMA table_info("{table}")').fetchall())
    insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" * columns)})'  # noqa: S608
    rows = source.execute(f'SELECT * FROM "{table}" ORDER BY rowid')  # noqa: S608
    seconds, written = 0.0, 0
    target.execute("BEGIN")
    while batch := rows.fetchmany(FLOOR_BATCH):
        started = time.perf_counter()
        target.executemany(insert, batch)
        seconds += time.perf_counter() - started
        written += len(batch)
    started = time.perf_counter()
    target.execute("COMMIT")
    return {"rows": written, "seconds": seconds + time.perf_counter() - started}


def _floor(work: Path) -> dict[str, Any]:
    """The least this design costs here: the engine, reading the feeds, writing the index.

    The writes go into a fresh database with the stored one's whole schema (tables,
    indexes, checks, foreign keys on, as Django has them); the other tables' rows are
    copied first, untimed, then each index table's rows are written from ready tuples."""
    import pyarrow.csv as pa_csv

    print("  floor: the engine alone", flush=True)
    engine = _run_worker("onestory", work)
    if "error" in engine:  # a floor without the engine would look cheaper than it is
        raise RuntimeError(f"the engine alone: {engine['error']}")
    feeds = json.loads((work / "feeds.json").read_text())
    started = time.perf_counter()
    for feed in feeds:
        pa_csv.read_csv(feed["path"])
    read_seconds = time.perf_counter() - started
    print("  floor: bare SQLite writes", flush=True)
    scratch = work / "floor.sqlite3"
    scratch.unlink(missing_ok=True)
    source = sqlite3.connect(work / "data" / "onestory.sqlite3")
    target = sqlite3.connect(scratch, isolation_level=None)
    target.execute("PRAGMA cache_size = -131072")  # as the product's bulk writer
    schema = source.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY type <> 'table'"
    ).fetchall()
    for _type, _name, statement in schema:
        target.execute(statement)
    index_tables = [table for table, _what in FLOOR_TABLES]
    for kind, name, _sql in schema:
        if kind == "table" and name not in index_tables:
            _copy_rows(source, target, name)
    target.execute("PRAGMA foreign_keys = ON")
    writes = {table: _copy_rows(source, target, table) for table in index_tables}
    source.close()
    target.close()
    scratch.unlink()
    return {
        "engine_seconds": engine["seconds"],
        "engine_process_seconds": engine["process_seconds"],
        "read_feeds_seconds": read_seconds,
        "writes": writes,
        "seconds": engine["seconds"] + read_seconds + sum(w["seconds"] for w in writes.values()),
    }


def _database_name(database_url: str | None) -> str:
    if not database_url:
        return "SQLite (embedded)"
    from bench.load import _psql

    version = _psql(database_url.rpartition("/")[0] + "/postgres", "SHOW server_version")
    return f"PostgreSQL {version.split()[0]} (on this machine, as its owner)"


def run(
    sizes: list[int], seed: int, keep: Path | None, database_url: str | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "benchmark": "pipeline",
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "database": _database_name(database_url),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "bytecode_compile_seconds": round(_compile_bytecode(), 1),
        "sizes": [],
    }
    for size in sizes:
        # With --keep the work files (feeds, data directory) stay for a look afterwards.
        with contextlib.ExitStack() as stack:
            if keep is None:
                work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            else:
                work = Path(tempfile.mkdtemp(prefix=f"bench-pipeline-{size}-", dir=keep))
            print(f"size {size:,}: generating the city and its feed files", flush=True)
            entry: dict[str, Any] = {"target_records": size, "city": _generate(size, seed, work)}
            print(f"size {size:,}: raw Splink", flush=True)
            anchor = _run_worker("raw_splink", work)
            if "error" not in anchor:
                anchor["scores"] = _score(work, "raw_splink")
            entry["raw_splink"] = anchor
            print(f"size {size:,}: OneStory import and link", flush=True)
            entry["onestory"] = _pipeline(work, database_url)
            if not database_url:
                entry["floor"] = _floor(work)
            if "seconds" in anchor:
                entry["time_vs_raw_splink"] = entry["onestory"]["seconds"] / anchor["seconds"]
                entry["link_time_vs_raw_splink"] = (
                    entry["onestory"]["phases"]["link"]["seconds"] / anchor["seconds"]
                )
            report["sizes"].append(entry)
            _write(report, "pipeline-postgresql" if database_url else "pipeline")
    return report


def _write(report: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    (RESULTS / f"{name}.md").write_text(_markdown(report))


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# End-to-end benchmark: feed files to the stored person index",
        "",
        f"Synthetic city, seed {report['seed']} (never used by the tests), as of "
        f"{report['as_of']}; {report['database']}; {report['machine']['cpus']} CPUs, Python "
        f"{report['machine']['python']}. Every `onestory` command is its own process (as a "
        "partnership runs them); peak memory is the largest of any process in the phase. "
        "Raw Splink (plain configuration, `bench/linkage.py`) reads the same records from a "
        "Parquet file in memory and stores nothing. A child's peak (`ru_maxrss`) counts the "
        "benchmark process's own memory at the moment it started the child (the generated "
        "city: the init row shows it), so the OneStory peaks are upper bounds. Modules are "
        "compiled to bytecode before the run, as an installed deployment has them. The "
        "machine is shared with other work: the 1-minute load average before and after each "
        "pipeline is given, and CPU seconds are less skewed by it than wall seconds.",
        "",
    ]
    for entry in report["sizes"]:
        city = entry["city"]
        ours = entry["onestory"]
        anchor = entry["raw_splink"]
        lines += [
            f"## {city['records']:,} records in {city['feeds']} feed files "
            f"({city['feed_megabytes']} MB)",
            "",
            "| phase | seconds | CPU seconds | peak memory (MB) |",
            "|---|---|---|---|",
        ]
        # In the order they run (the JSON file keeps its keys sorted).
        for name in sorted(ours["phases"], key=["init", "import", "link"].index):
            phase = ours["phases"][name]
            label = f"{name} ({phase['commands']} commands)" if phase["commands"] > 1 else name
            lines.append(
                f"| OneStory {label} | {phase['seconds']:.1f} | {phase['cpu_seconds']:.1f} | "
                f"{phase['peak_rss_mb']:,.0f} |"
            )
        lines.append(
            f"| **OneStory, feed files to index** | **{ours['seconds']:.1f}** | "
            f"{ours['cpu_seconds']:.1f} | {ours['peak_rss_mb']:,.0f} |"
        )
        if "seconds" in anchor:
            lines.append(
                f"| raw Splink, records in memory to clusters | {anchor['seconds']:.1f} | "
                f"{anchor['process_cpu_seconds']:.1f} | {anchor['peak_rss_mb']:,.0f} |"
            )
        s, a = ours["scores"], anchor.get("scores", {})
        lines += [
            "",
            f"Index stored by OneStory: precision {s['precision']:.4f}, recall "
            f"{s['recall']:.4f}, F1 {s['f1']:.4f} (`{ours['link_line']}`); raw Splink F1 "
            f"{a.get('f1', float('nan')):.4f}.",
        ]
        if "load_average_1min" in ours:
            before, after = ours["load_average_1min"]
            lines.append(f"Load average (1 min, 2 CPUs): {before} before, {after} after.")
        if "time_vs_raw_splink" in entry:
            lines.append(
                f"Feed files to stored index took {entry['time_vs_raw_splink']:.2f}× raw "
                f"Splink's time; the link command alone (reading the stored records, linking "
                f"and writing the index) {entry['link_time_vs_raw_splink']:.2f}×. In CPU "
                f"seconds: {ours['cpu_seconds']:.1f} against raw Splink's process "
                f"{anchor['process_cpu_seconds']:.1f} "
                f"({ours['cpu_seconds'] / anchor['process_cpu_seconds']:.2f}×; raw Splink's "
                f"load average {anchor.get('load_average_1min')})."
            )
        if "floor" in entry and "seconds" in anchor:
            lines += _floor_markdown(entry["floor"], anchor["seconds"], ours["seconds"])
        lines.append("")
    return "\n".join(lines)


def _floor_markdown(floor: dict[str, Any], raw_seconds: float, ours: float) -> list[str]:
    goal = 1.5 * raw_seconds
    writes = sum(w["seconds"] for w in floor["writes"].values())
    lines = [
        "",
        "The floor of this design on this machine (see the module's docstring):",
        "",
        "| part | rows | seconds |",
        "|---|---|---|",
        f"| OneStory engine alone, records in memory to clusters | | "
        f"{floor['engine_seconds']:.1f} |",
        f"| pyarrow reading the feed files into columns | | {floor['read_feeds_seconds']:.1f} |",
    ]
    what = dict(FLOOR_TABLES)
    for table, write in floor["writes"].items():
        lines.append(
            f"| bare SQLite writing `{table}`: {what.get(table, table)} | "
            f"{write['rows']:,} | {write['seconds']:.1f} |"
        )
    lines += [
        f"| **floor** | | **{floor['seconds']:.1f}** |",
        "",
        f"The goal (1.5× raw Splink) is {goal:.1f} s. The floor is "
        f"{floor['seconds'] / raw_seconds:.2f}× raw Splink, and its writes alone "
        f"{writes / raw_seconds:.2f}×; OneStory, feed files to index, takes "
        f"{ours / floor['seconds']:.2f}× the floor.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", type=Path, default=None, help="keep the work files under here")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ONESTORY_PIPELINE_DATABASE_URL", ""),
        help="run on this PostgreSQL database (dropped and created afresh for each size; "
        "results in pipeline-postgresql.*) instead of the embedded SQLite",
    )
    parser.add_argument("--render", action="store_true", help="rewrite the .md files only")
    args, _unknown = parser.parse_known_args(argv)
    if args.render:
        for name in ("pipeline", "pipeline-postgresql"):
            if (RESULTS / f"{name}.json").exists():
                report = json.loads((RESULTS / f"{name}.json").read_text())
                (RESULTS / f"{name}.md").write_text(_markdown(report))
        return 0
    run(args.sizes, args.seed, args.keep, args.database_url or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
