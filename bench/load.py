"""Load test: the production server on PostgreSQL with 100,000 people and 5,000,000 events.

    python -m bench.load [--load-people 100000] [--load-events 5000000] [--duration 30]

The database is built once and reused (``--rebuild`` starts again): ``onestory demo`` gives
the organisations, users, caseloads and a small city; then the insight benchmark's
population generator (``bench.insight.generate``) tops it up to the target with people and
timeline events, written with PostgreSQL's ``COPY``, and one service-episode relationship
for each new person. gunicorn (``gunicorn.conf.py``, production settings behind a declared
TLS proxy) serves it on loopback, and Debian's ``wrk`` drives it at 50 connections for each
page: a navigator's person page (rotating through their caseload), the navigator's
caseload, and a static asset of the same server as the anchor. Each request carries one of
50 signed-in sessions, as 50 people would be.
Results: ``bench/results/load.json`` and ``bench/results/load.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).parent.parent
RESULTS: Final = Path(__file__).parent / "results"
SEED: Final = 50_505
DEMO_PERSONS: Final = 2_000
NAVIGATOR: Final = "nav.amira"
GOAL_P95_MS: Final = 200.0
SESSIONS: Final = 50
DEFAULT_URL: Final = "postgres://postgres@127.0.0.1:5432/onestory_load"

# wrk: each request takes the next session cookie and the next path; done() prints the
# percentiles and error counts as one JSON line.
LUA: Final = """
local cookies = {%(cookies)s}
local paths = {%(paths)s}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  headers["Cookie"] = "sessionid=" .. cookies[(n %% #cookies) + 1]
  headers["X-Forwarded-Proto"] = "https"
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%.3f, "p50": %%d, "p95": %%d, "p99": %%d, "max": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

SESSIONS_SCRIPT: Final = """
import json, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from onestory.access.middleware import SESSION_MEMBERSHIP
from onestory.access.models import Membership
from onestory.people.models import Relationship

membership = Membership.objects.select_related("user").get(user__username=sys.argv[1])
user = membership.user
cookies = []
for _ in range(int(sys.argv[2])):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_MEMBERSHIP] = membership.pk
    store.create()
    cookies.append(store.session_key)
people = sorted(set(Relationship.objects.filter(
    worker=user, kind="caseload", ended_on__isnull=True).values_list("person_id", flat=True)))
print(json.dumps({"cookies": cookies, "people": people}))
"""


class Unavailable(RuntimeError):
    """Something the load test needs (wrk, PostgreSQL) is not there."""


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONESTORY_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        ONESTORY_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(ROOT / "src") + os.pathsep + str(ROOT),
    )
    return env


def _production_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = _env(database_url, data_dir)
    env.update(
        ONESTORY_PRODUCTION="1",
        ONESTORY_SECRET_KEY=secrets.token_urlsafe(64),
        # Fixed per data directory, so the audit chain written under load still verifies.
        ONESTORY_AUDIT_KEY=_audit_key(data_dir),
        ONESTORY_ALLOWED_HOSTS="127.0.0.1",
        ONESTORY_BEHIND_PROXY="1",
        ONESTORY_ACCESS_LOG=str(data_dir / "access.log"),
        ONESTORY_ERROR_LOG=str(data_dir / "error.log"),
    )
    return env


def _audit_key(data_dir: Path) -> str:
    path = data_dir / "audit-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _server_role(database_url: str) -> str:
    """Who the server logs in as, and whether row-level security binds that role."""
    name = _psql(database_url, "SELECT current_user")
    bound = _psql(
        database_url,
        "SELECT NOT (rolsuper OR rolbypassrls) FROM pg_roles WHERE rolname = current_user",
    )
    if bound == "True":
        return f"{name} (row-level security binds it)"
    return f"{name} (it bypasses row-level security)"


def _psql(database_url: str, sql: str) -> str:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.execute(sql.encode())
        rows = cur.fetchall() if cur.description else []
    return "\n".join("|".join(str(v) for v in row) for row in rows)


def _counts(database_url: str) -> tuple[int, int]:
    import psycopg

    try:
        with psycopg.connect(database_url) as conn:
            people = conn.execute("SELECT count(*) FROM people_person").fetchone()
            events = conn.execute("SELECT count(*) FROM people_timelineevent").fetchone()
    except psycopg.Error:
        return 0, 0
    return (people[0] if people else 0), (events[0] if events else 0)


def _recreate(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def build(database_url: str, data_dir: Path, people: int, events: int) -> dict[str, Any]:
    """Build the load database (or reuse it when it already has the people and events)."""
    have_people, have_events = _counts(database_url)
    if have_people >= people and have_events >= events * 0.99:
        return {"reused": True, "people": have_people, "events": have_events}
    started = time.perf_counter()
    _recreate(database_url)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _env(database_url, data_dir)
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "onestory.cli", "demo", "--persons", str(DEMO_PERSONS),
         "--no-serve"],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    demo_seconds = time.perf_counter() - started
    have_people, have_events = _counts(database_url)
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        _top_up(database_url, Path(tmp), people, events - have_events, have_people)
    have_people, have_events = _counts(database_url)
    return {
        "reused": False,
        "people": have_people,
        "events": have_events,
        "demo_seconds": round(demo_seconds, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def _top_up(database_url: str, work: Path, people: int, events: int, existing: int) -> None:
    """Generate ``people`` people's events (the first ``existing`` of them are the demo's
    people, who get more events; the rest are new) and COPY them in."""
    import duckdb
    import psycopg

    from bench.insight import generate
    from onestory_engine import feeds
    from onestory_engine.synthetic import SOURCES

    generate(people, events, SEED, work)
    with psycopg.connect(database_url) as conn:
        orgs: dict[str, int] = dict(
            conn.execute("SELECT name, id FROM access_organisation").fetchall()
        )
        demo_ids = [r[0] for r in conn.execute("SELECT id FROM people_person ORDER BY id")]
        first_new = int(conn.execute("SELECT max(id) FROM people_person").fetchone()[0]) + 1  # type: ignore[index]
    org_of_kind = {s.kind: orgs[s.organisation_name] for s in SOURCES if s.kind != "register"}
    con = duckdb.connect()
    con.execute(f"CREATE TABLE events AS SELECT * FROM '{work / 'events.parquet'}'")  # noqa: S608
    combos = con.execute("SELECT DISTINCT kind, event_type, role FROM events").fetchall()
    con.execute(
        "CREATE TABLE category_of (kind VARCHAR, event_type VARCHAR, role VARCHAR, "
        "category VARCHAR, organisation_id BIGINT)"
    )
    con.executemany(
        "INSERT INTO category_of VALUES (?, ?, ?, ?, ?)",
        [(k, t, r, feeds.event_category(k, t, r), org_of_kind[k]) for k, t, r in combos],
    )
    con.execute(
        "CREATE TABLE id_map AS SELECT unnest(?::BIGINT[]) AS demo_id, "
        "unnest(range(1, ? + 1)) AS n",
        [demo_ids, len(demo_ids)],
    )
    # Generated person n is the n-th demo person while there are demo people, then new.
    con.execute(
        f"""
        COPY (
            SELECT coalesce(m.demo_id, {first_new} - {len(demo_ids)} - 1 + e.person_id)
                       AS person_id,
                   c.organisation_id, c.category, e.event_type, e.event_date AS occurred_on,
                   '' AS summary, false AS sealed, 'load_bench' AS source,
                   TIMESTAMPTZ '2025-07-01 00:00:00+00' AS created_at
            FROM events e
            JOIN category_of c ON c.kind = e.kind AND c.event_type = e.event_type
                 AND c.role IS NOT DISTINCT FROM e.role
            LEFT JOIN (SELECT demo_id, n FROM id_map) m ON m.n = e.person_id
        ) TO '{work / "events.csv"}' (HEADER false)
        """  # noqa: S608 - numbers and our own paths
    )
    con.execute(
        f"""
        COPY (
            SELECT {first_new} - {len(demo_ids)} - 1 + person_id AS id,
                   ['Ash', 'Bo', 'Cal', 'Dee', 'Eli', 'Fen', 'Gil', 'Hal'][1 + person_id % 8]
                       AS given_name,
                   'Loadtest' || (person_id % 997) AS family_name,
                   date_of_birth
            FROM '{work / "persons.parquet"}'
            WHERE person_id > {len(demo_ids)}
        ) TO '{work / "persons.csv"}' (HEADER false)
        """  # noqa: S608 - numbers and our own paths
    )
    con.close()
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        person_cols = "id, given_name, family_name, date_of_birth"
        defaults = (
            "middle_names, preferred_name, sex, nhs_number, pnc_id, address_line, postcode, "
            "no_fixed_abode, phone, email, restricted_location, version, created_at, updated_at"
        )
        cur.execute(
            "CREATE TEMP TABLE new_people (id BIGINT, given_name TEXT, family_name TEXT, "
            "date_of_birth DATE)"
        )
        _copy(cur, f"COPY new_people ({person_cols}) FROM STDIN WITH (FORMAT csv)",
              work / "persons.csv")  # fmt: skip
        cur.execute(
            f"INSERT INTO people_person ({person_cols}, {defaults}) "  # noqa: S608
            f"SELECT {person_cols}, '', '', 'U', '', '', '', '', false, '', '', false, 1, "
            "now(), now() FROM new_people"
        )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('people_person', 'id'), "
            "(SELECT max(id) FROM people_person))"
        )
        _copy(
            cur,
            "COPY people_timelineevent (person_id, organisation_id, category, event_type, "
            "occurred_on, summary, sealed, source, created_at) FROM STDIN WITH (FORMAT csv)",
            work / "events.csv",
        )
        # Each new person is known to the organisation of their latest event.
        cur.execute(
            "INSERT INTO people_relationship (person_id, organisation_id, kind, "  # noqa: S608
            "role_description, how_to_reach, started_on, claim_reason, created_at) "
            "SELECT DISTINCT ON (person_id) person_id, organisation_id, 'service_episode', "
            "'', '', occurred_on, '', now() FROM people_timelineevent "
            f"WHERE person_id >= {first_new} ORDER BY person_id, occurred_on DESC"
        )
        conn.commit()
    _psql(database_url, "VACUUM ANALYZE")


def _copy(cur: Any, statement: str, path: Path) -> None:
    with cur.copy(statement) as copy, path.open("rb") as f:
        while block := f.read(1 << 20):
            copy.write(block)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn was not ready in time")


def _wrk(port: int, paths: list[str], cookies: list[str], connections: int, seconds: int,
         work: Path) -> dict[str, Any]:  # fmt: skip
    script = work / "load.lua"
    script.write_text(
        LUA
        % {
            "cookies": ", ".join(json.dumps(c) for c in cookies),
            "paths": ", ".join(json.dumps(p) for p in paths),
        }
    )
    threads = min(2, connections)
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
         "--timeout", "10s",
         "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("{"))
    raw = json.loads(line)
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / raw["seconds"], 1),
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "max_ms": raw["max"] / 1000,
        "errors": errors,
        "error_detail": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (the gunicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, IndexError, ValueError):
            continue
        pending += [int(c) for c in children]
    return total


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise Unavailable("wrk is missing: apt-get install -y wrk (make bench installs it)")
    data_dir = args.work.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    load_before = round(os.getloadavg()[0], 2)
    if args.rebuild:
        _recreate(args.database_url)
    built = build(args.database_url, data_dir, args.load_people, args.load_events)
    # A reused database gets the migrations made since it was built.
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v0"],
        env=_env(args.database_url, data_dir), cwd=ROOT, check=True,
    )  # fmt: skip
    env = _production_env(args.database_url, data_dir)
    # The server may log in as another role: one row-level security binds, as in production.
    serve_env = {**env, "DATABASE_URL": args.serve_database_url or args.database_url}
    for name in ("access.log", "error.log"):
        (data_dir / name).unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"], env=env, check=True
    )
    made = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", SESSIONS_SCRIPT, NAVIGATOR, str(SESSIONS)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    sessions = json.loads(made.stdout)
    people = sessions["people"]
    if not people:
        raise Unavailable(f"{NAVIGATOR} has nobody on their caseload")
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers)],
        env=serve_env, cwd=ROOT,
    )  # fmt: skip
    pages = {
        "static asset (anchor)": ["/static/govuk/govuk-frontend.min.css"],
        "person page": [f"/people/{pid}/" for pid in people],
        "caseload": ["/caseload/"],
    }
    results: dict[str, Any] = {}
    try:
        _wait_ready(port, server)
        for name, paths in pages.items():
            # A short warm-up, so each worker has its connection and templates.
            _wrk(port, paths, sessions["cookies"], args.connections, 3, data_dir)
            # One connection first: the time a request takes with no queue in front of it.
            single = _wrk(port, paths, sessions["cookies"], 1, 10, data_dir)
            cpu_before = _cpu_seconds(server.pid)
            results[name] = _wrk(
                port, paths, sessions["cookies"], args.connections, args.duration, data_dir
            )
            cpu = _cpu_seconds(server.pid) - cpu_before
            results[name]["single_connection_p50_ms"] = single["p50_ms"]
            results[name]["single_connection_p95_ms"] = single["p95_ms"]
            # Workers recycled during the run take their CPU time with them (the static
            # asset's tens of thousands of requests do that), so a negative total is unknown.
            results[name]["web_cpu_ms_per_request"] = (
                round(1000 * cpu / max(1, results[name]["requests"]), 1) if cpu > 0 else None
            )
            results[name]["load_average_1min"] = round(os.getloadavg()[0], 2)
            if paths != pages["static asset (anchor)"] and args.sweep:
                # Sizing: the most requests in flight at once that still meet the goal.
                results[name]["sweep"] = {
                    str(n): _wrk(port, paths, sessions["cookies"], n, args.sweep_seconds, data_dir)
                    for n in args.sweep
                }
            print(name, results[name], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    timeline = _psql(
        args.database_url,
        "SELECT count(*) FROM people_timelineevent WHERE person_id IN ("  # noqa: S608 - ints
        + ",".join(str(int(p)) for p in people)
        + ")",
    )
    return {
        "database": built,
        "pages": results,
        "caseload_people": len(people),
        "caseload_events": int(timeline),
        "connections": args.connections,
        "duration_seconds": args.duration,
        "web_workers": args.web_workers,
        "sweep_seconds": args.sweep_seconds,
        "web_threads": 4,
        "server_role": _server_role(args.serve_database_url or args.database_url),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": _psql(args.database_url, "SHOW server_version"),
            "load_average_1min_before": load_before,
            "load_average_1min_after": round(os.getloadavg()[0], 2),
        },
    }


def _markdown(report: dict[str, Any]) -> str:
    db = report["database"]
    m = report["machine"]
    lines = [
        "# Load test: gunicorn on PostgreSQL",
        "",
        f"Written by `python -m bench.load`. {db['people']:,} people and {db['events']:,} "
        f"timeline events on PostgreSQL {m['postgres']}; gunicorn (`gunicorn.conf.py`, "
        f"production settings) with {report['web_workers']} workers × "
        f"{report['web_threads']} threads on loopback, logged in to PostgreSQL as "
        f"{report.get('server_role', 'the build role')}; `wrk` at "
        f"{report['connections']} connections for {report['duration_seconds']} s per page "
        f"after a 3 s warm-up, every request signed in as a navigator (one of {SESSIONS} "
        f"sessions, whose idle timeout is renewed once a minute as in production). The "
        f"person page rotates "
        f"through the navigator's {report['caseload_people']} caseload people "
        f"({report['caseload_events']:,} timeline events between them).",
        "",
        f"**Load conditions:** {m['cpus']} CPUs shared by the server, PostgreSQL, `wrk` and "
        "whatever else the machine was running; 1-minute load average "
        f"{m['load_average_1min_before']} before the run and {m['load_average_1min_after']} "
        "after (the column below gives it after each page). Latencies are therefore upper "
        "bounds for a dedicated server.",
        "",
        "| page | requests/s | p50 ms | p95 ms | p99 ms | errors | 1 connection: p50 / p95 "
        "ms | web CPU ms per request | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["pages"].items():
        lines.append(
            f"| {name} | {r['requests_per_second']:,.1f} | {r['p50_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | "
            f"{r.get('single_connection_p50_ms', float('nan')):.1f} / "
            f"{r.get('single_connection_p95_ms', float('nan')):.1f} | "
            f"{r.get('web_cpu_ms_per_request') or '–'} | {r['load_average_1min']} |"
        )
    swept = {name: r["sweep"] for name, r in report["pages"].items() if r.get("sweep")}
    if swept:
        counts = sorted({int(n) for sweep in swept.values() for n in sweep})
        lines += [
            "",
            f"**Fewer connections at once** ({report.get('sweep_seconds', 10)} s each; "
            "requests/s, p95 ms and errors):",
            "",
            "| page | "
            + " | ".join(f"{n} connections" for n in counts)
            + " | most connections with p95 under the goal |",
            "|---|" + "---:|" * (len(counts) + 1),
        ]
        for name, sweep in swept.items():
            cells = []
            best = 0
            for n in counts:
                r = sweep.get(str(n))
                if r is None:
                    cells.append("–")
                    continue
                cells.append(f"{r['requests_per_second']:,.1f} / {r['p95_ms']:.0f} / {r['errors']}")
                if r["p95_ms"] < GOAL_P95_MS and r["errors"] == 0:
                    best = max(best, n)
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {best or 'none measured'} |")
    met = all(r["p95_ms"] < GOAL_P95_MS and r["errors"] == 0 for r in report["pages"].values())
    lines += [
        "",
        f"Goal: p95 under {GOAL_P95_MS:.0f} ms and no errors on every page: "
        f"**{'met' if met else 'not met'}**.",
        "",
    ]
    if report.get("notes"):
        lines += [report["notes"], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--load-people", type=int, default=100_000)
    parser.add_argument("--load-events", type=int, default=5_000_000)
    parser.add_argument("--database-url", default=os.environ.get("ONESTORY_LOAD_DATABASE_URL",
                                                                 DEFAULT_URL))  # fmt: skip
    parser.add_argument(
        "--serve-database-url",
        default=os.environ.get("ONESTORY_LOAD_SERVE_DATABASE_URL", ""),
        help="the server's own login (default: --database-url), e.g. a role row-level "
        "security binds",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-load")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--sweep", type=int, nargs="*", default=[2, 4, 8, 16],
        help="connection counts measured as well, to find the most that meet the goal",
    )  # fmt: skip
    parser.add_argument("--sweep-seconds", type=int, default=10)
    parser.add_argument("--render", action="store_true", help="rewrite load.md only")
    args, _unknown = parser.parse_known_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.render:
        report = json.loads((RESULTS / "load.json").read_text())
    else:
        import psycopg

        try:
            report = run(args)
        except (Unavailable, psycopg.OperationalError) as exc:
            # `python -m bench` runs every benchmark: say why this one did not run, go on.
            print(f"bench.load did not run: {exc}", file=sys.stderr)
            return 1
        previous = RESULTS / "load.json"
        if previous.exists():
            report.setdefault("notes", json.loads(previous.read_text()).get("notes", ""))
        previous.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    (RESULTS / "load.md").write_text(_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
