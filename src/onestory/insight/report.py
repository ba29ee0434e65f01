"""The quarterly board report: the dashboard's figures and charts as a PDF (WeasyPrint) and
an xlsx workbook. Always through the small-number rule: a board report leaves the app.

Charts are drawn as PNG images (Pillow) so each chart is one image in the PDF, with its
title and its figures in the text beside it.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import date

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlsxImage
from PIL import Image, ImageDraw, ImageFont

from onestory.core.disclosure import Rule
from onestory.core.exports import safe_cell
from onestory.insight.dashboard import Dashboard, build

BLUE = (29, 112, 184)
BLACK = (11, 12, 12)


@dataclass(frozen=True)
class Chart:
    title: str
    headline: str  # a figure that must appear in the report's text
    png: bytes


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def bar_png(values: list[tuple[str, int | None]], *, title: str) -> bytes:
    """A bar chart as PNG; suppressed values (``None``) show as '*' with no bar."""
    width, height, left, bottom, top_pad = 900, 360, 50, 40, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 10), title, fill=BLACK, font=_font(20))
    peak = max([v for _, v in values if v is not None] or [1]) or 1
    band = (width - left) / max(len(values), 1)
    base = height - bottom
    draw.line([(left, base), (width - 10, base)], fill=BLACK, width=2)
    small = _font(14)
    for i, (label, value) in enumerate(values):
        x0 = left + i * band + band * 0.15
        x1 = x0 + band * 0.7
        h = 0 if value is None else (base - top_pad) * value / peak
        if h:
            draw.rectangle([x0, base - h, x1, base], fill=BLUE)
        text = "*" if value is None else str(value)
        draw.text((x0, base - h - 18), text, fill=BLACK, font=small)
        draw.text((x0, base + 8), label, fill=BLACK, font=small)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _shown(value: int | None) -> str:
    return "*" if value is None else str(value)


def charts(d: Dashboard) -> list[Chart]:
    on_list = [(f"{m.month:%b}", m.on_list) for m in d.months]
    flows = [(f"{m.month:%b}", m.inflow) for m in d.months]
    overlap = [(o.label[:14], o.people) for o in d.overlaps[:8]]
    latest = d.months[-1] if d.months else None
    return [
        Chart(
            "People on the by-name list",
            _shown(latest.on_list) if latest else "0",
            bar_png(on_list, title="People on the by-name list"),
        ),
        Chart(
            "People arriving on the list each month",
            _shown(latest.inflow) if latest else "0",
            bar_png(flows, title="People arriving on the list each month"),
        ),
        Chart(
            "Combinations of domains",
            _shown(d.overlaps[0].people) if d.overlaps else "0",
            bar_png(overlap, title="Combinations of domains"),
        ),
    ]


def quarter_of(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def board_figures() -> tuple[Dashboard, list[Chart]]:
    figures = build(rule=Rule.from_settings())
    return figures, charts(figures)


def board_pdf() -> bytes:
    from weasyprint import HTML

    figures, made = board_figures()
    html = render_to_string(
        "insight/board_report.html",
        {
            "d": figures,
            "charts": [
                {"c": c, "src": "data:image/png;base64," + base64.b64encode(c.png).decode()}
                for c in made
            ],
            "quarter": quarter_of(figures.as_of),
        },
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def board_xlsx() -> bytes:
    figures, made = board_figures()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Summary"
    sheet.append(["OneStory board report", quarter_of(figures.as_of)])
    sheet.append(["Figures from 1 to 7 people are shown as *; counts are rounded to 5."])
    sheet.append(["In the SMD cohort", _shown(figures.cohort)])
    sheet.append(["Without a navigator", _shown(figures.unallocated)])
    sheet.append(["Functional zero", "Reached" if figures.functional_zero else "Not yet"])
    sheet.append(["High intensity use of A&E (NHS England)", _shown(figures.hiu_nhs)])
    sheet.append(["High intensity use of A&E (British Red Cross)", _shown(figures.hiu_brc)])
    months = book.create_sheet("By-name list")
    months.append(["Month", "On the list", "Arrived", "Left"])
    for m in figures.months:
        months.append([m.month.isoformat(), _shown(m.on_list), _shown(m.inflow), _shown(m.outflow)])
    overlap = book.create_sheet("Overlap")
    overlap.append(["Domains", "People"])
    for o in figures.overlaps:
        overlap.append([safe_cell(o.label), _shown(o.people)])
    pictures = book.create_sheet("Charts")
    row = 1
    for chart in made:
        pictures.cell(row=row, column=1, value=chart.title)
        image = XlsxImage(io.BytesIO(chart.png))
        pictures.add_image(image, f"A{row + 1}")
        row += 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
