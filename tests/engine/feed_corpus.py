"""A corpus of partner feed files for checking the importer: a small synthetic city (every
kind), every case of feeds.md's "Bad input", the tests' own feeds, and awkward CSV (blank and
ragged lines, quotes, other delimiters, encodings, control characters, long cells) and xlsx.

``tests/data/feed_golden.json`` holds what the row-by-row importer (commit ad6e15d) made of
each file; ``test_feed_golden.py`` checks the columnar importer gives exactly the same.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl

from onestory_engine.synthetic import generate_city, write_feeds

ID = ["source_record_id", "given_name", "family_name", "date_of_birth", "nhs_number", "postcode"]
ED = [*ID, "event_date", "event_type", "arrival_mode", "reason_category"]


def _csv(rows: list[list[str]], *, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue()


# Every kind's event-level bad input, and values that stretch each standardiser.
_ED_ROWS = [
    ED,
    ["E1", "Alice", "Marsh", "1984-03-09", "943 476 5919", "ng7 6gr", "2026-10-01", "attendance",
     "ambulance", "alcohol"],
    ["E2", "Bob", "Hart", "31/02/1979", "", "", "2026-10-02", "attendance", "", ""],
    ["E3", "Cat", "Lee", "1990-01-05", "", "", "2026-10-02", "admission", "", ""],
    ["", "Dan", "Moss", "1990-01-05", "", "", "2026-10-02", "attendance", "", ""],
    ["E1", "Alice", "Marsh", "1984-03-09", "", "", "2026-10-05", "attendance", "", ""],
    ["E6", "Eve", "Noon", "", "", "", "yesterday", "attendance", "", ""],
    ["E7", "", "", "", "", "NG1 1AA", "2026-10-02", "attendance", "", ""],
    ["E8", "Fay", "Orr", "1970-02-02", "", "", "", "attendance", "", ""],
    ["E9", "Gus", "Pike", "1970-02-02", "", "", "2026-10-02", "attendance", "helicopter", "x"],
    ["E10", "  Hal ", " Quinn", "1/1/1980", "1234567890", "NFA", "2026-10-02T25:00:00",
     "attendance", "", ""],
    ["E11", "Ida", "Roe", "2001-13-01", "", "", "2026-10-02", " Attendance ", "", ""],
    ["E12", "Jo", "Sims", "", "0000000000", "zz99 3vz", "2026-10-02T10:15:00+01:00",
     "ATTENDANCE", "WALK_IN", "Self_Harm"],
    ["E13", "", "", "", "", "", "2026-10-02", "attendance", "", ""],
    ["E14", "", "", "", "943 476 5919", "", "2026-10-02", "", "", ""],
    ["E15", "Kay", "", "", "", "not a postcode", "02/10/2026", "attendance", "", ""],
    ["E2", "Bob", "Hart", "1979-02-28", "", "", "2026-10-02", "attendance", "", ""],
    ["E2", "Bob", "Hart", "1979-02-28", "", "", "2026-10-03", "attendance", "", ""],
    ["E16", "Léa", "Ó Súilleabháin", "29/02/2000", "", "BT1 1AA", "29/02/2001", "attendance",
     "", ""],
    ["E17", "Max", "Null", "1999-1-1", "", "", "2026-10-02", "attendance", "", ""],
    [" E18 ", "Ned", "Ott", "", "", "", "2026-10-02 08:00", "attendance", "", ""],
]  # fmt: skip

_HOUSING_ROWS = [
    [*ID, "address_line", "event_date", "event_type", "end_date"],
    ["H1", "Ann", "Ash", "1980-05-05", "", "", "No fixed abode", "2026-01-01",
     "temporary_accommodation_start", "2026-02-01"],
    ["H2", "Ben", "Birch", "1980-05-05", "", "NG5 1AA", "12 High St", "2026-03-01",
     "temporary_accommodation_start", "2026-02-01"],
    ["H3", "Cy", "Cole", "", "", "", "N.F.A.", "2026-03-01", "eviction", "soon"],
    ["H4", "Di", "Dale", "", "", "", "Homeless Hostel, 12 Shakespeare Street", "2026-03-01",
     "Main Duty", ""],
    ["H5", "Ed", "Eld", "", "", "ng51aa", "homeless", "2026-03-01", "main_duty", "2026-03-01"],
    ["H6", "Flo", "Fir", "", "", "", "", "2026-03-01", "tenancy_start", ""],
    ["H7", "Gil", "Gorse", "", "", "", "NFA - sofa surfing", "2026-03-01T09:00:00",
     "relief_duty", "2026-03-02T10:00:00"],
]  # fmt: skip

_DA_ROWS = [
    [*ID, "event_date", "event_type", "role"],
    ["D1", "Ana", "Ames", "", "", "", "2026-02-01", "marac_referral", ""],
    ["D2", "Bea", "Bell", "", "", "", "2026-02-01", "marac_referral", "Perpetrator"],
    ["D3", "Cal", "Cross", "", "", "", "2026-02-01", "idva_referral", "witness"],
    ["D4", "Dot", "Drew", "", "", "", "2026-02-01", "idva_referral", " VICTIM "],
    ["D5", "Eli", "Eve", "", "", "", "bad date", "idva_referral", "witness"],
]

_POLICE_ROWS = [
    ["source_record_id", "given_name", "family_name", "pnc_id", "sex", "event_date",
     "event_type", "offence_category"],
    ["P1", "Al", "Ab", "02/73319Z", "male", "2026-01-01", "arrest", "theft"],
    ["P2", "Bo", "Bc", "2002/0073319Z", "F", "2026-01-01", "custody", ""],
    ["P3", "Cy", "Cd", "99/1234567X", "woman", "2026-01-01", "victim_report", ""],
    ["P4", "Di", "De", "not a pnc", "Not Stated", "2026-01-01", "arrest", ""],
    ["P5", "Ed", "Ef", "", "Q", "2026-01-01", "caution", ""],
    ["P6", "", "", "02/73319Z", "", "2026-01-01", "arrest", ""],
]  # fmt: skip

_REGISTER_ROWS = [
    ["Source_Record_ID", "Given Name", "FAMILY_NAME", "Date Of Birth", "Sex", "Phone", "Email",
     "Notes"],
    ["R1", "Zoë", "Brontë", "1990-12-31", "X", "0115 000 0000", "z@example.org", "quote \" in"],
    ["R2", "", "", "", "", "", "", "no identity"],
    ["R3", "Tab\tName", "Back\\slash", "", "", "", "", "new\nline"],
    ["R4", "Ctl\x01Char", "Uni\u2028Sep", "", "unknown", "", "", "\x7f del"],
    ["R5", "\u00a0Nbsp\u00a0", "Space\u3000", "", "", "", "", ""],
    ["R6", "Very", "Long", "", "", "", "", "x" * 2500],
    ["R1", "Zoe", "Bronte", "", "", "", "", "duplicate"],
]  # fmt: skip


def _awkward_csv() -> bytes:
    """Blank lines, whitespace-only lines, short and long rows, odd quoting."""
    header = "source_record_id,given_name,family_name,event_date,event_type,,given_name\r\n"
    lines = [
        "A1,Ann,Ames,2026-01-01,attendance,unnamed,second given",
        "",
        "A2,Ben,Bell,2026-01-01,attendance",
        "   ",
        "A3,Cy,Cole,2026-01-01,attendance,u,g,extra one,extra two",
        'A4,"Di, Jr","O""Dale",2026-01-01,attendance,,',
        'A5,Ed "Eddie" Eld,Eve,2026-01-01,attendance,,',
        'A6,"multi\nline",Fir,2026-01-01,attendance,,',
        'A7, "spaced",Gale,2026-01-01,attendance,,',
        ",,,,,,",
        "A8,Gus,Hale,2026-01-01,attendance,,,,   ,",
        "A9,Hal,Ives,2026-01-01,attendance,,,,",
        "",
    ]
    return (header + "\r\n".join(lines)).encode()


def _xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([h.upper() for h in ED] + ["Ward"])
    sheet.append(
        [
            "X1",
            "Ann",
            "Ames",
            date(1980, 5, 5),
            9434765919,
            "NG7 6GR",
            datetime(2026, 10, 1, 14, 30),  # noqa: DTZ001 - a spreadsheet cell has no zone
            "attendance",
            "ambulance",
            "drugs",
            "Ward 7",
        ]
    )
    sheet.append(
        [
            "X2",
            "Ben",
            "Bell",
            "05/05/1980",
            None,
            None,
            date(2026, 10, 2),
            "attendance",
            None,
            None,
            3.5,
        ]
    )
    sheet.append([None, None, None, None, None, None, None, None, None, None, None])
    sheet.append([3, "Cy", "Cole", None, None, None, "2026-10-03", "walk", None, None])
    sheet.append(
        ["X4", "Di", "Dale", None, None, None, 45000.0, "attendance", None, None, None, "beyond"]
    )
    book.create_sheet("Ignored").append(["nothing"])
    book.save(path)  # fmt: skip


def corpus(directory: Path) -> list[tuple[str, Path]]:
    """Write the corpus into ``directory``; ``(kind, path)`` for each file."""
    directory.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path]] = []

    def put(kind: str, name: str, data: bytes) -> None:
        path = directory / name
        path.write_bytes(data)
        files.append((kind, path))

    city = generate_city(60, seed=7, as_of=date(2026, 11, 1))
    for feed in write_feeds(city, directory / "city"):
        files.append((feed.kind, feed.path))
    put("ed", "ed_bad.csv", _csv(_ED_ROWS).encode())
    put("ed", "ed_bad_bom.csv", _csv(_ED_ROWS).encode("utf-8-sig"))
    put("ed", "ed_bad_cp1252.csv", _csv(_ED_ROWS).encode("cp1252", errors="replace"))
    put("ed", "ed_semicolon.csv", _csv(_ED_ROWS, delimiter=";").encode())
    put("ed", "ed_tab.csv", _csv(_ED_ROWS, delimiter="\t").encode())
    put("ed", "ed_pipe.csv", _csv(_ED_ROWS, delimiter="|").encode())
    put("housing", "housing.csv", _csv(_HOUSING_ROWS).encode())
    put("domestic_abuse", "da.csv", _csv(_DA_ROWS).encode())
    put("police", "police.csv", _csv(_POLICE_ROWS).encode())
    put("register", "register.csv", _csv(_REGISTER_ROWS).encode())
    put("ed", "awkward.csv", _awkward_csv())
    put("ed", "unterminated.csv", b'source_record_id,given_name,event_date,event_type\n'
        b'U1,"Ann,2026-01-01,attendance\nU2,Ben,2026-01-01,attendance\n')  # fmt: skip
    put("ed", "nul.csv", b"source_record_id,given_name,event_date,event_type\n" + b"x" * 5000
        + b"\nN1,A\x00n,2026-01-01,attendance\n")  # fmt: skip
    put("ed", "huge_cell.csv", b"source_record_id,given_name,event_date,event_type\n"
        b"B1," + b"y" * 140_000 + b",2026-01-01,attendance\n")  # fmt: skip
    plain = "".join(f"L{i},Name{i},Fam,2026-01-01,attendance\n" for i in range(400))
    put("ed", "late_quotes.csv", (
        "source_record_id,given_name,family_name,event_date,event_type\n" + plain
        + 'L900,"O""Dale",Fam,2026-01-01,attendance\nL901,"x"",y",Fam,2026-01-01,attendance\n'
        + 'L902,"",Fam,2026-01-01,attendance\nL903,"x"y,Fam,2026-01-01,attendance\n'
    ).encode())  # fmt: skip
    put("ed", "late_quotes_ok.csv", (
        "source_record_id,given_name,family_name,event_date,event_type\n" + plain
        + 'L900,"O""Dale",Fam,2026-01-01,attendance\nL902,"",Fam,2026-01-01,attendance\n'
    ).encode())  # fmt: skip
    put("ed", "header_only.csv", ",".join(ED).encode() + b"\n")
    put("ed", "blank_only.csv", ",".join(ED).encode() + b"\n\n,,,\n \n")
    put("ed", "cr_only.csv", _csv(_ED_ROWS[:4]).replace("\r\n", "\r").encode())
    put("ed", "single_quote.csv", b"source_record_id,given_name,event_date,event_type\n"
        b"Q1,'Ann, Jr',2026-01-01,attendance\nQ2,'Bo',2026-01-01,attendance\n")  # fmt: skip
    put("register", "one_column.csv", b"source_record_id\nR1\n\nR2\n")
    put("register", "binary.csv", b"\x00\x01\x02\x03binary rubbish")
    put("register", "empty.csv", b"")
    put("ed", "no_sid.csv", b"given_name,family_name,event_date,event_type\nA,B,2026-01-01,x\n")
    put("ed", "no_identity.csv", b"source_record_id,event_date,event_type\n1,2026-01-01,x\n")
    put("ed", "no_event_columns.csv", b"source_record_id,given_name\n1,A\n")
    put("hospital", "unknown_kind.csv", b"source_record_id,given_name\n1,A\n")
    put("ed", "not_xlsx.xlsx", b"PK\x03\x04 not really a workbook")
    _xlsx(directory / "ed.xlsx")
    files.append(("ed", directory / "ed.xlsx"))
    return files
