"""Questionnaires defined as data, and their scoring (no Django here).

An instrument is a mapping (stored as JSON) such as::

    {
      "code": "ndta", "version": 1, "name": "New Directions Team Assessment",
      "completed_by": "worker",            # or "person" or "staff"
      "repeat_days": 91,                   # the schedule; null for ad hoc
      "max_missing": 0,                    # items that may be missing and still give a total
      "lower_is_better": true,
      "total": {"min": 0, "max": 48},      # optional; checked against the items
      "items": [
        {"key": "engagement", "text": "...", "scale": [[0, "..."], ..., [4, "..."]],
         "weight": 1, "reverse": false, "subscale": "..."}
      ]
    }

Each answer is a value from the item's scale (or missing). An item's score is its answer,
reversed within the scale when ``reverse`` (``min + max - value``), times its ``weight``.
The total is the sum of the item scores. When some items are missing but no more than
``max_missing``, the total is pro-rated: the mean of the answered items' scores (each item
scaled by its weight) times the number of items, rounded to one decimal place; with more
missing there is no total. Sub-scores follow the same rule within their own items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class InstrumentError(ValueError):
    """An instrument definition that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    scale: tuple[tuple[int, str], ...]
    weight: int = 1
    reverse: bool = False
    subscale: str = ""
    higher_is_better: bool | None = None  # overrides the instrument's direction for reports

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(v for v, _ in self.scale)

    def score(self, value: int) -> int:
        low, high = min(self.values), max(self.values)
        raw = (low + high - value) if self.reverse else value
        return raw * self.weight

    @property
    def max_score(self) -> int:
        return max(self.score(v) for v in self.values)

    @property
    def min_score(self) -> int:
        return min(self.score(v) for v in self.values)


@dataclass(frozen=True)
class Instrument:
    code: str
    version: int
    name: str
    completed_by: str
    items: tuple[Item, ...]
    repeat_days: int | None = None
    max_missing: int = 0
    lower_is_better: bool = False
    has_total: bool = True
    description: str = ""

    @property
    def total_range(self) -> tuple[int, int]:
        return sum(i.min_score for i in self.items), sum(i.max_score for i in self.items)

    @property
    def subscales(self) -> tuple[str, ...]:
        seen: list[str] = []
        for item in self.items:
            if item.subscale and item.subscale not in seen:
                seen.append(item.subscale)
        return tuple(seen)


@dataclass(frozen=True)
class Score:
    total: float | None  # None when too many items are missing (or no total is defined)
    subscores: dict[str, float | None]
    missing: tuple[str, ...]  # keys of unanswered items
    complete: bool


def instrument_from(definition: Mapping[str, Any]) -> Instrument:
    """Read and check an instrument definition."""
    try:
        items = tuple(
            Item(
                key=str(raw["key"]),
                text=str(raw["text"]),
                scale=tuple((int(v), str(label)) for v, label in raw["scale"]),
                weight=int(raw.get("weight", 1)),
                reverse=bool(raw.get("reverse", False)),
                subscale=str(raw.get("subscale", "")),
                higher_is_better=raw.get("higher_is_better"),
            )
            for raw in definition["items"]
        )
        instrument = Instrument(
            code=str(definition["code"]),
            version=int(definition["version"]),
            name=str(definition["name"]),
            completed_by=str(definition.get("completed_by", "worker")),
            items=items,
            repeat_days=definition.get("repeat_days"),
            max_missing=int(definition.get("max_missing", 0)),
            lower_is_better=bool(definition.get("lower_is_better", False)),
            has_total=bool(definition.get("has_total", True)),
            description=str(definition.get("description", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InstrumentError(f"instrument definition is incomplete or malformed: {exc}") from exc
    if not items:
        raise InstrumentError(f"{instrument.code}: an instrument needs at least one item")
    keys = [i.key for i in items]
    if len(set(keys)) != len(keys):
        raise InstrumentError(f"{instrument.code}: item keys must be unique")
    for item in items:
        if len(item.scale) < 2 or len(set(item.values)) != len(item.values):
            raise InstrumentError(f"{instrument.code}.{item.key}: a scale needs distinct values")
        if item.weight < 1:
            raise InstrumentError(f"{instrument.code}.{item.key}: weight must be 1 or more")
    expected = definition.get("total")
    if expected is not None and instrument.has_total:
        low, high = instrument.total_range
        if (low, high) != (int(expected["min"]), int(expected["max"])):
            raise InstrumentError(
                f"{instrument.code}: items give totals {low}-{high}, "
                f"not {expected['min']}-{expected['max']}"
            )
    return instrument


def _combine(items: list[Item], answers: Mapping[str, int | None]) -> float | None:
    answered = [(i, answers[i.key]) for i in items if answers.get(i.key) is not None]
    if not answered:
        return None
    scores = [i.score(int(v)) for i, v in answered if v is not None]
    if len(answered) == len(items):
        return float(sum(scores))
    # Pro-rated: each answered item's score as a share of its weight, averaged, times the
    # sum of all the items' weights.
    per_weight = sum(s / i.weight for s, (i, _) in zip(scores, answered, strict=True))
    mean = per_weight / len(answered)
    return round(mean * sum(i.weight for i in items), 1)


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Score one completion. Refuses an answer that is not on its item's scale, or an
    answer to an item the instrument does not have."""
    unknown = set(answers) - {i.key for i in instrument.items}
    if unknown:
        raise InstrumentError(f"{instrument.code}: no such item: {', '.join(sorted(unknown))}")
    for item in instrument.items:
        value = answers.get(item.key)
        if value is not None and int(value) not in item.values:
            raise InstrumentError(
                f"{instrument.code}.{item.key}: {value} is not on the scale "
                f"({', '.join(str(v) for v in item.values)})"
            )
    missing = tuple(i.key for i in instrument.items if answers.get(i.key) is None)
    allowed = len(missing) <= instrument.max_missing
    total = _combine(list(instrument.items), answers) if allowed and instrument.has_total else None
    subscores: dict[str, float | None] = {}
    for name in instrument.subscales:
        members = [i for i in instrument.items if i.subscale == name]
        gaps = sum(1 for i in members if answers.get(i.key) is None)
        subscores[name] = _combine(members, answers) if gaps <= instrument.max_missing else None
    return Score(total=total, subscores=subscores, missing=missing, complete=not missing)


def change(first: float | None, latest: float | None, *, lower_is_better: bool) -> float | None:
    """Improvement from the first to the latest total, positive when things got better."""
    if first is None or latest is None:
        return None
    return (first - latest) if lower_is_better else (latest - first)
