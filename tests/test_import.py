"""Importing partner feeds: every case of feeds.md's "Bad input", idempotence, updates,
encodings and xlsx, and kill-at-random-then-re-run."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from onestory.audit.models import AuditEvent
from onestory.audit.services import Actor
from onestory.intake.models import ImportRun, QuarantinedRow, Source, SourceRecord
from onestory.intake.services import feed_import
from onestory_engine.intake import FeedRefused

ACTOR = Actor(system="test import")
HEADER = [
    "source_record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "postcode",
    "event_date",
    "event_type",
    "arrival_mode",
]
ROWS = [
    [
        "A1",
        "Alice",
        "Marsh",
        "1984-03-09",
        "943 476 5919",
        "ng7 6gr",
        "2026-10-01",
        "attendance",
        "ambulance",
    ],
    ["A2", "Bob", "Hart", "01/01/1979", "", "NFA", "02/10/2026", "attendance", "walk_in"],
    [
        "A3",
        "Zoë",
        "Brontë",
        "1990-12-31",
        "1234567890",
        "",
        "2026-10-03T14:22:00",
        "attendance",
        "",
    ],
]


def write_csv(
    path: Path, rows: list[list[str]], header: list[str] = HEADER, *, encoding: str = "utf-8"
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def do_import(path: Path, kind: str = "ed", source: str = "city_ed") -> Any:
    return feed_import(
        actor=ACTOR, kind=kind, path=path, source_name=source, organisation_name="City Hospital"
    )


@pytest.mark.django_db
def test_a_good_file_is_stored_with_raw_and_standardised_values(tmp_path: Path) -> None:
    result = do_import(write_csv(tmp_path / "ed.csv", ROWS))
    assert result.summary == "accepted=3 updated=0 unchanged=0 quarantined=0"
    alice = SourceRecord.objects.get(source_record_id="A1")
    assert alice.raw["nhs_number"] == "943 476 5919" and alice.nhs_number == "9434765919"
    assert alice.postcode == "NG7 6GR" and alice.raw["arrival_mode"] == "ambulance"
    bob = SourceRecord.objects.get(source_record_id="A2")
    assert bob.no_fixed_abode and bob.postcode == "" and bob.dob_placeholder
    zoe = SourceRecord.objects.get(source_record_id="A3")
    assert zoe.given_name == "Zoë" and zoe.nhs_number == "" and zoe.nhs_number_invalid
    assert zoe.raw["nhs_number"] == "1234567890"  # kept raw, flagged, not used
    assert Source.objects.get(name="city_ed").organisation.name == "City Hospital"
    assert AuditEvent.objects.filter(action="feed.import").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    do_import(write_csv(tmp_path / "ed.csv", ROWS, encoding=encoding))
    assert SourceRecord.objects.get(source_record_id="A3").family_name == "Brontë"


@pytest.mark.django_db
def test_xlsx_first_sheet_and_case_insensitive_columns(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([h.upper() if i % 2 else h.title() for i, h in enumerate([*HEADER, "Ward"])])
    for row in ROWS:
        sheet.append([*row, "Ward 7"])
    book.create_sheet("Ignored").append(["nothing", "here"])
    book.save(tmp_path / "ed.xlsx")
    result = do_import(tmp_path / "ed.xlsx")
    assert result.run.accepted == 3
    assert SourceRecord.objects.get(source_record_id="A1").raw["ward"] == "Ward 7"  # extra kept


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "kind", "reason"),
    [
        (b"\x00\x01\x02\x03binary rubbish", "ed", "not a CSV or .xlsx"),
        (b"", "ed", "is empty"),
        (
            b"given_name,family_name,event_date,event_type\nA,B,2026-01-01,attendance\n",
            "ed",
            "no source_record_id column",
        ),
        (
            b"source_record_id,event_date,event_type,postcode\n1,2026-01-01,attendance,NG1\n",
            "ed",
            "no identity columns",
        ),
        (b"source_record_id,given_name\n1,A\n", "hospital", "unknown feed kind 'hospital'"),
        (
            b"source_record_id,given_name\n1,A\n",
            "ed",
            "need the column\\(s\\) event_date, event_type",
        ),
        (b"PK\x03\x04 not really a workbook", "ed", "cannot be opened as an .xlsx"),
    ],
)
def test_unusable_files_are_refused_whole(
    tmp_path: Path, content: bytes, kind: str, reason: str
) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(content)
    with pytest.raises(FeedRefused, match=reason):
        do_import(path, kind=kind)
    assert SourceRecord.objects.count() == ImportRun.objects.count() == Source.objects.count() == 0


@pytest.mark.django_db
def test_bad_rows_are_quarantined_with_row_number_and_reason(tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        ["A2", "Bob", "Hart", "31/02/1979", "", "", "2026-10-02", "attendance", ""],
        ["A3", "Cat", "Lee", "1990-01-05", "", "", "2026-10-02", "admission", ""],
        ["", "Dan", "Moss", "1990-01-05", "", "", "2026-10-02", "attendance", ""],
        ["A1", "Alice", "Marsh", "1984-03-09", "", "", "2026-10-05", "attendance", ""],
        ["A6", "Eve", "Noon", "", "", "", "yesterday", "attendance", ""],
        ["A7", "", "", "", "", "NG1 1AA", "2026-10-02", "attendance", ""],
        ["A8", "Fay", "Orr", "1970-02-02", "", "", "", "attendance", ""],
        ["A9", "Gus", "Pike", "1970-02-02", "", "", "2026-10-02", "attendance", "helicopter"],
    ]
    result = do_import(write_csv(tmp_path / "ed.csv", rows))
    assert result.summary == "accepted=2 updated=0 unchanged=0 quarantined=7"
    reasons = {q.row_number: q.reason for q in QuarantinedRow.objects.all()}
    assert "date_of_birth '31/02/1979' is not a date" in reasons[3]
    assert "event_type 'admission' is not used in ed feeds" in reasons[4]
    assert reasons[5] == "missing source_record_id"
    assert "duplicate source_record_id 'A1' (first seen in row 2" in reasons[6]
    assert "event_date 'yesterday' is not a date" in reasons[7]
    assert reasons[8].startswith("no identity")
    assert reasons[9] == "missing event_date"
    # An unknown arrival mode is kept with a warning, not quarantined.
    assert SourceRecord.objects.get(source_record_id="A9").raw["arrival_mode"] == "helicopter"
    # The first A1 was kept.
    first = SourceRecord.objects.get(source_record_id="A1").event_date
    assert first is not None and first.isoformat() == "2026-10-01"
    assert QuarantinedRow.objects.get(row_number=5).raw["given_name"] == "Dan"


def _snapshot() -> list[tuple[Any, ...]]:
    return sorted(
        SourceRecord.objects.values_list(
            "source__name",
            "source_record_id",
            "row_hash",
            "given_name",
            "date_of_birth",
            "nhs_number",
        )
    )


@pytest.mark.django_db
def test_the_same_file_twice_changes_nothing(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "ed.csv", [*ROWS, ["A2", "dup", "x", "", "", "", "2026-01-01", "attendance", ""]]
    )
    first = do_import(path)
    before = _snapshot()
    second = do_import(path)
    assert first.summary == "accepted=3 updated=0 unchanged=0 quarantined=1"
    assert second.summary == "accepted=0 updated=0 unchanged=3 quarantined=1"
    assert _snapshot() == before


@pytest.mark.django_db
def test_a_later_file_updates_by_source_record_id(tmp_path: Path) -> None:
    do_import(write_csv(tmp_path / "ed1.csv", ROWS))
    changed = [
        ROWS[0],
        [
            "A2",
            "Robert",
            "Hart",
            "01/01/1979",
            "",
            "NG1 1AA",
            "02/10/2026",
            "attendance",
            "walk_in",
        ],
        ["A4", "New", "Person", "2000-01-01", "", "", "2026-10-09", "attendance", ""],
    ]
    result = do_import(write_csv(tmp_path / "ed2.csv", changed))
    assert result.summary == "accepted=1 updated=1 unchanged=1 quarantined=0"
    bob = SourceRecord.objects.get(source_record_id="A2")
    assert bob.given_name == "Robert" and bob.postcode == "NG1 1AA" and not bob.no_fixed_abode
    assert SourceRecord.objects.count() == 4


@pytest.mark.django_db
def test_ids_are_unique_within_a_source_only(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ed.csv", ROWS)
    do_import(path, source="north_ed")
    result = do_import(path, source="south_ed")
    assert result.run.accepted == 3 and SourceRecord.objects.count() == 6


@pytest.mark.django_db
def test_a_source_keeps_its_kind(tmp_path: Path) -> None:
    do_import(write_csv(tmp_path / "ed.csv", ROWS))
    with pytest.raises(FeedRefused, match="holds ed feeds, not housing"):
        do_import(
            write_csv(
                tmp_path / "h.csv", [["H1", "A", "B", "", "", "", "2026-01-01", "eviction", ""]]
            ),
            kind="housing",
        )


def test_size_limit(tmp_path: Path) -> None:
    from onestory_engine.intake import read_feed

    path = write_csv(tmp_path / "ed.csv", ROWS)
    with pytest.raises(FeedRefused, match="the limit is"):
        read_feed(path, "ed", max_bytes=10)


# --- the command line, as a real process -------------------------------------------------

CLI = [sys.executable, "-m", "onestory.cli"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ONESTORY_DATA_DIR"] = str(data_dir)
    return env


def test_cli_contract_lines_and_exit_codes(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "ed.csv", [*ROWS, ["", "x", "y", "", "", "", "2026-01-01", "attendance", ""]]
    )
    ok = subprocess.run(
        [*CLI, "import", "ed", str(path)],
        env=_env(tmp_path / "var"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-1] == "accepted=3 updated=0 unchanged=0 quarantined=1"
    assert "row 5: missing source_record_id" in ok.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("given_name\nA\n")
    refused = subprocess.run(
        [*CLI, "import", "ed", str(bad)],
        env=_env(tmp_path / "var"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    lines = [line for line in refused.stderr.splitlines() if line.startswith("refused:")]
    assert lines == ["refused: no source_record_id column"]


def _table_dump(db: Path) -> str:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT s.name, r.source_record_id, r.row_hash, r.given_name, r.date_of_birth "
        "FROM intake_sourcerecord r JOIN intake_source s ON s.id = r.source_id "
        "ORDER BY 1, 2"
    ).fetchall()
    # The quarantine of the first complete import (later re-runs repeat it).
    quarantine = con.execute(
        "SELECT row_number, reason FROM intake_quarantinedrow WHERE import_run_id = "
        "(SELECT min(id) FROM intake_importrun) ORDER BY 1"
    ).fetchall()
    unfinished = con.execute(
        "SELECT count(*) FROM intake_importrun WHERE finished_at IS NULL"
    ).fetchone()
    con.close()
    return hashlib.sha256(repr((rows, quarantine, unfinished)).encode()).hexdigest()


def test_killed_imports_leave_nothing_and_a_rerun_completes(
    tmp_path: Path, initialised_template: Path
) -> None:
    """Kill the import process at random points 20 times; then run it to the end. The
    tables end identical to a clean run, and the audit chain still verifies."""
    from datetime import date

    from onestory_engine.synthetic import generate_city, write_feeds

    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs once, on the SQLite pass: the subprocesses use their own file database")
    city = generate_city(700, seed=99, as_of=date(2026, 11, 1))
    feed = next(f for f in write_feeds(city, tmp_path / "feeds") if f.kind == "ed")
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    for d in (clean_dir, killed_dir):  # each as `onestory init` leaves it
        shutil.copytree(initialised_template, d)
    args = ["import", "ed", str(feed.path), "--source", "city_ed"]
    started = time.monotonic()
    subprocess.run([*CLI, *args], env=_env(clean_dir), check=True, capture_output=True)
    duration = time.monotonic() - started
    rng = random.Random(20261122)
    db = killed_dir / "onestory.sqlite3"
    empty_copy = tmp_path / "empty.sqlite3"
    shutil.copyfile(db, empty_copy)
    empty = _table_dump(db)
    complete = _table_dump(clean_dir / "onestory.sqlite3")
    killed_mid_import = 0
    for _ in range(20):
        process = subprocess.Popen(
            [*CLI, *args],
            env=_env(killed_dir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.1, duration * 0.9))
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = _table_dump(db)
        # Killed before its commit, nothing of it remains; after, it is complete.
        assert state in {empty, complete}
        if state == complete:  # it finished first: start the next attempt from empty again
            shutil.copyfile(empty_copy, db)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        killed_mid_import += state == empty
    assert killed_mid_import >= 10
    final = subprocess.run(
        [*CLI, *args], env=_env(killed_dir), capture_output=True, text=True, check=True
    )
    assert final.stdout.strip().startswith("accepted=")
    assert _table_dump(killed_dir / "onestory.sqlite3") == _table_dump(
        clean_dir / "onestory.sqlite3"
    )
    verify = subprocess.run(
        [*CLI, "audit", "verify"], env=_env(killed_dir), capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stdout
