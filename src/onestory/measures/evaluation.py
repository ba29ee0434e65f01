"""Per-person outcome records for an external evaluator: pseudonymised (a keyed hash of the
person, the same in every export made with this installation's key, so records can be
followed over time but not traced to a name) and only the fields the analyst chooses."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.crypto import salted_hmac

from onestory.casework.models import Goal
from onestory.measures import costs, outcomes
from onestory.measures.models import Completion, Equality
from onestory.people.models import Person


def pseudonym(person_id: int) -> str:
    return salted_hmac("onestory.evaluation", str(person_id), algorithm="sha256").hexdigest()[:16]


@dataclass
class _Context:
    today: date
    births: dict[int, date | None]
    equality: dict[int, Equality]
    ndta: dict[int, list[float]]
    ons4: dict[int, list[dict[str, float]]]
    goals: dict[int, tuple[int, int]]
    starts: dict[int, date]


def _series(code: str) -> dict[int, list[Completion]]:
    out: dict[int, list[Completion]] = {}
    for c in Completion.objects.filter(instrument__code=code).order_by("completed_on", "pk"):
        out.setdefault(c.person_id, []).append(c)
    return out


def _first_last(values: list[float] | None, last: bool) -> str:
    if not values:
        return ""
    return f"{values[-1 if last else 0]:g}"


FIELDS: dict[str, tuple[str, Callable[[int, _Context], str]]] = {
    "age_band": ("Age band", lambda p, c: outcomes._age_band(c.births.get(p), c.today)),
    "sex": ("Sex", lambda p, c: getattr(c.equality.get(p), "sex", "") or ""),
    "ethnicity": ("Ethnic group", lambda p, c: getattr(c.equality.get(p), "ethnicity", "") or ""),
    "disabled": ("Disabled", lambda p, c: getattr(c.equality.get(p), "disabled", "") or ""),
    "support_start_month": (
        "Month support began",
        lambda p, c: f"{c.starts[p]:%Y-%m}" if p in c.starts else "",
    ),
    "ndta_first": ("First NDTA total", lambda p, c: _first_last(c.ndta.get(p), last=False)),
    "ndta_latest": ("Latest NDTA total", lambda p, c: _first_last(c.ndta.get(p), last=True)),
    "ndta_count": ("NDTAs recorded", lambda p, c: str(len(c.ndta.get(p, [])))),
    "life_satisfaction_first": (
        "First life satisfaction (ONS4)",
        lambda p, c: f"{c.ons4[p][0].get('life_satisfaction', ''):g}" if c.ons4.get(p) else "",
    ),
    "life_satisfaction_latest": (
        "Latest life satisfaction (ONS4)",
        lambda p, c: f"{c.ons4[p][-1].get('life_satisfaction', ''):g}" if c.ons4.get(p) else "",
    ),
    "goals_set": ("Goals set", lambda p, c: str(c.goals.get(p, (0, 0))[0])),
    "goals_achieved": ("Goals achieved", lambda p, c: str(c.goals.get(p, (0, 0))[1])),
}


def export(fields: list[str], today: date) -> tuple[str, list[int]]:
    """The CSV text and the people in it (for the audit trail)."""
    starts = costs.support_starts()
    people = sorted(starts)
    goals: dict[int, tuple[int, int]] = {}
    for person_id, status in Goal.objects.filter(person_id__in=people).values_list(
        "person_id", "status"
    ):
        n, done = goals.get(person_id, (0, 0))
        goals[person_id] = (n + 1, done + (status == Goal.Status.ACHIEVED))
    context = _Context(
        today=today,
        births=dict(Person.objects.filter(pk__in=people).values_list("pk", "date_of_birth")),
        equality={e.person_id: e for e in Equality.objects.filter(person_id__in=people)},
        ndta={
            p: [float(c.total) for c in cs if c.total is not None]
            for p, cs in _series("ndta").items()
        },
        ons4={p: [dict(c.subscores) for c in cs] for p, cs in _series("ons4").items()},
        goals=goals,
        starts=starts,
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["pseudonym", *fields])
    for person_id in people:
        writer.writerow([pseudonym(person_id), *(FIELDS[f][1](person_id, context) for f in fields)])
    return out.getvalue(), people
