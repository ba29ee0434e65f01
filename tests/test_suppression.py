"""Small numbers never leave the app (DOMAIN.md; issue 6): a city seeded with small cells,
and every aggregate analysts and board members see or export (dashboard, CSV, xlsx, PDF)
scanned for a figure from 1 to 7 people, an unrounded count, or a hidden cell that could
be worked out from a published total."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from openpyxl import load_workbook

from onestory.intake.models import ImportRun, Source, SourceRecord
from onestory.people.models import Person
from onestory.voice.models import Barrier, FeedbackResponse
from tests.conftest import World, signed_in_client

HOUSING = ("housing", "relief_duty")
SUBSTANCE = ("substance", "treatment_start")
POLICE = ("police", "custody")
MENTAL = ("mental_health", "crisis_contact")
ABUSE = ("domestic_abuse", "idva_referral")
ED = ("ed", "attendance")


def _record(
    world: World, person: Person, kind: str, event_type: str, days: int, **raw: str
) -> None:
    source, _ = Source.objects.get_or_create(
        name=f"{kind}_feed", defaults={"kind": kind, "organisation": world.housing_org}
    )
    run = ImportRun.objects.create(source=source, file_name="f.csv", started_at=timezone.now())
    SourceRecord.objects.create(
        source=source,
        source_record_id=f"{kind}-{SourceRecord.objects.count()}",
        raw=raw,
        row_hash="x",
        event_type=event_type,
        event_date=timezone.localdate() - timedelta(days=days),
        person=person,
        first_import=run,
        last_import=run,
    )


def _small_city(world: World) -> None:
    """23 people in the cohort: combinations of 12, 6, 3 and 2 people; a handful of
    ambulance arrivals and police custody in single months."""
    groups = [
        (12, (HOUSING, SUBSTANCE, POLICE)),
        (6, (HOUSING, SUBSTANCE, MENTAL)),
        (3, (HOUSING, MENTAL, ABUSE)),
        (2, (SUBSTANCE, POLICE, MENTAL, ABUSE)),
    ]
    n = 0
    for size, kinds in groups:
        for _ in range(size):
            n += 1
            person = Person.objects.create(given_name=f"S{n}", family_name="Small")
            for kind, event_type in kinds:
                _record(world, person, kind, event_type, 40)
            if n <= 3:
                _record(world, person, *ED, 10, arrival_mode="ambulance")
            if n <= 9:
                _record(world, person, *ED, 70, arrival_mode="walk_in")
    # Three barriers and two people's feedback this quarter: all small numbers.
    for category in ("eligibility", "digital", "eligibility"):
        Barrier.objects.create(
            what_happened="Turned away", category=category, impact="stopped",
            raised_on=timezone.localdate(),
        )  # fmt: skip
    for _ in range(2):
        FeedbackResponse.objects.create(
            organisation=world.nav_org, submitted_on=timezone.localdate(), listened="yes",
            told_once="yes", have_a_say="yes", right_help="yes",
        )  # fmt: skip


def _allowed(cell: str) -> bool:
    return cell == "*" or int(cell) == 0 or (int(cell) > 7 and int(cell) % 5 == 0)


def _check_overlap(cells: list[str]) -> None:
    """The combinations add up to the published cohort: one hidden cell alone could be
    worked out by subtraction, so there are none or at least two."""
    assert cells, "no overlap figures found"
    assert cells.count("*") != 1, cells


def test_the_dashboard_shows_no_small_number(world: World) -> None:
    _small_city(world)
    exact = signed_in_client(world.user("manager")).get("/insight/").content.decode()
    assert re.search(r'govuk-heading-xl">23<', exact)  # a manager sees exact figures
    for role in ("analyst", "board_member"):
        page = signed_in_client(world.user(role)).get("/insight/").content.decode()
        figures = re.findall(r'govuk-table__cell--numeric">([^<]*)<', page)
        figures += re.findall(r'govuk-heading-xl">([^<]*)<', page)
        figures += re.findall(r"<strong>(\d+|\*)</strong>", page)
        figures += re.findall(r'<text [^>]*font-size="12"[^>]*>(\d+|\*)</text>', page)
        figures += re.findall(r"\((\d+|\*)\)</text>", page)  # the UpSet chart's domain totals
        figures = [f for f in figures if f.strip() and f not in {"Reached", "Not yet"}]
        assert len(figures) > 60
        for cell in figures:
            assert _allowed(cell), (role, cell)
        overlap = page.split("exact combination of domains")[1].split("</table>")[0]
        _check_overlap(re.findall(r'govuk-table__cell--numeric">([^<]*)<', overlap))
        assert "Small" not in page and "S1<" not in page


def test_the_figures_csv_is_always_suppressed(world: World) -> None:
    _small_city(world)
    for role in ("manager", "analyst", "board_member"):
        response = signed_in_client(world.user(role)).get("/insight/figures.csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        sections = {r["section"] for r in rows}
        assert sections == {"Summary", "By-name list", "Domains", "Overlap", "Service use"}
        for row in rows:
            assert _allowed(row["value"]), row
        _check_overlap([r["value"] for r in rows if r["section"] == "Overlap"])
        # Small cells were seeded: something is hidden.
        assert any(r["value"] == "*" for r in rows)
    assert signed_in_client(world.user("navigator")).get("/insight/figures.csv").status_code == 403


def test_the_board_report_shows_no_small_number(world: World, tmp_path: Path) -> None:
    _small_city(world)
    client = signed_in_client(world.user("board_member"))
    book = load_workbook(io.BytesIO(client.get("/insight/board-report.xlsx").content))
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                    seen += 1
                    assert _allowed(str(value)), (sheet.title, row)
    assert seen > 40
    overlap_rows = list(book["Overlap"].iter_rows(values_only=True))
    combos = overlap_rows[1 : overlap_rows.index((None, None))]
    _check_overlap([str(v) for _, v in combos])

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(client.get("/insight/board-report.pdf").content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    months = (
        r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    )
    cells: list[str] = []
    for row in re.findall(rf"^\s*{months} \d{{4}}\s+(.+)$", text, flags=re.M):
        cells += row.split()
    combos_pdf = re.findall(r"^\s*[A-Z][a-z_ ]+(?: \+ [a-z_ ]+)+\s+(\d+|\*)\s*$", text, flags=re.M)
    totals = re.findall(r"\(in any combination\)\s+(\d+|\*)\s*$", text, flags=re.M)
    cells += combos_pdf + totals + re.findall(r"Latest figure: (\d+|\*)\.", text)
    assert len(cells) > 60 and len(totals) == 5
    for cell in cells:
        assert _allowed(cell), cell
    _check_overlap(combos_pdf)
    # The board's pack: barriers and feedback, small numbers hidden there too.
    assert "Barriers to care and what people told us" in text
    assert re.search(r"barriers raised \*, resolved 0", text), text[-1500:]
    assert re.search(r"People who gave feedback: \*", text)
    assert "Barriers and voice" in book.sheetnames
