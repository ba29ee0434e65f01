"""The board report as PDF and xlsx: rendered for real, one image per chart, each chart's
title and headline figure in the text, and no small number anywhere."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

from django.utils import timezone
from openpyxl import load_workbook

from onestory.people.models import Person
from tests.conftest import World, signed_in_client
from tests.test_by_name_list import _in_cohort


def _city(world: World) -> None:
    for i in range(12):
        _in_cohort(world, Person.objects.create(given_name=f"B{i}", family_name="Board"))


def _outcomes(world: World) -> None:
    """Measures, costs, goals and equality for 23 people; staff answers; a Fingertips
    export for a made-up area."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from onestory.measures.models import Instrument, StaffResponse
    from tests.test_outcome_equality import _people

    _people(world)
    staff = Instrument.objects.get(code="staff_confidence", version=1)
    for value in (4, 5, 2, 4, 4, 5, 3, 4, 4, 1):
        StaffResponse.objects.create(
            instrument=staff, organisation=world.nav_org, answered_on=timezone.localdate(),
            answers={"equipped": value}, total=float(value),
        )  # fmt: skip
    sample = (Path(__file__).parent / "data" / "fingertips_sample.csv").read_bytes()
    signed_in_client(world.user("analyst")).post(
        "/outcomes/public-health/",
        {"file": SimpleUploadedFile("phof.csv", sample, content_type="text/csv")},
    )


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_pdf_has_an_image_per_chart_and_their_figures(world: World, tmp_path: Path) -> None:
    from onestory.insight.report import board_figures

    _city(world)
    response = signed_in_client(world.user("board_member")).get("/insight/board-report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    _, charts = board_figures()
    # The cohort's four, people in support and barriers each quarter (no measures yet).
    assert len(images) == len(charts) == 6
    text = _pdf_text(pdf)
    for chart in charts:
        assert chart.title in text
        assert chart.caption in text
    assert re.search(r"In the SMD cohort:\s*10\.", text), text[:500]
    # Every figure in the month table is suppressed, zero, or over 7 and a multiple of 5.
    months = (
        r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    )
    rows = re.findall(rf"^\s*{months} \d{{4}}\s+(.+)$", text, flags=re.M)
    assert rows
    for row in rows:
        for cell in row.split():
            assert cell == "*" or int(cell) == 0 or (int(cell) > 7 and int(cell) % 5 == 0), row


def test_the_pdf_gains_the_outcomes_equality_and_public_health(
    world: World, tmp_path: Path
) -> None:
    from onestory.insight.report import board_figures

    _city(world)
    _outcomes(world)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(
        signed_in_client(world.user("manager")).get("/insight/board-report.pdf").content
    )
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    _, charts = board_figures()
    sections = [c.section for c in charts]
    # NDTA by quarter, staff confidence, people in support; barriers; two indicators.
    assert sections.count("outcomes") == 3 and sections.count("public_health") == 2
    assert len(images) == len(charts) == 10
    text = _pdf_text(pdf)
    flat = " ".join(text.split())
    for chart in charts:
        assert chart.title in flat and chart.caption in flat, chart.caption
    # Fuel poverty: the area's latest value (2022), its interval, and England's.
    assert "Synthetown in 2022: 19.0. Higher than England." in flat
    assert re.search(r"2022\s+19\.0\s+18\.5 to 19\.5\s+13\.4", text)
    # Wellbeing change (life satisfaction 3 -> 6 for 23 people: 25 when rounded).
    assert re.search(r"Life satisfaction \(0 to 10\)\s+25\s+3\.0\s+6\.0\s+25", text)
    # Equality: every characteristic, the 3 who prefer not to say hidden with another group.
    assert "Outcomes by protected characteristic" in text
    for title in ("Age", "Sex", "Ethnic group", "Disabled", "Sexual orientation",
                  "Religion or belief"):  # fmt: skip
        assert re.search(rf"^\s*{title}\s+NDTA", text, flags=re.M), title
    prefer = re.search(r"^\s*Prefer not to say\s+(.+)$", text, flags=re.M)
    assert prefer is not None and set(prefer.group(1).split()) == {"*"}


def test_the_xlsx_has_no_small_numbers(world: World) -> None:
    _city(world)
    response = signed_in_client(world.user("analyst")).get("/insight/board-report.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str) and value.isdigit():
                    assert int(value) == 0 or (int(value) > 7 and int(value) % 5 == 0), value
    from onestory.insight.report import board_figures

    charts = book["Charts"]
    assert len(getattr(charts, "_images", [])) == len(board_figures()[1]) == 6
    assert {"Outcomes", "Wellbeing", "Equality", "Public health"} <= set(book.sheetnames)
    assert (
        signed_in_client(world.user("navigator")).get("/insight/board-report.pdf").status_code
        == 403
    )
