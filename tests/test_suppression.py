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


def _outcome_cells(text: str) -> list[str]:
    """The figures in the PDF's outcome, equality and public health tables: each line's
    cells after its label (pdftotext keeps columns apart by two or more spaces)."""
    part = text.split("Outcomes: the New Directions Team Assessment")[1]
    found = []
    for line in part.splitlines():
        found += [c for c in re.split(r"\s{2,}", line.strip())[1:] if c.isdigit() or c == "*"]
    found += re.findall(r"(?:assessed at least twice|set|achieved|raised|resolved): (\d+|\*)", part)
    return found


def test_the_board_report_shows_no_small_number(world: World, tmp_path: Path) -> None:
    from tests.test_board_report import _outcomes

    _small_city(world)
    _outcomes(world)  # 23 people's measures (3 preferring not to say), staff, indicators
    client = signed_in_client(world.user("board_member"))
    book = load_workbook(io.BytesIO(client.get("/insight/board-report.xlsx").content))
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            if sheet.title == "Public health":
                row = row[3:]  # indicator, area and period ("2021") are labels, not counts
            for value in row:
                if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                    seen += 1
                    assert _allowed(str(value)), (sheet.title, row)
    assert seen > 40
    # The new sheets are there, scanned, and hide what they must.
    equality = list(book["Equality"].iter_rows(values_only=True))
    assert len(equality) > 60
    prefer = [r for r in equality if r[1] == "Prefer not to say"]
    assert prefer and all(r[3:] == ("*", "*", "*", "*") for r in prefer)
    for characteristic, outcome in {(r[0], r[2]) for r in equality[1:]}:
        people = [r[3] for r in equality if r[0] == characteristic and r[2] == outcome]
        assert people.count("*") != 1, (characteristic, outcome, people)
    wellbeing = {r[0]: r for r in book["Wellbeing"].iter_rows(values_only=True)}
    assert wellbeing["Life satisfaction"][1:] == ("25", "3.0", "6.0", "25")
    health = list(book["Public health"].iter_rows(values_only=True))
    assert ("2022", "19.0", "18.5", "19.5", "13.4", "Higher than England") in [
        r[2:] for r in health
    ]
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
    outcome_cells = _outcome_cells(text)
    assert len(outcome_cells) > 100 and "*" in outcome_cells
    for cell in outcome_cells:
        assert _allowed(cell), cell
    assert "Outcomes by protected characteristic" in text and "Synthetown" in text
    _check_overlap(combos_pdf)
    # The board's pack: barriers and feedback, small numbers hidden there too.
    assert "Barriers to care and what people told us" in text
    assert re.search(r"barriers raised \*, resolved 0", text), text[-1500:]
    assert re.search(r"People who gave feedback: \*", text)
    assert "Barriers and voice" in book.sheetnames


def test_the_outcomes_pages_show_no_small_number(world: World) -> None:
    from onestory.measures.outcomes import CHARACTERISTICS
    from tests.test_board_report import _outcomes

    _small_city(world)
    _outcomes(world)
    manager = signed_in_client(world.user("manager"))
    exact = manager.get("/outcomes/equality/?characteristic=sex").content.decode()
    assert re.search(r'data-label="Assessed twice or more">3<', exact)  # the 3: exact
    for role in ("analyst", "board_member"):
        client = signed_in_client(world.user(role))
        pages = [client.get("/outcomes/").content.decode()]
        pages += [
            client.get(f"/outcomes/equality/?characteristic={key}").content.decode()
            for key, _title in CHARACTERISTICS
        ]
        figures: list[str] = []
        for page in pages:
            figures += re.findall(r'govuk-table__cell--numeric"[^>]*>([^<]*)<', page)
            figures += re.findall(r"<strong>(\d+|\*)</strong>", page)
            figures += re.findall(r'<text [^>]*font-size="12"[^>]*>(\d+|\*)</text>', page)
            figures += re.findall(r'summary-list__value">(\d+|\*)[ <]', page)
        counts = [f for f in figures if f.isdigit() or f == "*"]
        assert len(counts) > 200 and "*" in counts
        for cell in counts:
            assert _allowed(cell), (role, cell)
        assert "Small" not in "".join(pages) and "Equal<" not in "".join(pages)
