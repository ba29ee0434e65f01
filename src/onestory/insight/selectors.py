"""The cohort of the person index today, computed by the engine (feeds.md rule)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from onestory.core import rls
from onestory.intake.exports import cohort_table
from onestory_engine.cohort import CohortRule


def current_rule() -> CohortRule:
    cfg: dict[str, Any] = settings.ONESTORY
    return CohortRule(
        as_of=timezone.localdate(),
        months=int(cfg.get("COHORT_MONTHS", 12)),
        min_domains=int(cfg.get("COHORT_MIN_DOMAINS", 3)),
        min_age=int(cfg.get("COHORT_MIN_AGE", 18)),
    )


@rls.basis("aggregate")  # the cohort is computed over everyone (ADR 0022)
def cohort_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = cohort_table(rule=current_rule()).to_pylist()
    return rows
