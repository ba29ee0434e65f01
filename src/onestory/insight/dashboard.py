"""Figures for the insight dashboard: the cohort now, the by-name list month by month, the
domain overlap and unallocated people. Aggregates only; analysts and board members get them
through the small-number rule (``core.disclosure``), with secondary suppression where cells
add up to a published total."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any, Final

from django.conf import settings

from onestory.casework.models import Allocation, Closure
from onestory.core.disclosure import Rule, cells, shown
from onestory.insight.selectors import current_rule
from onestory.intake.exports import cohort_inputs
from onestory_engine import cohort as engine
from onestory_engine import feeds


@dataclass(frozen=True)
class Month:
    month: date
    on_list: int | None
    inflow: int | None
    outflow: int | None


@dataclass(frozen=True)
class Overlap:
    domains: tuple[str, ...]
    people: int | None

    @property
    def label(self) -> str:
        return " + ".join(d.replace("_", " ") for d in self.domains)


@dataclass(frozen=True)
class DomainTotal:
    domain: str
    people: int | None

    @property
    def label(self) -> str:
        return self.domain.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ServiceMonth:
    """Emergency service use by the people in the cohort now, in one month (events)."""

    month: date
    ed: int | None
    ambulance: int | None
    police: int | None


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    cohort: int | None
    unallocated: int | None
    months: list[Month]
    overlaps: list[Overlap]
    functional_zero: bool
    suppressed: bool
    hiu_nhs: int | None = None  # adults meeting NHS England's high intensity use definition
    hiu_brc: int | None = None  # adults meeting the British Red Cross definition
    domain_totals: list[DomainTotal] = field(default_factory=list)
    service_use: list[ServiceMonth] = field(default_factory=list)


def build(*, months: int = 12, rule: Rule | None) -> Dashboard:
    cohort_rule = current_rule()
    events, persons = cohort_inputs()
    now_table = engine.cohort(events, persons, cohort_rule)
    now = now_table.to_pylist()
    members = [r for r in now if r["smd"] == 1]
    led = set(
        Allocation.objects.filter(
            kind=Allocation.Kind.LEAD,
            ended_on__isnull=True,
            person_id__in=[r["person_id"] for r in members],
        ).values_list("person_id", flat=True)
    )
    closures: dict[int, list[tuple[date, str]]] = {}
    for person_id, closed_on, reason in Closure.objects.values_list(
        "person_id", "closed_on", "reason"
    ):
        closures.setdefault(person_id, []).append((closed_on, reason))
    ends = engine.month_ends(cohort_rule.as_of, months)
    flows = engine.by_name_months(events, persons, closures, months=ends, rule=cohort_rule)
    per_month: dict[date, Counter[str]] = {m: Counter() for m in ends}
    for row in flows:
        per_month[row["month"]][row["status"]] += 1
    raw_months = []
    for m in ends:
        c = per_month[m]
        inflow = c[engine.INFLOW_NEW] + c[engine.INFLOW_RETURNED]
        outflow = c[engine.OUTFLOW_HOUSED] + c[engine.OUTFLOW_INACTIVE] + c[engine.OUTFLOW_CRITERIA]
        raw_months.append((m, c[engine.ACTIVE] + inflow, inflow, outflow))
    zero = engine.functional_zero(
        raw_months[-1][1] if raw_months else 0, [o for _, _, _, o in raw_months]
    )
    combos: dict[tuple[str, ...], int] = {
        tuple(r["domains"].split(";")): r["people"]
        for r in engine.overlaps(now_table).to_pylist()
        if r["domains"]
    }
    every = [
        combo
        for n in range(cohort_rule.min_domains, len(feeds.DOMAINS) + 1)
        for combo in combinations(sorted(feeds.DOMAINS), n)
    ]
    raw_overlap = [combos.get(c, 0) for c in every]

    def count(n: int) -> int | None:
        return shown(n, rule)

    cfg: dict[str, Any] = settings.ONESTORY
    hiu = engine.high_intensity(
        events,
        persons,
        cohort_rule,
        engine.HighIntensityRule(
            int(cfg["HIU_NHS_MONTH_OVER"]),
            int(cfg["HIU_NHS_YEAR_OVER"]),
            int(cfg["HIU_BRC_YEAR_AT_LEAST"]),
        ),
    ).to_pylist()

    overlap_cells = cells(raw_overlap, rule)
    per_domain = Counter(d for r in members for d in r["domains"].split(";") if d)
    use = engine.service_use(events, [r["person_id"] for r in members], ends).to_pylist()
    return Dashboard(
        as_of=cohort_rule.as_of,
        cohort=count(len(members)),
        unallocated=count(len(members) - len(led)),
        months=[Month(m, count(a), count(i), count(o)) for m, a, i, o in raw_months],
        overlaps=[
            Overlap(c, cell)
            for c, cell, n in zip(every, overlap_cells, raw_overlap, strict=True)
            if n > 0
        ],
        functional_zero=zero,
        suppressed=rule is not None,
        hiu_nhs=count(sum(1 for r in hiu if r["hiu_nhs"])),
        hiu_brc=count(sum(1 for r in hiu if r["hiu_brc"])),
        domain_totals=[DomainTotal(d, count(per_domain[d])) for d in sorted(feeds.DOMAINS)],
        service_use=[
            ServiceMonth(
                r["month"],
                count(r["ed_attendances"]),
                count(r["ambulance_arrivals"]),
                count(r["police_custody"]),
            )
            for r in use
        ],
    )


def bar_chart(values: list[tuple[str, float | None]], *, title: str) -> dict[str, Any]:
    """Geometry for a server-rendered SVG bar chart (no script, no inline style)."""
    width, height, left, bottom = 640, 240, 40, 30
    top = max([v for _, v in values if v is not None] or [1]) or 1
    band = (width - left) / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(values):
        h = 0 if value is None else (height - bottom - 10) * value / top
        bars.append(
            {
                "x": left + i * band + band * 0.15,
                "y": height - bottom - h,
                "w": band * 0.7,
                "h": h,
                "label": label,
                "value": "*" if value is None else value,
                "tx": left + i * band + band / 2,
            }
        )
    return {"title": title, "width": width, "height": height, "bars": bars, "base": height - bottom}


SERIES_COLOURS: Final = ("#1d70b8", "#d4351c", "#00703c")  # GOV.UK blue, red, green


def grouped_chart(
    labels: list[str], series: list[tuple[str, list[int | None]]], *, title: str
) -> dict[str, Any]:
    """Geometry for a server-rendered SVG chart of several series side by side per label,
    with a legend; suppressed values (``None``) draw no bar and show '*'."""
    width, height, left, bottom, top_pad = 640, 260, 40, 30, 40
    peak = max([v for _, vs in series for v in vs if v is not None] or [1]) or 1
    band = (width - left) / max(len(labels), 1)
    bar = band * 0.8 / max(len(series), 1)
    base = height - bottom
    bars = []
    for i, _label in enumerate(labels):
        for j, (_name, values) in enumerate(series):
            value = values[i]
            h = 0 if value is None else (base - top_pad) * value / peak
            bars.append(
                {
                    "x": left + i * band + band * 0.1 + j * bar,
                    "y": base - h,
                    "w": bar,
                    "h": h,
                    "colour": SERIES_COLOURS[j % len(SERIES_COLOURS)],
                    "star": value is None,
                    "tx": left + i * band + band * 0.1 + (j + 0.5) * bar,
                }
            )
    legend = [
        {"x": left + j * 200, "name": name, "colour": SERIES_COLOURS[j % len(SERIES_COLOURS)]}
        for j, (name, _values) in enumerate(series)
    ]
    ticks = [{"tx": left + i * band + band / 2, "label": label} for i, label in enumerate(labels)]
    return {"title": title, "width": width, "height": height, "bars": bars, "base": base,
            "legend": legend, "ticks": ticks}  # fmt: skip


def upset_chart(overlaps: list[Overlap], totals: list[DomainTotal]) -> dict[str, Any]:
    """Geometry for an UpSet-style SVG: one column per combination of domains (largest
    first) with a bar for its people, and below it a dot for each domain in it, joined."""
    width, left, bar_top, bar_height, row = 640, 200, 30, 140, 24
    domains = [t.domain for t in totals]
    columns = sorted(overlaps, key=lambda o: (-(o.people or 0), o.domains))
    band = (width - left) / max(len(columns), 1)
    peak = max([o.people for o in columns if o.people is not None] or [1]) or 1
    matrix_top = bar_top + bar_height + 30
    height = matrix_top + row * len(domains) + 10
    rows = [
        {
            "y": matrix_top + k * row + row / 2,
            "label": t.label,
            "total": "*" if t.people is None else t.people,
        }
        for k, t in enumerate(totals)
    ]
    cols = []
    for i, o in enumerate(columns):
        cx = left + i * band + band / 2
        h = 0 if o.people is None else bar_height * o.people / peak
        member = [k for k, d in enumerate(domains) if d in o.domains]
        cols.append(
            {
                "cx": cx,
                "x": cx - band * 0.3,
                "w": band * 0.6,
                "y": bar_top + bar_height - h,
                "h": h,
                "value": "*" if o.people is None else o.people,
                "dots": [
                    {"cy": matrix_top + k * row + row / 2, "on": k in member}
                    for k in range(len(domains))
                ],
                "y1": matrix_top + min(member) * row + row / 2 if member else 0,
                "y2": matrix_top + max(member) * row + row / 2 if member else 0,
                "label": o.label,
            }
        )
    return {"title": "How the domains overlap: people in each combination", "width": width,
            "height": height, "rows": rows, "columns": cols, "left": left,
            "base": bar_top + bar_height}  # fmt: skip
