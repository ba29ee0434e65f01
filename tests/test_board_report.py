"""The board report as PDF and xlsx: rendered for real, one image per chart, each chart's
title and headline figure in the text, and no small number anywhere."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

from openpyxl import load_workbook

from onestory.people.models import Person
from tests.conftest import World, signed_in_client
from tests.test_by_name_list import _in_cohort


def _city(world: World) -> None:
    for i in range(12):
        _in_cohort(world, Person.objects.create(given_name=f"B{i}", family_name="Board"))


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
    assert len(images) == len(charts) == 4
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for chart in charts:
        assert chart.title in text
        assert f"Latest figure: {chart.headline}." in text
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
    charts = book["Charts"]
    assert len(getattr(charts, "_images", [])) == 4  # openpyxl keeps a sheet's pictures here
    assert (
        signed_in_client(world.user("navigator")).get("/insight/board-report.pdf").status_code
        == 403
    )
