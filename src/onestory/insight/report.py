"""The quarterly board report: the dashboard's figures and charts as a PDF (WeasyPrint) and
an xlsx workbook. Always through the small-number rule: a board report leaves the app.

Charts are drawn as PNG images (Pillow) so each chart is one image in the PDF, with its
title and its figures in the text beside it.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlsxImage
from PIL import Image, ImageDraw, ImageFont

from onestory.core.disclosure import Rule, quarter_of
from onestory.core.exports import safe_cell
from onestory.insight.dashboard import Dashboard, build
from onestory.measures.costs import cohort_costs
from onestory.measures.outcomes import change_of
from onestory.voice.selectors import quarter_pack

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


SERIES = ((29, 112, 184), (212, 53, 28), (0, 112, 60))  # GOV.UK blue, red, green


def grouped_png(
    labels: list[str], series: list[tuple[str, list[int | None]]], *, title: str
) -> bytes:
    """Several series side by side per label, with a legend, as PNG; suppressed values
    (``None``) show as '*' with no bar."""
    width, height, left, bottom, top_pad = 900, 380, 50, 40, 80
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 10), title, fill=BLACK, font=_font(20))
    small = _font(14)
    for j, (name, _values) in enumerate(series):
        x = left + j * 280
        draw.rectangle([x, 44, x + 14, 58], fill=SERIES[j % len(SERIES)])
        draw.text((x + 20, 42), name, fill=BLACK, font=small)
    peak = max([v for _, vs in series for v in vs if v is not None] or [1]) or 1
    band = (width - left) / max(len(labels), 1)
    bar = band * 0.8 / max(len(series), 1)
    base = height - bottom
    draw.line([(left, base), (width - 10, base)], fill=BLACK, width=2)
    for i, label in enumerate(labels):
        for j, (_name, values) in enumerate(series):
            x0 = left + i * band + band * 0.1 + j * bar
            value = values[i]
            if value is None:
                draw.text((x0, base - 18), "*", fill=BLACK, font=small)
            elif value:
                h = (base - top_pad) * value / peak
                draw.rectangle([x0, base - h, x0 + bar * 0.9, base], fill=SERIES[j % len(SERIES)])
        draw.text((left + i * band + band * 0.25, base + 8), label, fill=BLACK, font=small)
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
        Chart(
            "A&E attendances by the cohort each month",
            _shown(d.service_use[-1].ed) if d.service_use else "0",
            grouped_png(
                [f"{u.month:%b}" for u in d.service_use],
                [
                    ("A&E attendances", [u.ed for u in d.service_use]),
                    ("Arrivals by ambulance", [u.ambulance for u in d.service_use]),
                    ("Police arrests and custody", [u.police for u in d.service_use]),
                ],
                title="A&E attendances by the cohort each month",
            ),
        ),
    ]


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
            "voice": quarter_pack(figures.as_of, Rule.from_settings()),
            "ndta": change_of("ndta", key=None, lower_is_better=True, rule=Rule.from_settings()),
            "costs": cohort_costs(figures.as_of, Rule.from_settings()),
        },
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def figure_rows(figures: Dashboard) -> list[list[str]]:
    """Every aggregate of the dashboard as ``[section, item, measure, value]`` rows."""
    rows = [
        ["Summary", "In the SMD cohort", "people", _shown(figures.cohort)],
        ["Summary", "Without a navigator", "people", _shown(figures.unallocated)],
        ["Summary", "High intensity use of A&E (NHS England)", "people", _shown(figures.hiu_nhs)],
        ["Summary", "High intensity use of A&E (British Red Cross)", "people",
         _shown(figures.hiu_brc)],
    ]  # fmt: skip
    for m in figures.months:
        month = m.month.isoformat()
        rows += [
            ["By-name list", month, "on the list", _shown(m.on_list)],
            ["By-name list", month, "arrived", _shown(m.inflow)],
            ["By-name list", month, "left", _shown(m.outflow)],
        ]
    rows += [["Domains", t.label, "people", _shown(t.people)] for t in figures.domain_totals]
    rows += [["Overlap", o.label, "people", _shown(o.people)] for o in figures.overlaps]
    for u in figures.service_use:
        month = u.month.isoformat()
        rows += [
            ["Service use", month, "A&E attendances", _shown(u.ed)],
            ["Service use", month, "arrivals by ambulance", _shown(u.ambulance)],
            ["Service use", month, "police arrests and custody", _shown(u.police)],
        ]
    return rows


def figures_csv() -> str:
    """The dashboard's figures as CSV, always suppressed and rounded."""
    figures = build(rule=Rule.from_settings())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "measure", "value"])
    for row in figure_rows(figures):
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


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
    overlap.append([])
    overlap.append(["Domain", "People facing it"])
    for t in figures.domain_totals:
        overlap.append([t.label, _shown(t.people)])
    ndta = change_of("ndta", key=None, lower_is_better=True, rule=Rule.from_settings())
    outcomes = book.create_sheet("Outcomes")
    outcomes.append(["New Directions Team Assessment (lower is better)", "Value"])
    outcomes.append(["People with two or more assessments", _shown(ndta.people)])
    outcomes.append(["Average first total", "" if ndta.first_mean is None else ndta.first_mean])
    outcomes.append(["Average latest total", "" if ndta.latest_mean is None else ndta.latest_mean])
    outcomes.append(["People whose total improved", _shown(ndta.improved)])
    outcomes.append([])
    outcomes.append(["Cost of services used (average per person)", "People", "£ per person"])
    for period in cohort_costs(figures.as_of, Rule.from_settings()):
        outcomes.append(
            [period.label, _shown(period.people),
             "*" if period.mean_cost is None else f"£{period.mean_cost}"]
        )  # fmt: skip
    voice = quarter_pack(figures.as_of, Rule.from_settings())
    barriers = book.create_sheet("Barriers and voice")
    barriers.append(["Barriers this quarter", "Raised", "Resolved"])
    barriers.append(["All kinds", _shown(voice.raised), _shown(voice.resolved)])
    for k in voice.kinds:
        barriers.append([k.label, _shown(k.raised), _shown(k.resolved)])
    barriers.append([])
    barriers.append(["Barriers still open", _shown(voice.open)])
    barriers.append(["Open for longer than the escalation period", _shown(voice.overdue)])
    barriers.append([])
    barriers.append(["People who gave feedback this quarter", _shown(voice.answered)])
    barriers.append(["... who said we listened", _shown(voice.felt_listened)])
    barriers.append(["... who only had to tell their story once", _shown(voice.told_once)])
    barriers.append([])
    barriers.append(["You said", "We did"])
    for story in voice.stories:
        barriers.append([safe_cell(story.you_said), safe_cell(story.we_did)])
    use = book.create_sheet("Service use")
    use.append(["Month", "A&E attendances", "Arrivals by ambulance", "Police arrests and custody"])
    for u in figures.service_use:
        use.append([u.month.isoformat(), _shown(u.ed), _shown(u.ambulance), _shown(u.police)])
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
