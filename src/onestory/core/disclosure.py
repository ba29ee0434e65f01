"""Publishing small numbers (DOMAIN.md): below national level, a figure computed from 1-7
people is suppressed and published counts are rounded to the nearest 5 (settings). Applied
to every aggregate analysts and board members see or export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Rule:
    threshold: int = 7
    base: int = 5

    @classmethod
    def from_settings(cls) -> Rule:
        cfg: dict[str, Any] = settings.ONESTORY
        return cls(int(cfg.get("SUPPRESS_AT_OR_BELOW", 7)), int(cfg.get("ROUND_TO", 5)))

    def count(self, n: int) -> int | None:
        """A count as it may be published: ``None`` (suppressed) for 1 to threshold."""
        if 0 < n <= self.threshold:
            return None
        return int(self.base * round(n / self.base))

    def rate(self, numerator: int, denominator: int) -> float | None:
        """A proportion, suppressed when either part is a small number."""
        if denominator == 0 or self.count(denominator) is None:
            return None
        if 0 < numerator <= self.threshold or 0 < denominator - numerator <= self.threshold:
            return None
        return numerator / denominator

    def cells(self, raw: list[int]) -> list[int | None]:
        """A set of counts that add up to a published total, as they may be published:
        each through :meth:`count`, then secondary suppression."""
        return secondary([self.count(n) for n in raw], raw)


def shown(n: int, rule: Rule | None) -> int | None:
    """``n`` exactly when there is no rule (case-work roles), else as published."""
    return n if rule is None else rule.count(n)


def cells(raw: list[int], rule: Rule | None) -> list[int | None]:
    """:meth:`Rule.cells`, or the counts as they are when there is no rule."""
    return list(raw) if rule is None else rule.cells(raw)


def secondary(cells: list[int | None], raw: list[int]) -> list[int | None]:
    """When exactly one cell of a set that sums to a published total is suppressed, it
    could be recovered by subtraction: suppress the next smallest as well."""
    hidden = [i for i, c in enumerate(cells) if c is None and raw[i] > 0]
    if len(hidden) == 1:
        shown_at = [i for i, c in enumerate(cells) if c is not None and raw[i] > 0]
        if shown_at:
            smallest = min(shown_at, key=lambda i: raw[i])
            cells = [None if i == smallest else c for i, c in enumerate(cells)]
    return cells


def quarter_of(day: date) -> str:
    """A financial-report quarter label: ``2026 Q4``."""
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"
