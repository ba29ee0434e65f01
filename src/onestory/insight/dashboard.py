"""Figures for the insight dashboard: the cohort now, the by-name list month by month, the
domain overlap and unallocated people. Aggregates only; analysts and board members get them
through the small-number rule (``core.disclosure``), with secondary suppression where cells
add up to a published total."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any

from django.conf import settings

from onestory.casework.models import Allocation, Closure
from onestory.core.disclosure import Rule
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


def secondary(cells: list[int | None], raw: list[int]) -> list[int | None]:
    """When exactly one cell of a set that sums to a published total is suppressed, it
    could be recovered by subtraction: suppress the next smallest as well."""
    hidden = [i for i, c in enumerate(cells) if c is None and raw[i] > 0]
    if len(hidden) == 1:
        shown = [i for i, c in enumerate(cells) if c is not None and raw[i] > 0]
        if shown:
            smallest = min(shown, key=lambda i: raw[i])
            cells = [None if i == smallest else c for i, c in enumerate(cells)]
    return cells


def build(*, months: int = 12, rule: Rule | None) -> Dashboard:
    cohort_rule = current_rule()
    events, persons = cohort_inputs()
    now = engine.cohort(events, persons, cohort_rule).to_pylist()
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
    combos: Counter[tuple[str, ...]] = Counter(
        tuple(sorted(r["domains"].split(";"))) for r in members if r["domains"]
    )
    every = [
        combo
        for n in range(cohort_rule.min_domains, len(feeds.DOMAINS) + 1)
        for combo in combinations(sorted(feeds.DOMAINS), n)
    ]
    raw_overlap = [combos.get(c, 0) for c in every]

    def count(n: int) -> int | None:
        return n if rule is None else rule.count(n)

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

    overlap_cells = [count(n) for n in raw_overlap]
    if rule is not None:
        overlap_cells = secondary(overlap_cells, raw_overlap)
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
    )


def bar_chart(values: list[tuple[str, int | None]], *, title: str) -> dict[str, Any]:
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
