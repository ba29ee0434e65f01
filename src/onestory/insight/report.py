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
from datetime import date
from itertools import pairwise
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlsxImage
from PIL import Image, ImageDraw, ImageFont

from onestory.core.disclosure import Rule, quarter_of
from onestory.core.exports import safe_cell
from onestory.insight.dashboard import Dashboard, build
from onestory.measures.costs import (
    EMERGENCY,
    PeriodRow,
    UseRow,
    cohort_costs,
    emergency_use,
    period_costs,
)
from onestory.measures.outcomes import (
    CHARACTERISTICS,
    WELLBEING,
    BarrierQuarter,
    Change,
    EqualityTable,
    Goals,
    GroupRow,
    Identification,
    IndicatorLatest,
    ItemShare,
    Measure,
    QuarterValue,
    barriers_by_quarter,
    change_of,
    experience_items,
    goals,
    group_order,
    identification_to_support,
    indicator_series,
    indicators_latest,
    ndta_by_quarter,
    outcome_equality,
    referral_to_support_days,
    staff_confidence,
    supported_by_quarter,
)
from onestory.voice.selectors import quarter_pack

BLUE = (29, 112, 184)
BLACK = (11, 12, 12)


@dataclass(frozen=True)
class Chart:
    title: str
    headline: str  # a figure that must appear in the report's text
    png: bytes
    lead: str = "Latest figure"  # what the headline is, in the text beside the chart
    section: str = "cohort"  # where the report shows it: cohort, outcomes, voice, public_health
    key: str = ""  # for an indicator's chart, the indicator's id

    @property
    def caption(self) -> str:
        return f"{self.lead}: {self.headline}."


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


def line_png(
    periods: list[str],
    area: list[tuple[float | None, float | None, float | None]],
    england: list[float | None],
    *,
    title: str,
    area_name: str,
) -> bytes:
    """An indicator over time as PNG: the area (blue, with its 95% confidence interval as
    a bar at each period) against England (black, dashed)."""
    width, height, left, bottom, top_pad = 900, 380, 60, 40, 80
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 10), title[:90], fill=BLACK, font=_font(18))
    small = _font(14)
    draw.line([(left, 50), (left + 24, 50)], fill=BLUE, width=4)
    draw.text((left + 30, 42), area_name, fill=BLACK, font=small)
    for k in range(0, 24, 8):
        draw.line([(left + 330 + k, 50), (left + 334 + k, 50)], fill=BLACK, width=3)
    draw.text((left + 360, 42), "England", fill=BLACK, font=small)
    values = [v for a in area for v in a if v is not None] + [v for v in england if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        high = low + 1
    base = height - bottom
    step = (width - left - 40) / max(len(periods) - 1, 1)

    def y(v: float) -> float:
        return base - (base - top_pad) * (v - low) / (high - low)

    draw.line([(left, base), (width - 10, base)], fill=BLACK, width=2)
    draw.text((4, base - 8), f"{low:.1f}", fill=BLACK, font=small)
    draw.text((4, top_pad - 8), f"{high:.1f}", fill=BLACK, font=small)
    england_points = [(left + i * step, y(v)) for i, v in enumerate(england) if v is not None]
    for a, b in pairwise(england_points):
        for t in range(0, 10, 2):  # dashes
            x0, y0 = a[0] + (b[0] - a[0]) * t / 10, a[1] + (b[1] - a[1]) * t / 10
            x1, y1 = a[0] + (b[0] - a[0]) * (t + 1) / 10, a[1] + (b[1] - a[1]) * (t + 1) / 10
            draw.line([(x0, y0), (x1, y1)], fill=BLACK, width=2)
    points = []
    for i, (value, lower, upper) in enumerate(area):
        x = left + i * step
        if lower is not None and upper is not None:
            draw.line([(x, y(lower)), (x, y(upper))], fill=BLUE, width=2)
        if value is not None:
            points.append((x, y(value)))
    if len(points) > 1:
        draw.line(points, fill=BLUE, width=4)
    for x, py in points:
        draw.ellipse([x - 5, py - 5, x + 5, py + 5], fill=BLUE)
    for i, label in enumerate(periods):
        draw.text((left + i * step - 16, base + 8), label[:9], fill=BLACK, font=small)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _shown(value: int | None) -> str:
    return "*" if value is None else str(value)


def _mean(value: float | None) -> str:
    """An average or a rate, with one decimal place (never read as a count)."""
    return "*" if value is None else f"{value:.1f}"


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


@dataclass(frozen=True)
class EqualityGrid:
    """One characteristic's groups against the board's headline outcomes."""

    characteristic: str
    measures: list[Measure]
    rows: list[tuple[str, list[GroupRow | None]]]


# The outcomes the PDF breaks down (the workbook has every one), with a short heading.
BOARD_MEASURES = {
    "ndta": "NDTA",
    "life_satisfaction": "Life satisfaction",
    "cost": "Cost of services",
    "goals": "Own goals",
    "experience": "Experience",
}


def equality_grids(tables: list[EqualityTable]) -> list[EqualityGrid]:
    out = []
    for _key, title in CHARACTERISTICS:
        mine = [t for t in tables if t.characteristic == title and t.measure.key in BOARD_MEASURES]
        labels: list[str] = []
        for t in mine:
            labels += [r.label for r in t.rows if r.label not in labels]
        by = {(t.measure.key, r.label): r for t in mine for r in t.rows}
        out.append(
            EqualityGrid(
                title,
                [t.measure for t in mine],
                [
                    (lbl, [by.get((t.measure.key, lbl)) for t in mine])
                    for lbl in sorted(labels, key=group_order)
                ],
            )
        )
    return out


@dataclass(frozen=True)
class OutcomePack:
    """The outcomes part of the board report, through the small-number rule."""

    ndta: Change
    wellbeing: list[tuple[str, Change]]
    experience: Change
    experience_items: list[ItemShare]
    goals: Goals
    costs: list[PeriodRow]
    emergency: list[UseRow]
    ndta_quarters: list[tuple[str, int | None, float | None]]
    staff: list[QuarterValue]
    in_support: list[tuple[str, int | None]]
    barriers: list[BarrierQuarter]
    equality: list[EqualityTable]
    grids: list[EqualityGrid]
    indicators: list[Indicator]
    identified: Identification
    referral_days: float | None


@dataclass(frozen=True)
class Indicator:
    indicator_id: int
    name: str
    area_name: str
    rows: list[tuple[str, Any, Any]]  # period, the area's value, England's value
    latest: IndicatorLatest | None


def outcome_pack(as_of: date, rule: Rule) -> OutcomePack:
    periods_of = period_costs(as_of)
    tables = outcome_equality(as_of, rule)
    latest = {i.indicator_id: i for i in indicators_latest()}
    return OutcomePack(
        ndta=change_of("ndta", key=None, lower_is_better=True, rule=rule),
        wellbeing=[
            (label, change_of("ons4", key=key, lower_is_better=key == "anxious_yesterday",
                              rule=rule))
            for label, key in WELLBEING
        ],
        experience=change_of("experience", key=None, lower_is_better=False, rule=rule),
        experience_items=experience_items(rule),
        goals=goals(rule),
        costs=cohort_costs(as_of, rule, periods_of),
        emergency=emergency_use(as_of, rule, periods_of),
        ndta_quarters=ndta_by_quarter(rule),
        staff=staff_confidence(rule),
        in_support=supported_by_quarter(as_of, rule),
        barriers=barriers_by_quarter(as_of, rule),
        equality=tables,
        grids=equality_grids(tables),
        indicators=[
            Indicator(iid, name, area_name, list(zip(periods, area, england, strict=True)),
                      latest.get(iid))
            for iid, name, _code, area_name, periods, area, england in indicator_series()
        ],
        identified=identification_to_support(rule=rule),
        referral_days=referral_to_support_days(),
    )  # fmt: skip


def outcome_charts(pack: OutcomePack) -> list[Chart]:
    """The outcomes' charts over time (those with something to show)."""
    made = []
    if pack.ndta_quarters:
        q, _n, m = pack.ndta_quarters[-1]
        title = "Average NDTA total of each quarter's assessments (lower is better)"
        made.append(
            Chart(
                title,
                "*" if m is None else f"{m:.1f}",
                bar_png([(q[2:], None if v is None else round(v)) for q, _, v in
                         pack.ndta_quarters], title=title),
                lead=f"Average in {q}",
                section="outcomes",
            )
        )  # fmt: skip
    if pack.staff:
        shares = [
            (v.quarter[2:], None if not v.people or v.agree is None else
             round(100 * v.agree / v.people))
            for v in pack.staff
        ]  # fmt: skip
        title = "Staff who feel equipped and supported (% agreeing)"
        latest = shares[-1][1]
        made.append(
            Chart(title, "*" if latest is None else f"{latest}%", bar_png(shares, title=title),
                  lead=f"Agreeing in {pack.staff[-1].quarter}", section="outcomes")
        )  # fmt: skip
    title = "People with a named lead worker at the end of each quarter"
    made.append(
        Chart(title, _shown(pack.in_support[-1][1]),
              bar_png([(q[2:], n) for q, n in pack.in_support], title=title), section="outcomes")
    )  # fmt: skip
    title = "Barriers to care raised and resolved each quarter"
    made.append(
        Chart(
            title,
            _shown(pack.barriers[-1].raised),
            grouped_png(
                [b.quarter[2:] for b in pack.barriers],
                [("Raised", [b.raised for b in pack.barriers]),
                 ("Resolved", [b.resolved for b in pack.barriers])],
                title=title,
            ),
            section="voice",
        )
    )  # fmt: skip
    for ind in pack.indicators:
        if ind.latest is None:
            continue
        made.append(
            Chart(
                f"{ind.name}: {ind.area_name} and England",
                f"{ind.latest.value:.1f}",
                line_png(
                    [p for p, _, _ in ind.rows],
                    [(None, None, None) if a is None else (a.value, a.lower_ci, a.upper_ci)
                     for _, a, _ in ind.rows],
                    [None if e is None else e.value for _, _, e in ind.rows],
                    title=ind.name, area_name=ind.area_name,
                ),
                lead=f"{ind.area_name} in {ind.latest.period}",
                section="public_health",
                key=str(ind.indicator_id),
            )
        )  # fmt: skip
    return made


def board_pack() -> tuple[Dashboard, OutcomePack, list[Chart]]:
    rule = Rule.from_settings()
    figures = build(rule=rule)
    pack = outcome_pack(figures.as_of, rule)
    return figures, pack, charts(figures) + outcome_charts(pack)


def board_figures() -> tuple[Dashboard, list[Chart]]:
    figures, _pack, made = board_pack()
    return figures, made


def board_pdf() -> bytes:
    from weasyprint import HTML

    figures, pack, made = board_pack()
    items: list[dict[str, Any]] = [
        {"c": c, "src": "data:image/png;base64," + base64.b64encode(c.png).decode()} for c in made
    ]
    by_indicator = {c.key: item for c, item in zip(made, items, strict=True) if c.key}
    html = render_to_string(
        "insight/board_report.html",
        {
            "d": figures,
            "o": pack,
            "charts": items,
            "indicators": [(i, by_indicator.get(str(i.indicator_id))) for i in pack.indicators],
            "quarter": quarter_of(figures.as_of),
            "voice": quarter_pack(figures.as_of, Rule.from_settings()),
            "ndta": pack.ndta,
            "costs": pack.costs,
            "emergency_costs": list(zip(pack.emergency, pack.costs, strict=True)),
            "emergency_units": EMERGENCY,
            "measure_names": list(BOARD_MEASURES.items()),
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
    figures, pack, made = board_pack()
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
    ndta = pack.ndta
    outcomes = book.create_sheet("Outcomes")
    outcomes.append(["New Directions Team Assessment (lower is better)", "Value"])
    outcomes.append(["People with two or more assessments", _shown(ndta.people)])
    outcomes.append(["Average first total", _mean(ndta.first_mean)])
    outcomes.append(["Average latest total", _mean(ndta.latest_mean)])
    outcomes.append(["People whose total improved", _shown(ndta.improved)])
    outcomes.append([])
    outcomes.append(["Help at the right time", "People", "Median days"])
    outcomes.append(
        [
            "Identified (first on the by-name list) to a named lead worker",
            _shown(pack.identified.supported),
            _mean(pack.identified.median_days),
        ]
    )
    outcomes.append(["... identified and still waiting", _shown(pack.identified.waiting)])
    outcomes.append(["Referral sent to accepted", "", _mean(pack.referral_days)])
    outcomes.append([])
    outcomes.append(["Own goals", "Set", "Achieved"])
    outcomes.append(["All people", _shown(pack.goals.set), _shown(pack.goals.achieved)])
    outcomes.append([])
    outcomes.append(["Cost of services used (average per person)", "People", "£ per person",
                     *(f"{label} per person" for _, label in EMERGENCY)])  # fmt: skip
    for period, use in zip(pack.costs, pack.emergency, strict=True):
        outcomes.append(
            [period.label, _shown(period.people),
             "*" if period.mean_cost is None else f"£{period.mean_cost}",
             *("*" if v is None else f"{v:.2f}" for _, v in use.values)]
        )  # fmt: skip
    outcomes.append([])
    outcomes.append(["Quarter", "People assessed (NDTA)", "Average NDTA total"])
    for q, n, average in pack.ndta_quarters:
        outcomes.append([q, _shown(n), _mean(average)])
    outcomes.append([])
    outcomes.append(["Quarter end", "People with a named lead worker"])
    for q, n in pack.in_support:
        outcomes.append([q, _shown(n)])
    outcomes.append([])
    outcomes.append(["Quarter", "Staff who answered", "Feel equipped and supported"])
    for v in pack.staff:
        outcomes.append([v.quarter, _shown(v.people), _shown(v.agree)])
    wellbeing = book.create_sheet("Wellbeing")
    wellbeing.append(["Question", "People asked twice or more", "First (average)",
                      "Latest (average)", "Better"])  # fmt: skip
    for label, change in [*pack.wellbeing, ("Experience of support (3 to 15)", pack.experience)]:
        wellbeing.append(
            [label, _shown(change.people), _mean(change.first_mean), _mean(change.latest_mean),
             _shown(change.improved)]
        )  # fmt: skip
    wellbeing.append([])
    wellbeing.append(["Statement (latest answer)", "People", "Agree", "Share agreeing"])
    for item in pack.experience_items:
        wellbeing.append(
            [item.text, _shown(item.people), _shown(item.agree),
             "*" if item.share is None else f"{item.share}%"]
        )  # fmt: skip
    equality = book.create_sheet("Equality")
    equality.append(["Characteristic", "Group", "Outcome", "People", "Better",
                     "First (average)", "Latest (average)"])  # fmt: skip
    for table in pack.equality:
        for r in table.rows:
            equality.append(
                [table.characteristic, safe_cell(r.label), table.measure.title,
                 _shown(r.people), _shown(r.better), _mean(r.first_mean),
                 _mean(r.latest_mean)]
            )  # fmt: skip
    health = book.create_sheet("Public health")
    health.append(["Indicator", "Area", "Period", "Value", "Lower 95% CI", "Upper 95% CI",
                   "England", "Compared with England (latest)"])  # fmt: skip
    for ind in pack.indicators:
        for when, a, e in ind.rows:
            latest = ind.latest is not None and ind.latest.period == when
            health.append(
                [safe_cell(f"{ind.indicator_id} {ind.name}"), safe_cell(ind.area_name),
                 safe_cell(when), _mean(a.value if a else None),
                 _mean(a.lower_ci if a else None), _mean(a.upper_ci if a else None),
                 _mean(e.value if e else None),
                 ind.latest.comparison if latest and ind.latest else ""]
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
    barriers.append([])
    barriers.append(["Quarter", "Barriers raised", "Resolved"])
    for b in pack.barriers:
        barriers.append([b.quarter, _shown(b.raised), _shown(b.resolved)])
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
