"""Publishing small numbers (DOMAIN.md): below national level, a figure computed from 1-7
people is suppressed and published counts are rounded to the nearest 5 (settings). Applied
to every aggregate analysts and board members see or export."""

from __future__ import annotations

from dataclasses import dataclass
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
