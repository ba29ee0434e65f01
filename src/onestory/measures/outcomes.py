"""The outcomes the partnership said it would measure (DOMAIN.md), with the measures the
work itself collects. Exact for managers; through the small-number rule for analysts and
board members."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

from onestory.casework.models import Goal
from onestory.core.disclosure import Rule
from onestory.measures.models import Completion
from onestory_engine import measures as engine


@dataclass(frozen=True)
class Change:
    """First and latest scores of everyone with at least two completions."""

    people: int | None
    first_mean: float | None
    latest_mean: float | None
    improved: int | None  # people whose score got better
    lower_is_better: bool


def _series(code: str, key: str | None = None) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    rows = Completion.objects.filter(instrument__code=code).order_by("completed_on", "pk")
    for person_id, total, subscores in rows.values_list("person_id", "total", "subscores"):
        value = total if key is None else (subscores or {}).get(key)
        if value is not None:
            out.setdefault(person_id, []).append(float(value))
    return out


def change_of(code: str, *, key: str | None, lower_is_better: bool, rule: Rule | None) -> Change:
    pairs = [(s[0], s[-1]) for s in _series(code, key).values() if len(s) >= 2]
    n = len(pairs)
    shown = n if rule is None else rule.count(n)
    if not pairs or shown is None:
        return Change(shown, None, None, None, lower_is_better)
    improved = sum(
        1 for a, b in pairs if (engine.change(a, b, lower_is_better=lower_is_better) or 0) > 0
    )
    return Change(
        people=shown,
        first_mean=round(mean(a for a, _ in pairs), 1),
        latest_mean=round(mean(b for _, b in pairs), 1),
        improved=improved if rule is None else rule.count(improved),
        lower_is_better=lower_is_better,
    )


@dataclass(frozen=True)
class Goals:
    set: int | None
    achieved: int | None


def goals(rule: Rule | None) -> Goals:
    total = Goal.objects.count()
    achieved = Goal.objects.filter(status=Goal.Status.ACHIEVED).count()
    if rule is None:
        return Goals(total, achieved)
    return Goals(rule.count(total), rule.count(achieved))
