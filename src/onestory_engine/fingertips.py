"""Reading a Fingertips (Public Health Outcomes Framework) CSV export; no Django here.

The export's columns include ``Indicator ID, Indicator Name, Area Code, Area Name, Sex,
Age, Time period, Value, Lower CI 95.0 limit, Upper CI 95.0 limit, Count, Denominator``
(names matched without regard to case or spacing). Rows without a value are kept as gaps.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

REQUIRED = ("indicator id", "indicator name", "area code", "area name", "time period", "value")
OPTIONAL = ("sex", "age", "lower ci 95.0 limit", "upper ci 95.0 limit", "count", "denominator")
ENGLAND = "E92000001"


class FingertipsError(ValueError):
    """A file that cannot be read at all; the message says why."""


@dataclass(frozen=True)
class Row:
    indicator_id: int
    indicator_name: str
    area_code: str
    area_name: str
    sex: str
    age: str
    period: str
    value: float | None
    lower_ci: float | None
    upper_ci: float | None
    count: float | None
    denominator: float | None


@dataclass(frozen=True)
class Parsed:
    rows: list[Row]
    problems: list[str]  # "row N: ..." for rows that were skipped


def _number(text: str) -> float | None:
    cleaned = (text or "").strip().replace(",", "")
    if cleaned in {"", "-", "*", "x", ".."}:
        return None
    return float(cleaned)


def read(data: bytes) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise FingertipsError("the file is empty") from None
    names = [" ".join(h.strip().lower().split()) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FingertipsError(
            "this is not a Fingertips export: no column " + ", ".join(f"'{m}'" for m in missing)
        )
    at = {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    rows: list[Row] = []
    problems: list[str] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            i = at.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        try:
            rows.append(
                Row(
                    indicator_id=int(cell("indicator id")),
                    indicator_name=cell("indicator name"),
                    area_code=cell("area code"),
                    area_name=cell("area name"),
                    sex=cell("sex") or "Persons",
                    age=cell("age"),
                    period=cell("time period"),
                    value=_number(cell("value")),
                    lower_ci=_number(cell("lower ci 95.0 limit")),
                    upper_ci=_number(cell("upper ci 95.0 limit")),
                    count=_number(cell("count")),
                    denominator=_number(cell("denominator")),
                )
            )
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
            continue
        if not rows[-1].area_code or not rows[-1].period:
            rows.pop()
            problems.append(f"row {number}: no area code or time period")
    return Parsed(rows, problems)
