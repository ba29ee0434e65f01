"""The ``onestory`` command as cli.md specifies it, run as a real subprocess."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from onestory.access.roles import Role

CLI = [sys.executable, "-m", "onestory.cli"]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ONESTORY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.mark.parametrize(
    "verb",
    [[], ["init"], ["demo"], ["serve"], ["audit"], ["audit", "verify"], ["export"],
     ["export", "evaluator"], ["export", "board-report"]],
)  # fmt: skip
def test_every_verb_has_help(verb: list[str], tmp_path: Path) -> None:
    result = run([*verb, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_init_is_idempotent(tmp_path: Path) -> None:
    first = run(["init"], tmp_path)
    assert first.returncode == 0, first.stderr
    second = run(["init"], tmp_path)
    assert second.returncode == 0, second.stderr
    verify = run(["audit", "verify"], tmp_path)
    assert verify.stdout.strip().splitlines()[-1] == "ok events=2"


def test_demo_builds_a_city_with_users_of_every_role(tmp_path: Path) -> None:
    result = run(["demo", "--persons", "80", "--seed", "7", "--no-serve"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    with (tmp_path / "demo-logins.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["username", "password", "organisation", "role", "totp_secret"]
    assert {r["role"] for r in rows} == {r.value for r in Role}
    orgs_with_users = {r["organisation"] for r in rows}
    assert len(orgs_with_users) >= 3
    for row in rows:
        assert len(row["totp_secret"]) == 32 and row["password"]
        assert row["username"] in result.stdout  # printed as well as written
    # Navigators have caseloads with contact histories, plans and closures.
    casework = re.search(
        r"Casework: (\d+) allocations, (\d+) contacts, (\d+) goals, (\d+) closures",
        result.stdout,
    )
    assert casework is not None, result.stdout[-2000:]
    allocations, contacts, goals, closures = map(int, casework.groups())
    assert allocations >= 3 and contacts >= 10 * allocations and goals >= allocations
    assert closures >= 1
    # Information governance has requests in each state and records past retention.
    governance = re.search(
        r"Information requests: (\d+) subject access, (\d+) correction; (\d+) records due",
        result.stdout,
    )
    assert governance is not None, result.stdout[-2000:]
    assert tuple(map(int, governance.groups())) == (3, 1, 2)
    # Measures over time, so every outcome chart has a story (issue 8): the default city's
    # NDTAs go back nearly two years; even this small one's more than a year.
    import sqlite3

    db = sqlite3.connect(tmp_path / "onestory.sqlite3")
    spans = dict(
        db.execute(
            "select i.code, julianday(max(c.completed_on)) - julianday(min(c.completed_on)) "
            "from measures_completion c join measures_instrument i on i.id = c.instrument_id "
            "group by i.code"
        ).fetchall()
    )
    assert spans["ndta"] >= 400 and spans["ons4"] >= 400 and spans["experience"] >= 300, spans
    staff_span = db.execute(
        "select julianday(max(answered_on)) - julianday(min(answered_on)) "
        "from measures_staffresponse"
    ).fetchone()[0]
    assert staff_span >= 630  # eight quarters
    chosen: set[str] = set()
    for column in ("sex", "gender_same_as_birth", "ethnicity", "disabled",
                   "sexual_orientation", "religion"):  # fmt: skip
        answers = {a for (a,) in db.execute(f"select distinct {column} from measures_equality")}  # noqa: S608
        assert answers - {"", "prefer_not"}, column  # every question answered by someone
        chosen |= answers
    assert "prefer_not" in chosen
    periods = db.execute("select count(distinct period) from measures_indicatorvalue").fetchone()
    assert periods[0] >= 6
    told = db.execute(
        "select count(*) from people_timelineevent where source = 'recorded' "
        "and event_type in ('attendance', 'arrest')"
    ).fetchone()
    assert told[0] >= allocations  # service use before and after support began
    verify = run(["audit", "verify"], tmp_path)
    assert verify.returncode == 0 and verify.stdout.startswith("ok events=")


def test_export_cohort_matches_the_truth_given_the_index(initialised: Path) -> None:
    """Feeds in through `import`, `link`, then `export cohort` as cli.md specifies: one row
    per person, and the cohort agrees with the generator's true cohort through the links."""
    from datetime import date

    from onestory_engine.synthetic import generate_city, true_cohort, write_feeds

    as_of = date(2025, 6, 30)
    city = generate_city(300, seed=5151, as_of=as_of)
    for f in write_feeds(city, initialised / "feeds"):
        result = run(
            ["import", f.kind, str(f.path), "--source", f.source, "--organisation",
             f.organisation_name],
            initialised,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
    assert run(["link"], initialised).returncode == 0
    links_csv, cohort_csv = initialised / "links.csv", initialised / "cohort.csv"
    assert run(["export", "links", str(links_csv)], initialised).returncode == 0
    result = run(
        ["export", "cohort", str(cohort_csv), "--as-of", "2025-06-30", "--months", "12",
         "--min-domains", "3"],
        initialised,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    with cohort_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["person_id", "domains", "n_domains", "smd", "ed_attendances"]
    for row in rows:
        tokens = row["domains"].split(";") if row["domains"] else []
        assert tokens == sorted(tokens) and int(row["n_domains"]) == len(tokens)
        assert row["smd"] in {"0", "1"}
    # Each person stands for the true person most of their records belong to.
    truth_of: dict[str, dict[str, int]] = {}
    with links_csv.open() as fh:
        for link in csv.DictReader(fh):
            key = city.truth[(link["source_name"], link["source_record_id"])]
            counts = truth_of.setdefault(link["person_id"], {})
            counts[key] = counts.get(key, 0) + 1
    ours = {
        max(truth_of[r["person_id"]].items(), key=lambda kv: kv[1])[0]
        for r in rows
        if r["smd"] == "1" and r["person_id"] in truth_of
    }
    truth = true_cohort(city, as_of=as_of)
    tp = len(ours & truth)
    precision, recall = tp / len(ours), tp / len(truth)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, len(truth))
    bad = run(["export", "cohort", str(cohort_csv), "--as-of", "30/06/2025"], initialised)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_export_evaluator_is_pseudonymised_audited_and_refuses_unknown_fields(
    initialised: Path,
) -> None:
    """`export evaluator` through the same service as the web page: one row per person in
    one-to-one support, a keyed hash for each, only the fields asked for, and one audit
    event naming every person, with the CLI's system actor."""
    import json
    import sqlite3

    from onestory.measures.evaluation import FIELDS

    assert (
        run(["demo", "--persons", "80", "--seed", "7", "--no-serve"], initialised).returncode == 0
    )
    db = sqlite3.connect(initialised / "onestory.sqlite3")
    in_support = {p for (p,) in db.execute("select person_id from casework_allocation "
                                           "where kind = 'lead'")}  # fmt: skip
    names = [g for (g,) in db.execute("select given_name from people_person")]
    out = initialised / "outcomes.csv"
    result = run(
        ["export", "evaluator", str(out), "--fields", "age_band,sex,ndta_first,ndta_latest"],
        initialised,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {len(in_support)} people's outcome records" in result.stderr
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["pseudonym", "age_band", "sex", "ndta_first", "ndta_latest"]
    assert len(rows) == len(in_support) >= 3
    assert len({r["pseudonym"] for r in rows}) == len(rows)
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["pseudonym"]) for r in rows)
    assert sum(bool(r["ndta_first"]) for r in rows) > len(rows) / 2  # demo NDTAs
    text = out.read_text()
    assert not any(re.search(rf"\b{re.escape(n)}\b", text) for n in names if len(n) > 3)
    action, actor, persons, detail = db.execute(
        "select action, system_actor, person_ids, detail from audit_auditevent "
        "order by seq desc limit 1"
    ).fetchone()
    assert "export.evaluation" in action and actor.startswith("onestory-cli export evaluator")
    assert set(json.loads(persons)) == in_support
    assert json.loads(detail)["fields"] == ["age_band", "sex", "ndta_first", "ndta_latest"]
    # Every field by default; as of a day before anyone's support, nobody.
    assert run(["export", "evaluator", str(out)], initialised).returncode == 0
    assert out.read_text().splitlines()[0] == ",".join(["pseudonym", *FIELDS])
    assert (
        run(["export", "evaluator", str(out), "--as-of", "2000-01-01"], initialised).returncode == 0
    )
    assert out.read_text().splitlines() == [",".join(["pseudonym", *FIELDS])]
    # An unknown field or a bad date: exit 2 with a clear reason, nothing written or read.
    events = db.execute("select count(*) from audit_auditevent").fetchone()[0]
    bad = run(["export", "evaluator", str(initialised / "x.csv"), "--fields", "sex,shoe_size"],
              initialised)  # fmt: skip
    assert bad.returncode == 2 and "unknown field 'shoe_size'" in bad.stderr
    assert "age_band" in bad.stderr and not (initialised / "x.csv").exists()
    late = run(["export", "evaluator", str(out), "--as-of", "1/1/2026"], initialised)
    assert late.returncode == 2 and "YYYY-MM-DD" in late.stderr
    assert db.execute("select count(*) from audit_auditevent").fetchone()[0] == events
    verify = run(["audit", "verify"], initialised)
    assert verify.returncode == 0, verify.stdout
    # The help names every field the export has.
    shown = run(["export", "evaluator", "--help"], initialised).stdout
    compact = "".join(shown.replace("│", "").split())  # rich wraps the list in a box
    assert all(f"{f}," in compact or f"{f}." in compact for f in FIELDS)
