"""Files leaving OneStory neutralise spreadsheet formula injection (SECURITY.md)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from onestory.core.exports import safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals sign
        ("-5", "-5"),  # a plain number stays a number
        ("+3.5", "+3.5"),
        ("12", "12"),
        ("Prefer not to say", "Prefer not to say"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_neutralised(value: object, written: str) -> None:
    assert safe_cell(value) == written


def test_neutralised_cells_stay_text_in_csv_and_xlsx() -> None:
    nasty = ["=1+1", "@A1", "+A1", "-A1"]
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(v) for v in nasty])
    assert all(
        not c.startswith(("=", "@", "+", "-"))
        for c in next(csv.reader(io.StringIO(out.getvalue())))
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([safe_cell(v) for v in nasty])
    saved = io.BytesIO()
    book.save(saved)
    cells = next(load_workbook(saved).active.iter_rows())  # type: ignore[union-attr]
    assert [c.data_type for c in cells] == ["s"] * 4  # text, never a formula ("f")
